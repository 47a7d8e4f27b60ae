"""Four eyes: which sign-offs of an approval count, and whether there are enough.

A sign-off counts when

* it is signed and its signature checks out against ``allowed_signers`` at the time it was made
  (not revoked since, key valid then) — or it is unsigned and the project does not require
  signatures (``approval.require_signature = false``);
* its signer may approve templates of that folder and locale (``[approval.folders]``,
  ``[approval.locales]``);
* its signer is not the template's author (authors.py).

``required`` distinct signers must count (``approval.required``, raised by matching scopes).
Signature checks run ``ssh-keygen`` and are remembered per process (the studio refreshes its
badges every few seconds).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from pathlib import Path

from tmplstudio.errors import InputError
from tmplstudio.pack.authors import Author, author_of
from tmplstudio.pack.ledger import Approval, Signoff
from tmplstudio.pack.log import LOG_NAME, parse_time, signed_payload
from tmplstudio.pack.settings import ApprovalSettings, Requirement
from tmplstudio.pack.sshsig import APPROVAL_NAMESPACE, Trust, Verdict

_VERDICTS: dict[tuple, Verdict] = {}
MAX_REMEMBERED = 10_000


@dataclass
class Rejected:
    signoff: Signoff
    why: str
    where: str = ""      # "approvals.log.jsonl:7" for a signature that does not check out
    integrity: bool = False   # a signature problem (bad, unknown or revoked), not just a rule

    def describe(self) -> str:
        return f"{self.signoff.by}: {self.why}" + (f" ({self.where})" if self.where else "")


@dataclass
class Review:
    required: int
    counted: list[Signoff] = field(default_factory=list)
    rejected: list[Rejected] = field(default_factory=list)
    may_approve: list[str] = field(default_factory=list)   # principals (patterns) who could still approve
    authors: list[Author] = field(default_factory=list)

    @property
    def enough(self) -> bool:
        return len(self.counted) >= self.required

    @property
    def count(self) -> str:
        return f"{len(self.counted)} of {self.required} approval{'s' if self.required != 1 else ''}"

    @property
    def signature_problems(self) -> list[Rejected]:
        return [r for r in self.rejected if r.integrity]

    def to_json(self) -> dict:
        return {"required": self.required, "counted": [s.by for s in self.counted],
                "rejected": [{"by": r.signoff.by, "why": r.why, "where": r.where} for r in self.rejected],
                "may_approve": list(self.may_approve), "authors": [a.describe() for a in self.authors]}


def _digest(path: Path | None) -> str:
    try:
        return hashlib.sha256(path.read_bytes()).hexdigest() if path is not None else ""
    except OSError:
        return ""


def check_signature(trust: Trust, entry: dict, principal: str, namespace: str = APPROVAL_NAMESPACE) -> Verdict:
    """Is this log entry (as written) signed by ``principal`` at its recorded time? Remembered per process."""
    signature = entry.get("signature")
    if not isinstance(signature, str):
        return Verdict(False, principal, "unsigned")
    payload = signed_payload(entry)
    when = parse_time(entry.get("time"))
    key = (hashlib.sha256(payload).hexdigest(), signature, principal, namespace, entry.get("time"),
           _digest(trust.allowed_signers), _digest(trust.revoked))
    found = _VERDICTS.get(key)
    if found is None:
        found = trust.verify(payload, signature, principal, namespace, when)
        if len(_VERDICTS) >= MAX_REMEMBERED:
            _VERDICTS.clear()
        _VERDICTS[key] = found
    return found


def listed_principals(allowed_signers: Path) -> list[str]:
    """The principals (or patterns) named in an allowed_signers file, in file order."""
    try:
        text = allowed_signers.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return []
    out: list[str] = []
    for line in text.splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        for name in line.split()[0].split(","):
            name = name.strip('"')
            if name and name not in out:
                out.append(name)
    return out


class FourEyes:
    """The approval rules of one project, applied to approvals."""

    def __init__(self, settings: ApprovalSettings, log_path: Path | str = LOG_NAME):
        self.settings = settings
        self.trust = settings.trust()
        self.log_path = Path(log_path)

    def signer_problem(self, signoff: Signoff) -> tuple[str, bool]:
        """Why this sign-off's signature does not count ('' when it does), and whether that is a signature fault."""
        if not signoff.signed:
            return ("unsigned, and this project requires signed approvals" if self.settings.require_signature else ""), False
        if not self.trust.allowed_signers.is_file():
            raise InputError("no allowed_signers file, so the signed approvals cannot be checked (git's format: "
                             "one 'principal key-type key' a line; see docs/approval.md)", self.trust.allowed_signers)
        try:
            verdict = check_signature(self.trust, signoff.entry or {}, signoff.by)
        except InputError as exc:  # ssh-keygen missing: name the entry it could not check
            raise InputError(f"cannot check the signature of {signoff.by}: {exc.message}",
                             exc.path or self.log_path, signoff.line or None) from None
        return ("" if verdict.ok else verdict.reason), not verdict.ok

    def review(self, approval: Approval, requirement: Requirement, authors: list[Author]) -> Review:
        result = Review(requirement.required, authors=list(authors))
        for s in approval.signoffs:
            why, integrity = self.signer_problem(s)
            if not why and not requirement.allows(s.by):
                why = f"may not approve this template (allowed: {requirement.describe()})"
            author = author_of(s.by, authors) if not why else None
            if author is not None:
                why = f"is its author ({author.describe()}); someone else must approve it"
            if why:
                where = f"{LOG_NAME}:{s.line}" if s.line else ""
                result.rejected.append(Rejected(s, why, where, integrity))
            else:
                result.counted.append(s)
        done = {s.by.lower() for s in result.counted}
        for name in listed_principals(self.trust.allowed_signers):
            if name.lower() in done or not requirement.allows(name) or author_of(name, authors):
                continue
            result.may_approve.append(name)
        return result

    def requirement(self, approval_or_rel, locale: str | None = None) -> Requirement:
        if isinstance(approval_or_rel, Approval):
            return self.settings.requirement(approval_or_rel.path, approval_or_rel.locale)
        return self.settings.requirement(approval_or_rel, locale)
