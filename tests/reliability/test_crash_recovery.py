"""No lost work: unsaved text survives a SIGKILL of the studio.

The end-to-end test runs the real `tmplstudio edit` in a tmux pseudo-terminal, types, kills
the process with SIGKILL, starts it again, restores from the dialog and saves: the file then
holds exactly the typed text. Pilot and unit tests cover the rest of the recovery logic.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest

from testkit import clickable, wait_until
from tmplstudio.tui import recovery

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
NOTICE = """\
+++
id = "notice"
locale = "zh-CN"
channel = "sms"
[samples.a]
name = "张三"
+++
【示例银行】{{ name }}您好，请及时还款。
"""


def make_project(root: Path, text: str = NOTICE, newline: str = "\n") -> Path:
    (root / "tmplstudio.toml").write_text('templates = "templates"\npolicies = ["packs"]\nbundled = false\nlocale = "zh-CN"\n',
                                          encoding="utf-8")
    (root / "packs").mkdir()
    (root / "packs" / "t.toml").write_text(PACK, encoding="utf-8")
    (root / "templates").mkdir()
    path = root / "templates" / "notice.j2"
    path.write_bytes(text.replace("\n", newline).encode("utf-8"))
    return path


# ---------------------------------------------------------------- the real thing, in tmux

class Tmux:
    def __init__(self, cwd: Path, env: dict[str, str]):
        self.name = f"tmplstudio-{uuid.uuid4().hex[:8]}"
        self.cwd = cwd
        self.env = env

    def start(self, *args: str) -> None:
        exports = " ".join(f"{k}={_quote(v)}" for k, v in self.env.items())
        command = f"cd {_quote(str(self.cwd))} && exec env {exports} {_quote(sys.executable)} -m tmplstudio " + " ".join(map(_quote, args))
        subprocess.run(["tmux", "new-session", "-d", "-s", self.name, "-x", "120", "-y", "36", command], check=True)

    def screen(self) -> str:
        out = subprocess.run(["tmux", "capture-pane", "-p", "-t", self.name], capture_output=True, text=True)
        return out.stdout

    def wait_for(self, needle: str, timeout: float = 30.0) -> str:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            screen = self.screen()
            if needle in screen:
                return screen
            time.sleep(0.1)
        raise AssertionError(f"{needle!r} never appeared on screen:\n{self.screen()}")

    def keys(self, *keys: str, literal: bool = False) -> None:
        subprocess.run(["tmux", "send-keys", "-t", self.name, *(["-l"] if literal else []), *keys], check=True)

    def pid(self) -> int:
        out = subprocess.run(["tmux", "list-panes", "-t", self.name, "-F", "#{pane_pid}"], capture_output=True, text=True, check=True)
        return int(out.stdout.split()[0])

    def kill_session(self) -> None:
        subprocess.run(["tmux", "kill-session", "-t", self.name], capture_output=True)


def _quote(s: str) -> str:
    import shlex

    return shlex.quote(s)


def _wait_for_copy(target: Path, needle: str, timeout: float = 15.0) -> recovery.Recovery:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        rec = recovery.for_target(target)
        if rec is not None and needle in rec.text:
            return rec
        time.sleep(0.1)
    raise AssertionError("no recovery copy with the typed text was written")


def _wait_dead(pid: int, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
        except (OSError, IndexError):
            return
        if state in ("Z", "X"):  # killed; tmux has not reaped it yet
            return
        time.sleep(0.05)
    raise AssertionError(f"process {pid} survived SIGKILL")


def test_sigkill_then_restore_keeps_the_typed_text(tmp_path, monkeypatch):
    project = tmp_path / "project"
    project.mkdir()
    path = make_project(project)
    state = tmp_path / "state"
    monkeypatch.setenv(recovery.ENV, str(state))
    env = {recovery.ENV: str(state), "TERM": "xterm-256color", "PYTHONDONTWRITEBYTECODE": "1",
           "HOME": os.environ.get("HOME", str(tmp_path))}
    typed = "RECOVERME 请勿忽略"
    session = Tmux(project, env)
    try:
        session.start("edit", "templates/notice.j2")
        session.wait_for("notice.j2")
        session.wait_for("Ln ")  # status bar: the editor is up and the template open
        session.keys(typed, literal=True)
        rec = _wait_for_copy(path, typed)
        assert path.read_text(encoding="utf-8") == NOTICE  # nothing saved
        expected = rec.text
        assert expected.replace(typed, "", 1) == NOTICE  # the copy is the original plus the typing
        pid = session.pid()
        os.kill(pid, signal.SIGKILL)
        _wait_dead(pid)
    finally:
        session.kill_session()
    assert recovery.for_target(path) is not None  # the copy outlived the process

    session = Tmux(project, env)
    try:
        session.start("edit", "templates/notice.j2")
        screen = session.wait_for("Recover unsaved changes to notice.j2?")
        assert "+1 −1 line" in screen  # the diff summary
        session.keys("Enter")  # "Restore" has the focus
        session.wait_for("Restored unsaved changes")
        session.keys("C-s")
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline and path.read_text(encoding="utf-8") != expected:
            time.sleep(0.1)
        assert path.read_text(encoding="utf-8") == expected
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline and recovery.for_target(path) is not None:
            time.sleep(0.1)
        assert recovery.for_target(path) is None  # saved: the copy is gone
        session.keys("C-q")
    finally:
        session.kill_session()


# ---------------------------------------------------------------- Pilot: the studio's side

def _app(project: Path, path: Path):
    from tmplstudio.project import Project
    from tmplstudio.tui.app import StudioApp

    return StudioApp(Project.discover(project), path, cwd=project)


async def test_unsaved_edits_are_copied_and_a_save_removes_the_copy(tmp_path):
    from tmplstudio.tui.screens import recovery as hooks

    path = make_project(tmp_path)
    app = _app(tmp_path, path)
    async with app.run_test(size=(120, 36)) as pilot:
        await pilot.pause()
        app.editor.move_cursor(app.editor.document.end)
        await pilot.press(*"abc")
        await pilot.pause()
        hooks.save_copies(app)  # what the interval does every INTERVAL_SECONDS
        rec = recovery.for_target(path)
        assert rec is not None and rec.text == NOTICE + "abc"
        assert rec.pid == os.getpid()
        await pilot.press("ctrl+s")
        await wait_until(pilot, lambda: recovery.for_target(path) is None, "the save (a worker) to drop the copy")
        assert path.read_text(encoding="utf-8") == NOTICE + "abc"
        assert recovery.for_target(path) is None


async def test_a_copy_is_written_on_a_failed_save_attempt(tmp_path):
    path = make_project(tmp_path)
    app = _app(tmp_path, path)
    async with app.run_test(size=(120, 36)) as pilot:
        await pilot.pause()
        app.editor.move_cursor(app.editor.document.end)
        await pilot.press(*"xyz")
        await pilot.pause()
        from unittest import mock

        # The disk is full: the save fails, but the copy (written first) is there.
        with mock.patch("tmplstudio.fileio.atomic_write_text", side_effect=OSError(28, "No space left on device")):
            await pilot.press("ctrl+s")
            await wait_until(pilot, lambda: any("Not saved" in str(n.message) for n in app._notifications),
                             "the save (a worker) to fail with 'Not saved'")
        assert any("No space left" in str(n.message) for n in app._notifications)
        assert path.read_text(encoding="utf-8") == NOTICE
        rec = recovery.for_target(path)
        assert rec is not None and rec.text == NOTICE + "xyz"


async def test_restore_dialog_restores_and_discard_removes(tmp_path):
    path = make_project(tmp_path)
    other = path.with_name("other.j2")
    other.write_text(NOTICE, encoding="utf-8")
    recovery.write(path, NOTICE + "restored", NOTICE)
    recovery.write(other, NOTICE + "dropped", NOTICE)
    for rec_file in recovery.recovery_dir().glob("*.json"):  # as if written by a dead studio
        record = json.loads(rec_file.read_text(encoding="utf-8"))
        record["pid"] = 2 ** 22 + 12345
        rec_file.write_text(json.dumps(record), encoding="utf-8")
    app = _app(tmp_path, path)
    async with app.run_test(size=(120, 36)) as pilot:
        from tmplstudio.tui.screens.recovery import RecoveryDialog

        decisions = {}
        previous = None
        for _ in range(2):
            # The next dialog (not the one just answered), laid out: a click before layout lands nowhere.
            dialog = await wait_until(
                pilot, lambda: app.screen if isinstance(app.screen, RecoveryDialog) and app.screen is not previous
                and clickable(app.screen, "#discard") else None, "the next recovery dialog")
            name = dialog.recovery.target.name
            assert "+1 −0 line" in dialog.body
            choice = "restore" if name == "notice.j2" else "discard"
            decisions[name] = choice
            previous = dialog
            await pilot.click(f"#{choice}")
            await pilot.pause()
        await wait_until(pilot, lambda: not isinstance(app.screen, RecoveryDialog), "the last recovery dialog to close")
        assert decisions == {"notice.j2": "restore", "other.j2": "discard"}
        await wait_until(pilot, lambda: app.editor.text == NOTICE + "restored", "the restore (when the dialog's worker resumes)")
        assert app.current is not None and app.current.path == path
        assert app.editor.text == NOTICE + "restored"
        assert app.current.dirty
        assert path.read_text(encoding="utf-8") == NOTICE  # not saved until the user saves
        assert recovery.for_target(other) is None
        assert recovery.for_target(path).pid == os.getpid()  # now this session's copy


async def test_crlf_files_stay_crlf_after_a_studio_save(tmp_path):
    path = make_project(tmp_path, newline="\r\n")
    app = _app(tmp_path, path)
    async with app.run_test(size=(120, 36)) as pilot:
        await pilot.pause()
        editor = app.editor
        editor.move_cursor((editor.document.line_count - 2, 0))
        await pilot.press(*"new line", "enter")
        await pilot.press("ctrl+s")
        await wait_until(pilot, lambda: b"new line" in path.read_bytes(), "the save to reach the disk")
    data = path.read_bytes()
    assert b"new line\r\n" in data
    assert data.count(b"\r\n") == data.count(b"\n")  # every line ending is still CRLF


# ---------------------------------------------------------------- the file logic

def test_copies_are_per_template_atomic_and_private(tmp_path):
    a = tmp_path / "p1" / "notice.j2"
    b = tmp_path / "p2" / "notice.j2"
    fa = recovery.write(a, "A", None)
    fb = recovery.write(b, "B", "b")
    assert fa != fb and fa.parent == fb.parent == recovery.recovery_dir()
    assert (fa.parent.stat().st_mode & 0o777) == 0o700
    assert recovery.for_target(a).text == "A" and recovery.for_target(b).text == "B"
    assert not list(fa.parent.glob("*.tmp"))
    recovery.discard(a)
    assert recovery.for_target(a) is None and recovery.for_target(b) is not None


def test_pending_skips_live_owners_and_drops_copies_equal_to_disk(tmp_path):
    live = tmp_path / "live.j2"
    live.write_text("x", encoding="utf-8")
    recovery.write(live, "x edited", "x")          # written by this (running) process
    saved = tmp_path / "saved.j2"
    saved.write_text("done", encoding="utf-8")
    f = recovery.write(saved, "done", "old")       # the save went through before the crash
    record = json.loads(f.read_text(encoding="utf-8"))
    record["pid"] = 2 ** 22 + 54321
    f.write_text(json.dumps(record), encoding="utf-8")
    assert recovery.pending() == []
    assert not f.exists()


def test_corrupt_and_foreign_files_are_ignored(tmp_path):
    folder = recovery.recovery_dir()
    folder.mkdir(parents=True)
    (folder / "junk.json").write_bytes(b"\xff\x00not json")
    (folder / "other.json").write_text('{"schema": 99}', encoding="utf-8")
    assert recovery.pending() == []


def test_diff_summary_and_description(tmp_path):
    target = tmp_path / "t.j2"
    target.write_text("line 1\nline 2\n", encoding="utf-8")
    summary = recovery.diff_summary("line 1\nline 2\n", "line 1\nline two\nline 3\n")
    assert (summary.added, summary.removed) == (2, 1)
    assert "-line 2" in summary.lines and "+line two" in summary.lines
    f = recovery.write(target, "line 1\nline two\n", "line 1\nline 2\n")
    text = recovery.describe(recovery.load(f))
    assert "+1 −1 line" in text and "as it was when these edits began" in text
    target.write_text("changed elsewhere\n", encoding="utf-8")
    assert "also changed on disk" in recovery.describe(recovery.load(f))
    target.unlink()
    assert "no longer exists" in recovery.describe(recovery.load(f))


def test_state_dir_defaults_to_the_platform_user_state_dir(monkeypatch):
    import platformdirs

    monkeypatch.delenv(recovery.ENV, raising=False)
    assert recovery.state_dir() == Path(platformdirs.user_state_dir("tmplstudio"))


# ---------------------------------------------------------------- changed on disk

async def test_changed_on_disk_shows_a_diff_and_can_save_as(tmp_path):
    from tmplstudio.tui.screens.dialogs import ChoiceDialog

    path = make_project(tmp_path)
    app = _app(tmp_path, path)
    async with app.run_test(size=(120, 36)) as pilot:
        await pilot.pause()
        app.editor.move_cursor(app.editor.document.end)
        await pilot.press(*"mine")
        path.write_text(NOTICE + "theirs\n", encoding="utf-8")
        await pilot.press("ctrl+s")
        dialog = await wait_until(pilot, lambda: app.screen if isinstance(app.screen, ChoiceDialog)
                                  and clickable(app.screen, "#save-as") else None, "the changed-on-disk dialog")
        assert dialog.id == "changed-on-disk-dialog"
        assert "-theirs" in dialog.body and "+mine" in dialog.body  # the diff: theirs on disk, mine in the editor
        await pilot.click("#save-as")
        await wait_until(pilot, lambda: app.screen.id == "save-as-dialog" and clickable(app.screen, "#save-as-ok"),
                         "the save-as dialog")
        assert app.screen.query_one("#save-as-path").value.endswith("notice-mine.j2")
        await pilot.click("#save-as-ok")
        await wait_until(pilot, lambda: (tmp_path / "templates" / "notice-mine.j2").exists(), "the saved copy")
        assert (tmp_path / "templates" / "notice-mine.j2").read_text(encoding="utf-8") == NOTICE + "mine"
        assert path.read_text(encoding="utf-8") == NOTICE + "theirs\n"  # their version untouched
        assert app.current.path.name == "notice-mine.j2" and not app.current.dirty
        assert recovery.for_target(path) is None
