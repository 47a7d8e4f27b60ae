"""The approvals ledger: the current approval state of each template, derived from the log.

``approvals.log.jsonl`` (log.py) is the history; ``approvals.toml`` beside it is the state that
history leads to — per template, the version that was approved (file hash, policy digest,
partials, accepted warnings) and its sign-offs (who, when, which log line) — written after every
append so a reviewer reads it in a diff. It also records how many log entries it was derived
from and the hash of the last, which catches an edited or removed last line of the log.

How the state follows from the log, per template path:

* an ``approve`` entry adds its signer's sign-off to the current round when it approved the same
  version (same file hash, policy digest, config digest and partials); a different version
  starts a new round with only that sign-off. A signer who approves again replaces their own;
* a ``revoke`` entry withdraws one signer's sign-off, or every sign-off of the template;
* an ``author`` entry records who saved a version in the studio (``authors``).

Projects from before the log (``approvals.toml`` schema 1, unsigned records) are read as they
are; the first write turns each record into an unsigned ``approve`` entry.

Writers hold an exclusive lock (``filelock``, on ``.approvals.toml.lock`` beside the ledger: fcntl
on POSIX, msvcrt on Windows), re-read and check the log under it, append, then replace
``approvals.toml`` atomically, so approvals made at once by several processes are all kept.
"""

from __future__ import annotations

import contextlib
import datetime as _dt
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterator

import tomli_w

from tmplstudio import safe_toml
from tmplstudio.errors import InputError
from tmplstudio.fileio import atomic_write_text
from tmplstudio.pack import log as _log
from tmplstudio.pack.log import LOG_NAME, Entry

LEDGER_NAME = "approvals.toml"
LOCK_NAME = ".approvals.toml.lock"
LEDGER_SCHEMA = 2
LEGACY_SCHEMA = 1
LOCK_TIMEOUT = 30.0
HEADER = (
    "# Approvals ledger written by tmplstudio from approvals.log.jsonl (see docs/approval.md).\n"
    "# The current state of each template's approval; never edit it by hand.\n"
)
VERSION_KEYS = ("sha256", "policy_digest", "config_digest", "partials")


def utc_now() -> _dt.datetime:
    return _dt.datetime.now(_dt.timezone.utc).replace(microsecond=0)


def iso_utc(value: _dt.datetime) -> str:
    if value.tzinfo is None:
        value = value.replace(tzinfo=_dt.timezone.utc)
    return _log.iso(value)


@dataclass
class Signoff:
    """One signer's approval of a template version: who, when, and the log entry that says so."""

    by: str                       # principal (signed) or name (unsigned)
    at: _dt.datetime
    note: str = ""
    line: int = 0                 # line in approvals.log.jsonl (0: legacy record)
    entry: dict[str, Any] | None = None   # the log entry as written (None: legacy record)

    @property
    def signed(self) -> bool:
        return bool(self.entry and self.entry.get("signature"))

    def to_toml(self) -> dict[str, Any]:
        out: dict[str, Any] = {"by": self.by, "at": self.at, "signed": self.signed}
        if self.note:
            out["note"] = self.note
        if self.line:
            out["line"] = self.line
        return out

    def to_json(self) -> dict[str, Any]:
        out = {**self.to_toml(), "at": iso_utc(self.at)}
        if self.entry is not None:
            out["entry"] = self.entry
        return out


@dataclass
class Approval:
    """A template version's approval: what was approved, under which policies, and its sign-offs."""

    path: str                 # relative to the templates root, POSIX separators
    id: str
    sha256: str               # of the template file's bytes
    policy_digest: str        # digest of the effective policy set (pack/digest.py)
    tool_version: str
    locale: str | None = None
    policy_packs: dict[str, str] = field(default_factory=dict)   # pack id -> digest
    policy_versions: dict[str, str] = field(default_factory=dict)   # pack id -> version
    config_digest: str | None = None
    accepted_warnings: list[dict[str, Any]] = field(default_factory=list)
    suppressed: list[dict[str, Any]] = field(default_factory=list)
    # The config's exceptions that covered the template (policy/gate.py): rules off or lowered, with the reason.
    narrowings: list[dict[str, Any]] = field(default_factory=list)
    partials: dict[str, str] = field(default_factory=dict)   # partial path -> sha256 (include/import/extends)
    signoffs: list[Signoff] = field(default_factory=list)

    @property
    def approved_by(self) -> str:
        return ", ".join(s.by for s in self.signoffs)

    @property
    def approved_at(self) -> _dt.datetime:
        return max(s.at for s in self.signoffs)

    def record(self) -> dict[str, Any]:
        """What an ``approve`` log entry carries (the version and what was accepted with it)."""
        data: dict[str, Any] = {"id": self.id, "sha256": self.sha256, "policy_digest": self.policy_digest,
                                "tool_version": self.tool_version}
        if self.locale:
            data["locale"] = self.locale
        if self.config_digest is not None:
            data["config_digest"] = self.config_digest
        data["accepted_warnings"] = [_ordered(w, WARNING_KEYS) for w in sorted(self.accepted_warnings, key=_warning_key)]
        data["suppressed"] = [_ordered(s, WARNING_KEYS) for s in sorted(self.suppressed, key=_warning_key)]
        if self.narrowings:  # only then, so records made before narrowings existed read back the same
            data["narrowings"] = [dict(n) for n in self.narrowings]
        data["partials"] = dict(sorted(self.partials.items()))
        data["policy_packs"] = dict(sorted(self.policy_packs.items()))
        if self.policy_versions:
            data["policy_versions"] = dict(sorted(self.policy_versions.items()))
        return data

    def version(self) -> tuple:
        data = self.record()
        return tuple(_plain(data.get(k)) for k in VERSION_KEYS)

    def to_toml(self) -> dict[str, Any]:
        data = self.record()
        if not data["partials"]:
            del data["partials"]
        data["signoffs"] = [s.to_toml() for s in self.signoffs]
        return data

    def to_json(self) -> dict[str, Any]:
        """The record as it appears in an export manifest (sign-offs carry their log entries)."""
        return {"path": self.path, **self.record(), "signoffs": [s.to_json() for s in self.signoffs]}

    @classmethod
    def from_record(cls, path: str, data: dict[str, Any]) -> "Approval":
        def table(key: str) -> dict[str, str]:
            value = data.get(key, {})
            return {str(k): str(v) for k, v in value.items()} if isinstance(value, dict) else {}

        def items(key: str) -> list[dict[str, Any]]:
            value = data.get(key, [])
            return [dict(w) for w in value if isinstance(w, dict)] if isinstance(value, list) else []

        return cls(
            path=path, id=str(data.get("id", "")), sha256=str(data.get("sha256", "")),
            policy_digest=str(data.get("policy_digest", "")), tool_version=str(data.get("tool_version", "")),
            locale=data.get("locale") if isinstance(data.get("locale"), str) else None,
            policy_packs=table("policy_packs"), policy_versions=table("policy_versions"),
            config_digest=data.get("config_digest") if isinstance(data.get("config_digest"), str) else None,
            accepted_warnings=items("accepted_warnings"), suppressed=items("suppressed"), partials=table("partials"),
            narrowings=items("narrowings"),
        )


def _plain(value: Any) -> Any:
    return tuple(sorted(value.items())) if isinstance(value, dict) else value


WARNING_KEYS = ("rule", "pack", "severity", "line", "column", "sample", "message", "text", "reason")


def _ordered(item: dict[str, Any], keys: tuple[str, ...]) -> dict[str, Any]:
    out = {k: item[k] for k in keys if item.get(k) is not None}
    out.update({k: v for k, v in sorted(item.items()) if k not in out and v is not None})
    return out


def _warning_key(w: dict[str, Any]) -> tuple:
    return (int(w.get("line") or 0), int(w.get("column") or 0), str(w.get("rule", "")), str(w.get("sample") or ""),
            str(w.get("message", "")))


class Ledger:
    """The approvals of one templates folder, as its log (or a legacy approvals.toml) says."""

    def __init__(self, root: Path):
        self.root = Path(root)
        self.approvals: dict[str, Approval] = {}
        self.authors: dict[tuple[str, str], str] = {}   # (path, sha256) -> who saved that version in the studio
        self.entries: list[Entry] = []
        self.legacy = False

    @property
    def path(self) -> Path:
        return self.root / LEDGER_NAME

    @property
    def log_path(self) -> Path:
        return self.root / LOG_NAME

    def get(self, rel: str) -> Approval | None:
        return self.approvals.get(rel)

    @classmethod
    def load(cls, root: Path) -> "Ledger":
        """The current state; an InputError (naming the file and line) when the log's chain is broken."""
        ledger = cls(root)
        read = _log.read(ledger.log_path)
        read.raise_first()
        if read.entries:
            ledger._check_anchor(read.entries)
            ledger.replay(read.entries)
        else:
            ledger._load_legacy()
        return ledger

    def replay(self, entries: list[Entry]) -> None:
        self.entries = list(entries)
        self.approvals, self.authors = {}, {}
        for e in entries:
            if e.kind == "author":
                self.authors[(e.path, str(e.data.get("sha256", "")))] = e.by
            elif e.kind == "revoke":
                current = self.approvals.get(e.path)
                who = e.data.get("signer")
                if current is None:
                    continue
                if who:
                    current.signoffs = [s for s in current.signoffs if s.by != who]
                if not who or not current.signoffs:
                    del self.approvals[e.path]
            elif e.kind == "approve":
                approval = Approval.from_record(e.path, e.data)
                signoff = Signoff(e.by, e.time, str(e.data.get("note", "")), e.line, e.to_obj())
                current = self.approvals.get(e.path)
                if current is not None and current.version() == approval.version():
                    approval.signoffs = [s for s in current.signoffs if s.by != e.by]
                approval.signoffs.append(signoff)
                self.approvals[e.path] = approval

    def _read_toml(self) -> dict[str, Any] | None:
        try:
            raw = self.path.read_bytes()
        except FileNotFoundError:
            return None
        except OSError as exc:
            raise InputError(f"cannot read the approvals ledger: {exc.strerror or exc}", self.path) from None
        try:
            data = safe_toml.loads(raw.decode("utf-8-sig"))
        except UnicodeDecodeError:
            raise InputError("the approvals ledger is not UTF-8 text", self.path) from None
        except tomllib.TOMLDecodeError as exc:
            raise InputError(f"the approvals ledger is not valid TOML: {exc}", self.path) from None
        schema = data.get("schema", LEGACY_SCHEMA)
        if schema not in (LEGACY_SCHEMA, LEDGER_SCHEMA):
            raise InputError(f"approvals ledger schema {schema!r} is not supported (this tmplstudio reads "
                             f"{LEGACY_SCHEMA} and {LEDGER_SCHEMA})", self.path)
        return data

    def _check_anchor(self, entries: list[Entry]) -> None:
        data = self._read_toml()
        anchor = (data or {}).get("log") if (data or {}).get("schema") == LEDGER_SCHEMA else None
        if not isinstance(anchor, dict):
            return  # written before the log existed, or removed: the next write derives it again
        count, head = anchor.get("entries"), anchor.get("head")
        if not isinstance(count, int) or not isinstance(head, str):
            raise InputError("the [log] table must hold entries (a number) and head (a SHA-256)", self.path)
        if count > len(entries):
            raise InputError(f"was derived from {count} log entries, but the log holds {len(entries)}: entries were "
                             "removed from its end", self.log_path, len(entries) or None)
        if count and entries[count - 1].hash != head:
            raise InputError(f"entry {count} is not the one approvals.toml was derived from: it was edited",
                             self.log_path, count)

    def _load_legacy(self) -> None:
        data = self._read_toml()
        if data is None:
            return
        if data.get("schema", LEGACY_SCHEMA) == LEDGER_SCHEMA:
            if data.get("approvals"):
                raise InputError(f"lists approvals but {LOG_NAME}, the history they come from, is missing or "
                                 "empty; restore it from version control", self.path)
            return
        self.legacy = True
        table = data.get("approvals", {})
        if not isinstance(table, dict):
            raise InputError("'approvals' must be a table of records keyed by template path", self.path)
        for rel, record in table.items():
            self.approvals[rel] = _legacy_record(rel, record, self.path)

    def legacy_entries(self) -> list[dict[str, Any]]:
        """A schema-1 ledger's records as the (unsigned) approve entries they become in the log."""
        out = []
        for rel in sorted(self.approvals):
            a = self.approvals[rel]
            for s in a.signoffs:
                out.append({"kind": "approve", "path": rel, "time": s.at, "by": s.by,
                            "data": {**a.record(), "note": s.note, "imported": "approvals.toml schema 1"}})
        return sorted(out, key=lambda d: d["time"])  # the log's times never go backwards

    def dumps(self) -> str:
        data: dict[str, Any] = {"schema": LEDGER_SCHEMA}
        if self.entries:
            data["log"] = {"file": LOG_NAME, "entries": len(self.entries), "head": self.entries[-1].hash}
        data["approvals"] = {rel: self.approvals[rel].to_toml() for rel in sorted(self.approvals)}
        return HEADER + "\n" + tomli_w.dumps(data)

    def save(self) -> None:
        try:
            atomic_write_text(self.path, self.dumps())
        except OSError as exc:
            raise InputError(f"cannot write the approvals ledger: {exc.strerror or exc}", self.path) from None


def _legacy_record(rel: str, data: Any, ledger: Path) -> Approval:
    if not isinstance(data, dict):
        raise InputError(f"record for '{rel}' is not a table", ledger)
    missing = [k for k in ("id", "sha256", "policy_digest", "approved_by", "approved_at") if k not in data]
    if missing:
        raise InputError(f"record for '{rel}' lacks {', '.join(missing)}", ledger)
    when = data["approved_at"]
    if isinstance(when, str):
        try:
            when = _dt.datetime.fromisoformat(when.replace("Z", "+00:00"))
        except ValueError:
            raise InputError(f"record for '{rel}': approved_at is not a date-time", ledger) from None
    if not isinstance(when, _dt.datetime):
        raise InputError(f"record for '{rel}': approved_at is not a date-time", ledger)
    if when.tzinfo is None:
        when = when.replace(tzinfo=_dt.timezone.utc)
    approval = Approval.from_record(rel, data)
    approval.signoffs = [Signoff(str(data["approved_by"]), when.replace(microsecond=0), str(data.get("note", "")))]
    return approval


@contextlib.contextmanager
def locked(root: Path, timeout: float = LOCK_TIMEOUT) -> Iterator[None]:
    """Hold the ledger's exclusive lock (the same on POSIX and Windows)."""
    from filelock import FileLock, Timeout

    lock_path = Path(root) / LOCK_NAME
    lock = FileLock(str(lock_path), timeout=timeout)
    try:
        lock.acquire()
    except Timeout:
        raise InputError(f"another tmplstudio process has held the ledger lock for {timeout:.0f} s", lock_path) from None
    except OSError as exc:
        raise InputError(f"cannot create the ledger lock file: {exc.strerror or exc}", lock_path) from None
    try:
        yield
    finally:
        lock.release()


Draft = dict[str, Any]   # {"kind", "path", "data", "by"?, "time"?}: an entry before it has its place in the chain
Signer = Callable[[Entry], Entry]


def append(root: Path, drafts: Callable[[Ledger], list[Draft]], sign: Signer | None = None) -> tuple[Ledger, list[Entry]]:
    """Under the lock: load the ledger, ask ``drafts`` for the entries to add given that state,
    chain them (``seq``, ``prev``), sign each with ``sign``, append them to the log and write
    approvals.toml again. Returns the new ledger and the entries written."""
    root = Path(root)
    with locked(root):
        ledger = Ledger.load(root)
        pending = ledger.legacy_entries() if ledger.legacy else []
        new = drafts(ledger)
        if not new:
            return ledger, []
        written: list[Entry] = []
        prev = ledger.entries[-1] if ledger.entries else None
        last_time = prev.time if prev is not None else None
        imported = len(pending)
        for i, draft in enumerate([*pending, *new]):
            when = draft.get("time") or utc_now()
            if last_time is not None and when < last_time:
                if i >= imported:  # a clock behind the last entry: the log never goes backwards
                    when = last_time
            entry = Entry(seq=(prev.seq + 1) if prev else 1, prev=prev.hash if prev else _log.GENESIS,
                          kind=draft["kind"], time=when, path=draft["path"], data=draft["data"], by=draft.get("by", ""))
            if i >= imported and sign is not None and draft["kind"] != "author":
                entry = sign(entry)
            entry.raw = entry.encode()
            written.append(entry)
            prev, last_time = entry, entry.time
        _log.append(ledger.log_path, written)
        for e, number in zip(written, range(len(ledger.entries) + 1, len(ledger.entries) + len(written) + 1)):
            e.line = number
        ledger.replay([*ledger.entries, *written])
        ledger.save()
        return ledger, written[imported:]
