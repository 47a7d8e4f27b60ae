"""The value every variable has in the "every variable empty" rendering (policy/engine.py).

It travels to a render worker as a mark (``{BLANK_KEY: [names]}``: JSON carries no classes) and
becomes ``Blank`` values there; the mark is also what replays are keyed on, so a real sample
whose values are empty strings is never answered by this rendering's trace.
"""

from __future__ import annotations

from typing import Any

BLANK_KEY = "__tmplstudio_blank__"


class Blank(str):
    """An empty value that also behaves as an empty number, list or mapping, so that templates
    which compare, count, index or format a variable ({% if days > 30 %}, {{ name[0] }},
    {{ x * 1.1 }}, {{ "{:,}".format(x) }}) still render: an author must not be able to switch
    this check off by using a variable in arithmetic. A loop over it runs once, with an empty
    item, so the loop's own text is checked too."""

    def __lt__(self, other):
        return False

    __gt__ = __le__ = __ge__ = __lt__

    def _blank(self, *args, **kwargs):
        return Blank()

    __add__ = __radd__ = __sub__ = __rsub__ = __mul__ = __rmul__ = __truediv__ = __rtruediv__ = _blank
    __floordiv__ = __rfloordiv__ = __mod__ = __rmod__ = __pow__ = __rpow__ = __neg__ = __pos__ = _blank
    __abs__ = __round__ = __getitem__ = __call__ = _blank

    def __getattr__(self, name: str):
        if name.startswith("_"):  # Jinja and markupsafe probe dunders (__html__): not ours
            raise AttributeError(name)
        return Blank()

    def __format__(self, spec: str) -> str:
        return ""

    def __iter__(self):
        return iter((Blank(),))

    def __int__(self) -> int:
        return 0

    __index__ = __int__

    def __float__(self) -> float:
        return 0.0


def mark(names: list[str]) -> dict[str, Any]:
    return {BLANK_KEY: list(names)}


def expand(values: dict[str, Any]) -> dict[str, Any]:
    """A sample's values as the template sees them: the mark becomes Blank values."""
    if isinstance(values, dict) and set(values) == {BLANK_KEY}:
        return {str(n): Blank() for n in values[BLANK_KEY]}
    return values
