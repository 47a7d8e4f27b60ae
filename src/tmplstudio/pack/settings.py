"""The project's approval rules: the ``[approval]`` table of ``tmplstudio.toml``.

::

    [approval]
    require_signature = true           # unsigned approvals count for nothing (default: false)
    required = 1                       # distinct signers per template, the author excluded
    allowed_signers = "templates/allowed_signers"   # git's format; default: beside approvals.toml
    revoked_keys = "templates/revoked_keys"         # keys no longer trusted; default: beside it, if present

    [approval.folders."production"]    # templates under templates/production/
    required = 2
    signers = ["*@compliance.example.com"]          # principal patterns allowed to approve there

    [approval.locales."zh-CN"]
    signers = ["li.wei@bank.example", "wang.fang@bank.example"]

Every scope that matches a template applies: the highest ``required`` wins, and a signer must
match the ``signers`` of each matching scope that lists some.
"""

from __future__ import annotations

import fnmatch
from dataclasses import dataclass, field
from pathlib import Path

from tmplstudio.errors import InputError

KEYS = ("require_signature", "required", "allowed_signers", "revoked_keys", "folders", "locales")
SCOPE_KEYS = ("required", "signers")
MAX_REQUIRED = 20


@dataclass(frozen=True)
class Scope:
    required: int | None = None
    signers: tuple[str, ...] = ()   # fnmatch patterns of principals; empty: anyone in allowed_signers


@dataclass(frozen=True)
class Requirement:
    """What one template needs: how many distinct signers, and who may be one."""

    required: int
    patterns: tuple[tuple[str, ...], ...] = ()   # one tuple per matching scope that names signers

    def allows(self, principal: str) -> bool:
        return all(any(fnmatch.fnmatchcase(principal, p) for p in pats) for pats in self.patterns)

    def describe(self) -> str:
        return " and ".join("one of " + ", ".join(p) for p in self.patterns)


@dataclass(frozen=True)
class ApprovalSettings:
    require_signature: bool = False
    required: int = 1
    allowed_signers: Path = Path("allowed_signers")
    revoked_keys: Path | None = None
    folders: dict[str, Scope] = field(default_factory=dict)
    locales: dict[str, Scope] = field(default_factory=dict)

    def requirement(self, rel: str, locale: str | None) -> Requirement:
        scopes = [s for folder, s in self.folders.items() if rel.startswith(folder.strip("/") + "/")]
        if locale:
            scopes += [s for loc, s in self.locales.items() if loc.lower() == locale.lower()]
        required = max([self.required, *(s.required for s in scopes if s.required is not None)])
        return Requirement(required, tuple(s.signers for s in scopes if s.signers))

    def trust(self):
        from tmplstudio.pack.sshsig import Trust

        return Trust(self.allowed_signers, self.revoked_keys)


def _count(value, where: str, path) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= MAX_REQUIRED:
        raise InputError(f"{where} must be a whole number from 1 to {MAX_REQUIRED}, not {value!r}", path)
    return value


def _scope(name: str, table, where: str, path) -> Scope:
    if not isinstance(table, dict):
        raise InputError(f"{where}.\"{name}\" must be a table with required and/or signers", path)
    for key in table:
        if key not in SCOPE_KEYS:
            raise InputError(f"unknown key '{key}' in {where}.\"{name}\" (known: {', '.join(SCOPE_KEYS)})", path)
    required = _count(table["required"], f"{where}.\"{name}\".required", path) if "required" in table else None
    signers = table.get("signers", [])
    if not isinstance(signers, list) or not all(isinstance(s, str) and s.strip() for s in signers):
        raise InputError(f"{where}.\"{name}\".signers must be a list of principals (patterns like \"*@bank.example\")", path)
    return Scope(required, tuple(s.strip() for s in signers))


def settings(project) -> ApprovalSettings:
    """The approval settings of a loaded Project (defaults when its config has no ``[approval]``)."""
    config = project.config
    table = getattr(config, "approval", None) or {}
    path = config.path
    templates = Path(project.templates_dir)
    if not isinstance(table, dict):
        raise InputError("'approval' must be a table", path)
    for key in table:
        if key not in KEYS:
            from tmplstudio.template.meta import did_you_mean

            raise InputError(f"unknown key '{key}' in [approval]{did_you_mean(key, KEYS)}", path)
    require = table.get("require_signature", False)
    if not isinstance(require, bool):
        raise InputError("approval.require_signature must be true or false", path)
    required = _count(table.get("required", 1), "approval.required", path)

    def file(key: str, default: Path | None) -> Path | None:
        value = table.get(key)
        if value is None:
            return default
        if not isinstance(value, str) or not value.strip():
            raise InputError(f"approval.{key} must be a file path", path)
        return Path(config.root) / value

    allowed = file("allowed_signers", templates / "allowed_signers")
    revoked = file("revoked_keys", allowed.with_name("revoked_keys"))
    folders, locales = table.get("folders", {}), table.get("locales", {})
    if not isinstance(folders, dict) or not isinstance(locales, dict):
        raise InputError("approval.folders and approval.locales must be tables of scopes", path)
    return ApprovalSettings(
        require_signature=require, required=required, allowed_signers=allowed, revoked_keys=revoked,
        folders={str(k): _scope(str(k), v, "approval.folders", path) for k, v in folders.items()},
        locales={str(k): _scope(str(k), v, "approval.locales", path) for k, v in locales.items()},
    )
