"""Load policy packs from files: a pack with any problem is refused (``schema.py`` finds them
all; `tmplstudio policy lint` prints every one), so a rule that cannot work never runs."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from tmplstudio.errors import InputError
from tmplstudio.policy import schema
from tmplstudio.policy.model import Pack


def load_pack(path: Path, bundled: bool = False) -> Pack:
    return _accept(schema.parse_file(Path(path), bundled))


def build_pack(data: dict[str, Any], path: Path, text: str = "", bundled: bool = False) -> Pack:
    """A pack from already parsed TOML (``text`` gives line numbers)."""
    return _accept(schema.parse_data(data, Path(path), text, bundled))


def _accept(parsed: schema.Parsed) -> Pack:
    errors = parsed.errors
    if errors:
        first = errors[0]
        more = f" (and {len(errors) - 1} more problem{'s' if len(errors) > 2 else ''}: run `tmplstudio policy lint {parsed.path}`)" \
            if len(errors) > 1 else ""
        raise InputError(first.message + more, parsed.path, first.line, first.column)
    assert parsed.pack is not None
    return parsed.pack


def find_packs(folder: Path) -> list[Path]:
    return sorted(p for p in Path(folder).glob("*.toml") if p.is_file())
