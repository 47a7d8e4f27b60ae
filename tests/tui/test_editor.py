"""Unit tests of the editor's span bookkeeping (no engine needed)."""

from __future__ import annotations

from types import SimpleNamespace

from textual.app import App, ComposeResult

from tmplstudio.policy.model import Severity
from tmplstudio.tui.widgets.editor import LineSpan, TemplateEditor, spans_by_line


def finding(line, column, end_line, end_column, severity=Severity.WARNING, suppressed=False):
    return SimpleNamespace(
        line=line, column=column, end_line=end_line, end_column=end_column, start=0, end=1,
        severity=severity, suppressed=suppressed, file=None,
    )


def test_spans_by_line_splits_multiline_and_orders_by_severity():
    spans = spans_by_line(
        [
            finding(1, 3, 2, 2, Severity.ERROR),
            finding(1, 1, 1, 5, Severity.WARNING),
            finding(3, 1, 3, 4, Severity.INFO, suppressed=True),
        ]
    )
    assert spans[0] == (LineSpan(0, 4, "warning"), LineSpan(2, None, "error"))  # error painted last
    assert spans[1] == (LineSpan(0, 1, "error"),)
    assert 2 not in spans  # suppressed findings are listed, not painted


class EditorApp(App):
    def compose(self) -> ComposeResult:
        yield TemplateEditor("你好上门催收\n第二行保证收益\n")


async def test_spans_follow_edits_until_the_next_evaluation():
    app = EditorApp()
    async with app.run_test() as pilot:
        editor = app.query_one(TemplateEditor)
        editor.set_findings([finding(1, 3, 1, 7), finding(2, 4, 2, 8, Severity.ERROR)])
        editor.insert("您", (0, 0))  # before the first span, same line
        assert editor.painted_spans[0] == (LineSpan(3, 7, "warning"),)
        editor.insert("\n", (0, 0))  # a new line above shifts both
        assert editor.painted_spans[1] == (LineSpan(3, 7, "warning"),)
        assert editor.painted_spans[2] == (LineSpan(3, 7, "error"),)
        editor.replace("X", (1, 4), (1, 5))  # an edit inside a span drops it
        assert 1 not in editor.painted_spans
        assert editor.painted_spans[2] == (LineSpan(3, 7, "error"),)
        await pilot.pause()


async def test_offset_to_location_counts_code_points():
    app = EditorApp()
    async with app.run_test():
        editor = app.query_one(TemplateEditor)
        text = editor.text
        for offset in (0, 2, 6, 7, 9, len(text)):
            row, col = editor.offset_to_location(offset)
            lines = text.split("\n")
            assert sum(len(line) + 1 for line in lines[:row]) + col == offset
