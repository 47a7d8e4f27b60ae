"""`tmplstudio approve PATH... [--key KEY | --by NAME] [--note TEXT] [--accept-warnings]`: sign templates off."""

from __future__ import annotations

from pathlib import Path

from tmplstudio.cli.common import EXIT_FINDINGS, EXIT_INPUT, EXIT_OK, display, project_and_templates
from tmplstudio.cli.signer import add_arguments, identity

ORDER = 40


def register(sub) -> None:
    p = sub.add_parser("approve", help="sign templates off in the approvals log (refuses templates with errors, and their author)")
    p.add_argument("paths", nargs="+", metavar="PATH", help="template files or folders")
    add_arguments(p, "approvals are")
    p.add_argument("--note", default="", metavar="TEXT", help="a note kept with the approval")
    p.add_argument("--accept-warnings", action="store_true", help="approve templates with warnings, recording them as accepted")
    p.set_defaults(func=run)


def _finding_line(path: Path, f) -> str:
    sample = f" [sample {f.sample}]" if f.sample else ""
    return f"  {display(path)}:{f.line}:{f.column} {f.severity.value} {f.rule} {f.message}{sample}"


def run(args) -> int:
    from tmplstudio.pack.approval import approve, check, refusal
    from tmplstudio.pack.status import project_statuses

    found = project_and_templates(args.paths)
    if found is None:
        return EXIT_INPUT
    proj, files = found
    who = identity(args, proj)
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
    if not checks:
        return EXIT_FINDINGS if refused else EXIT_OK
    outcome = approve(proj, checks, who, args.note)
    for c, reason in outcome.refused:
        refused += 1
        print(f"refused  {display(c.path)}: {reason}")
    if outcome.approved:
        statuses, _, _ = project_statuses(proj, [c.path for c in outcome.approved])
        for c, st in zip(outcome.approved, statuses):
            accepted = f"; accepted {len(c.warnings)} warning{'s' if len(c.warnings) != 1 else ''}" if c.warnings else ""
            count = f"; {st.review.count}" if st.review is not None else ""
            print(f"approved {display(c.path)} ({c.template_id}) by {outcome.by}{count}{accepted}")
            if st.state == "pending" and st.review is not None and st.review.may_approve:
                print(f"  still needed: {st.review.required - len(st.review.counted)} more, from "
                      + ", ".join(st.review.may_approve))
            for f in c.warnings:
                print(_finding_line(c.path, f))
        print(f"recorded in {display(outcome.ledger.log_path)}")
    return EXIT_FINDINGS if refused else EXIT_OK
