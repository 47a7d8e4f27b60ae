"""`tmplstudio submit PACK --target X [--dry-run]` and `tmplstudio submit --status --target X`:
send an exported pack's request bodies to the provider through its official SDK, and poll
the provider's review. Codes and reviews go to submissions.toml beside approvals.toml."""

from __future__ import annotations

import json
import sys
from pathlib import Path

from tmplstudio.cli.common import EXIT_FINDINGS, EXIT_OK, display, project
from tmplstudio.errors import InputError

ORDER = 52


def register(sub) -> None:
    from tmplstudio.pack.targets import TARGETS

    names = [name for name, t in TARGETS.items() if t.connect is not None]
    p = sub.add_parser("submit", help="submit an exported pack's templates to the provider for review (or poll the review)")
    p.add_argument("pack", nargs="?", metavar="PACK", help="a pack .zip or folder written by `tmplstudio export --target X`")
    p.add_argument("--target", required=True, choices=names, help="the provider (the pack must be exported for it)")
    p.add_argument("--dry-run", action="store_true", help="print the exact requests; call nothing")
    p.add_argument("--status", action="store_true", help="ask the provider for the review of every recorded submission")
    p.add_argument("--endpoint", metavar="URL", help="the provider's API endpoint (default: its public one), e.g. a regional or private endpoint")
    p.set_defaults(func=run)


def run(args) -> int:
    from tmplstudio.pack import submit
    from tmplstudio.pack.targets import get
    from tmplstudio.pack.targets.base import FAILED, REJECTED, SubmitError

    target = get(args.target)
    proj = project()
    root = Path(proj.templates_dir)
    if args.status:
        if args.pack or args.dry_run:
            raise InputError("--status polls what was submitted; it takes no PACK and no --dry-run")
        return _status(submit, root, target, args.endpoint)
    if not args.pack:
        raise InputError("name the exported PACK to submit (or use --status)")
    items = submit.plan(Path(args.pack), target)
    if not items:
        print(f"nothing to submit: {display(Path(args.pack))} holds no {target.name} request bodies", file=sys.stderr)
        return EXIT_FINDINGS
    if args.dry_run:
        print(f"# {target.api}" + (f" at {args.endpoint}" if args.endpoint else ""))
        if target.min_interval:
            print(f"# {len(items)} request{'s' if len(items) != 1 else ''}, at least {target.min_interval:g} s apart")
        for item in items:
            print(f"# {item.path} ({item.file})")
            print(json.dumps(item.body, ensure_ascii=False, indent=2))
        return EXIT_OK
    try:
        client = target.connect(args.endpoint)
    except SubmitError as exc:
        raise InputError(str(exc)) from None
    if target.min_interval >= 5 and len(items) > 1:
        print(f"{target.name} asks for {target.min_interval:g} s between template requests: "
              f"{len(items)} templates take about {(len(items) - 1) * target.min_interval:g} s", file=sys.stderr)
    outcomes = submit.submit(root, items, target, client,
                             report=lambda o: print(f"{'skipped' if o.record is None else 'submitted'} {o.planned.path}: {o.message}"))
    failed = [o for o in outcomes if o.record is not None and o.record.status in (FAILED, REJECTED)]
    print(f"{len(outcomes) - len(failed)} of {len(outcomes)} template{'s' if len(outcomes) != 1 else ''} "
          f"submitted or already submitted to {target.name}; recorded in {display(root / 'submissions.toml')}")
    return EXIT_FINDINGS if failed else EXIT_OK


def _status(submit, root: Path, target, endpoint: str | None) -> int:
    from tmplstudio.pack.targets.base import APPROVED, NO_REVIEW, SubmitError

    try:
        client = target.connect(endpoint)
    except SubmitError as exc:
        raise InputError(str(exc)) from None
    errors: list[str] = []

    def show(sub, error):
        if error:
            errors.append(error)
            print(f"unknown   {sub.path}: {target.name} {sub.code}: {error}")
        else:
            print(f"{sub.status:<9} {sub.path}: {target.name} {sub.code}" + (f" ({sub.reason})" if sub.reason else ""))

    updated = submit.poll(root, target, client, report=show)
    if not updated and not errors:
        print(f"no submissions to {target.name} recorded in {display(root / 'submissions.toml')}")
        return EXIT_OK
    pending = [s for s in updated if s.status not in (APPROVED, NO_REVIEW)]
    return EXIT_FINDINGS if (errors or pending) else EXIT_OK
