"""`tmplstudio report PACK --format html|md [--out FILE]`: the auditor's page for a pack."""

from __future__ import annotations

import sys
from pathlib import Path

from tmplstudio.cli.common import EXIT_FINDINGS, EXIT_OK, display

ORDER = 57


def register(sub) -> None:
    p = sub.add_parser("report", help="one self-contained page (HTML or Markdown) for auditors: each template of a pack, "
                                      "its samples, accepted findings, suppressions and signers")
    p.add_argument("pack", metavar="PACK", help="a pack .zip file or folder written by `tmplstudio export`")
    p.add_argument("--format", choices=("html", "md"), default="html")
    p.add_argument("--out", metavar="FILE", help="write the page here (default: standard output)")
    p.add_argument("--allowed-signers", metavar="FILE", help="your own trusted allowed_signers file (as for verify)")
    p.set_defaults(func=run)


def run(args) -> int:
    """Exit 1 when the pack does not verify (the page says why), 0 when it does."""
    from tmplstudio.errors import InputError
    from tmplstudio.fileio import atomic_write_text
    from tmplstudio.pack.report import render

    pack = Path(args.pack)
    page, result = render(pack, args.format, Path(args.allowed_signers) if args.allowed_signers else None)
    ok = result.ok
    if args.out:
        out = Path(args.out)
        try:
            atomic_write_text(out, page)
        except OSError as exc:
            raise InputError(f"cannot write the report: {exc.strerror or exc}", out) from None
        print(f"wrote {display(out)}: {args.format} report of {display(pack)}" + ("" if ok else " (the pack does NOT verify)"))
    else:
        sys.stdout.write(page)
    return EXIT_OK if ok else EXIT_FINDINGS
