"""`tmplstudio export --out PACK.zip|FOLDER [--target T] [--strict] [PATH ...]`: the approved pack."""

from __future__ import annotations

import sys
from pathlib import Path

from tmplstudio.cli.common import EXIT_FINDINGS, EXIT_INPUT, EXIT_OK, display, project_and_templates
from tmplstudio.cli.signer import add_arguments, identity
from tmplstudio.errors import InputError

ORDER = 50


def register(sub) -> None:
    from tmplstudio.pack.targets import TARGETS

    p = sub.add_parser("export", help="write the approved, clean templates as a verifiable pack (zip or folder)")
    p.add_argument("paths", nargs="*", metavar="PATH", help="template files or folders (default: the project's templates)")
    p.add_argument("--out", required=True, metavar="PACK.zip|FOLDER", help="a .zip file, or a folder")
    p.add_argument("--target", choices=list(TARGETS), default="generic",
                   help="convert for a sending platform, checking its provider pack (default: generic)")
    p.add_argument("--strict", action="store_true", help="exit 1 if any template was excluded; refuse to write the pack "
                                                         "when a sign-off's signature does not check out")
    add_arguments(p, "the manifest is")
    p.set_defaults(func=run)


def run(args) -> int:
    from tmplstudio.pack.digest import sha256_file
    from tmplstudio.pack.export import build, is_zip_target, sign, write
    from tmplstudio.pack.settings import settings

    found = project_and_templates(args.paths)
    if found is None:
        return EXIT_INPUT
    proj, files = found
    out = Path(args.out)
    templates = Path(proj.templates_dir).resolve()
    if not is_zip_target(out) and (out.resolve() == templates or templates in out.resolve().parents):
        raise InputError("a folder pack inside the templates folder would be read back as templates; write it elsewhere", out)
    conf = settings(proj)
    who = identity(args, proj) if (conf.require_signature or args.key is not None) else None
    result = build(proj, args.target, files)
    for ex in result.excluded:
        print(f"excluded {ex.path}: {ex.reason}")
    for note in result.notes:
        print(f"note {note.path} ({args.target}): {note.reason}")
    for problem in result.signature_problems:
        print(f"signature {problem}")
    if args.strict and result.signature_problems:
        n = len(result.signature_problems)
        print(f"refused: {n} sign-off signature{'s do' if n != 1 else ' does'} not check out (--strict); "
              f"{display(out)} was not written", file=sys.stderr)
        return EXIT_FINDINGS
    if not result.included:
        print(f"nothing to export: no template is approved, current and clean; {display(out)} was not written", file=sys.stderr)
        return EXIT_FINDINGS
    if who is not None:
        sign(result, who, conf)
    write(result, out)
    for rel in result.included:
        print(f"included {rel}")
    where = f"{display(out)} (sha256 {sha256_file(out)})" if is_zip_target(out) else display(out)
    signed = f", manifest signed by {result.signed_by}" if result.signed_by else ""
    print(f"wrote {where}: {len(result.included)} template{'s' if len(result.included) != 1 else ''}, "
          f"target {args.target}, {len(result.excluded)} excluded{signed}")
    return EXIT_FINDINGS if (args.strict and result.excluded) else EXIT_OK
