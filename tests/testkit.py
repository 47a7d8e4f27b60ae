"""Helpers shared by every test folder (``tests/`` is on sys.path through its conftest.py)."""

from __future__ import annotations

import time
from typing import Callable


async def wait_until(pilot, condition: Callable[[], object], what: str, timeout: float = 15.0):
    """Let the app run until ``condition()`` is truthy and return its value; fail, naming
    ``what``, when it never holds. Generous by default: CI machines are slow under load, and a
    wait that falls through silently turns a slow machine into a wrong assertion later on."""
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:g} s waiting for {what}")
        await pilot.pause(0.05)


def clickable(screen, selector: str) -> bool:
    """Is the widget composed, displayed and laid out, so that a click lands on it?"""
    found = screen.query(selector)
    if not found:
        return False
    widget = found.first()
    return widget.display and widget.region.width > 0 and widget.region.height > 0
