"""Report formats for `validate`: human text and the JSON contract (docs/json-output.md)."""

from __future__ import annotations

import json
import os
import sys
from dataclasses import dataclass, field
from typing import TextIO

from tmplstudio import __version__
from tmplstudio.errors import InputError
from tmplstudio.policy.engine import Evaluation
from tmplstudio.policy.model import Finding, Severity

JSON_SCHEMA_VERSION = 1


@dataclass
class Report:
    evaluations: list[tuple[str, Evaluation]] = field(default_factory=list)  # (display path, evaluation)
    input_errors: list[InputError] = field(default_factory=list)

    def counts(self) -> dict[str, int]:
        counts = {"error": 0, "warning": 0, "info": 0, "suppressed": 0}
        for _path, ev in self.evaluations:
            for f in ev.findings:
                if f.suppressed:
                    counts["suppressed"] += 1
                else:
                    counts[f.severity.value] += 1
        return counts

    def exit_code(self, fail_on: str) -> int:
        if self.input_errors:
            return 2
        threshold = Severity(fail_on).rank
        for _path, ev in self.evaluations:
            if any(not f.suppressed and f.severity.rank >= threshold for f in ev.findings):
                return 1
        return 0


class Style:
    def __init__(self, stream: TextIO, color: bool | None = None):
        if color is None:
            color = stream.isatty() and os.environ.get("NO_COLOR") is None and os.environ.get("TERM") != "dumb"
        self.color = color

    def __call__(self, text: str, code: str) -> str:
        return f"\x1b[{code}m{text}\x1b[0m" if self.color else text


SEVERITY_CODES = {"error": "1;31", "warning": "1;33", "info": "1;36"}


def _finding_line(path: str, f: Finding, style: Style) -> str:
    sev = style(f.severity.value, SEVERITY_CODES[f.severity.value])
    where = style(f"{f.file or path}:{f.line}:{f.column}", "1")
    sample = f" [sample {f.sample}]" if f.sample else ""
    if f.path:
        sample += f" [{f.path}]"
    suppressed = style(f" (suppressed: {f.suppression_reason})", "2") if f.suppressed else ""
    return f"{where} {sev} {style(f.rule, '35')} {f.message}{sample}{suppressed}"


def write_text(report: Report, out: TextIO, show_suppressed: bool = False, color: bool | None = None) -> None:
    style = Style(out, color)
    for err in report.input_errors:
        out.write(f"{style(str(err), '31')}\n")
    for path, ev in report.evaluations:
        shown = [f for f in ev.findings if show_suppressed or not f.suppressed]
        if not shown:
            continue
        out.write(f"{style(path, '4')}  ({ev.template.meta.id}, {ev.template.meta.locale}, {ev.template.meta.channel})\n")
        for sev in (Severity.ERROR, Severity.WARNING, Severity.INFO):
            for f in shown:
                if f.severity == sev:
                    out.write(f"  {_finding_line(path, f, style)}\n")
    c = report.counts()
    n = len(report.evaluations)
    parts = [f"{c['error']} error{'s' if c['error'] != 1 else ''}", f"{c['warning']} warning{'s' if c['warning'] != 1 else ''}", f"{c['info']} info"]
    if c["suppressed"]:
        parts.append(f"{c['suppressed']} suppressed")
    summary = f"{n} template{'s' if n != 1 else ''} checked: " + ", ".join(parts)
    if report.input_errors:
        summary += f"; {len(report.input_errors)} file{'s' if len(report.input_errors) != 1 else ''} could not be read"
    code = "1;31" if c["error"] or report.input_errors else ("1;33" if c["warning"] else "1;32")
    out.write(style(summary, code) + "\n")


def to_json(report: Report) -> dict:
    c = report.counts()
    return {
        "schema": JSON_SCHEMA_VERSION,
        "tool": "tmplstudio",
        "version": __version__,
        "templates": [
            {
                "path": path,
                "id": ev.template.meta.id,
                "locale": ev.template.meta.locale,
                "channel": ev.template.meta.channel,
                "packs": [p.id for p in ev.packs],
                "findings": [f.to_json() for f in ev.findings],
            }
            for path, ev in report.evaluations
        ],
        "errors": [
            {"path": e.path, "line": e.line, "column": e.column, "message": e.message} for e in report.input_errors
        ],
        "summary": {"templates": len(report.evaluations), "error": c["error"], "warning": c["warning"], "info": c["info"], "suppressed": c["suppressed"]},
    }


def write_json(report: Report, out: TextIO) -> None:
    json.dump(to_json(report), out, ensure_ascii=False, indent=2)
    out.write("\n")


def display_width(text: str) -> int:
    import unicodedata

    return sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in text)


def underline(text: str, start: int, end: int, indent: str = "    ") -> str:
    """The text's line holding [start, end), with carets under the span (CJK counts 2 columns)."""
    line_start = text.rfind("\n", 0, start) + 1
    line_end = text.find("\n", start)
    line_end = len(text) if line_end < 0 else line_end
    # Long lines are clipped to a window around the span so the carets stay readable.
    lo = max(line_start, start - 30)
    hi = min(line_end, max(end, start + 1) + 30, lo + 100)
    line = ("…" if lo > line_start else "") + text[lo:hi] + ("…" if hi < line_end else "")
    pad = display_width(text[lo:start]) + (1 if lo > line_start else 0)
    width = max(1, display_width(text[start:min(end, hi)]))
    return f"{indent}{line}\n{indent}{' ' * pad}{'^' * width}"


def stdout_is_tty() -> bool:
    return sys.stdout.isatty()
