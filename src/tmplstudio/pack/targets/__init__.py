"""Export targets: one module per target in this package, each defining ``TARGET`` (a
``base.Target``).

``TARGETS`` is the only list of them, found by importing the modules here: the CLI's
``--target`` choices, ``export`` and ``submit`` all read it, and a name not in it is an error,
never a fall-through. Adding a target is one new module in this folder.
"""

from __future__ import annotations

import importlib
import pkgutil

from tmplstudio.errors import InputError
from tmplstudio.pack.targets.base import Converted, Refused, Source, Target


def _discover() -> dict[str, Target]:
    found: list[Target] = []
    for info in pkgutil.iter_modules(__path__):
        module = importlib.import_module(f"{__name__}.{info.name}")
        target = getattr(module, "TARGET", None)
        if isinstance(target, Target):
            found.append(target)
    # generic (no conversion) is the default and comes first; the others by name
    found.sort(key=lambda t: (t.name != "generic", t.name))
    return {t.name: t for t in found}


TARGETS: dict[str, Target] = _discover()


def get(name: str) -> Target:
    try:
        return TARGETS[name]
    except KeyError:
        raise InputError(f"unknown target '{name}' (choose from {', '.join(TARGETS)})") from None


__all__ = ["TARGETS", "Converted", "Refused", "Source", "Target", "get"]
