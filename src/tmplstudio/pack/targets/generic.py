"""The ``generic`` target: the Jinja source as approved, for a sending system that renders it."""

from __future__ import annotations

from tmplstudio.pack.targets.base import Converted, Target

TARGET = Target(
    name="generic",
    description="the Jinja source as approved (no conversion, no provider pack)",
    convert=lambda source: Converted(None, None),
)
