"""What was submitted to each provider and what the provider's review said: ``submissions.toml``
beside ``approvals.toml`` at the templates root, written by ``tmplstudio submit``.

One record per template path and target: the provider's template code (Alibaba Cloud
``SMS_…``, Tencent Cloud's numeric id, Twilio's ``HX…`` content SID), the SHA-256 of the
template file that was submitted (so ``status`` can say when the file has changed since), the
review status in one vocabulary for every provider (reviewing, approved, rejected, cancelled,
no-review, failed) and the provider's own words. Writers hold the approvals ledger's lock.
"""

from __future__ import annotations

import datetime as _dt
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import tomli_w

from tmplstudio import safe_toml
from tmplstudio.errors import InputError
from tmplstudio.fileio import atomic_write_text
from tmplstudio.pack.ledger import locked, utc_now

FILE_NAME = "submissions.toml"
SCHEMA = 1
HEADER = (
    "# Provider submissions written by `tmplstudio submit` (see docs/approval.md).\n"
    "# One record per template and target; edit it only through tmplstudio.\n"
)


@dataclass
class Submission:
    path: str                 # the template, relative to the templates root
    target: str
    id: str                   # the template id (the provider's template name)
    code: str                 # the provider's template code / id / SID
    sha256: str               # of the template file that was submitted
    submitted_at: _dt.datetime
    status: str
    reason: str = ""
    checked_at: _dt.datetime | None = None
    query: dict[str, Any] = field(default_factory=dict)   # what the review call needs besides the code

    def to_toml(self) -> dict[str, Any]:
        data: dict[str, Any] = {"id": self.id, "code": self.code, "sha256": self.sha256,
                                "submitted_at": self.submitted_at, "status": self.status, "reason": self.reason}
        if self.checked_at is not None:
            data["checked_at"] = self.checked_at
        if self.query:
            data["query"] = dict(self.query)
        return data

    @classmethod
    def from_toml(cls, path: str, target: str, data: Any, file: Path) -> "Submission":
        if not isinstance(data, dict) or not all(isinstance(data.get(k), str) for k in ("id", "code", "sha256", "status")):
            raise InputError(f"record for '{path}' ({target}) lacks id, code, sha256 or status", file)
        when = data.get("submitted_at")
        if not isinstance(when, _dt.datetime):
            raise InputError(f"record for '{path}' ({target}): submitted_at is not a date-time", file)
        checked = data.get("checked_at")
        return cls(path, target, data["id"], data["code"], data["sha256"], when, data["status"],
                   str(data.get("reason", "")), checked if isinstance(checked, _dt.datetime) else None,
                   dict(data.get("query") or {}))

    def describe(self, current_sha256: str | None = None) -> str:
        text = f"{self.target} {self.code}: {self.status}"
        if self.reason:
            text += f" ({self.reason})"
        if current_sha256 is not None and current_sha256 != self.sha256:
            text += " — an earlier version of the file"
        return text


class Submissions:
    def __init__(self, root: Path, records: dict[tuple[str, str], Submission] | None = None):
        self.root = Path(root)
        self.records = dict(records or {})

    @property
    def path(self) -> Path:
        return self.root / FILE_NAME

    @classmethod
    def load(cls, root: Path) -> "Submissions":
        found = cls(root)
        try:
            raw = found.path.read_bytes()
        except FileNotFoundError:
            return found
        except OSError as exc:
            raise InputError(f"cannot read the submissions record: {exc.strerror or exc}", found.path) from None
        try:
            data = safe_toml.loads(raw.decode("utf-8-sig"))
        except (UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
            raise InputError(f"the submissions record is not valid TOML: {exc}", found.path) from None
        if data.get("schema", SCHEMA) != SCHEMA:
            raise InputError(f"submissions schema {data.get('schema')!r} is not supported", found.path)
        table = data.get("submissions", {})
        if not isinstance(table, dict):
            raise InputError("'submissions' must be a table keyed by template path", found.path)
        for rel, by_target in table.items():
            if not isinstance(by_target, dict):
                raise InputError(f"record for '{rel}' must be a table of targets", found.path)
            for target, record in by_target.items():
                found.records[(rel, target)] = Submission.from_toml(rel, target, record, found.path)
        return found

    def get(self, rel: str, target: str) -> Submission | None:
        return self.records.get((rel, target))

    def for_path(self, rel: str) -> list[Submission]:
        return [s for (path, _t), s in sorted(self.records.items()) if path == rel]

    def dumps(self) -> str:
        table: dict[str, dict[str, Any]] = {}
        for (rel, target), sub in sorted(self.records.items()):
            table.setdefault(rel, {})[target] = sub.to_toml()
        return HEADER + "\n" + tomli_w.dumps({"schema": SCHEMA, "submissions": table})


def record(root: Path, items: list[Submission]) -> Submissions:
    """Add or replace records under the ledger's lock: re-read, merge, write atomically."""
    with locked(root):
        current = Submissions.load(root)
        for sub in items:
            current.records[(sub.path, sub.target)] = sub
        try:
            atomic_write_text(current.path, current.dumps())
        except OSError as exc:
            raise InputError(f"cannot write the submissions record: {exc.strerror or exc}", current.path) from None
        return current


def now() -> _dt.datetime:
    return utc_now()


def summary(root: Path, rel: str, current_sha256: str | None = None) -> str:
    """One line for a template's provider reviews (empty when never submitted): the studio's
    status bar and `status` show it next to the approval."""
    try:
        subs = Submissions.load(root).for_path(rel)
    except InputError:
        return ""
    return "; ".join(s.describe(current_sha256) for s in subs)
