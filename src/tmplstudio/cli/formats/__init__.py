"""Report formats for `validate --format`: one module per format, each registering itself.

A format module defines ``write(report, out, options)`` and ends with
``register(Format(NAME, HELP, write))``. Every module in this package is imported when
``FORMATS`` is first needed, so adding a format means adding one module; `validate`'s
``--format`` choices and its help text come from ``FORMATS``, and an unknown name is a usage
error (argparse refuses it), never a fall-through to another writer.

Every field a report copies from a template, a sample or a pack goes through
:func:`clean` (or the format's own escaping), so a sample name such as
``"x\\n::error file=a::"`` cannot start a line of its own in a CI log.
"""

from __future__ import annotations

import importlib
import os
import pkgutil
import subprocess
import unicodedata
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Callable, TextIO


@dataclass(frozen=True)
class Options:
    """What a writer may need beyond the report."""

    fail_on: str = "error"
    show_suppressed: bool = False
    color: bool = False  # ANSI colours (only the text format uses them)


@dataclass(frozen=True)
class Format:
    name: str
    help: str
    write: Callable[..., None]  # (report, out: TextIO, options: Options) -> None


FORMATS: dict[str, Format] = {}


def register(fmt: Format) -> Format:
    FORMATS[fmt.name] = fmt
    return fmt


def formats() -> dict[str, Format]:
    """Every format, after importing each module of this package once."""
    for module in pkgutil.iter_modules(__path__):
        importlib.import_module(f"{__name__}.{module.name}")
    return FORMATS


def write(name: str, report, out: TextIO, options: Options | None = None) -> None:
    formats()[name].write(report, out, options or Options())


def clean(text, keep: str = "") -> str:
    """``text`` with every control character (C0, C1, DEL), line or paragraph separator and
    bidirectional override shown as a visible escape (``\\n``, ``\\x1b``, ``\\u202e``), except
    those in ``keep`` (a format that escapes them its own way)."""
    text = str(text)
    if text.isprintable() or not any(_unsafe(ch) and ch not in keep for ch in text):
        return text
    return "".join(_escape(ch) if _unsafe(ch) and ch not in keep else ch for ch in text)


_NAMED = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}


def _unsafe(ch: str) -> bool:
    return unicodedata.category(ch) in ("Cc", "Zl", "Zp") or "\u202a" <= ch <= "\u202e" or "\u2066" <= ch <= "\u2069"


def _escape(ch: str) -> str:
    if ch in _NAMED:
        return _NAMED[ch]
    return f"\\x{ord(ch):02x}" if ord(ch) < 0x100 else f"\\u{ord(ch):04x}"


@lru_cache(maxsize=4)
def repository_root(cwd: str) -> Path | None:
    """The top of the git work tree holding ``cwd``, or None (no git, or not in a repository)."""
    try:
        done = subprocess.run(["git", "rev-parse", "--show-toplevel"], cwd=cwd, capture_output=True, text=True, timeout=10)
    except (OSError, subprocess.SubprocessError):
        return None
    top = done.stdout.strip()
    return Path(os.path.realpath(top)) if done.returncode == 0 and top else None


def repository_path(path: str) -> str:
    """``path`` relative to the repository root (GitLab and GitHub read paths so), else as shown."""
    real = Path(os.path.realpath(path))
    root = repository_root(os.path.realpath(os.getcwd()))
    if root is not None:
        try:
            return real.relative_to(root).as_posix()
        except ValueError:
            pass
    return shown_path(path)


def shown_path(path: str | None) -> str | None:
    """A path as CI reports show it: relative to the working directory when below it."""
    if path is None:
        return None
    from tmplstudio.cli.common import display

    return display(Path(path))


def finding_message(f) -> str:
    """The finding's message with the context a reader of a CI report needs (sample, branch, file)."""
    extra = []
    if f.sample:
        extra.append(f"sample {f.sample}")
    if f.path:
        extra.append(f.path)
    text = f.message + (f" [{'; '.join(extra)}]" if extra else "")
    if f.suggestion and not f.suppressed:
        text += f" Suggestion: {f.suggestion}"
    return text
