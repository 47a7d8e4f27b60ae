"""The rule kinds, one module each (the interface: ``kinds/base.py``).

``KINDS`` maps a kind's name, as written in a pack (``kind = "near"``), to the object that
validates, registers and runs it. The schema, lint, the rule set and the engine read only this
map. To add a kind: write a module with a ``Kind`` (or ``TextKind``) subclass and list it here;
``register`` adds one at run time (a plugin, or a test).
"""

from __future__ import annotations

from tmplstudio.policy.kinds.base import Hit, Kind, Params, PhraseEntry, TextKind
from tmplstudio.policy.kinds.length import Length
from tmplstudio.policy.kinds.near import Near
from tmplstudio.policy.kinds.pattern import Pattern
from tmplstudio.policy.kinds.phrases import Phrases
from tmplstudio.policy.kinds.required import Required
from tmplstudio.policy.kinds.send_window import SendWindow
from tmplstudio.policy.kinds.variables import Variables

KINDS: dict[str, Kind] = {k.name: k for k in (Phrases(), Near(), Pattern(), Required(), Variables(), Length(), SendWindow())}


def register(kind: Kind) -> Kind:
    """Add (or replace) a kind; returns it."""
    if not kind.name:
        raise ValueError("a rule kind needs a name")
    KINDS[kind.name] = kind
    return kind


def unregister(name: str) -> None:
    KINDS.pop(name, None)


__all__ = ["KINDS", "Hit", "Kind", "Params", "PhraseEntry", "TextKind", "register", "unregister"]
