"""`tmplstudio audit-log [--verify] [--format text|json]`: the approvals history, and its proof."""

from __future__ import annotations

import json
import sys
from pathlib import Path

from tmplstudio.cli.common import EXIT_INPUT, EXIT_OK, display

ORDER = 47


def register(sub) -> None:
    p = sub.add_parser("audit-log", help="print the approvals log; --verify checks its hash chain and every signature")
    p.add_argument("--verify", action="store_true", help="check the chain (removed, reordered or edited entries) and each "
                                                         "signature against allowed_signers; exit 2 on any problem")
    p.add_argument("--format", choices=("text", "json"), default="text")
    p.set_defaults(func=run)


def _line(e) -> str:
    from tmplstudio.pack.log import iso

    d = e.data
    if e.kind == "approve":
        what = f"approved {e.path} (sha256 {str(d.get('sha256', ''))[:12]})" + (f" — {d['note']}" if d.get("note") else "")
    elif e.kind == "revoke":
        whose = f"{d['signer']}'s sign-off of " if d.get("signer") else "approval of "
        what = f"revoked {whose}{e.path}: {d.get('reason', '')}"
    else:
        what = f"saved {e.path} (sha256 {str(d.get('sha256', ''))[:12]}) in the studio"
    signed = "signed" if e.signature else "unsigned"
    return f"{e.seq:>5} {iso(e.time)} {e.by or '?'} {what} [{signed}]"


def run(args) -> int:
    from tmplstudio.cli.common import project
    from tmplstudio.pack import log as _log
    from tmplstudio.pack.audit import audit

    proj = project()
    root = Path(proj.templates_dir)
    path = root / _log.LOG_NAME
    if not path.exists():
        from tmplstudio.pack.ledger import Ledger

        Ledger.load(root)  # approvals.toml listing approvals without their history is an error
        print(f"no approvals yet: {display(path)} does not exist (tmplstudio approve writes it)")
        return EXIT_OK
    report = audit(proj) if args.verify else None
    read = report.read if report is not None else _log.read(path)
    if args.format == "json":
        data = {"schema": 1, "log": display(path), "entries": [{**e.to_obj(), "line": e.line} for e in read.entries]}
        if report is not None:
            data["problems"] = [{"line": p.line, "message": p.message} for p in report.problems]
        print(json.dumps(data, ensure_ascii=False, indent=2))
    else:
        for e in read.entries:
            print(_line(e))
    problems = report.problems if report is not None else read.problems
    for n in (report.notes if report is not None else []):
        print(f"note: {display(path)}:{n.line}: {n.message}")
    for p in problems:
        print(f"tmplstudio: error: {display(path)}:{p.line}: {p.message}", file=sys.stderr)
    if report is not None and not problems:
        print(f"ok {display(path)}: {len(read.entries)} entries, chain intact, "
              f"{report.signed} signature{'s' if report.signed != 1 else ''} checked")
    return EXIT_INPUT if problems else EXIT_OK
