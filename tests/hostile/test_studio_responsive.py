"""The studio stays usable while a hostile template is open: keystrokes are handled at once."""

from __future__ import annotations

import time
from pathlib import Path

from payloads import _MACRO_FAN

PACK = """\
[pack]
id = "t"
title = "t"
version = "1"
[[rules]]
id = "visit-threat"
kind = "phrases"
severity = "warning"
message = "m"
phrases = ["上门催收"]
"""

HOSTILE = (
    "+++\nid = \"evil\"\nlocale = \"zh-CN\"\n[samples.a]\nx = 1\n[samples.b]\nx = 2\n+++\n"
    "{% for a in range(99999) %}{% for b in range(99999) %}{% endfor %}{% endfor %}\n"
    + _MACRO_FAN + "\n{{ '{:>999999999}'.format(1) }}\n"
)


def _project(tmp_path: Path) -> Path:
    (tmp_path / "tmplstudio.toml").write_text('templates = "templates"\npolicies = ["packs"]\nbundled = false\n', encoding="utf-8")
    (tmp_path / "packs").mkdir()
    (tmp_path / "packs" / "t.toml").write_text(PACK, encoding="utf-8")
    (tmp_path / "templates").mkdir()
    path = tmp_path / "templates" / "evil.j2"
    path.write_text(HOSTILE, encoding="utf-8")
    return path


async def type_promptly(pilot, editor, keys: str) -> None:
    """Type ``keys`` at the end of the editor; each must reach the editor within 0.3 s.

    pilot.press returns only once the process is idle (Textual's wait_for_idle watches CPU
    time, so it also waits for the evaluation thread); what matters to the user is when the
    keystroke reaches the editor."""
    editor.focus()
    editor.move_cursor(editor.document.end)
    handled: list[float] = []
    original_edit = editor.edit

    def timed_edit(edit):
        handled.append(time.perf_counter())
        return original_edit(edit)

    editor.edit = timed_edit
    try:
        for key in keys:
            pressed = time.perf_counter()
            await pilot.press(key)
            assert handled and handled[-1] >= pressed
            assert handled[-1] - pressed < 0.3, f"a keystroke waited {handled[-1] - pressed:.2f} s for another evaluation"
    finally:
        editor.edit = original_edit
    assert editor.text.endswith(keys)


async def test_keystrokes_are_handled_while_a_hostile_template_is_checked(tmp_path):
    from tmplstudio.project import Project
    from tmplstudio.tui.app import StudioApp
    from testkit import wait_until

    path = _project(tmp_path)
    app = StudioApp(Project.discover(tmp_path), path, cwd=tmp_path)
    async with app.run_test(size=(120, 36)) as pilot:
        await wait_until(pilot, lambda: any(f.rule == "sandbox" for f in app.findings_panel.findings), "the sandbox finding")
        await type_promptly(pilot, app.editor, "上门催收")
        # ...and the checks catch up with the edit (in the background) within the time budget.
        await wait_until(pilot, lambda: "visit-threat" in {f.rule for f in app.findings_panel.findings}, "the edit's finding")


# ---------------------------------------------------------------- issue 14: crash and hang payloads anywhere in the project

from test_render_worker import PAYLOADS, SAMPLE  # noqa: E402

NORMAL = "+++\nid = \"normal\"\nlocale = \"zh-CN\"\n[samples.a]\nname = \"张三\"\n+++\n您好{{ name }}，请按时还款。\n"


async def test_the_studio_stays_usable_with_crash_and_hang_payloads_in_the_project(tmp_path, monkeypatch):
    """With the issue's payloads beside the template being edited (and the step checks off, so
    the C loop really burns a worker until its CPU limit), the first screen comes up, typing is
    handled at once, the payloads' badges arrive as errors, and quitting does not wait for the
    worker still looping."""
    from tmplstudio.project import Project
    from tmplstudio.render import pool
    from tmplstudio.tui.app import StudioApp
    from testkit import wait_until

    monkeypatch.setenv("TMPLSTUDIO_RENDER_BUDGETS", "off")
    _project(tmp_path)
    templates = tmp_path / "templates"
    (templates / "evil.j2").unlink()
    for name, body in PAYLOADS.items():
        (templates / f"{name}.j2").write_text(SAMPLE + body, encoding="utf-8")
    path = templates / "normal.j2"
    path.write_text(NORMAL, encoding="utf-8")
    started = time.perf_counter()
    app = StudioApp(Project.discover(tmp_path), path, cwd=tmp_path)
    async with app.run_test(size=(120, 36)) as pilot:
        await wait_until(pilot, lambda: app.editor.text == NORMAL, "the normal template in the editor")
        assert time.perf_counter() - started < 10
        await type_promptly(pilot, app.editor, "上门催收")
        await wait_until(pilot, lambda: "visit-threat" in {f.rule for f in app.findings_panel.findings},
                         "the edit's own finding")
        statuses = app.template_list.statuses
        # The C loop's worker is stopped by its CPU limit, the memory bombs by the address-space
        # limit: error badges. The nested tuple no longer crashes anything: it renders (a clean badge).
        await wait_until(pilot, lambda: all(statuses.get(templates / f"{n}.j2") and statuses[templates / f"{n}.j2"].errors
                                            for n in ("c-loop", "to-bytes", "tojson-indent")),
                         "error badges for the hang and memory payloads", timeout=60)
        assert statuses[templates / "nested-tuple.j2"].errors == 0
        # Quit while a worker loops in C again: reopening the list's scan puts c-loop back in a worker.
        app._scan_statuses()
        await wait_until(pilot, lambda: pool.POOL.busy > 0, "a badge rendering in a worker")
        quit_at = time.perf_counter()
        app.exit()
    # Unmounting shut the workers down: quitting did not wait for the loop's CPU limit.
    assert time.perf_counter() - quit_at < 3
