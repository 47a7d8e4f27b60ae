"""Preview panel: the chosen sample's rendering, its problem phrases, and SMS length figures."""

from __future__ import annotations

from typing import TYPE_CHECKING

from textual.app import ComposeResult
from textual.containers import Vertical, VerticalScroll
from textual.content import Content
from textual.widgets import Static

if TYPE_CHECKING:
    from tmplstudio.policy.engine import Evaluation, Rendering

_SEVERITY_STYLE = {
    "error": "underline on $error 35%",
    "warning": "underline on $warning 35%",
    "info": "underline on $primary 30%",
}


def rendering_content(rendering: Rendering) -> Content:
    """The rendered text with the engine's hit spans styled by severity (most severe wins)."""
    text = (rendering.text or "").rstrip("\n")
    content = Content(text)
    rank = {"info": 0, "warning": 1, "error": 2}
    for span in sorted(rendering.spans, key=lambda s: rank.get(_sev(s.severity), 0)):
        start, end = max(0, span.start), min(len(text), span.end)
        if start < end:
            content = content.stylize(_SEVERITY_STYLE.get(_sev(span.severity), "underline"), start, end)
    return content


def stats_line(rendering: Rendering, channel: str | None = "sms") -> str:
    stats = rendering.stats
    if stats is None or (channel or "sms") != "sms":  # segments mean nothing for email or push
        return f"{len(rendering.text or '')} chars"
    segments = "segment" if stats.segments == 1 else "segments"
    return f"{stats.chars} chars · {stats.encoding} · {stats.segments} SMS {segments}"


def _sev(severity: object) -> str:
    return getattr(severity, "value", str(severity))


class PreviewPanel(Vertical):
    """Shows one sample at a time; ``next_sample`` (f4) cycles through them."""

    def __init__(self, **kwargs) -> None:
        super().__init__(**kwargs)
        self.sample: str | None = None
        self.evaluation: Evaluation | None = None
        self._shown: tuple | None = None

    def compose(self) -> ComposeResult:
        yield Static("", id="preview-header")
        with VerticalScroll(id="preview-scroll"):
            yield Static("", id="preview-text")
        yield Static("", id="preview-stats")

    @property
    def samples(self) -> list[str]:
        return list(self.evaluation.renders) if self.evaluation is not None else []

    def show(self, evaluation: Evaluation | None) -> None:
        self.evaluation = evaluation
        samples = self.samples
        if self.sample not in samples:
            self.sample = samples[0] if samples else None
        self._refresh_view()

    def set_sample(self, name: str) -> None:
        if name in self.samples:
            self.sample = name
            self._refresh_view()

    def next_sample(self, step: int = 1) -> str | None:
        samples = self.samples
        if samples:
            index = samples.index(self.sample) if self.sample in samples else -step
            self.sample = samples[(index + step) % len(samples)]
            self._refresh_view()
        return self.sample

    @property
    def channel(self) -> str | None:
        if self.evaluation is None:
            return None
        return getattr(self.evaluation.template.meta, "channel", None)

    @property
    def rendering(self) -> Rendering | None:
        if self.evaluation is None or self.sample is None:
            return None
        return self.evaluation.renders.get(self.sample)

    def _refresh_view(self) -> None:
        samples = self.samples
        rendering = self.rendering
        key = (
            self.sample,
            tuple(samples),
            self.channel,
            None if rendering is None else (
                rendering.text, getattr(rendering, "subject", None), rendering.error, repr(rendering.stats),
                tuple((s.start, s.end, _sev(s.severity)) for s in rendering.spans),
            ),
        )
        if key == self._shown:
            return  # nothing visible changed: skip the repaint on this keystroke
        self._shown = key
        header = self.query_one("#preview-header", Static)
        body = self.query_one("#preview-text", Static)
        stats = self.query_one("#preview-stats", Static)
        if rendering is None:
            header.update(Content.styled("No samples", "bold"), layout=False)
            body.update(
                Content.styled(
                    "Add a [samples.NAME] table to the front matter to preview the message.", "$text-muted"
                )
            )
            stats.update("", layout=False)
            self.set_class(False, "-error")
            return
        position = f" ({samples.index(self.sample) + 1}/{len(samples)})" if len(samples) > 1 else ""
        # Header and stats are one fixed row each: update without a relayout.
        header.update(
            Content.assemble(("Sample ", "$text-muted"), (self.sample or "", "bold"), position, ("  f4: next", "$text-muted")),
            layout=False,
        )
        if rendering.error is not None or rendering.text is None:
            self.set_class(True, "-error")
            body.update(Content.assemble(("Cannot render this sample\n", "bold $text-error"), rendering.error or "no output"))
            stats.update("", layout=False)
        else:
            self.set_class(False, "-error")
            subject = getattr(rendering, "subject", None)
            content = rendering_content(rendering)
            if subject:
                content = Content.assemble(("Subject: ", "bold"), subject, "\n\n", content)
            body.update(content)
            stats.update(stats_line(rendering, self.channel), layout=False)
