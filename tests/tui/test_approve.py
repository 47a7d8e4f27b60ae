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
        assert [(s["by"], s["note"]) for s in record["signoffs"]] == [("Li Wei", "wording reviewed")]
        assert record["id"] == "notice"
        await until(pilot, lambda: prompt(app, path).startswith("A 1/1 "))
        assert "approved by Li Wei (1 of 1 approval)" in status_bar(app)
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
    from tmplstudio.pack.approval import Identity, approve, check
    from tmplstudio.project import Project

    path = project_dir / "templates" / "notice.j2"
    project = Project.discover(project_dir)
    approve(project, [check(project, path)], Identity(name="Li Wei"))
    pack = project_dir / "packs" / "test.toml"
    pack.write_text(pack.read_text(encoding="utf-8").replace('phrases = ["保证收益"]', 'phrases = ["保证收益", "稳赚"]'),
                    encoding="utf-8")
    app = make_app(project_dir, path)
    async with app.run_test(size=SIZE) as pilot:
        await until(pilot, lambda: prompt(app, path).startswith("S "))
        assert prompt(app, path).endswith("\n  policy set changed")
        await until(pilot, lambda: "policy set changed since approval (pack test-pack changed)" in status_bar(app))


async def test_signed_approval_in_the_studio_shows_signer_counts(project_dir):
    """A project requiring two signed approvals: the dialog asks for the key, the badge counts
    sign-offs (P 1/2, then A 2/2), and the second dialog names who may still approve."""
    import sys

    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "pack"))
    from sshkit import make_key, signer_line

    cfg = project_dir / "tmplstudio.toml"
    cfg.write_text(cfg.read_text(encoding="utf-8") + "[approval]\nrequire_signature = true\nrequired = 2\n", encoding="utf-8")
    keys = {name: make_key(project_dir.parent / "keys", name) for name in ("li", "wang", "zhao")}
    (project_dir / "templates" / "allowed_signers").write_text(
        "".join(signer_line(f"{n}@bank.example", k) for n, k in keys.items()), encoding="utf-8")
    path = project_dir / "templates" / "notice.j2"
    app = make_app(project_dir, path)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        for who, badge in (("li", "P 1/2 "), ("wang", "A 2/2 ")):
            await pilot.press("f9")
            await until(pilot, lambda: isinstance(app.screen, ApproveDialog))
            dialog = app.screen
            assert dialog.signed and "SSH key" in [str(w.render()) for w in dialog.query("Label")]
            if who == "wang":
                signers = str(dialog.query_one("#approve-signers", Static).render())
                assert signers == "Sign-offs: 1 of 2 approvals; may still approve: wang@bank.example, zhao@bank.example"
            dialog.query_one("#approve-by", Input).value = str(keys[who])
            await pilot.click("#approve")
            await until(pilot, lambda: not isinstance(app.screen, ApproveDialog))
            await until(pilot, lambda: prompt(app, path).startswith(badge))
        record = ledger(project_dir)["notice.j2"]
        assert [(s["by"], s["signed"]) for s in record["signoffs"]] == [("li@bank.example", True), ("wang@bank.example", True)]
        assert "approved by li@bank.example, wang@bank.example (2 of 2 approvals)" in status_bar(app)
        # A key that allowed_signers does not list is refused with a message, and nothing is recorded.
        stranger = make_key(project_dir.parent / "elsewhere", "stranger")
        await pilot.press("f9")
        await until(pilot, lambda: isinstance(app.screen, ApproveDialog))
        app.screen.query_one("#approve-by", Input).value = str(stranger)
        await pilot.click("#approve")
        await until(pilot, lambda: not isinstance(app.screen, ApproveDialog))
        await pilot.pause(0.5)
    lines = (project_dir / "templates" / "approvals.log.jsonl").read_text(encoding="utf-8").splitlines()
    assert len(lines) == 2


async def test_a_save_in_the_studio_records_its_author(project_dir, monkeypatch):
    """record_author (called after a save) writes an author entry, so that person cannot approve."""
    from tmplstudio.pack.approval import Identity, approve, check
    from tmplstudio.project import Project

    monkeypatch.setattr("tmplstudio.pack.authors.current_user", lambda cwd=None: "Wang Fang")
    path = project_dir / "templates" / "notice.j2"
    project = Project.discover(project_dir)
    approve(project, [check(project, path)], Identity(name="Li Wei"))
    app = make_app(project_dir, path)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        app.record_author(path)
        log = project_dir / "templates" / "approvals.log.jsonl"
        await until(pilot, lambda: log.read_text(encoding="utf-8").count("\n") == 2)
    outcome = approve(project, [check(project, path)], Identity(name="Wang Fang"))
    assert outcome.refused and "is its author" in outcome.refused[0][1]
