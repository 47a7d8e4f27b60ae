"""`tmplstudio status [PATH ...]`: each template as draft, approved, stale or failing."""

from __future__ import annotations

import json

from tmplstudio.cli.common import EXIT_INPUT, EXIT_OK, display, project_and_templates

ORDER = 45


def register(sub) -> None:
    p = sub.add_parser("status", help="approval status of each template: draft, approved, stale or failing")
    p.add_argument("paths", nargs="*", metavar="PATH", help="template files or folders (default: the project's templates)")
    p.add_argument("--format", choices=("text", "json"), default="text")
    p.set_defaults(func=run)


def run(args) -> int:
    from tmplstudio.cli.formats import clean
    from tmplstudio.pack.digest import sha256_file
    from tmplstudio.pack.ledger import iso_utc
    from tmplstudio.pack.status import project_statuses
    from tmplstudio.pack.submitted import Submissions

    found = project_and_templates(args.paths)
    if found is None:
        return EXIT_INPUT
    proj, files = found
    statuses, missing, ledger = project_statuses(proj, files)
    submissions = Submissions.load(ledger.root)  # the providers' reviews, recorded by `tmplstudio submit`
    if args.format == "json":
        data = {"schema": 1, "ledger": display(ledger.path),
                "templates": [{**s.to_json(), "submissions": [
                    {"target": x.target, "code": x.code, "status": x.status, "reason": x.reason, "sha256": x.sha256}
                    for x in submissions.for_path(s.rel)]} for s in statuses],
                "missing": missing}
        print(json.dumps(data, ensure_ascii=False, indent=2))
        return EXIT_OK
    counts: dict[str, int] = {}
    for s in statuses:
        counts[s.state] = counts.get(s.state, 0) + 1
        detail = ""
        if s.approval is not None:
            detail = f"approved by {s.approval.approved_by} at {iso_utc(s.approval.approved_at)}"
        reviews = "; ".join(x.describe(sha256_file(s.path)) for x in submissions.for_path(s.rel))
        extra = "; ".join(x for x in (s.describe(), detail, reviews) if x)
        print(clean(f"{s.state:<9} {display(s.path)}" + (f"  ({extra})" if extra else "")))  # a ledger's names are data
    for rel in missing:
        print(clean(f"{'missing':<9} {rel}  (in {display(ledger.path)}, but the file is gone)"))
    summary = ", ".join(f"{counts.get(k, 0)} {k}" for k in ("approved", "stale", "draft", "failing"))
    print(f"{len(statuses)} template{'s' if len(statuses) != 1 else ''}: {summary}")
    return EXIT_OK
