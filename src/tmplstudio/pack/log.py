"""The approvals log: ``approvals.log.jsonl``, append-only and hash-chained.

One JSON object a line, in the order things happened::

    {"seq":3,"prev":"<sha256 of line 2>","kind":"approve","time":"2026-01-02T03:04:05Z",
     "path":"notice.j2","data":{…the approval record…},"by":"li.wei@bank.example","signature":"-----BEGIN SSH SIGNATURE-----…"}

* ``seq`` is the line number; ``prev`` is the SHA-256 of the previous line's exact bytes (64
  zeros on line 1), so a removed, reordered or edited line breaks the chain at the line after it;
* ``kind`` is ``approve``, ``revoke`` (an approval withdrawn, with a reason) or ``author`` (who
  saved a version of a template in the studio; never signed, it only ever excludes someone);
* ``signature`` is an SSH signature (namespace ``tmplstudio-approval``) over the canonical JSON of
  the entry without ``by`` and ``signature`` — ``prev`` included, so a signed entry cannot be moved
  to another place in the history; ``by`` is the principal that ``allowed_signers`` gives the
  signing key (or, unsigned, the name given with ``--by``);
* ``time`` never goes backwards from one line to the next, so an entry cannot be back-dated
  behind one already written.

``approvals.toml`` (ledger.py) records the number of entries and the hash of the last one, which
catches an edited or removed last line. A line without its newline at the end of the file is a
write cut short (a crash): it is reported, never dropped or appended after.
"""

from __future__ import annotations

import datetime as _dt
import hashlib
import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tmplstudio.errors import InputError

LOG_NAME = "approvals.log.jsonl"
GENESIS = "0" * 64
KINDS = ("approve", "revoke", "author")
FIELDS = ("seq", "prev", "kind", "time", "path", "data", "by", "signature")
UNSIGNED_FIELDS = ("by", "signature")
MAX_LOG_BYTES = 256 * 1024 * 1024
MAX_LINE_BYTES = 4 * 1024 * 1024


def iso(value: _dt.datetime) -> str:
    return value.astimezone(_dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def parse_time(text: Any) -> _dt.datetime | None:
    if not isinstance(text, str):
        return None
    try:
        value = _dt.datetime.strptime(text, "%Y-%m-%dT%H:%M:%SZ")
    except ValueError:
        return None
    return value.replace(tzinfo=_dt.timezone.utc)


def no_duplicate_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    """``object_pairs_hook`` for JSON that must not hide a second value under the same key."""
    out: dict[str, Any] = {}
    for key, value in pairs:
        if key in out:
            raise ValueError(f"duplicate key '{key}'")
        out[key] = value
    return out


def strict_json(text: str) -> Any:
    """JSON with no duplicate key; too deep a nesting is a ValueError like any other bad JSON
    (the decoder recurses: `[[[[…` 100,000 deep is a RecursionError)."""
    try:
        return json.loads(text, object_pairs_hook=no_duplicate_keys)
    except RecursionError:
        raise ValueError("nested too deeply") from None


def canonical(value: Any) -> bytes:
    return json.dumps(value, sort_keys=True, ensure_ascii=False, separators=(",", ":"), allow_nan=False).encode("utf-8")


def signed_payload(obj: dict[str, Any]) -> bytes:
    """The bytes an entry's signature covers (also checkable from a copy of the entry in a pack)."""
    return canonical({k: v for k, v in obj.items() if k not in UNSIGNED_FIELDS})


@dataclass
class Entry:
    seq: int
    prev: str
    kind: str
    time: _dt.datetime
    path: str
    data: dict[str, Any] = field(default_factory=dict)
    by: str = ""
    signature: str | None = None
    line: int = 0          # where it was read (0: not written yet)
    raw: bytes = b""       # the line's exact bytes, without the newline

    def to_obj(self) -> dict[str, Any]:
        return {"seq": self.seq, "prev": self.prev, "kind": self.kind, "time": iso(self.time), "path": self.path,
                "data": self.data, "by": self.by, "signature": self.signature}

    def payload(self) -> bytes:
        return signed_payload(self.to_obj())

    def encode(self) -> bytes:
        return json.dumps(self.to_obj(), ensure_ascii=False, separators=(",", ":"), allow_nan=False).encode("utf-8")

    @property
    def hash(self) -> str:
        return hashlib.sha256(self.raw or self.encode()).hexdigest()


@dataclass
class Problem:
    line: int
    message: str


def _entry(obj: Any, line: int, raw: bytes) -> Entry | str:
    if not isinstance(obj, dict):
        return "not a JSON object"
    missing = [k for k in FIELDS if k not in obj]
    if missing:
        return f"lacks {', '.join(missing)}"
    extra = [k for k in obj if k not in FIELDS]
    if extra:
        return f"unknown field {', '.join(extra)}"
    when = parse_time(obj["time"])
    checks = [
        (isinstance(obj["seq"], int) and not isinstance(obj["seq"], bool), "seq is not a number"),
        (isinstance(obj["prev"], str) and len(obj["prev"]) == 64, "prev is not a SHA-256"),
        (obj["kind"] in KINDS, f"kind {obj['kind']!r} is not one of {', '.join(KINDS)}"),
        (when is not None, "time is not a UTC time like 2026-01-02T03:04:05Z"),
        (isinstance(obj["path"], str) and obj["path"] != "", "path is not a template path"),
        (isinstance(obj["data"], dict), "data is not an object"),
        (isinstance(obj["by"], str), "by is not text"),
        (obj["signature"] is None or isinstance(obj["signature"], str), "signature is not text"),
    ]
    for ok, why in checks:
        if not ok:
            return why
    return Entry(obj["seq"], obj["prev"], obj["kind"], when, obj["path"], obj["data"], obj["by"], obj["signature"], line, raw)


@dataclass
class LogRead:
    path: Path
    entries: list[Entry] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)

    @property
    def head(self) -> str:
        return self.entries[-1].hash if self.entries else GENESIS

    def raise_first(self) -> None:
        if self.problems:
            p = self.problems[0]
            more = f" (and {len(self.problems) - 1} more problem{'s' if len(self.problems) != 2 else ''}: tmplstudio audit-log --verify lists them)" if len(self.problems) > 1 else ""
            raise InputError(p.message + more, self.path, p.line)


def read(path: Path) -> LogRead:
    """Every entry of the log, and every way its chain is broken (each with its line)."""
    result = LogRead(path)
    try:
        size = path.stat().st_size
        if size > MAX_LOG_BYTES:
            raise InputError(f"the approvals log is {size / 1e6:.0f} MB, over the {MAX_LOG_BYTES // 2**20} MiB limit", path)
        data = path.read_bytes()
    except FileNotFoundError:
        return result
    except OSError as exc:
        raise InputError(f"cannot read the approvals log: {exc.strerror or exc}", path) from None
    lines = data.split(b"\n")
    cut = lines[-1] != b""
    if not cut:
        lines.pop()
    problems = result.problems
    prev_hash, prev_time = GENESIS, None
    for number, raw in enumerate(lines, start=1):
        if cut and number == len(lines):
            problems.append(Problem(number, "the last line is cut off (no newline at its end): the write was interrupted, "
                                            "perhaps by a crash. Nothing was dropped or appended; restore the log from "
                                            "version control, or remove that incomplete line once you have checked it"))
            break
        if len(raw) > MAX_LINE_BYTES:
            problems.append(Problem(number, f"line is over {MAX_LINE_BYTES // 2**20} MiB; not an approvals log entry"))
            prev_hash = hashlib.sha256(raw).hexdigest()
            continue
        try:
            obj = strict_json(raw.decode("utf-8"))
        except (UnicodeDecodeError, ValueError) as exc:
            problems.append(Problem(number, f"not a valid log entry ({exc}); the line was edited or damaged"))
            prev_hash = hashlib.sha256(raw).hexdigest()
            continue
        entry = _entry(obj, number, raw)
        if isinstance(entry, str):
            problems.append(Problem(number, f"not a valid log entry: {entry}"))
            prev_hash = hashlib.sha256(raw).hexdigest()
            continue
        if entry.seq != number:
            if entry.seq > number:
                gone = f"entry {number}" if entry.seq == number + 1 else f"entries {number} to {entry.seq - 1}"
                problems.append(Problem(number, f"holds entry {entry.seq} where entry {number} belongs: {gone} "
                                                "was removed, or the lines were reordered"))
            else:
                problems.append(Problem(number, f"holds entry {entry.seq} where entry {number} belongs: the lines "
                                                "were reordered or an entry was copied"))
        elif entry.prev != prev_hash:
            problems.append(Problem(number, f"does not follow line {number - 1}: the hash it records for it differs, "
                                            f"so line {number - 1} was edited" if number > 1 else
                                            "the first entry records a previous entry: lines before it were removed"))
        if prev_time is not None and entry.time < prev_time:
            problems.append(Problem(number, f"is dated {iso(entry.time)}, before the entry above it ({iso(prev_time)}): "
                                            "it was moved or back-dated"))
        result.entries.append(entry)
        prev_hash, prev_time = entry.hash, entry.time
    return result


def append(path: Path, entries: list[Entry]) -> None:
    """Append encoded entries in one write, then fsync (the caller holds the ledger lock)."""
    blob = b"".join(e.encode() + b"\n" for e in entries)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
    except OSError as exc:
        raise InputError(f"cannot write the approvals log: {exc.strerror or exc}", path) from None
    try:
        written = 0
        while written < len(blob):
            written += os.write(fd, blob[written:])
        os.fsync(fd)
    except OSError as exc:
        raise InputError(f"cannot write the approvals log: {exc.strerror or exc}", path) from None
    finally:
        os.close(fd)
    for e in entries:
        e.raw = e.encode()
