"""Helpers shared by the command modules."""

from __future__ import annotations

import os
from functools import lru_cache
from pathlib import Path

from tmplstudio.errors import InputError

EXIT_OK, EXIT_FINDINGS, EXIT_INPUT = 0, 1, 2


def project(policies: list[str] | None = None, no_bundled: bool = False):
    from tmplstudio.project import Project, keep_out_of_gc

    loaded = Project.discover(Path.cwd(), [Path(p) for p in (policies or [])], no_bundled)
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
    from tmplstudio.project import list_templates

    files: list[Path] = []
    errors: list[InputError] = []
    targets = [Path(p) for p in paths] if paths else [project.templates_dir]
    for target in targets:
        if target.is_dir():
            found = list_templates(target)
            if not found:
                errors.append(InputError("no templates (*.j2) in this folder", target))
            files.extend(found)
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


