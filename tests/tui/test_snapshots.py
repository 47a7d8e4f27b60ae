"""Snapshot tests (pytest-textual-snapshot): the studio at 120x36 and 80x24, dark and light.

Textual is pinned exactly in pyproject.toml; a Textual upgrade re-records these with
`pytest tests/tui/test_snapshots.py --snapshot-update` after looking at the report.
The tests use the small pack from conftest.py, so a change in the bundled packs does not
change these pictures.
"""

from __future__ import annotations

from conftest import BODY_LINE

PHRASE = "我们将上门催收，保证收益"


def _before(theme: str = "textual-dark", keys: tuple[str, ...] = ()):
    async def run_before(pilot) -> None:
        app = pilot.app
        app.theme = theme
        app.editor.cursor_blink = False
        await app.workers.wait_for_complete()
        line = app.editor.document.get_line(BODY_LINE)
        app.editor.insert(PHRASE, (BODY_LINE, len(line) - 1))
        await pilot.pause()
        if keys:
            await pilot.press(*keys)
        await pilot.pause()

    return run_before


def test_studio_wide_dark(snap_compare, notice_app):
    assert snap_compare(notice_app, terminal_size=(120, 36), run_before=_before(keys=("f8",)))


def test_studio_narrow_dark(snap_compare, notice_app):
    assert snap_compare(notice_app, terminal_size=(80, 24), run_before=_before(keys=("f8",)))


def test_studio_wide_light_preview(snap_compare, notice_app):
    assert snap_compare(notice_app, terminal_size=(120, 36), run_before=_before("textual-light", ("f4",)))


def test_save_draft_dialog_narrow(snap_compare, notice_app):
    assert snap_compare(notice_app, terminal_size=(80, 24), run_before=_before(keys=("ctrl+s",)))
