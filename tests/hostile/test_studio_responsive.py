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


async def test_keystrokes_are_handled_while_a_hostile_template_is_checked(tmp_path):
    from tmplstudio.project import Project
    from tmplstudio.tui.app import StudioApp

    path = _project(tmp_path)
    app = StudioApp(Project.discover(tmp_path), path, cwd=tmp_path)
    async with app.run_test(size=(120, 36)) as pilot:
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            await pilot.pause(0.05)
            if any(f.rule == "sandbox" for f in app.findings_panel.findings):
                break
        assert any(f.rule == "sandbox" for f in app.findings_panel.findings)
        editor = app.editor
        editor.focus()
        editor.move_cursor(editor.document.end)
        handled: list[float] = []
        original_edit = editor.edit

        def timed_edit(edit):
            handled.append(time.perf_counter())
            return original_edit(edit)

        editor.edit = timed_edit
        for key in "上门催收":
            # pilot.press returns only once the process is idle (Textual's wait_for_idle watches
            # CPU time, so it also waits for the evaluation thread); what matters to the user is
            # when the keystroke reaches the editor.
            pressed = time.perf_counter()
            await pilot.press(key)
            assert handled and handled[-1] >= pressed
            assert handled[-1] - pressed < 0.3, f"a keystroke waited {handled[-1] - pressed:.2f} s for the hostile evaluation"
        assert editor.text.endswith("上门催收")
        # ...and the checks catch up with the edit (in the background) within the time budget.
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and "visit-threat" not in {f.rule for f in app.findings_panel.findings}:
            await pilot.pause(0.05)
        assert "visit-threat" in {f.rule for f in app.findings_panel.findings}
