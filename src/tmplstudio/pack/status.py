"""Approval status of each template: draft, approved, stale or failing.

* ``draft``    — no approval record, and no error finding;
* ``failing``  — error findings now (a draft with errors, or an approved template that fails
                 under the current tool);
* ``stale``    — approved, but the file's SHA-256 or the policy-set digest changed since; the
                 reasons say which (``file changed``, ``policy set changed: pack X changed``);
* ``approved`` — approved, unchanged since, and no error finding now.

``approval_state`` is the cheap part (hashes only, no evaluation) that the studio uses for its
badges; ``template_status`` adds the evaluation for ``failing``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from tmplstudio.pack.digest import PolicySet, sha256_bytes
from tmplstudio.pack.ledger import Approval, Ledger

DRAFT, APPROVED, STALE, FAILING = "draft", "approved", "stale", "failing"


@dataclass
class TemplateStatus:
    path: Path
    rel: str
    state: str
    reasons: list[str] = field(default_factory=list)
    approval: Approval | None = None
    errors: int = 0
    warnings: int = 0

    @property
    def stale_file(self) -> bool:
        return any(r.startswith("file changed") for r in self.reasons)

    @property
    def stale_policy(self) -> bool:
        return any(r.startswith("policy set changed") for r in self.reasons)

    def describe(self) -> str:
        return "; ".join(self.reasons)

    def to_json(self) -> dict:
        return {
            "path": self.rel, "state": self.state, "reasons": list(self.reasons),
            "errors": self.errors, "warnings": self.warnings,
            "approval": self.approval.to_json() if self.approval is not None else None,
        }


def partial_changes(approved: dict[str, str], current: dict[str, str]) -> list[str]:
    out = []
    for key in sorted(set(approved) | set(current)):
        if key not in current:
            out.append(f"{key} no longer used")
        elif key not in approved:
            out.append(f"{key} added")
        elif approved[key] != current[key]:
            out.append(f"{key} changed")
    return out


def stale_reasons(approval: Approval, sha256: str, policies: PolicySet, partials: dict[str, str] | None = None) -> list[str]:
    reasons: list[str] = []
    if approval.sha256 != sha256:
        reasons.append("file changed since approval")
    if partials is not None:
        changes = partial_changes(approval.partials, partials)
        if changes:
            reasons.append(f"partials changed since approval ({', '.join(changes)})")
    if approval.policy_digest != policies.digest:
        detail = policies.differences(approval.policy_packs or None, approval.config_digest)
        reasons.append("policy set changed since approval" + (f" ({', '.join(detail)})" if detail else ""))
    return reasons


def approval_state(ledger: Ledger, rel: str, data: bytes, policies: PolicySet,
                   partials: dict[str, str] | None = None) -> tuple[str, list[str], Approval | None]:
    """(draft | approved | stale, reasons, record) from hashes alone (``partials``: current
    hashes of the partials the template loads; None skips that comparison)."""
    approval = ledger.get(rel)
    if approval is None:
        return DRAFT, [], None
    reasons = stale_reasons(approval, sha256_bytes(data), policies, partials)
    return (STALE if reasons else APPROVED), reasons, approval


def template_status(ledger: Ledger, rel: str, path: Path, data: bytes, evaluation, policies: PolicySet,
                    partials: dict[str, str] | None = None) -> TemplateStatus:
    from tmplstudio.policy.model import Severity

    state, reasons, approval = approval_state(ledger, rel, data, policies, partials)
    active = [f for f in evaluation.findings if not f.suppressed]
    errors = sum(1 for f in active if f.severity == Severity.ERROR)
    warnings = sum(1 for f in active if f.severity == Severity.WARNING)
    if errors and state != STALE:
        reasons = reasons + [f"{errors} error finding{'s' if errors != 1 else ''}"]
        state = FAILING
    return TemplateStatus(path, rel, state, reasons, approval, errors, warnings)


def project_statuses(project, paths: list[Path] | None = None) -> tuple[list[TemplateStatus], list[str], Ledger]:
    """Status of each template (default: every template of the project), plus ledger records
    whose file no longer exists (their ledger keys)."""
    from tmplstudio.pack.approval import read_template, relative
    from tmplstudio.pack.digest import policy_set
    from tmplstudio.pack.partials import dependencies

    root = Path(project.templates_dir)
    ledger = Ledger.load(root)
    policies = policy_set(project)
    files = paths if paths is not None else project.template_paths()
    out = []
    seen: set[str] = set()
    for path in files:
        rel = relative(root, path)
        if rel in seen:
            continue  # named twice (a file and its folder)
        seen.add(rel)
        data, text = read_template(path)
        deps = dependencies(project, path, text)
        out.append(template_status(ledger, rel, path, data, project.evaluate(text, path), policies, deps.partials))
    missing = sorted(rel for rel in ledger.approvals if not (root / rel).exists())
    return out, missing, ledger
