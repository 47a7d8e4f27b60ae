"""`tmplstudio status [PATH ...]`: each template as draft, pending, approved, stale or failing."""

from __future__ import annotations

import json

from tmplstudio.cli.common import EXIT_INPUT, EXIT_OK, display, project_and_templates

ORDER = 45


def register(sub) -> None:
    p = sub.add_parser("status", help="approval status of each template: draft, pending, approved, stale or failing")
    p.add_argument("paths", nargs="*", metavar="PATH", help="template files or folders (default: the project's templates)")
    p.add_argument("--format", choices=("text", "json"), default="text")
    p.set_defaults(func=run)


def run(args) -> int:
    """Exit 2 when a sign-off's signature does not check out (edited entry, unknown, expired or
    revoked signer): the state is shown, and the fault named with its log line."""
    import sys

    from tmplstudio.cli.formats import clean
    from tmplstudio.pack.digest import sha256_file
    from tmplstudio.pack.ledger import iso_utc
    from tmplstudio.pack.status import STATES, project_statuses
    from tmplstudio.pack.submitted import Submissions

    found = project_and_templates(args.paths)
    if found is None:
        return EXIT_INPUT
    proj, files = found
    statuses, missing, ledger = project_statuses(proj, files)
    submissions = Submissions.load(ledger.root)  # the providers' reviews, recorded by `tmplstudio submit`
    faults = [(s, r) for s in statuses if s.review is not None for r in s.review.signature_problems]
    code = EXIT_INPUT if faults else EXIT_OK
    if args.format == "json":
        data = {"schema": 2, "ledger": display(ledger.path), "log": display(ledger.log_path),
                "templates": [{**s.to_json(), "submissions": [
                    {"target": x.target, "code": x.code, "status": x.status, "reason": x.reason, "sha256": x.sha256}
                    for x in submissions.for_path(s.rel)]} for s in statuses],
                "missing": missing}
        print(json.dumps(data, ensure_ascii=False, indent=2))
    else:
        counts: dict[str, int] = {}
        for s in statuses:
            counts[s.state] = counts.get(s.state, 0) + 1
            detail = ""
            if s.approval is not None and s.state in ("approved", "stale"):
                detail = f"approved by {s.approval.approved_by} at {iso_utc(s.approval.approved_at)}"
                if s.review is not None and s.state == "approved":
                    detail = f"{s.review.count}: " + ", ".join(f"{x.by} at {iso_utc(x.at)}" for x in s.review.counted)
            reviews = "; ".join(x.describe(sha256_file(s.path)) for x in submissions.for_path(s.rel))
            extra = "; ".join(x for x in (s.describe(), detail, reviews) if x)
            print(clean(f"{s.state:<9} {display(s.path)}" + (f"  ({extra})" if extra else "")))  # a ledger's names are data
        for rel in missing:
            print(clean(f"{'missing':<9} {rel}  (in {display(ledger.path)}, but the file is gone)"))
        summary = ", ".join(f"{counts.get(k, 0)} {k}" for k in STATES)
        print(f"{len(statuses)} template{'s' if len(statuses) != 1 else ''}: {summary}")
    for s, r in faults:
        print(clean(f"tmplstudio: error: {display(ledger.root / r.where.split(':')[0])}:{r.signoff.line}: "
                    f"sign-off by {r.signoff.by} for {s.rel} does not count: {r.why}"), file=sys.stderr)
    return code
