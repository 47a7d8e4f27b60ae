"""Checking a template for approval and building its ledger record.

A template can be approved when its file, evaluated against the project's policy set right
now, has no error finding; warnings must be accepted explicitly and are recorded. Approval is
always of the file on disk (its exact bytes), never of unsaved text.
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
from tmplstudio.pack.digest import PolicySet, policy_set, sha256_bytes
from tmplstudio.pack.ledger import Approval, Ledger, record, utc_now
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
    if c.dependencies is not None and c.dependencies.dynamic:
        return ("it loads a partial whose name is computed, so the approval could not cover it ("
                + "; ".join(c.dependencies.dynamic) + "); name the partial literally")
    if c.warnings and not accept_warnings:
        n = len(c.warnings)
        return f"{n} warning{'s' if n != 1 else ''}; review {'them' if n != 1 else 'it'} and approve with --accept-warnings to record {'them' if n != 1 else 'it'} as accepted"
    return None


def make_approval(c: Check, policies: PolicySet, by: str, note: str = "") -> Approval:
    return Approval(
        path=c.rel, id=c.template_id, sha256=c.sha256, policy_digest=policies.digest,
        tool_version=__version__, approved_by=by, approved_at=utc_now(), note=note,
        policy_packs=dict(policies.packs), config_digest=policies.config_digest,
        accepted_warnings=[finding_record(f) for f in c.warnings],
        suppressed=[finding_record(f) for f in c.suppressed],
        partials=dict(c.dependencies.partials) if c.dependencies is not None else {},
    )


def approve(project, checks: list[Check], by: str, note: str = "", policies: PolicySet | None = None) -> Ledger:
    """Record approvals of checks that passed :func:`refusal` (the caller decides). Locked + atomic."""
    by = by.strip()
    if not by:
        raise InputError("the approver's name is empty (--by NAME)")
    policies = policies or policy_set(project)
    return record(Path(project.templates_dir), [make_approval(c, policies, by, note) for c in checks])


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
