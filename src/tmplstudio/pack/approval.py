"""Checking a template for approval and building its ledger record.

A template can be approved when its file, evaluated against the project's policy set right
now, has no error finding; warnings must be accepted explicitly and are recorded. Approval is
always of the file on disk (its exact bytes), never of unsaved text. Each approval is a signed
entry of the approvals log (ledger.py, log.py); four eyes (foureyes.py) decides when there are
enough of them.
"""

from __future__ import annotations

import getpass
import os
import subprocess
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tmplstudio import __version__
from tmplstudio.errors import InputError
from tmplstudio.pack import sshsig
from tmplstudio.pack.digest import PolicySet, policy_set, sha256_bytes
from tmplstudio.pack.ledger import Approval, Ledger, append, utc_now
from tmplstudio.pack.names import id_problem
from tmplstudio.pack.settings import ApprovalSettings
from tmplstudio.policy.gate import real_reason
from tmplstudio.policy.model import Finding, Severity


def relative(root: Path, path: Path) -> str:
    """A template's ledger key: its path under the templates root, with POSIX separators."""
    try:
        rel = Path(os.path.abspath(path)).relative_to(Path(os.path.abspath(root)))
    except ValueError:
        raise InputError(f"not inside the templates folder {root} (approvals.toml lives there)", path) from None
    return rel.as_posix()


def read_template(path: Path) -> tuple[bytes, str]:
    """The file's exact bytes (what gets hashed) and its text (what gets evaluated)."""
    from tmplstudio.template.source import read_template_file

    text = read_template_file(path)  # every unusable-file case becomes an InputError naming the file
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise InputError(f"cannot read: {exc.strerror or exc}", path) from None
    raw = data[3:] if data.startswith(b"\xef\xbb\xbf") else data
    if raw.decode("utf-8", "replace") != text:
        raise InputError("the file changed while it was being read; try again", path)
    return data, text


def finding_record(f: Finding) -> dict[str, Any]:
    out: dict[str, Any] = {
        "rule": f.rule, "pack": f.pack, "severity": f.severity.value, "line": f.line, "column": f.column,
        "sample": f.sample, "message": f.message, "text": f.text,
    }
    if f.suppressed:
        out["reason"] = f.suppression_reason
        if f.suppression_scope:
            out["by"] = {"line": "comment", "file": "allow-file comment", "config": "config narrowing"}.get(
                f.suppression_scope, f.suppression_scope)
    return out


def narrowing_records(evaluation) -> list[dict[str, Any]]:
    """The config's narrowings that covered the template when it was approved, with what each
    silenced (a [rules] entry turns the rule off for every template: nothing left to count)."""
    out = []
    for applied in getattr(evaluation, "narrowings", ()):
        record = applied.narrowing.to_json()
        if applied.silenced is not None:
            record["silenced"] = applied.silenced
        out.append(record)
    return out


@dataclass
class Check:
    """A template as it stands now, ready to be approved (or refused)."""

    path: Path
    rel: str
    data: bytes
    evaluation: Any
    errors: list[Finding] = field(default_factory=list)
    warnings: list[Finding] = field(default_factory=list)
    suppressed: list[Finding] = field(default_factory=list)
    dependencies: Any = None   # pack.partials.Dependencies

    @property
    def sha256(self) -> str:
        return sha256_bytes(self.data)

    @property
    def template_id(self) -> str:
        return self.evaluation.template.meta.id


def check(project, path: Path, root: Path | None = None) -> Check:
    root = Path(root or project.templates_dir)
    rel = relative(root, path)
    from tmplstudio.pack.partials import dependencies

    data, text = read_template(path)
    ev = project.evaluate(text, path)
    active = [f for f in ev.findings if not f.suppressed]
    return Check(
        path=path, rel=rel, data=data, evaluation=ev, dependencies=dependencies(project, path, text),
        errors=[f for f in active if f.severity == Severity.ERROR],
        warnings=[f for f in active if f.severity == Severity.WARNING],
        suppressed=[f for f in ev.findings if f.suppressed],
    )


def refusal(c: Check, accept_warnings: bool) -> str | None:
    """Why ``c`` cannot be approved, or None."""
    if c.errors:
        n = len(c.errors)
        return f"{n} error finding{'s' if n != 1 else ''}; fix {'them' if n != 1 else 'it'} before approval"
    problem = id_problem(c.template_id)
    if problem:
        return problem
    if c.dependencies is not None and c.dependencies.dynamic:
        return ("it loads a partial whose name is computed, so the approval could not cover it ("
                + "; ".join(c.dependencies.dynamic) + "); name the partial literally")
    if c.warnings and not accept_warnings:
        n = len(c.warnings)
        return f"{n} warning{'s' if n != 1 else ''}; review {'them' if n != 1 else 'it'} and approve with --accept-warnings to record {'them' if n != 1 else 'it'} as accepted"
    return None


def make_approval(c: Check, policies: PolicySet) -> Approval:
    return Approval(
        path=c.rel, id=c.template_id, sha256=c.sha256, policy_digest=policies.digest,
        tool_version=__version__, locale=c.evaluation.template.meta.locale,
        policy_packs=dict(policies.packs), policy_versions=dict(policies.versions), config_digest=policies.config_digest,
        accepted_warnings=[finding_record(f) for f in c.warnings],
        suppressed=[finding_record(f) for f in c.suppressed],
        narrowings=narrowing_records(c.evaluation),
        partials=dict(c.dependencies.partials) if c.dependencies is not None else {},
    )


@dataclass(frozen=True)
class Identity:
    """Who signs: an SSH key (its principal comes from allowed_signers), or, unsigned, a name."""

    key: str | Path | None = None
    name: str = ""
    interactive: bool = True   # False: never wait on a passphrase prompt (the studio)


def principal(identity: Identity, settings: ApprovalSettings) -> str:
    """The principal that approves: allowed_signers' name for the key (checked now), or the given name."""
    if identity.key is None:
        if settings.require_signature:
            raise InputError("this project requires signed approvals (approval.require_signature = true): give your "
                             "SSH key with --key PATH, or set git's user.signingKey with gpg.format = ssh")
        name = identity.name.strip()
        if not name:
            raise InputError("the approver's name is empty (--by NAME)")
        return name
    trust = settings.trust()
    probe = sshsig.sign(PROBE, identity.key, sshsig.APPROVAL_NAMESPACE, identity.interactive)
    names, why = trust.principals(probe, utc_now())
    if not names:
        fp = trust.fingerprint(PROBE, probe, sshsig.APPROVAL_NAMESPACE).fingerprint
        raise InputError(f"the key {identity.key} ({fp}) is not allowed to approve: it is not in this file"
                         + (f" ({why})" if why else ""), trust.allowed_signers)
    verdict = trust.verify(PROBE, probe, names[0], sshsig.APPROVAL_NAMESPACE, utc_now())
    if not verdict.ok:
        raise InputError(f"the key {identity.key} cannot approve: {verdict.reason}", trust.allowed_signers)
    return names[0]


PROBE = b"tmplstudio: which principal signs with this key?"


def _signer(identity: Identity):
    if identity.key is None:
        return None

    def sign(entry):
        entry.signature = sshsig.sign(entry.payload(), identity.key, sshsig.APPROVAL_NAMESPACE, identity.interactive)
        return entry

    return sign


@dataclass
class Outcome:
    ledger: Ledger
    by: str
    approved: list[Check] = field(default_factory=list)
    refused: list[tuple[Check, str]] = field(default_factory=list)


def approve(project, checks: list[Check], identity: Identity, note: str = "", policies: PolicySet | None = None) -> Outcome:
    """Record approvals of checks that passed :func:`refusal` (the caller decides), as signed,
    hash-chained log entries. Refuses (per template) a signer who is the author or who may not
    approve that folder or locale."""
    from tmplstudio.pack.authors import author_of, authors
    from tmplstudio.pack.settings import settings as load_settings

    conf = load_settings(project)
    by = principal(identity, conf)
    policies = policies or policy_set(project)
    root = Path(project.templates_dir)
    before = Ledger.load(root)
    outcome = Outcome(before, by)
    for c in checks:
        requirement = conf.requirement(c.rel, c.evaluation.template.meta.locale)
        author = author_of(by, authors(before, c.rel, c.path, c.sha256))
        if not requirement.allows(by):
            outcome.refused.append((c, f"{by} may not approve templates here (allowed: {requirement.describe()})"))
        elif author is not None:
            outcome.refused.append((c, f"{by} is its author ({author.describe()}); someone else must approve it"))
        else:
            outcome.approved.append(c)
    if not outcome.approved:
        return outcome
    drafts = [{"kind": "approve", "path": c.rel, "by": by, "data": {**make_approval(c, policies).record(), "note": note}}
              for c in outcome.approved]
    outcome.ledger, _ = append(root, lambda ledger: drafts, _signer(identity))
    return outcome


def revoke(project, rels: list[str], identity: Identity, reason: str, signer: str | None = None) -> Outcome:
    """Withdraw the current approval of each template (only ``signer``'s sign-off when given)."""
    from tmplstudio.pack.settings import settings as load_settings

    if not real_reason(reason):
        raise InputError("--reason needs a real reason (a few words, not punctuation or invisible characters): it is kept in the log")
    conf = load_settings(project)
    by = principal(identity, conf)
    root = Path(project.templates_dir)

    def drafts(ledger: Ledger):
        out = []
        for rel in rels:
            current = ledger.get(rel)
            if current is None:
                raise InputError("has no approval to withdraw", root / rel)
            if signer is not None and signer not in {s.by for s in current.signoffs}:
                raise InputError(f"has no approval by {signer} to withdraw (approved by {current.approved_by})", root / rel)
            out.append({"kind": "revoke", "path": rel, "by": by,
                        "data": {"reason": reason.strip(), "signer": signer, "sha256": current.sha256}})
        return out

    ledger, _ = append(root, drafts, _signer(identity))
    return Outcome(ledger, by)


def default_approver(cwd: Path | None = None) -> str:
    """`git config user.name`, else the login name."""
    try:
        out = subprocess.run(["git", "config", "user.name"], cwd=cwd, capture_output=True, text=True, timeout=3)
        name = out.stdout.strip()
        if out.returncode == 0 and name:
            return name
    except (OSError, subprocess.SubprocessError):
        pass
    try:
        return getpass.getuser()
    except Exception:  # noqa: BLE001 - no login name in some containers
        return ""
