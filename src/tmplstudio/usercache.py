"""The per-user cache folder: derived data that makes the next start faster, nothing else.

Everything here can be rebuilt from its inputs, and every entry is stored under a key made
of all of its inputs, so an entry is either exactly right or not found. A missing, corrupt or
foreign entry is rebuilt; a cache folder that cannot be written costs speed, never an error.

``TMPLSTUDIO_NO_CACHE=1`` turns the cache off; ``TMPLSTUDIO_CACHE_DIR`` moves it (tests do).
Anyone who can write to a user's cache folder can already run code as that user, so
unpickling from it adds no new trust.
"""

from __future__ import annotations

import hashlib
import os
import pickle
from functools import cache
from pathlib import Path
from typing import Any


def cache_dir(kind: str) -> Path | None:
    """The folder for one kind of cached data, or None when caching is off."""
    if os.environ.get("TMPLSTUDIO_NO_CACHE", "") not in ("", "0"):
        return None
    override = os.environ.get("TMPLSTUDIO_CACHE_DIR")
    if override:
        return Path(override) / kind
    import platformdirs

    return Path(platformdirs.user_cache_dir("tmplstudio")) / kind


def read(path: Path) -> Any | None:
    """The unpickled entry, or None when it is missing or unreadable."""
    try:
        with open(path, "rb") as fh:
            return pickle.load(fh)
    except Exception:  # noqa: BLE001 - missing, truncated, from another version: rebuild
        return None


def write(path: Path, value: Any, keep: int = 8) -> None:
    """Store an entry atomically; keep the ``keep`` most recent entries of its folder."""
    from tmplstudio.fileio import atomic_write_bytes

    try:
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        atomic_write_bytes(path, pickle.dumps(value, protocol=pickle.HIGHEST_PROTOCOL))
        entries = sorted(path.parent.glob("*.pickle"), key=lambda p: p.stat().st_mtime, reverse=True)
        for old in entries[keep:]:
            old.unlink(missing_ok=True)
    except Exception:  # noqa: BLE001 - a read-only or full disk only costs speed
        pass


def file_stamp(path: str | os.PathLike) -> str:
    """Size and modification time of an installed file (a library's version stand-in)."""
    stat = os.stat(path)
    return f"{stat.st_size}:{stat.st_mtime_ns}"


@cache
def code_digest() -> str:
    """The package's version and a hash of every Python file it is made of: part of every key
    whose entry code builds, so moving code to another module (or editing it in a checkout)
    can never serve an entry built by other code. About 2 ms, once per process."""
    from tmplstudio import __version__

    return tree_digest(Path(__file__).resolve().parent, __version__)


def tree_digest(root: Path, version: str) -> str:
    digest = hashlib.sha256(f"{version}\0".encode())
    for path in sorted(root.rglob("*.py")):
        digest.update(f"{path.relative_to(root).as_posix()}\0".encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()
