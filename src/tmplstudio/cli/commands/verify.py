"""`tmplstudio verify PACK`: re-check every hash of an exported pack and its manifest."""

from __future__ import annotations

from pathlib import Path

from tmplstudio.cli.common import EXIT_FINDINGS, EXIT_OK, display

ORDER = 55


def register(sub) -> None:
    p = sub.add_parser("verify", help="check an exported pack: every file's hash and the manifest")
    p.add_argument("pack", metavar="PACK", help="a pack .zip file or folder written by `tmplstudio export`")
    p.set_defaults(func=run)


def run(args) -> int:
    from tmplstudio.pack.verify import verify

    pack = Path(args.pack)
    result = verify(pack)
    if result.ok:
        print(f"ok {display(pack)}: {result.templates} template{'s' if result.templates != 1 else ''}, "
              f"{result.files} files match the manifest")
        return EXIT_OK
    for problem in result.problems:
        print(f"{display(pack)}: {problem}")
    print(f"FAILED {display(pack)}: {len(result.problems)} problem{'s' if len(result.problems) != 1 else ''}")
    return EXIT_FINDINGS
