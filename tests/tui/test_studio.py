"""Pilot tests: the studio as a user drives it."""

from __future__ import annotations

import os
from pathlib import Path

from rich.segment import Segment
from textual.widgets import TextArea

from conftest import BODY_LINE, NOTICE, make_app
from tmplstudio.tui.screens.dialogs import ChoiceDialog, NewTemplateDialog
from tmplstudio.tui.screens.help import HelpScreen
from tmplstudio.tui.screens.policy_browser import PolicyBrowser

SIZE = (120, 36)


def body_end(app) -> tuple[int, int]:
    """Location just before the final 。 of the body line."""
    line = app.editor.document.get_line(BODY_LINE)
    return (BODY_LINE, len(line) - 1)


def painted(app) -> list[tuple[str, object]]:
    """(text, style) of every underlined segment the editor paints on screen."""
    editor = app.editor
    out = []
    for y in range(editor.size.height):
        for seg in editor.render_line(y):
            if isinstance(seg, Segment) and seg.style is not None and seg.style.underline:
                out.append((seg.text, seg.style))
    return out


def rules(app) -> list[str]:
    return [f.rule for f in app.findings_panel.findings if not f.suppressed]


async def test_open_type_phrase_finding_and_exact_highlight(notice_app):
    app = notice_app
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        assert app.editor.text == NOTICE
        assert rules(app) == []
        assert painted(app) == []
        app.editor.move_cursor(body_end(app))
        await pilot.press(*"，我们将上门催收")
        await pilot.pause()
        assert rules(app) == ["visit-threat"]
        finding = app.findings_panel.findings[0]
        assert finding.text == "上门催收"
        # The editor paints exactly those four characters, with the warning style.
        segments = painted(app)
        assert "".join(text for text, _ in segments) == "上门催收"
        warning = app.editor.severity_style("warning")
        assert all(style.bgcolor == warning.bgcolor for _, style in segments)
        # ... and at exactly the right cells: the highlighted segment starts where its first
        # character is drawn (2 cells per CJK character, after the gutter).
        row, col = finding.line - 1, finding.column - 1
        assert app.editor.painted_spans[row][0].start == col
        assert app.editor.painted_spans[row][0].end == col + 4
        # The preview marks the phrase in the rendered text too.
        assert "上门催收" in (app.preview.rendering.text or "")
        assert any(s.rule == "visit-threat" for s in app.preview.rendering.spans)


async def test_highlight_cells_inside_if_block_and_error_style(notice_app):
    app = notice_app
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        app.editor.insert("{% if amount %}本产品保证收益{% endif %}", body_end(app))
        await pilot.pause()
        assert rules(app) == ["guaranteed-return"]
        segments = painted(app)
        assert "".join(text for text, _ in segments) == "保证收益"
        error = app.editor.severity_style("error")
        assert all(style.bgcolor == error.bgcolor for _, style in segments)
        # Cell position: the gutter plus the cell width of everything before the hit on that row.
        editor = app.editor
        for y in range(editor.size.height):
            strip = editor.render_line(y)
            x = 0
            for seg in strip:
                if seg.style is not None and seg.style.underline:
                    line_text = "".join(s.text for s in strip)
                    before = line_text[: line_text.index("保证收益")]
                    from rich.cells import cell_len

                    assert x == cell_len(before)
                    break
                x += seg.cell_length


async def test_quick_fix(notice_app):
    app = notice_app
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        app.editor.insert("，我们将上门催收", body_end(app))
        await pilot.pause()
        await pilot.press("f8")  # select the finding
        await pilot.pause()
        assert app.editor.selected_text == "上门催收"
        assert "Invite the customer" in str(app.query_one("#finding-detail").render())
        await pilot.press("f2")
        await pilot.pause()
        assert "上门催收" not in app.editor.text
        assert "我们将联系" in app.editor.text
        assert rules(app) == []
        await pilot.press("ctrl+z")
        await pilot.pause()
        assert "上门催收" in app.editor.text  # undo restores it


async def test_save_with_errors_asks_for_draft(notice_app, project_dir: Path):
    app = notice_app
    path = project_dir / "templates" / "notice.j2"
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        app.editor.insert("保证收益", body_end(app))
        await pilot.pause()
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert isinstance(app.screen, ChoiceDialog) and app.screen.id == "save-draft-dialog"
        assert "1 error" in app.screen.title_text
        await pilot.press("escape")
        await pilot.pause()
        assert path.read_text(encoding="utf-8") == NOTICE  # nothing written
        await pilot.press("ctrl+s")
        await pilot.pause()
        await pilot.click("#save")
        await pilot.pause()
        assert path.read_text(encoding="utf-8") == app.editor.text
        assert not app.current.dirty


async def test_clean_save_is_atomic_and_keeps_permissions(notice_app, project_dir: Path):
    app = notice_app
    path = project_dir / "templates" / "notice.j2"
    os.chmod(path, 0o640)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        app.editor.insert("谢谢", body_end(app))
        await pilot.pause()
        assert app.current.dirty
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert len(app.screen_stack) == 1  # no dialog for a clean template
        assert path.read_text(encoding="utf-8") == app.editor.text
        assert (path.stat().st_mode & 0o777) == 0o640
        assert [p.name for p in path.parent.iterdir()] == ["notice.j2"]  # no temp file left


async def test_changed_on_disk_is_detected_before_overwriting(notice_app, project_dir: Path):
    app = notice_app
    path = project_dir / "templates" / "notice.j2"
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        app.editor.insert("谢谢", body_end(app))
        path.write_text(NOTICE + "{# edited elsewhere #}\n", encoding="utf-8")
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert isinstance(app.screen, ChoiceDialog) and app.screen.id == "changed-on-disk-dialog"
        await pilot.click("#cancel")
        await pilot.pause()
        assert "edited elsewhere" in path.read_text(encoding="utf-8")
        assert "谢谢" in app.editor.text  # nothing lost in the studio
        await pilot.press("ctrl+s")
        await pilot.pause()
        await pilot.click("#overwrite")
        await pilot.pause()
        assert path.read_text(encoding="utf-8") == app.editor.text


async def test_unsaved_quit_guard(notice_app):
    app = notice_app
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        app.editor.insert("谢谢", body_end(app))
        await pilot.pause()
        await pilot.press("ctrl+q")
        await pilot.pause()
        assert isinstance(app.screen, ChoiceDialog) and app.screen.id == "unsaved-quit-dialog"
        await pilot.press("escape")
        await pilot.pause()
        assert app.is_running and len(app.screen_stack) == 1
        await pilot.press("ctrl+q")
        await pilot.pause()
        await pilot.click("#discard")
        await pilot.pause()
    assert app.return_value == 0


async def test_quit_without_changes_does_not_ask(notice_app):
    app = notice_app
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        await pilot.press("ctrl+q")
        await pilot.pause()
    assert app.return_value == 0


async def test_new_template_from_starter(notice_app, project_dir: Path):
    from tmplstudio.template.starter import starter_source

    app = notice_app
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        await pilot.press("ctrl+n")
        await pilot.pause()
        assert isinstance(app.screen, NewTemplateDialog)
        await pilot.press(*"fresh", "enter")
        await pilot.pause()
        path = project_dir / "templates" / "fresh.j2"
        assert path.exists()
        expected = starter_source("fresh", "zh-CN", "sms")
        assert path.read_text(encoding="utf-8") == expected
        assert app.editor.text == expected
        assert app.current.path == path
        assert path in app.template_list.paths


async def test_new_template_rejects_existing_id(notice_app):
    app = notice_app
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        await pilot.press("ctrl+n")
        await pilot.pause()
        await pilot.press(*"notice", "enter")
        await pilot.pause()
        assert isinstance(app.screen, NewTemplateDialog)
        assert "already exists" in str(app.screen.query_one("#new-error").render())


async def test_sample_switch_updates_segment_count(notice_app):
    app = notice_app
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        stats = app.query_one("#preview-stats")
        assert app.preview.sample == "short"
        assert "1 SMS segment" in str(stats.render())
        await pilot.press("f4")
        await pilot.pause()
        assert app.preview.sample == "long"
        assert "2 SMS segments" in str(stats.render())
        assert app.preview.rendering.stats.segments == 2


async def test_add_missing_variable_to_every_sample(notice_app):
    app = notice_app
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        app.editor.insert("截止日{{ due_date }}", body_end(app))
        await pilot.pause()
        assert app.variables_panel.missing == {"due_date": ["short", "long"]}
        app.variables_panel.focus()
        app.variables_panel.highlighted = app.variables_panel.get_option_index("v:due_date")
        await pilot.press("a")
        await pilot.pause()
        assert app.variables_panel.missing == {}
        assert app.editor.text.count("due_date") == 3  # two samples + the body


async def test_jinja_error_shows_error_not_stale_preview(notice_app):
    app = notice_app
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        assert app.preview.rendering.text
        app.editor.insert("{% if %}", body_end(app))
        await pilot.pause()
        assert any(f.severity.value == "error" for f in app.findings_panel.findings)
        assert app.preview.rendering.text is None
        assert app.preview.has_class("-error")
        app.editor.insert("x", (BODY_LINE, 0))  # the editor keeps working
        await pilot.pause()
        assert app.editor.document.get_line(BODY_LINE).startswith("x")


async def test_broken_front_matter_is_a_message(notice_app):
    app = notice_app
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        app.editor.insert("oops = = \n", (2, 0))
        await pilot.pause()
        assert app.findings_panel.findings, "a broken front matter must show as a finding"
        assert app.is_running


async def test_broken_pack_shows_message_and_editor_works(project_dir: Path):
    (project_dir / "packs" / "bad.toml").write_text("[pack]\nid = 'bad'\nalow = 1\n", encoding="utf-8")
    app = make_app(project_dir, project_dir / "templates" / "notice.j2", discover=False)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        assert app.project is None
        assert app.findings_panel.problems and "bad.toml" in app.findings_panel.problems[0]
        app.editor.insert("谢谢", body_end(app))
        await pilot.pause()
        assert "谢谢" in app.editor.text
        # Nothing was checked, so the template must not be badged clean.
        notice = project_dir / "templates" / "notice.j2"
        assert "✔" not in str(app.template_list.get_option_at_index(app.template_list.paths.index(notice)).prompt)
        # Fix the pack and reload: the checks come back.
        (project_dir / "packs" / "bad.toml").unlink()
        await pilot.press("f5")
        await pilot.pause()
        assert app.project is not None and not app.findings_panel.problems


async def test_fresh_install_offers_starter(tmp_path: Path):
    app = make_app(tmp_path, discover=False)  # no config: ./templates and the bundled packs
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        assert isinstance(app.screen, ChoiceDialog) and app.screen.id == "create-starter-dialog"
        await pilot.click("#create")
        await pilot.pause()
        assert isinstance(app.screen, NewTemplateDialog)
        await pilot.press("enter")  # default id "reminder"
        await pilot.pause()
        assert (tmp_path / "templates" / "reminder.j2").exists()
        assert app.current is not None and not app.editor.read_only


async def test_help_and_policy_browser(notice_app):
    app = notice_app
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        await pilot.press("f1")
        await pilot.pause()
        assert isinstance(app.screen, HelpScreen)
        await pilot.press("escape")
        await pilot.pause()
        await pilot.press("f3")
        await pilot.pause()
        assert isinstance(app.screen, PolicyBrowser)
        tree = app.screen.query_one("#policy-tree")
        labels = [str(n.label) for n in tree.root.children[0].children]
        assert any("visit-threat" in label for label in labels)
        await pilot.press("down", "down")  # the pack, then its first rule
        await pilot.pause()
        assert "Announcing a visit" in str(app.screen.query_one("#policy-detail").render())
        await pilot.press("escape")
        await pilot.pause()
        assert len(app.screen_stack) == 1


async def test_command_palette_has_an_entry_for_every_binding(notice_app):
    app = notice_app
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        callbacks = {getattr(cb, "__name__", "") for _, _, cb in app.studio_commands()}
        for binding in app.BINDINGS:
            assert f"action_{binding.action}" in callbacks, binding.action
        titles = [t for t, _, _ in app.studio_commands()]
        assert "Preview sample: long" in titles
        assert "Open template: notice.j2" in titles


async def test_stale_results_are_never_shown(notice_app, monkeypatch):
    from tmplstudio.tui.widgets import editor as editor_module

    app = notice_app
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        editor = app.editor
        old = editor.version
        stale = app.project.evaluate(editor.text.replace("请及时", "保证收益请及时"), app.current.path)
        editor.insert("x", (BODY_LINE, 0))
        editor._deliver(editor.text, stale, None, old)  # an evaluation for an older text arrives late
        await pilot.pause()
        assert rules(app) == []
        # Force the worker path: results still end up matching the latest text.
        monkeypatch.setattr(editor_module, "SYNC_MAX_CHARS", 0)
        editor.insert("上门催收", body_end(app))
        editor.insert("保证收益", body_end(app))
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert sorted(rules(app)) == ["guaranteed-return", "visit-threat"]


async def test_editor_follows_theme(notice_app):
    app = notice_app
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        dark = app.editor.severity_style("error")
        app.theme = "textual-light"
        await pilot.pause()
        light = app.editor.severity_style("error")
        assert dark.bgcolor != light.bgcolor
        assert app.editor.theme == "tmplstudio-textual-light"


async def test_narrow_layout_uses_tabs(notice_app):
    app = notice_app
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        assert app.screen.has_class("-narrow")
        assert app.query_one("#side-tabs").display
        assert not app.query_one("#templates").display
        assert app.findings_panel.display and not app.preview.display
        await pilot.press("f4")  # switching samples shows the preview tab
        await pilot.pause()
        assert app.preview.display and not app.findings_panel.display


def test_textarea_private_line_cache_still_exists():
    """The one private TextArea attribute the editor relies on (see widgets/editor.py)."""
    area = TextArea()
    assert hasattr(area, "_line_cache") and callable(area._line_cache.clear)


async def test_new_findings_do_not_move_the_cursor_while_typing(notice_app):
    app = notice_app
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        app.editor.insert("，我们将上门催收", body_end(app))
        await pilot.pause()
        await pilot.press("f8")  # the user looks at the finding...
        await pilot.pause()
        assert app.editor.selected_text == "上门催收"
        app.editor.focus()
        app.editor.move_cursor((BODY_LINE, 0))  # ...then types somewhere else
        await pilot.press(*"保证收益")  # which adds a finding and rebuilds the list
        await pilot.pause()
        assert sorted(rules(app)) == ["guaranteed-return", "visit-threat"]
        assert app.editor.selection.is_empty
        assert app.editor.cursor_location == (BODY_LINE, 4)
        assert app.editor.document.get_line(BODY_LINE).startswith("保证收益【")
        assert app.findings_panel.current.rule == "visit-threat"  # still highlighted in the list


async def test_switching_templates_keeps_text_and_undo(notice_app, project_dir: Path):
    other = project_dir / "templates" / "other.j2"
    other.write_text(NOTICE.replace('id = "notice"', 'id = "other"'), encoding="utf-8")
    app = notice_app
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        app.editor.insert("谢谢", body_end(app))
        await pilot.pause()
        edited = app.editor.text
        app.open_path(other)
        await pilot.pause()
        assert app.editor.text == other.read_text(encoding="utf-8")
        app.open_path(project_dir / "templates" / "notice.j2")
        await pilot.pause()
        assert app.editor.text == edited and app.current.dirty
        app.editor.action_undo()
        await pilot.pause()
        assert app.editor.text == NOTICE


async def test_binary_or_huge_files_are_refused_with_a_message(project_dir: Path):
    binary = project_dir / "templates" / "blob.j2"
    binary.write_bytes(b"\x00\x01\x02")
    app = make_app(project_dir, binary)
    messages: list[str] = []
    notify = app.notify
    app.notify = lambda message, **kw: (messages.append(message), notify(message, **kw))[1]  # type: ignore[method-assign]
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        assert app.current is None and app.editor.read_only
        assert any("binary" in m for m in messages)


async def test_clicking_a_finding_selects_its_text_in_the_editor(notice_app):
    app = notice_app
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        app.editor.insert("，我们将上门催收", body_end(app))
        await pilot.pause()
        await pilot.click("#findings-list", offset=(4, 1))  # row 0 is the "Warnings (1)" header
        await pilot.pause()
        assert app.editor.selected_text == "上门催收"
        assert app.focused is app.editor
        assert "Announcing a visit" in str(app.query_one("#finding-detail").render())


async def test_quit_during_save_dialog_does_not_cancel_the_save(notice_app, project_dir: Path):
    app = notice_app
    path = project_dir / "templates" / "notice.j2"
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        app.editor.insert("保证收益", body_end(app))
        await pilot.pause()
        await pilot.press("ctrl+s")
        await pilot.pause()
        await pilot.press("ctrl+q")  # ignored while the dialog is open
        await pilot.pause()
        assert app.screen.id == "save-draft-dialog"
        await pilot.click("#save")
        await pilot.pause()
        assert path.read_text(encoding="utf-8") == app.editor.text


async def test_email_preview_shows_subject_and_no_sms_segments(project_dir: Path):
    path = project_dir / "templates" / "mail.j2"
    path.write_text(
        '+++\nid = "mail"\nlocale = "zh-CN"\nchannel = "email"\nsubject = "{{ name }}的账单"\n\n'
        '[samples.a]\nname = "张三"\n+++\n{{ name }}您好，您的账单已出。\n',
        encoding="utf-8",
    )
    app = make_app(project_dir, path)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        text = str(app.query_one("#preview-text").render())
        assert text.startswith("Subject: 张三的账单")
        stats = str(app.query_one("#preview-stats").render())
        assert "chars" in stats and "SMS" not in stats


async def test_a_crash_keeps_unsaved_text_in_a_recovery_file(notice_app, project_dir: Path):
    app = notice_app
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        app.editor.insert("谢谢", body_end(app))
        await pilot.pause()

        def broken(evaluation):
            raise RuntimeError("a bug while showing results")

        app.preview.show = broken  # type: ignore[method-assign]
        app.editor.insert("!", body_end(app))
        await pilot.pause()
    assert app.return_code == 1
    written = project_dir / "templates" / "notice.j2.unsaved"
    assert app.recovered == [written]
    assert "谢谢!" in written.read_text(encoding="utf-8")
    assert (project_dir / "templates" / "notice.j2").read_text(encoding="utf-8") == NOTICE
