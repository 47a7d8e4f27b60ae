"""`tmplstudio approve PATH... [--by NAME] [--note TEXT] [--accept-warnings]`: sign templates off."""

from __future__ import annotations

from pathlib import Path

from tmplstudio.cli.common import EXIT_FINDINGS, EXIT_INPUT, EXIT_OK, display, project_and_templates
from tmplstudio.errors import InputError

ORDER = 40


def register(sub) -> None:
    p = sub.add_parser("approve", help="record the approval of templates in approvals.toml (refuses templates with errors)")
    p.add_argument("paths", nargs="+", metavar="PATH", help="template files or folders")
    p.add_argument("--by", metavar="NAME", help="the approver (default: git config user.name, else the login name)")
    p.add_argument("--note", default="", metavar="TEXT", help="a note kept with the approval")
    p.add_argument("--accept-warnings", action="store_true", help="approve templates with warnings, recording them as accepted")
    p.set_defaults(func=run)


def _finding_line(path: Path, f) -> str:
    sample = f" [sample {f.sample}]" if f.sample else ""
    return f"  {display(path)}:{f.line}:{f.column} {f.severity.value} {f.rule} {f.message}{sample}"


def run(args) -> int:
    from tmplstudio.pack.approval import approve, check, default_approver, refusal

    found = project_and_templates(args.paths)
    if found is None:
        return EXIT_INPUT
    proj, files = found
    by = args.by if args.by is not None else default_approver(Path.cwd())
    if not by.strip():
        if args.by is not None:
            raise InputError("--by needs the approver's name")
        raise InputError("no approver name: pass --by NAME (git config user.name and the login name are empty)")
    checks, refused, seen = [], 0, set()
    for path in files:
        c = check(proj, path)
        if c.rel in seen:
            continue  # named twice (a file and its folder)
        seen.add(c.rel)
        reason = refusal(c, args.accept_warnings)
        if reason:
            refused += 1
            print(f"refused  {display(path)}: {reason}")
            for f in c.errors or c.warnings:
                print(_finding_line(path, f))
            continue
        checks.append(c)
    if checks:
        ledger = approve(proj, checks, by, args.note)
        for c in checks:
            accepted = f"; accepted {len(c.warnings)} warning{'s' if len(c.warnings) != 1 else ''}" if c.warnings else ""
            print(f"approved {display(c.path)} ({c.template_id}) by {by.strip()}{accepted}")
            for f in c.warnings:
                print(_finding_line(c.path, f))
        print(f"recorded in {display(ledger.path)}")
    return EXIT_FINDINGS if refused else EXIT_OK
