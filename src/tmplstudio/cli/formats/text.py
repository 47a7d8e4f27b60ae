"""`validate --format text` (the default): compiler-style lines grouped by template, for people.

    templates/bad.j2  (bad, zh-CN, sms)
      templates/bad.j2:5:12 error visit-threat Announces a home or workplace visit (上门催收).
    config: tmplstudio.toml
    1 template checked: 1 error, 0 warnings, 0 info

Every field is passed through :func:`clean`, so nothing in a template, sample or pack can start
a line of its own (a GitHub Actions workflow command in a CI log) or send a terminal escape.
"""

from __future__ import annotations

from typing import TextIO

from tmplstudio.cli.formats import Format, Options, clean, register
from tmplstudio.cli.common import Style
from tmplstudio.cli.report import exemption_lines, project_narrowings
from tmplstudio.policy.model import Severity

SEVERITY_CODES = {"error": "1;31", "warning": "1;33", "info": "1;36"}


def _finding_line(path: str, f, style: Style) -> str:
    sev = style(f.severity.value, SEVERITY_CODES[f.severity.value])
    where = style(clean(f"{f.file or path}:{f.line}:{f.column}"), "1")
    sample = f" [sample {clean(f.sample)}]" if f.sample else ""
    if f.path:
        sample += f" [{clean(f.path)}]"
    suppressed = style(f" (suppressed: {clean(f.suppression_reason)})", "2") if f.suppressed else ""
    return f"{where} {sev} {style(clean(f.rule), '35')} {clean(f.message)}{sample}{suppressed}"


def _plural(n: int, word: str) -> str:
    return f"{n} {word}{'s' if n != 1 else ''}"


def write(report, out: TextIO, options: Options) -> None:
    style = Style(out, options.color)
    for err in report.input_errors:
        out.write(f"{style(clean(err), '31')}\n")
    for path, ev in report.evaluations:
        shown = [f for f in ev.findings if options.show_suppressed or not f.suppressed]
        exemptions = exemption_lines(ev)
        if not shown and not exemptions:
            continue
        meta = ev.template.meta
        out.write(f"{style(clean(path), '4')}  ({clean(meta.id)}, {clean(meta.locale)}, {clean(meta.channel)})\n")
        for sev in (Severity.ERROR, Severity.WARNING, Severity.INFO):
            for f in shown:
                if f.severity == sev:
                    out.write(f"  {_finding_line(path, f, style)}\n")
        for line in exemptions:
            out.write(style(f"  {clean(line)}", "2") + "\n")
    for line in project_narrowings(report):
        out.write(style(f"narrowed in config: {clean(line)}", "2") + "\n")
    configs = report.config_counts()
    if configs:
        named = [clean(c) if c else "none (defaults)" for c in configs]
        if len(configs) > 1:
            named = [f"{name} ({_plural(n, 'template')})" for name, n in zip(named, configs.values())]
        out.write(style(f"config: {', '.join(named)}", "2") + "\n")
    c = report.counts()
    parts = [_plural(c["error"], "error"), _plural(c["warning"], "warning"), f"{c['info']} info"]
    if c["suppressed"]:
        parts.append(f"{c['suppressed']} suppressed")
    if report.baselined:
        parts.append(f"{report.baselined} in the baseline")
    summary = f"{_plural(len(report.evaluations), 'template')} checked: " + ", ".join(parts)
    if report.input_errors:
        summary += f"; {_plural(len(report.input_errors), 'file')} could not be read"
    code = "1;31" if c["error"] or report.input_errors else ("1;33" if c["warning"] else "1;32")
    out.write(style(summary, code) + "\n")


register(Format("text", "compiler-style lines for people and logs (default)", write))
