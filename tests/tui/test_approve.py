"""Pilot tests of the studio's Approve action (f9) and the approval badges."""

from __future__ import annotations

import tomllib
from pathlib import Path

from textual.widgets import Checkbox, Input, Static

from conftest import NOTICE, make_app
from tmplstudio.tui.screens.approve import ApproveDialog

SIZE = (120, 36)


async def until(pilot, condition, tries: int = 100) -> None:
    for _ in range(tries):
        if condition():
            return
        await pilot.pause(0.05)
    assert condition()


def ledger(project_dir: Path) -> dict:
    path = project_dir / "templates" / "approvals.toml"
    return tomllib.loads(path.read_text(encoding="utf-8"))["approvals"] if path.exists() else {}


def prompt(app, path: Path) -> str:
    return app.template_list.get_option(str(path)).prompt.plain


def status_bar(app) -> str:
    return str(app.query_one("#status", Static).render())


async def test_approve_records_the_ledger_and_badges(project_dir, monkeypatch):
    monkeypatch.setattr("tmplstudio.pack.approval.default_approver", lambda cwd=None: "Li Wei")
    path = project_dir / "templates" / "notice.j2"
    app = make_app(project_dir, path)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        assert not prompt(app, path).startswith(("A ", "S ", "D "))  # no ledger yet: no approval badge
        await pilot.press("f9")
        await until(pilot, lambda: isinstance(app.screen, ApproveDialog))
        dialog = app.screen
        assert dialog.query_one("#approve-by", Input).value == "Li Wei"
        dialog.query_one("#approve-note", Input).value = "wording reviewed"
        await pilot.click("#approve")
        await until(pilot, lambda: "notice.j2" in ledger(project_dir))
        record = ledger(project_dir)["notice.j2"]
        assert (record["approved_by"], record["note"], record["id"]) == ("Li Wei", "wording reviewed", "notice")
        await until(pilot, lambda: prompt(app, path).startswith("A "))
        assert "approved by Li Wei" in status_bar(app)
        # A one-character edit makes the approval stale at once (unsaved edits)...
        row = app.editor.document.line_count - 2
        app.editor.insert("！", (row, 0))
        await until(pilot, lambda: prompt(app, path).startswith("S "))
        assert "stale: unsaved edits" in status_bar(app)
        assert prompt(app, path).endswith("\n  unsaved edits")
        # ...and once on disk, the status bar says which change made it stale.
        path.write_text(NOTICE.replace("及时还款", "及时还钱"), encoding="utf-8")
        app.current.saved_text = app.current.text = app.editor.text = NOTICE.replace("及时还款", "及时还钱")
        app.refresh_approvals()
        await until(pilot, lambda: "file changed since approval" in status_bar(app))
        assert prompt(app, path).startswith("S ")
        assert app.template_list.approvals[path] == ("stale", "file changed")
        assert prompt(app, path).endswith("\n  file changed")  # the list says which change, too


async def test_approve_refused_with_errors_lists_them(project_dir):
    path = project_dir / "templates" / "notice.j2"
    path.write_text(NOTICE.replace("请及时还款", "本产品保证收益"), encoding="utf-8")
    app = make_app(project_dir, path)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        await pilot.press("f9")
        await until(pilot, lambda: isinstance(app.screen, ApproveDialog))
        dialog = app.screen
        assert dialog.refused
        errors = str(dialog.query_one("#approve-errors", Static).render())
        assert "guaranteed-return" in errors and "error" in errors
        assert not dialog.query("#approve")  # no Approve button when refused
        await pilot.press("escape")
        await until(pilot, lambda: not isinstance(app.screen, ApproveDialog))
    assert ledger(project_dir) == {}


async def test_approve_with_warnings_requires_accepting_them(project_dir, monkeypatch):
    monkeypatch.setattr("tmplstudio.pack.approval.default_approver", lambda cwd=None: "Li Wei")
    path = project_dir / "templates" / "notice.j2"
    path.write_text(NOTICE.replace("请及时还款", "否则我们将上门催收"), encoding="utf-8")
    app = make_app(project_dir, path)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        await pilot.press("f9")
        await until(pilot, lambda: isinstance(app.screen, ApproveDialog))
        dialog = app.screen
        assert "visit-threat" in str(dialog.query_one("#approve-warnings", Static).render())
        await pilot.click("#approve")
        await pilot.pause()
        assert "accept the warnings" in str(dialog.query_one("#approve-error", Static).render())
        assert isinstance(app.screen, ApproveDialog) and ledger(project_dir) == {}
        dialog.query_one("#approve-accept", Checkbox).value = True
        await pilot.pause(0.3)  # a Button ignores a second click during its 0.2 s press effect
        await pilot.click("#approve")
        await until(pilot, lambda: "notice.j2" in ledger(project_dir))
    record = ledger(project_dir)["notice.j2"]
    assert [w["rule"] for w in record["accepted_warnings"]] == ["visit-threat"]


async def test_approve_asks_to_save_unsaved_edits_first(project_dir):
    path = project_dir / "templates" / "notice.j2"
    app = make_app(project_dir, path)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        app.editor.insert("！", (app.editor.document.line_count - 2, 0))
        await pilot.pause()
        await pilot.press("f9")
        await pilot.pause()
        assert not isinstance(app.screen, ApproveDialog)
    assert ledger(project_dir) == {}


async def test_approve_dialog_buttons_fit_a_small_terminal(project_dir):
    path = project_dir / "templates" / "notice.j2"
    path.write_text(NOTICE.replace("请及时还款", "否则我们将上门催收"), encoding="utf-8")
    app = make_app(project_dir, path)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        await pilot.press("f9")
        await until(pilot, lambda: isinstance(app.screen, ApproveDialog))
        button = app.screen.query_one("#approve").region
        assert button.bottom <= 24 and button.height == 3


async def test_stale_after_policy_change_shows_in_list_and_status_bar(project_dir):
    from tmplstudio.pack.approval import approve, check
    from tmplstudio.project import Project

    path = project_dir / "templates" / "notice.j2"
    project = Project.discover(project_dir)
    approve(project, [check(project, path)], "Li Wei")
    pack = project_dir / "packs" / "test.toml"
    pack.write_text(pack.read_text(encoding="utf-8").replace('phrases = ["保证收益"]', 'phrases = ["保证收益", "稳赚"]'),
                    encoding="utf-8")
    app = make_app(project_dir, path)
    async with app.run_test(size=SIZE) as pilot:
        await until(pilot, lambda: prompt(app, path).startswith("S "))
        assert prompt(app, path).endswith("\n  policy set changed")
        await until(pilot, lambda: "policy set changed since approval (pack test-pack changed)" in status_bar(app))
