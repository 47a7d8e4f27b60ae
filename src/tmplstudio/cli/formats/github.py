"""`validate --format github`: workflow commands that GitHub Actions turns into annotations.

    ::error file=templates/bad.j2,line=5,col=12,endLine=5,endColumn=16,title=visit-threat::Announces ...

Escaping follows the runner's rules (actions/toolkit, command.ts): in the message ``%``, CR
and LF become ``%25``, ``%0D``, ``%0A``; in property values ``:`` and ``,`` are escaped too
(``%3A``, ``%2C``); every other control character becomes a visible escape (:func:`clean`), so
nothing a sample name or a pack says can start a workflow command of its own. Severities map to ``error``, ``warning`` and ``notice``. Suppressed
findings are not annotated. Columns count code points and the end is exclusive, as in the
JSON report.
"""

from __future__ import annotations

from typing import TextIO

from tmplstudio.cli.formats import Format, Options, clean, finding_message, register, shown_path

COMMAND = {"error": "error", "warning": "warning", "info": "notice"}


def escape_data(text: str) -> str:
    return clean(text, keep="\r\n").replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def escape_property(text: str) -> str:
    return escape_data(text).replace(":", "%3A").replace(",", "%2C")


def command(kind: str, message: str, **props) -> str:
    fields = ",".join(f"{k}={escape_property(str(v))}" for k, v in props.items() if v is not None)
    return f"::{kind} {fields}::{escape_data(message)}" if fields else f"::{kind}::{escape_data(message)}"


def write(report, out: TextIO, options: Options) -> None:
    for err in report.input_errors:
        out.write(command("error", err.message, file=shown_path(err.path), line=err.line, col=err.column, title="tmplstudio") + "\n")
    for path, ev in report.evaluations:
        for f in ev.findings:
            if f.suppressed:
                continue
            out.write(command(COMMAND[f.severity.value], finding_message(f), file=shown_path(f.file) or path, line=f.line, col=f.column,
                              endLine=f.end_line, endColumn=f.end_column, title=f.rule) + "\n")


register(Format("github", "GitHub Actions workflow commands: pull-request annotations", write))
