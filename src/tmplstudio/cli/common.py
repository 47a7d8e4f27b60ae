"""Helpers shared by the command modules."""

from __future__ import annotations

import os
from functools import lru_cache
from pathlib import Path
from typing import TextIO

from tmplstudio.errors import InputError

EXIT_OK, EXIT_FINDINGS, EXIT_INPUT = 0, 1, 2


def project(policies: list[str] | None = None, no_bundled: bool = False, config: str | Path | None = None,
            folder: Path | None = None):
    """The project of ``folder`` (default: the working directory), or of the ``--config`` file."""
    from tmplstudio.project import Project, keep_out_of_gc

    loaded = Project.discover(folder or Path.cwd(), [Path(p) for p in (policies or [])], no_bundled,
                              Path(config) if config else None)
    keep_out_of_gc()
    return loaded


def project_and_templates(paths: list[str]):
    """(project, template files) for commands that take PATH...; None after printing every
    path that cannot be used (the caller exits 2)."""
    import sys

    proj = project()
    files, errors = collect(paths, proj)
    for exc in errors:
        print(f"tmplstudio: error: {exc}", file=sys.stderr)
    return None if errors else (proj, files)


def collect(paths: list[str], project) -> tuple[list[Path], list[InputError]]:
    from tmplstudio.project import link_roots, list_templates, outside_link

    files: list[Path] = []
    errors: list[InputError] = []
    targets = [Path(p) for p in paths] if paths else [project.templates_dir]
    for target in targets:
        roots = project.config.roots() if project is not None else link_roots(target if target.is_dir() else target.parent)
        if target.is_dir():
            before = len(errors)
            found = list_templates(target, roots, errors)
            if not found and len(errors) == before:
                errors.append(InputError("no templates (*.j2) in this folder", target))
            files.extend(found)
        elif outside_link(target, roots):
            errors.append(InputError(outside_link(target, roots), target))
        elif target.exists():
            files.append(target)
        elif target.is_symlink():
            errors.append(InputError("broken symbolic link", target))
        else:
            hint = " (no templates folder here; pass a path or create templates/)" if not paths else ""
            errors.append(InputError(f"no such file or folder{hint}", target))
    return files, errors


def display(path: Path) -> str:
    """``path`` relative to the working directory when it is inside it, else as given."""
    try:
        return str(Path(os.path.realpath(path)).relative_to(_cwd()))
    except ValueError:
        return str(path)


@lru_cache(maxsize=8)
def _cwd_of(cwd: str) -> Path:
    return Path(os.path.realpath(cwd))


def _cwd() -> Path:
    return _cwd_of(os.getcwd())  # resolved once per working directory, not once per file


COLOR_CHOICES = ("auto", "always", "never")


def color_wanted(stream: TextIO, choice: str = "auto") -> bool:
    """ANSI colour for ``stream``: ``--color always/never`` decides; for ``auto``, a non-empty
    NO_COLOR turns it off (no-color.org: an empty one does not count), then a non-empty
    FORCE_COLOR turns it on (force-color.org), else colour only on a terminal that is not dumb.
    NO_COLOR wins over FORCE_COLOR, as in CPython's own colouring."""
    if choice != "auto":
        return choice == "always"
    if os.environ.get("NO_COLOR"):
        return False
    if os.environ.get("FORCE_COLOR"):
        return True
    try:
        return stream.isatty() and os.environ.get("TERM") != "dumb"
    except ValueError:  # a closed stream
        return False


def add_color_option(parser) -> None:
    """The one --color option of every command that colours its output."""
    parser.add_argument("--color", choices=COLOR_CHOICES, default="auto",
                        help="colour the output: auto (a terminal, unless NO_COLOR; FORCE_COLOR forces it), always, never")


class Style:
    def __init__(self, stream: TextIO, color: bool | None = None):
        self.color = color_wanted(stream) if color is None else color

    def __call__(self, text: str, code: str) -> str:
        return f"\x1b[{code}m{text}\x1b[0m" if self.color else text
