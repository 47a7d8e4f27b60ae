"""Crash recovery: copies of unsaved buffers in a per-user state folder.

While a buffer has unsaved changes the studio writes its text here every few seconds and on
each save attempt; a clean save or an explicit discard removes the copy. A copy still present
when the studio starts means the last session ended without saving (a crash, ``kill -9``, a
closed terminal, a power cut), and the studio offers to restore or discard it.

Pure file logic (no Textual): one JSON file per template, written atomically, named after a
hash of the template's absolute path so two templates called ``notice.j2`` in different
projects never collide. The folder is ``platformdirs.user_state_dir("tmplstudio")/recovery``,
or ``$TMPLSTUDIO_STATE_DIR/recovery`` when that variable is set (tests, sandboxes).
"""

from __future__ import annotations

import difflib
import hashlib
import json
import os
import time
from dataclasses import dataclass
from pathlib import Path

from tmplstudio.fileio import atomic_write_text

SCHEMA = 1
INTERVAL_SECONDS = 2.0   # how often the studio writes copies of changed, unsaved buffers
ENV = "TMPLSTUDIO_STATE_DIR"


def state_dir() -> Path:
    override = os.environ.get(ENV)
    if override:
        return Path(override)
    import platformdirs

    return Path(platformdirs.user_state_dir("tmplstudio"))


def recovery_dir() -> Path:
    return state_dir() / "recovery"


def _key(target: Path) -> str:
    return hashlib.sha256(str(_absolute(target)).encode("utf-8", "surrogatepass")).hexdigest()[:20]


def _absolute(target: Path) -> Path:
    return Path(os.path.abspath(target))


def recovery_file(target: Path) -> Path:
    return recovery_dir() / f"{_key(target)}.json"


def _digest(text: str | None) -> str | None:
    return None if text is None else hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()


@dataclass(frozen=True)
class Recovery:
    """A recovery copy: the unsaved text of ``target`` as of ``written``."""

    target: Path
    text: str
    base_digest: str | None     # digest of the file's text the edits started from (None: a new file)
    written: float               # time.time() of the copy
    pid: int                     # the studio process that wrote it
    file: Path                   # the recovery file itself

    def disk_text(self) -> str | None:
        """The template's current text on disk, or None if it is gone or unreadable."""
        try:
            return self.target.read_bytes().decode("utf-8")
        except (OSError, UnicodeDecodeError):
            return None

    def owner_alive(self) -> bool:
        """Is the studio that wrote this copy still running (another window, not a crash)?"""
        if self.pid == os.getpid():
            return True
        try:
            os.kill(self.pid, 0)
        except ProcessLookupError:
            return False
        except PermissionError:
            return True  # someone else's live process
        except OSError:
            return False
        return _is_studio(self.pid)

    def same_as_disk(self) -> bool:
        return self.disk_text() == self.text


def _is_studio(pid: int) -> bool:
    """A live pid may have been reused by an unrelated program after a crash (Linux: check)."""
    try:
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return True  # cannot tell (not Linux): assume it is the studio
    return b"tmplstudio" in cmdline or b"pytest" in cmdline


def write(target: Path, text: str, saved_text: str | None) -> Path:
    """Write (or replace) the recovery copy of ``target``; returns the recovery file."""
    path = recovery_file(target)
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        os.chmod(path.parent, 0o700)  # unsaved drafts are nobody else's business
    except OSError:
        pass
    record = {
        "schema": SCHEMA,
        "path": str(_absolute(target)),
        "text": text,
        "base_digest": _digest(saved_text),
        "written": time.time(),
        "pid": os.getpid(),
    }
    atomic_write_text(path, json.dumps(record, ensure_ascii=False))
    return path


def discard(target: Path) -> None:
    """Remove the recovery copy of ``target`` (after a save, or when the user discards it)."""
    try:
        recovery_file(target).unlink()
    except FileNotFoundError:
        pass
    except OSError:
        pass


def load(file: Path) -> Recovery | None:
    """Read one recovery file; None if it is not a valid copy (it is then left alone)."""
    try:
        record = json.loads(file.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError):
        return None
    if not isinstance(record, dict) or record.get("schema") != SCHEMA:
        return None
    text, path = record.get("text"), record.get("path")
    if not isinstance(text, str) or not isinstance(path, str):
        return None
    return Recovery(
        target=Path(path),
        text=text,
        base_digest=record.get("base_digest") if isinstance(record.get("base_digest"), str) else None,
        written=float(record.get("written") or 0.0),
        pid=int(record.get("pid") or 0),
        file=file,
    )


def for_target(target: Path) -> Recovery | None:
    file = recovery_file(target)
    return load(file) if file.exists() else None


def pending(under: Path | None = None) -> list[Recovery]:
    """Copies left by sessions that ended without saving, newest first.

    ``under``: only templates inside this folder. Copies whose text equals the file on disk
    (the save went through just before the crash) are removed instead of offered; copies
    held by a studio that is still running are skipped.
    """
    folder = recovery_dir()
    if not folder.is_dir():
        return []
    out: list[Recovery] = []
    root = _absolute(under) if under is not None else None
    for file in sorted(folder.glob("*.json")):
        rec = load(file)
        if rec is None:
            continue
        if root is not None and root not in rec.target.parents and rec.target != root:
            continue
        if rec.owner_alive():
            continue
        if rec.same_as_disk():
            try:
                file.unlink()
            except OSError:
                pass
            continue
        out.append(rec)
    out.sort(key=lambda r: r.written, reverse=True)
    return out


@dataclass(frozen=True)
class DiffSummary:
    added: int
    removed: int
    lines: tuple[str, ...]   # the first lines of a unified diff (disk -> recovered)
    truncated: bool

    def headline(self) -> str:
        return f"+{self.added} −{self.removed} line{'s' if self.added + self.removed != 1 else ''}"


def diff_summary(disk: str | None, recovered: str, max_lines: int = 14) -> DiffSummary:
    """How the recovered text differs from the file on disk (None: the file is gone)."""
    old = (disk or "").splitlines()
    new = recovered.splitlines()
    diff = list(difflib.unified_diff(old, new, "on disk", "recovered", lineterm="", n=1))
    added = sum(1 for d in diff if d.startswith("+") and not d.startswith("+++"))
    removed = sum(1 for d in diff if d.startswith("-") and not d.startswith("---"))
    body = [d for d in diff if not d.startswith(("---", "+++"))]
    return DiffSummary(added, removed, tuple(body[:max_lines]), len(body) > max_lines)


def describe(rec: Recovery) -> str:
    """A few lines for the restore dialog: where, when, how it differs."""
    disk = rec.disk_text()
    summary = diff_summary(disk, rec.text)
    when = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(rec.written))
    if disk is None:
        state = "The file no longer exists on disk; restoring recreates it when you save."
    elif rec.base_digest is not None and _digest(disk) != rec.base_digest:
        state = "The file also changed on disk since these edits began: compare before saving."
    else:
        state = "The file on disk is as it was when these edits began."
    lines = [f"{rec.target}", f"Unsaved edits from {when} ({summary.headline()}). {state}", ""]
    lines.extend(summary.lines)
    if summary.truncated:
        lines.append("…")
    return "\n".join(lines)
