"""Findings panel: the evaluation's findings grouped by severity, with the selected one explained."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Sequence

from textual.content import Content
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical, VerticalScroll
from textual.message import Message
from textual.widgets import OptionList, Static
from textual.widgets.option_list import Option

if TYPE_CHECKING:
    from tmplstudio.policy.model import Finding

GROUPS = (("error", "Errors"), ("warning", "Warnings"), ("info", "Info"))
_PARAGRAPHS = re.compile(r"\n\s*\n")


def reflow(text: str) -> str:
    """Join the hard-wrapped lines of a pack's explanation so the panel can wrap it to its width.

    Blank lines stay paragraph breaks; a line break between two CJK characters joins without a space.
    """
    paragraphs = []
    for para in _PARAGRAPHS.split(text.strip()):
        lines = [line.strip() for line in para.splitlines() if line.strip()]
        out = ""
        for line in lines:
            if out and not (_is_cjk(out[-1]) and _is_cjk(line[0])):
                out += " "
            out += line
        paragraphs.append(out)
    return "\n\n".join(paragraphs)


def _is_cjk(ch: str) -> bool:
    return "\u2e80" <= ch <= "\u9fff" or "\uf900" <= ch <= "\ufaff" or "\uff00" <= ch <= "\uffef" or "\u3000" <= ch <= "\u303f"
ICONS = {"error": "✖", "warning": "▲", "info": "●"}


def finding_key(f: Finding) -> tuple:
    return (f.rule, f.pack, f.severity.value, f.start, f.end, f.message, f.sample, f.suppressed)


class FindingsList(OptionList):
    """The rows; enter jumps to the finding in the editor."""

    BINDINGS = [Binding("enter", "select", "Go to", show=False)]


class FindingsPanel(Vertical):
    """Grouped findings plus a detail box (explanation, source, suggestion, quick fix)."""

    class Highlighted(Message):
        def __init__(self, finding: Finding) -> None:
            super().__init__()
            self.finding = finding

    class Activated(Message):
        def __init__(self, finding: Finding) -> None:
            super().__init__()
            self.finding = finding

    def __init__(self, **kwargs) -> None:
        super().__init__(**kwargs)
        self.findings: list[Finding] = []
        self.problems: tuple[str, ...] = ()
        self._signature: tuple | None = None

    def compose(self) -> ComposeResult:
        yield FindingsList(id="findings-list")
        with VerticalScroll(id="finding-detail-scroll"):
            yield Static("", id="finding-detail")

    @property
    def option_list(self) -> FindingsList:
        return self.query_one(FindingsList)

    @property
    def current(self) -> Finding | None:
        """The highlighted finding, if any."""
        ol = self.option_list
        if ol.highlighted is None:
            return None
        option = ol.get_option_at_index(ol.highlighted)
        if option.id is None or not option.id.startswith("f"):
            return None
        return self.findings[int(option.id[1:])]

    def show(self, findings: Sequence[Finding], problems: Sequence[str] = ()) -> None:
        """Show these findings (cheap when nothing changed: runs on every keystroke)."""
        signature = (tuple(problems), tuple(finding_key(f) for f in findings))
        if signature == self._signature:
            # Same findings; offsets of unchanged findings may still have moved.
            self.findings = list(findings)
            return
        previous = self.current
        self._signature = signature
        self.findings = list(findings)
        self.problems = tuple(problems)
        options: list[Option] = []
        for i, problem in enumerate(problems):
            options.append(Option(Content.assemble(("✖ ", "bold $error"), problem), id=f"p{i}", disabled=True))
        active = [f for f in self.findings if not f.suppressed]
        suppressed = [(i, f) for i, f in enumerate(self.findings) if f.suppressed]
        if not active and not problems:
            options.append(Option(Content.styled("✔ No findings", "bold $success"), id="clean", disabled=True))
        for severity, title in GROUPS:
            rows = [(i, f) for i, f in enumerate(self.findings) if not f.suppressed and f.severity.value == severity]
            if not rows:
                continue
            options.append(Option(Content.styled(f"{title} ({len(rows)})", f"bold {_colour(severity)}"), id=f"h-{severity}", disabled=True))
            options.extend(Option(self._row(f), id=f"f{i}") for i, f in rows)
        if suppressed:
            options.append(Option(Content.styled(f"Suppressed ({len(suppressed)})", "bold $text-muted"), id="h-suppressed", disabled=True))
            options.extend(Option(self._row(f, dim=True), id=f"f{i}") for i, f in suppressed)
        ol = self.option_list
        # Keep the same finding highlighted across re-evaluations when it still exists. This is
        # not a user's choice, so no Highlighted message: the editor's cursor must not jump
        # away from where the user is typing.
        target = None
        if previous is not None:
            key = (previous.rule, previous.sample, previous.text)
            for i, f in enumerate(self.findings):
                if (f.rule, f.sample, f.text) == key:
                    target = f"f{i}"
                    break
        with ol.prevent(OptionList.OptionHighlighted):
            ol.set_options(options)
            ol.highlighted = ol.get_option_index(target) if target is not None else None
        self._show_detail(self.current)

    @staticmethod
    def _row(f: Finding, dim: bool = False) -> Content:
        sev = f.severity.value
        parts: list = [
            (f"{ICONS.get(sev, '•')} ", _colour(sev)),
            (f"{f.line}:{f.column} ", "$text-muted"),
            (f.rule, "bold"),
            " ",
            f.message,
        ]
        if f.sample:
            parts.append((f" [{f.sample}]", "italic $text-muted"))
        if f.fix is not None:
            parts.append((" ⚡fix", "bold $accent"))
        content = Content.assemble(*parts)
        return content.stylize("dim") if dim else content

    def _show_detail(self, f: Finding | None) -> None:
        detail = self.query_one("#finding-detail", Static)
        self.set_class(f is None, "-no-detail")
        if f is None:
            detail.update(Content.styled("Select a finding to see why it matters and how to fix it.", "$text-muted"))
            return
        sev = f.severity.value
        parts: list = [
            (f"{sev.upper()} ", f"bold {_colour(sev)}"),
            (f"{f.pack}/{f.rule}", "bold"),
            (f"  line {f.line}:{f.column}\n", "$text-muted"),
            f.message + "\n",
        ]
        if f.text:
            parts += [("Text: ", "bold"), f"{f.text}\n"]
        if f.sample:
            parts += [("Sample: ", "bold"), f"{f.sample} (the hit comes from this sample's values)\n"]
        branch = getattr(f, "path", None)  # the {% if %} conditions that lead to this text
        if branch:
            parts += [("Only sent ", "bold"), f"{branch}\n"]
        partial = getattr(f, "file", None)
        if partial:
            parts += [("In ", "bold"), f"{partial}\n"]
        if f.suppressed:
            parts += [("Suppressed: ", "bold"), f"{f.suppression_reason or ''}\n"]
        if f.explanation:
            parts.append("\n" + reflow(f.explanation) + "\n")
        if f.source:
            parts += [("\nSource: ", "bold"), "; ".join(s.citation for s in f.source) + "\n"]
        if f.suggestion:
            parts += [("\nSuggestion: ", "bold"), f.suggestion + "\n"]
        if f.fix is not None:
            what = f"replace “{f.text}” with “{f.fix.text}”" if f.fix.end > f.fix.start else f"insert “{f.fix.text}”"
            parts += [("\nQuick fix (f2): ", "bold $accent"), what + "\n"]
        detail.update(Content.assemble(*parts))

    def on_option_list_option_highlighted(self, event: OptionList.OptionHighlighted) -> None:
        event.stop()
        f = self.current
        self._show_detail(f)
        if f is not None:
            self.post_message(self.Highlighted(f))

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        f = self.current
        if f is not None:
            self.post_message(self.Activated(f))

    def move(self, step: int) -> Finding | None:
        """Highlight the next (step=1) or previous (-1) finding, wrapping around."""
        ol = self.option_list
        indices = [i for i in range(ol.option_count) if (ol.get_option_at_index(i).id or "").startswith("f")]
        if not indices:
            return None
        current = ol.highlighted
        if current is None or current not in indices:
            target = indices[0] if step > 0 else indices[-1]
        else:
            target = indices[(indices.index(current) + step) % len(indices)]
        ol.highlighted = target
        return self.current


def _colour(severity: str) -> str:
    """A theme variable, so the colours follow the app theme (dark or light)."""
    return {"error": "$text-error", "warning": "$text-warning", "info": "$text-primary"}.get(severity, "$foreground")
