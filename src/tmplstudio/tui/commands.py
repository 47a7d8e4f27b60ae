"""Command palette provider: one entry for every studio action (plus open/sample/variable entries)."""

from __future__ import annotations

from functools import partial
from typing import TYPE_CHECKING

from textual.command import DiscoveryHit, Hit, Hits, Provider

if TYPE_CHECKING:
    from tmplstudio.tui.app import StudioApp


class StudioCommands(Provider):
    """Commands built from the app's current state (templates, samples, missing variables)."""

    def _commands(self):
        app: StudioApp = self.app  # type: ignore[assignment]
        return app.studio_commands()

    async def discover(self) -> Hits:
        for title, help_text, callback in self._commands():
            yield DiscoveryHit(title, callback, help=help_text)

    async def search(self, query: str) -> Hits:
        matcher = self.matcher(query)
        for title, help_text, callback in self._commands():
            score = matcher.match(title)
            if score > 0:
                yield Hit(score, matcher.highlight(title), partial(callback), help=help_text)
