"""`tmplstudio verify PACK [--allowed-signers FILE]`: re-check an exported pack, its signatures and approvals."""

from __future__ import annotations

from pathlib import Path

from tmplstudio.cli.common import EXIT_FINDINGS, EXIT_OK, display

ORDER = 55


def register(sub) -> None:
    p = sub.add_parser("verify", help="check an exported pack: every file's hash, the manifest, its signature and the approvals")
    p.add_argument("pack", metavar="PACK", help="a pack .zip file or folder written by `tmplstudio export`")
    p.add_argument("--allowed-signers", metavar="FILE", help="your own trusted allowed_signers file (default: the copy "
                                                             "inside the pack, which proves consistency, not trust)")
    p.set_defaults(func=run)


def run(args) -> int:
    from tmplstudio.pack.verify import verify

    pack = Path(args.pack)
    result = verify(pack, Path(args.allowed_signers) if args.allowed_signers else None)
    for t in result.approvals:
        who = ", ".join(f"{s.by} at {s.at}" + ("" if s.counts else f" (does not count: {s.why})") for s in t.signoffs)
        print(f"  {t.path} ({t.id}): {len(t.counted)} of {t.required} approvals — {who or 'nobody'}")
    if result.signed_by:
        print(f"  manifest signed by {result.signed_by} (checked against {result.trust})")
    if result.ok:
        print(f"ok {display(pack)}: {result.templates} template{'s' if result.templates != 1 else ''}, "
              f"{result.files} files match the manifest")
        return EXIT_OK
    for problem in result.problems:
        print(f"{display(pack)}: {problem}")
    print(f"FAILED {display(pack)}: {len(result.problems)} problem{'s' if len(result.problems) != 1 else ''}")
    return EXIT_FINDINGS
