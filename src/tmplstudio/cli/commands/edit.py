"""`tmplstudio edit [PATH]` (also the default command): open the studio."""

from __future__ import annotations

from pathlib import Path

from tmplstudio.cli.common import project
from tmplstudio.errors import InputError

ORDER = 0


def register(sub) -> None:
    p = sub.add_parser("edit", help="open the studio (the default command)")
    p.add_argument("path", nargs="?", help="a template file or folder to open")
    p.set_defaults(func=run)


def run(args) -> int:
    path = getattr(args, "path", None)
    target = Path(path) if path else None
    if target is not None and not target.exists() and target.suffix != ".j2":
        raise InputError("no such file or folder", target)
    try:
        proj = project()
    except InputError:
        # A broken config or pack must not keep the author out of the editor: the studio finds
        # the project itself, shows the error in its findings panel, and f5 reloads it.
        proj = None
    from tmplstudio.tui.app import run_studio  # Textual is imported only here

    return run_studio(proj, target) or 0
