"""`audit-log --verify`: is the approvals history intact, and is every signature in it good?

* the chain (log.py): no entry removed, reordered, edited or back-dated, no line cut off;
* the anchor: approvals.toml was derived from this log (its last entry is still the same);
* each signed entry: its signature checks out for its principal at its time against
  ``allowed_signers`` and the revocation list. An approval signed with a key revoked later is a
  problem until that approval is withdrawn (``tmplstudio revoke --signer``); then it is a note.

Unsigned entries are listed as such; whether they count is the project's rule (status.py).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from tmplstudio.errors import InputError
from tmplstudio.pack import log as _log
from tmplstudio.pack.foureyes import check_signature
from tmplstudio.pack.ledger import Ledger
from tmplstudio.pack.log import LogRead, Problem


@dataclass
class AuditReport:
    read: LogRead
    problems: list[Problem] = field(default_factory=list)
    notes: list[Problem] = field(default_factory=list)
    signed: int = 0


def _withdrawn(entries, e) -> int | None:
    for later in entries[e.seq:]:
        if later.kind == "revoke" and later.path == e.path and later.data.get("signer") in (None, e.by):
            return later.line
    return None


def audit(project) -> AuditReport:
    from tmplstudio.pack.settings import settings

    root = Path(project.templates_dir)
    read = _log.read(root / _log.LOG_NAME)
    report = AuditReport(read, list(read.problems))
    if not read.problems:
        try:
            Ledger(root)._check_anchor(read.entries)
        except InputError as exc:
            report.problems.append(Problem(exc.line or len(read.entries), exc.message))
    trust = settings(project).trust()
    for e in read.entries:
        if not e.signature:
            continue
        report.signed += 1
        if not trust.allowed_signers.is_file():
            report.problems.append(Problem(e.line, f"signed by {e.by}, but there is no allowed_signers file "
                                                   f"({trust.allowed_signers}) to check it against"))
            continue
        try:
            verdict = check_signature(trust, e.to_obj(), e.by)
        except InputError as exc:
            report.problems.append(Problem(e.line, f"cannot check the signature: {exc.message}"))
            continue
        if verdict.ok:
            continue
        withdrawn = _withdrawn(read.entries, e) if e.kind == "approve" else None
        message = f"signature of {e.by} does not check out: {verdict.reason}"
        if withdrawn:
            report.notes.append(Problem(e.line, f"{message} (withdrawn at line {withdrawn})"))
        else:
            report.problems.append(Problem(e.line, message))
    report.problems.sort(key=lambda p: p.line)
    return report
