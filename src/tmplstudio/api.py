"""The Python API: check templates and rendered messages from your own code (docs/api.md).

    from tmplstudio import check, check_message, Project

``check`` takes a template (its text, or a ``Path`` to a file) and checks it exactly as
``tmplstudio validate`` does; ``check_message`` checks text that is already rendered (the
last check a sending system can make) as literal text: nothing in it is run as Jinja.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from pathlib import Path

from tmplstudio.policy.model import Finding, Severity
from tmplstudio.project import Project

__all__ = ["Result", "check", "check_message", "Project", "Finding", "Severity"]


@dataclass(frozen=True)
class Result:
    """What a check found. ``findings`` includes suppressed ones (``f.suppressed``);
    ``errors``/``warnings`` and ``passed`` count only the others."""

    findings: tuple[Finding, ...]
    rendered: dict[str, str | None] = field(default_factory=dict)  # each sample's text (None: did not render)

    @property
    def errors(self) -> list[Finding]:
        return [f for f in self.findings if f.severity == Severity.ERROR and not f.suppressed]

    @property
    def warnings(self) -> list[Finding]:
        return [f for f in self.findings if f.severity == Severity.WARNING and not f.suppressed]

    def passed(self, fail_on: str = "error") -> bool:
        """True when no unsuppressed finding reaches ``fail_on`` (as validate's exit code 0)."""
        threshold = Severity(fail_on).rank
        return not any(f.severity.rank >= threshold and not f.suppressed for f in self.findings)


def _project(project: Project | None, folder: Path | None = None) -> Project:
    return project if project is not None else Project.discover(folder)


def check(template: str | Path, project: Project | None = None, *, name: str = "<string>.j2") -> Result:
    """Check a template: ``template`` is its source text, or a :class:`~pathlib.Path` to a file
    (read as validate reads it; an unreadable file raises :class:`tmplstudio.errors.InputError`).
    Without ``project``, the project of the file's folder (or of the working directory) is used."""
    from tmplstudio.template.source import read_template_file

    if isinstance(template, Path):
        source, path = read_template_file(template), template
        project = _project(project, template.resolve().parent)
    else:
        source, path = template, Path(name)
        project = _project(project)
    ev = project.evaluate(source, path)
    return Result(tuple(ev.findings), {n: r.text for n, r in ev.renders.items()})


_ENDRAW = re.compile(r"\{%-?\s*endraw")


def check_message(text: str, locale: str = "zh-CN", *, channel: str = "sms", project: Project | None = None,
                  **meta) -> Result:
    """Check an already rendered message as literal text, with the metadata a template's front
    matter would give (``locale``, ``channel``, and e.g. ``jurisdiction=["US-CA"]``). Positions
    (``start``/``end``, ``line``/``column``) refer to ``text`` itself."""
    import tomli_w

    front = tomli_w.dumps({"id": "message", "locale": locale, "channel": channel, **meta})
    head = f"+++\n{front}+++\n"
    # The text goes inside {% raw %} so nothing in it runs; an "{% endraw" in it is written as an
    # expression between two raw blocks. `pieces` maps each raw stretch back to the text.
    body, pieces, at = [], [], 0
    for m in [*_ENDRAW.finditer(text), None]:
        end = m.start() if m else len(text)
        start_in_source = len(head) + sum(map(len, body)) + len("{% raw %}")
        body.append("{% raw %}" + text[at:end] + "{% endraw %}")
        pieces.append((start_in_source, at, end - at))
        if m:
            body.append('{{ "{%" }}')
            at = m.start() + 2
    source = head + "".join(body)
    ev = _project(project).evaluate(source, Path("<message>.j2"))

    def to_text(offset: int) -> int:
        best = 0
        for src, txt, length in pieces:
            if offset >= src:
                best = txt + min(offset - src, length)
        return best

    findings = []
    for f in ev.findings:
        start, end = to_text(f.start), max(to_text(f.start), to_text(f.end))
        line = text.count("\n", 0, start) + 1
        end_line = text.count("\n", 0, end) + 1
        findings.append(replace(f, start=start, end=end, line=line, column=start - (text.rfind("\n", 0, start) + 1) + 1,
                                end_line=end_line, end_column=end - (text.rfind("\n", 0, end) + 1) + 1,
                                text=text[start:end] if not f.sample else f.text, fix=None))
    return Result(tuple(findings), {"message": text})
