"""The template editor: a TextArea with Jinja colouring and policy findings painted in place.

Findings are painted through TextArea's public ``get_line`` hook (its docstring invites subclasses to
stylize the returned Text). Columns there are code points, the same unit as the engine's
line/column. Styles come from component classes in ``studio.tcss`` so they follow the app theme, and
they use underline and background only, so the Jinja syntax colours stay visible underneath.

One private attribute is touched: ``_line_cache`` (TextArea caches rendered lines with a key that
does not know about our spans). ``tests/tui/test_editor.py`` fails loudly if it disappears.
"""

from __future__ import annotations

import importlib.resources
from collections import deque
from dataclasses import dataclass
from statistics import median
from time import thread_time
from typing import TYPE_CHECKING, Any, Callable, Iterable

from rich.style import Style
from rich.text import Text
from textual import work
from textual.worker import get_current_worker
from textual.binding import Binding
from textual.message import Message
from textual.widgets import TextArea
from textual.widgets.text_area import Edit, EditResult, Selection, TextAreaTheme

if TYPE_CHECKING:
    from tmplstudio.policy.engine import Evaluation
    from tmplstudio.policy.model import Finding

SEVERITIES = ("error", "warning", "info")

# Above this many characters, or when one evaluation took longer than SYNC_BUDGET, the editor
# evaluates in a thread worker instead of inside the Changed handler (one at a time: edits made
# meanwhile are evaluated together when it finishes). Message templates are far below this.
SYNC_MAX_CHARS = 8_000
SYNC_BUDGET = 0.015

_JINJA_LANGUAGE: Any = None
_JINJA_QUERY: str | None = None


def jinja_language() -> tuple[Any, str] | None:
    """The tree-sitter Jinja grammar and its highlight query, loaded once (None if unavailable)."""
    global _JINJA_LANGUAGE, _JINJA_QUERY
    if _JINJA_LANGUAGE is None:
        try:
            import tree_sitter_jinja
            from tree_sitter import Language

            _JINJA_LANGUAGE = Language(tree_sitter_jinja.language())
            _JINJA_QUERY = (
                importlib.resources.files("tree_sitter_jinja") / "queries" / "highlights.scm"
            ).read_text(encoding="utf-8")
        except Exception:  # pragma: no cover - grammar missing: plain text still edits fine
            _JINJA_LANGUAGE = False
    if not _JINJA_LANGUAGE:
        return None
    return _JINJA_LANGUAGE, _JINJA_QUERY or ""


def syntax_theme(name: str, app_theme: Any) -> TextAreaTheme:
    """A TextArea theme whose syntax colours derive from the app theme (so light/dark both read).

    No base/cursor/selection styles are set: those fall back to the widget's CSS, as with the
    builtin ``css`` theme. The dict is new for each call (never shared with a builtin theme).
    """
    from textual.color import Color

    fg = Color.parse(app_theme.foreground or ("#e0e0e0" if app_theme.dark else "#1e1e1e"))
    bg = Color.parse(app_theme.background or ("#1e1e1e" if app_theme.dark else "#f5f5f5"))

    def col(value: str | None, fallback: str, mix: float = 0.25) -> str:
        # A quarter of the foreground mixed in keeps dark theme colours (e.g. a navy secondary)
        # readable on a dark background, and light theme colours readable on a light one.
        return Color.parse(value or fallback).blend(fg, mix).hex

    muted = fg.blend(bg, 0.45).hex
    primary = col(app_theme.primary, "#0178D4")
    secondary = col(app_theme.secondary, "#8f6fd8", 0.5)  # often the darkest of the theme colours
    accent = col(app_theme.accent, "#ffa62b")
    success = col(app_theme.success, "#4EBF71")
    warning = col(app_theme.warning, "#ffa62b")
    return TextAreaTheme(
        name=name,
        syntax_styles={
            "tag": Style(color=primary, bold=True),
            "keyword": Style(color=secondary, bold=True),
            "function": Style(color=secondary),
            "function.method": Style(color=secondary),
            "variable": Style(color=accent),
            "property": Style(color=accent),
            "constant": Style(color=warning),
            "constant.builtin": Style(color=warning),
            "constructor": Style(color=accent),
            "number": Style(color=warning),
            "string": Style(color=success),
            "escape": Style(color=warning),
            "comment": Style(color=muted, italic=True),
            "operator": Style(color=secondary),
            "punctuation.bracket": Style(color=muted),
            "punctuation.delimiter": Style(color=muted),
            "punctuation.special": Style(color=muted),
        },
    )


@dataclass(frozen=True)
class LineSpan:
    start: int
    end: int | None  # None: to the end of the line
    severity: str


def spans_by_line(findings: Iterable[Finding]) -> dict[int, tuple[LineSpan, ...]]:
    """Per 0-based line, the column spans to paint; suppressed findings are not painted."""
    out: dict[int, list[LineSpan]] = {}
    for f in findings:
        if f.suppressed or getattr(f, "file", None) or f.end <= f.start:  # `file`: the span is in a partial
            continue
        first, last = f.line - 1, f.end_line - 1
        for row in range(first, last + 1):
            start = f.column - 1 if row == first else 0
            end = f.end_column - 1 if row == last else None
            if end is not None and end <= start:
                continue
            out.setdefault(row, []).append(LineSpan(start, end, f.severity.value))
    rank = {"info": 0, "warning": 1, "error": 2}
    # Paint the most severe last, so it wins where spans overlap.
    return {row: tuple(sorted(s, key=lambda s: rank.get(s.severity, 0))) for row, s in out.items()}


class TemplateEditor(TextArea):
    """TextArea over a whole template file, re-evaluating the policies on every edit."""

    COMPONENT_CLASSES = {"finding--error", "finding--warning", "finding--info"}
    BINDINGS = [
        Binding("ctrl+home", "document_start", "Start of file", show=False),
        Binding("ctrl+end", "document_end", "End of file", show=False),
    ]

    class Evaluated(Message):
        """The policies were evaluated for document ``version`` (never posted for a stale one)."""

        def __init__(self, editor: "TemplateEditor", text: str, evaluation: Evaluation | None, error: str | None, version: int) -> None:
            super().__init__()
            self.editor = editor
            self.text = text
            self.evaluation = evaluation
            self.error = error
            self.version = version

        @property
        def control(self) -> "TemplateEditor":
            return self.editor

    def __init__(self, text: str = "", *, evaluator: Callable[[str], Evaluation] | None = None, **kwargs: Any) -> None:
        kwargs.setdefault("soft_wrap", True)
        kwargs.setdefault("show_line_numbers", True)
        # The cursor-line background would hide the findings' backgrounds on the (usually one,
        # long, soft-wrapped) body line, so it stays off.
        kwargs.setdefault("highlight_cursor_line", False)
        super().__init__(text, **kwargs)
        self.evaluator = evaluator
        # Who shows the results. When set, it is called synchronously in the same tick as the
        # edit; a bubbling message would wait behind the next frame (+10-16 ms measured with
        # bench/keystroke.py). Without a listener the editor posts ``Evaluated``.
        self.listener: Callable[["TemplateEditor.Evaluated"], None] | None = None
        self.version = 0
        self.evaluation: Evaluation | None = None
        self.evaluated_version = -1  # the document version `evaluation` belongs to
        self._recent: deque[float] = deque(maxlen=5)  # CPU times of the last evaluations
        self.last_mode = "sync"  # where the last evaluation ran: "sync" (Changed handler) or "thread"
        self._worker_busy = False
        self._worker_stale = False
        self._line_spans: dict[int, tuple[LineSpan, ...]] = {}
        grammar = jinja_language()
        if grammar is not None:
            self.register_language("jinja", *grammar)
            self.language = "jinja"

    def action_document_start(self) -> None:
        self.move_cursor((0, 0))

    def action_document_end(self) -> None:
        self.move_cursor(self.document.end)

    # -- theme --------------------------------------------------------------------------------
    def on_mount(self) -> None:
        self._apply_app_theme()
        self.app.theme_changed_signal.subscribe(self, lambda _theme: self._apply_app_theme())

    def _apply_app_theme(self) -> None:
        theme = self.app.current_theme
        name = f"tmplstudio-{theme.name}"
        self.register_theme(syntax_theme(name, theme))
        self.theme = name

    # -- findings painting ----------------------------------------------------------------------
    def set_findings(self, findings: Iterable[Finding]) -> None:
        spans = spans_by_line(findings)
        if spans != self._line_spans:
            self._line_spans = spans
            self._line_cache.clear()
            self.refresh()

    @property
    def painted_spans(self) -> dict[int, tuple[LineSpan, ...]]:
        return self._line_spans

    def severity_style(self, severity: str) -> Style:
        """The finding style for a severity, from the component class (theme-aware)."""
        name = f"finding--{severity}"
        partial = self.get_component_rich_style(name, partial=True, default=Style())
        full = self.get_component_rich_style(name, default=Style())
        if partial.bgcolor is not None and full.bgcolor is not None:
            # The partial style drops the alpha of `$error 30%`; take the blended background.
            partial = partial + Style(bgcolor=full.bgcolor)
        return partial

    def get_line(self, line_index: int) -> Text:
        line = super().get_line(line_index)
        spans = self._line_spans.get(line_index)
        if spans:
            length = len(line)
            for span in spans:
                end = length if span.end is None else min(span.end, length)
                if span.start < end:
                    line.stylize(self.severity_style(span.severity), span.start, end)
        return line

    def edit(self, edit: Edit) -> EditResult:
        top, bottom = sorted((edit.from_location, edit.to_location))
        result = super().edit(edit)
        self.version += 1
        if self._line_spans:
            self._shift_spans(top, bottom, result.end_location)
        return result

    def _shift_spans(self, top: tuple[int, int], bottom: tuple[int, int], new_end: tuple[int, int]) -> None:
        """Keep painted spans on their characters until the next evaluation replaces them."""
        (tr, tc), (br, bc), (er, ec) = top, bottom, new_end
        shifted: dict[int, list[LineSpan]] = {}
        for row, spans in self._line_spans.items():
            for s in spans:
                if row < tr or (row == tr and s.end is not None and s.end <= tc):
                    shifted.setdefault(row, []).append(s)
                elif row > br:
                    shifted.setdefault(row + er - br, []).append(s)
                elif row == br and s.start >= bc:
                    end = None if s.end is None else s.end - bc + ec
                    shifted.setdefault(er, []).append(LineSpan(s.start - bc + ec, end, s.severity))
                # spans touching the edited range are dropped
        self._line_spans = {row: tuple(s) for row, s in shifted.items()}

    # -- evaluation -------------------------------------------------------------------------------
    def load_text(self, text: str) -> None:
        self.version += 1
        self._line_spans = {}
        super().load_text(text)

    def _on_text_area_changed(self, event: TextArea.Changed) -> None:
        if event.text_area is not self:
            return
        self.reevaluate()

    @property
    def last_eval_seconds(self) -> float:
        """The median of the last few evaluation times: one slow outlier (a cold cache, a GC
        pause) does not move evaluation to a thread."""
        return median(self._recent) if self._recent else 0.0

    def reset_timing(self) -> None:
        """Forget the evaluation times (a different document is loaded)."""
        self._recent.clear()

    def reevaluate(self) -> None:
        """Evaluate the current text now (small documents) or in a worker (large or slow ones)."""
        text = self.text
        if self.evaluator is None:
            self._deliver(text, None, None, self.version)
            return
        if len(text) <= SYNC_MAX_CHARS and self.last_eval_seconds <= SYNC_BUDGET:
            self.last_mode = "sync"
            evaluation, error, elapsed = self._run_evaluator(self.evaluator, text)
            self._recent.append(elapsed)
            self._deliver(text, evaluation, error, self.version)
        elif self._worker_busy:
            self._worker_stale = True  # one evaluation at a time; the newest text goes next
        else:
            self.last_mode = "thread"
            self._worker_busy = True
            self._evaluate_in_thread(text, self.version)

    @staticmethod
    def _run_evaluator(evaluator: Callable[[str], Evaluation], text: str) -> tuple[Evaluation | None, str | None, float]:
        # CPU time of this thread, not wall time: in the worker, waiting for the GIL while the UI
        # paints (or other processes on a busy machine) would otherwise look like a slow
        # evaluation and keep the editor in thread mode for good.
        started = thread_time()
        try:
            evaluation, error = evaluator(text), None
        except Exception as exc:  # the engine promises not to raise; never let the editor die if it does
            evaluation, error = None, f"Evaluation failed: {type(exc).__name__}: {exc}"
        return evaluation, error, thread_time() - started

    @work(thread=True, exclusive=True, group="evaluate", exit_on_error=False)
    def _evaluate_in_thread(self, text: str, version: int) -> None:
        evaluator = self.evaluator
        if evaluator is None:
            return
        evaluation, error, elapsed = self._run_evaluator(evaluator, text)
        if not get_current_worker().is_cancelled:  # cancelled: the app is closing
            # A message (thread-safe), not call_from_thread: an error while showing the result
            # must surface like any other handler error, not vanish inside the worker.
            self.post_message(self.ThreadResult(text, evaluation, error, version, elapsed))

    class ThreadResult(Message):
        """An evaluation finished in the worker thread (internal)."""

        def __init__(self, text: str, evaluation: Evaluation | None, error: str | None, version: int, elapsed: float) -> None:
            super().__init__()
            self.args = (text, evaluation, error, version, elapsed)

    def on_template_editor_thread_result(self, message: "TemplateEditor.ThreadResult") -> None:
        message.stop()
        self._deliver_from_thread(*message.args)

    def _deliver_from_thread(self, text: str, evaluation: Evaluation | None, error: str | None, version: int, elapsed: float) -> None:
        self._worker_busy = False
        self._recent.append(elapsed)
        self._deliver(text, evaluation, error, version)  # dropped if the text changed meanwhile
        if self._worker_stale or version != self.version:
            self._worker_stale = False
            self.reevaluate()

    def _deliver(self, text: str, evaluation: Evaluation | None, error: str | None, version: int) -> None:
        if version != self.version:
            return  # results for an older text: a newer evaluation is on its way
        self.evaluation = evaluation
        self.evaluated_version = version
        self.set_findings(evaluation.findings if evaluation is not None else ())
        message = self.Evaluated(self, text, evaluation, error, version)
        if self.listener is not None:
            self.listener(message)
        else:
            self.post_message(message)

    # -- positions ---------------------------------------------------------------------------------
    def offset_to_location(self, offset: int) -> tuple[int, int]:
        """A code-point offset into ``self.text`` as a (row, column) location."""
        newline = len(self.document.newline)
        remaining = max(0, offset)
        for row in range(self.document.line_count):
            length = len(self.document.get_line(row))
            if remaining <= length:
                return row, remaining
            remaining -= length + newline
        last = self.document.line_count - 1
        return last, len(self.document.get_line(last))

    def select_finding(self, finding: Finding) -> None:
        start = (finding.line - 1, finding.column - 1)
        end = (finding.end_line - 1, finding.end_column - 1)
        self.selection = Selection(start, end)
        self.scroll_cursor_visible(center=True)
