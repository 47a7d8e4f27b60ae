"""Approval status of each template: draft, pending, approved, stale or failing.

* ``draft``    — no approval, and no error finding;
* ``failing``  — error findings now (a draft with errors, or an approved template that fails
                 under the current tool);
* ``stale``    — approved, but the file's SHA-256, a partial or the policy-set digest changed
                 since; the reasons say which (``file changed``, ``policy set changed: pack X changed``);
* ``pending``  — the current version has sign-offs, but fewer that count than the project requires
                 (``1 of 2 approvals``); who else may approve is listed;
* ``approved`` — enough sign-offs count (foureyes.py), unchanged since, and no error finding now.

``approval_state`` is the cheap part (hashes and signature checks, no evaluation) that the studio
uses for its badges; ``template_status`` adds the evaluation for ``failing``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from tmplstudio.pack.digest import PolicySet, sha256_bytes
from tmplstudio.pack.foureyes import FourEyes, Review
from tmplstudio.pack.ledger import Approval, Ledger

DRAFT, PENDING, APPROVED, STALE, FAILING = "draft", "pending", "approved", "stale", "failing"
STATES = (APPROVED, PENDING, STALE, DRAFT, FAILING)


@dataclass
class ApprovalState:
    state: str
    reasons: list[str] = field(default_factory=list)
    approval: Approval | None = None
    review: Review | None = None


@dataclass
class TemplateStatus:
    path: Path
    rel: str
    state: str
    reasons: list[str] = field(default_factory=list)
    approval: Approval | None = None
    errors: int = 0
    warnings: int = 0
    review: Review | None = None

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
            "review": self.review.to_json() if self.review is not None else None,
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


def approval_state(ledger: Ledger, rel: str, path: Path, data: bytes, policies: PolicySet, eyes: FourEyes,
                   partials: dict[str, str] | None = None) -> ApprovalState:
    """The state from hashes and sign-offs alone (``partials``: current hashes of the partials the
    template loads; None skips that comparison)."""
    from tmplstudio.pack.authors import authors

    approval = ledger.get(rel)
    if approval is None:
        return ApprovalState(DRAFT)
    digest = sha256_bytes(data)
    reasons = stale_reasons(approval, digest, policies, partials)
    if reasons:
        return ApprovalState(STALE, reasons, approval)
    review = eyes.review(approval, eyes.requirement(approval), authors(ledger, rel, path, digest))
    if review.enough:
        return ApprovalState(APPROVED, [], approval, review)
    why = [review.count] + [r.describe() for r in review.rejected]
    if review.may_approve:
        why.append("may still approve: " + ", ".join(review.may_approve))
    return ApprovalState(PENDING, why, approval, review)


def template_status(ledger: Ledger, rel: str, path: Path, data: bytes, evaluation, policies: PolicySet,
                    eyes: FourEyes, partials: dict[str, str] | None = None) -> TemplateStatus:
    from tmplstudio.policy.model import Severity

    st = approval_state(ledger, rel, path, data, policies, eyes, partials)
    state, reasons = st.state, st.reasons
    active = [f for f in evaluation.findings if not f.suppressed]
    errors = sum(1 for f in active if f.severity == Severity.ERROR)
    warnings = sum(1 for f in active if f.severity == Severity.WARNING)
    if errors and state != STALE:
        reasons = reasons + [f"{errors} error finding{'s' if errors != 1 else ''}"]
        state = FAILING
    return TemplateStatus(path, rel, state, reasons, st.approval, errors, warnings, st.review)


def project_statuses(project, paths: list[Path] | None = None) -> tuple[list[TemplateStatus], list[str], Ledger]:
    """Status of each template (default: every template of the project), plus ledger records
    whose file no longer exists (their ledger keys)."""
    from tmplstudio.pack.approval import read_template, relative
    from tmplstudio.pack.digest import policy_set
    from tmplstudio.pack.partials import dependencies
    from tmplstudio.pack.settings import settings

    root = Path(project.templates_dir)
    ledger = Ledger.load(root)
    policies = policy_set(project)
    eyes = FourEyes(settings(project), ledger.log_path)
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
        out.append(template_status(ledger, rel, path, data, project.evaluate(text, path), policies, eyes, deps.partials))
    missing = sorted(rel for rel in ledger.approvals if not (root / rel).exists())
    return out, missing, ledger
