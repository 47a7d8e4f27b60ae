"""The approvals ledger: ``approvals.toml`` at the templates root.

One record per template, keyed by the template's path relative to the templates root (POSIX
separators), so a template's record moves only when it is approved again. Records are written
in path order and each record's keys in a fixed order, so a re-approval changes a handful of
lines in a diff. The file's history (git) is the audit trail of earlier approvals.

Writers take an exclusive lock (``fcntl.flock`` on ``.approvals.toml.lock`` beside the
ledger), re-read the ledger under the lock, merge their records and replace the file
atomically, so two ``tmplstudio approve`` processes running at once never lose a record.
"""

from __future__ import annotations

import contextlib
import datetime as _dt
import os
import time
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterator

import tomli_w

from tmplstudio.errors import InputError
from tmplstudio.fileio import atomic_write_text

LEDGER_NAME = "approvals.toml"
LOCK_NAME = ".approvals.toml.lock"
LEDGER_SCHEMA = 1
LOCK_TIMEOUT = 30.0
HEADER = (
    "# Approvals ledger written by `tmplstudio approve` (see docs/approval.md).\n"
    "# One record per template; edit it only through tmplstudio.\n"
)


def utc_now() -> _dt.datetime:
    return _dt.datetime.now(_dt.timezone.utc).replace(microsecond=0)


def iso_utc(value: _dt.datetime) -> str:
    if value.tzinfo is None:
        value = value.replace(tzinfo=_dt.timezone.utc)
    return value.astimezone(_dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


@dataclass
class Approval:
    """One template's approval: what was approved, under which policies, by whom and when."""

    path: str                 # relative to the templates root, POSIX separators
    id: str
    sha256: str               # of the template file's bytes
    policy_digest: str        # digest of the effective policy set (pack/digest.py)
    tool_version: str
    approved_by: str
    approved_at: _dt.datetime
    note: str = ""
    policy_packs: dict[str, str] = field(default_factory=dict)   # pack id -> digest
    config_digest: str | None = None
    accepted_warnings: list[dict[str, Any]] = field(default_factory=list)
    suppressed: list[dict[str, Any]] = field(default_factory=list)
    partials: dict[str, str] = field(default_factory=dict)   # partial path -> sha256 (include/import/extends)

    def to_toml(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "id": self.id,
            "sha256": self.sha256,
            "policy_digest": self.policy_digest,
            "tool_version": self.tool_version,
            "approved_by": self.approved_by,
            "approved_at": self.approved_at.astimezone(_dt.timezone.utc),
            "note": self.note,
        }
        if self.config_digest is not None:
            data["config_digest"] = self.config_digest
        data["accepted_warnings"] = [_ordered(w, WARNING_KEYS) for w in sorted(self.accepted_warnings, key=_warning_key)]
        data["suppressed"] = [_ordered(s, WARNING_KEYS) for s in sorted(self.suppressed, key=_warning_key)]
        if self.partials:
            data["partials"] = dict(sorted(self.partials.items()))
        data["policy_packs"] = dict(sorted(self.policy_packs.items()))
        return data

    def to_json(self) -> dict[str, Any]:
        """The record as it appears in an export manifest."""
        data = self.to_toml()
        data["approved_at"] = iso_utc(self.approved_at)
        return {"path": self.path, **data}

    @classmethod
    def from_toml(cls, path: str, data: Any, ledger: Path) -> "Approval":
        if not isinstance(data, dict):
            raise InputError(f"record for '{path}' is not a table", ledger)
        missing = [k for k in ("id", "sha256", "policy_digest", "approved_by", "approved_at") if k not in data]
        if missing:
            raise InputError(f"record for '{path}' lacks {', '.join(missing)}", ledger)
        when = data["approved_at"]
        if isinstance(when, str):
            try:
                when = _dt.datetime.fromisoformat(when.replace("Z", "+00:00"))
            except ValueError:
                raise InputError(f"record for '{path}': approved_at is not a date-time", ledger) from None
        if not isinstance(when, _dt.datetime):
            raise InputError(f"record for '{path}': approved_at is not a date-time", ledger)
        if when.tzinfo is None:
            when = when.replace(tzinfo=_dt.timezone.utc)
        packs = data.get("policy_packs", {})
        partials = data.get("partials", {})
        return cls(
            path=path,
            id=str(data["id"]),
            sha256=str(data["sha256"]),
            policy_digest=str(data["policy_digest"]),
            tool_version=str(data.get("tool_version", "")),
            approved_by=str(data["approved_by"]),
            approved_at=when,
            note=str(data.get("note", "")),
            policy_packs={str(k): str(v) for k, v in packs.items()} if isinstance(packs, dict) else {},
            config_digest=data.get("config_digest"),
            accepted_warnings=[dict(w) for w in data.get("accepted_warnings", []) if isinstance(w, dict)],
            suppressed=[dict(s) for s in data.get("suppressed", []) if isinstance(s, dict)],
            partials={str(k): str(v) for k, v in partials.items()} if isinstance(partials, dict) else {},
        )


WARNING_KEYS = ("rule", "pack", "severity", "line", "column", "sample", "message", "text", "reason")


def _ordered(item: dict[str, Any], keys: tuple[str, ...]) -> dict[str, Any]:
    out = {k: item[k] for k in keys if item.get(k) is not None}
    out.update({k: v for k, v in sorted(item.items()) if k not in out and v is not None})
    return out


def _warning_key(w: dict[str, Any]) -> tuple:
    return (int(w.get("line") or 0), int(w.get("column") or 0), str(w.get("rule", "")), str(w.get("sample") or ""),
            str(w.get("message", "")))


class Ledger:
    """The approvals of one templates folder."""

    def __init__(self, root: Path, approvals: dict[str, Approval] | None = None):
        self.root = Path(root)
        self.approvals: dict[str, Approval] = dict(approvals or {})

    @property
    def path(self) -> Path:
        return self.root / LEDGER_NAME

    @classmethod
    def load(cls, root: Path) -> "Ledger":
        ledger = cls(root)
        path = ledger.path
        try:
            raw = path.read_bytes()
        except FileNotFoundError:
            return ledger
        except OSError as exc:
            raise InputError(f"cannot read the approvals ledger: {exc.strerror or exc}", path) from None
        try:
            data = tomllib.loads(raw.decode("utf-8-sig"))
        except UnicodeDecodeError:
            raise InputError("the approvals ledger is not UTF-8 text", path) from None
        except tomllib.TOMLDecodeError as exc:
            raise InputError(f"the approvals ledger is not valid TOML: {exc}", path) from None
        schema = data.get("schema", LEDGER_SCHEMA)
        if schema != LEDGER_SCHEMA:
            raise InputError(f"approvals ledger schema {schema!r} is not supported (this tmplstudio reads {LEDGER_SCHEMA})", path)
        table = data.get("approvals", {})
        if not isinstance(table, dict):
            raise InputError("'approvals' must be a table of records keyed by template path", path)
        for rel, record in table.items():
            ledger.approvals[rel] = Approval.from_toml(rel, record, path)
        return ledger

    def get(self, rel: str) -> Approval | None:
        return self.approvals.get(rel)

    def dumps(self) -> str:
        data = {
            "schema": LEDGER_SCHEMA,
            "approvals": {rel: self.approvals[rel].to_toml() for rel in sorted(self.approvals)},
        }
        return HEADER + "\n" + tomli_w.dumps(data)

    def save(self) -> None:
        try:
            atomic_write_text(self.path, self.dumps())
        except OSError as exc:
            raise InputError(f"cannot write the approvals ledger: {exc.strerror or exc}", self.path) from None


@contextlib.contextmanager
def locked(root: Path, timeout: float = LOCK_TIMEOUT) -> Iterator[None]:
    """Hold the ledger's exclusive lock (a no-op where fcntl is unavailable)."""
    try:
        import fcntl
    except ImportError:  # pragma: no cover - not Linux/macOS
        yield
        return
    lock_path = Path(root) / LOCK_NAME
    try:
        fd = os.open(lock_path, os.O_RDWR | os.O_CREAT, 0o666)
    except OSError as exc:
        raise InputError(f"cannot create the ledger lock file: {exc.strerror or exc}", lock_path) from None
    try:
        deadline = time.monotonic() + timeout
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() > deadline:
                    raise InputError(f"another tmplstudio process has held the ledger lock for {timeout:.0f} s", lock_path) from None
                time.sleep(0.02)
        try:
            yield
        finally:
            fcntl.flock(fd, fcntl.LOCK_UN)
    finally:
        os.close(fd)


def record(root: Path, approvals: list[Approval]) -> Ledger:
    """Add or replace records under the lock: re-read, merge, write atomically. Returns the new ledger."""
    with locked(root):
        ledger = Ledger.load(root)
        for approval in approvals:
            ledger.approvals[approval.path] = approval
        ledger.save()
        return ledger
