"""`validate --format checkstyle`: Checkstyle XML, read by reviewdog (``-f=checkstyle``) and
Jenkins' Warnings Next Generation plugin.

One ``<file>`` per template (or partial) with an ``<error>`` per unsuppressed finding:
``line``, ``column`` (code points, as in the text report), ``severity`` (error, warning,
info), ``message`` and ``source`` (``tmplstudio.PACK.RULE``). A file that could not be read
gets one ``<error>`` with source ``tmplstudio.input``.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from typing import TextIO

from tmplstudio.cli.formats import Format, Options, clean, finding_message, register, shown_path


def build(report) -> ET.Element:
    root = ET.Element("checkstyle", version="4.3")
    files: dict[str, ET.Element] = {}

    def file_element(name: str) -> ET.Element:
        if name not in files:
            files[name] = ET.SubElement(root, "file", name=clean(name))
        return files[name]

    for path, ev in report.evaluations:
        file_element(path)
        for f in ev.findings:
            if f.suppressed:
                continue
            ET.SubElement(file_element(shown_path(f.file) or path), "error", line=str(f.line), column=str(f.column),
                          severity=f.severity.value, message=clean(finding_message(f)),
                          source=clean(f"tmplstudio.{f.pack}.{f.rule}"))
    for err in report.input_errors:
        attrs = {"severity": "error", "message": clean(err.message), "source": "tmplstudio.input"}
        if err.line:
            attrs["line"] = str(err.line)
        if err.column:
            attrs["column"] = str(err.column)
        ET.SubElement(file_element(shown_path(err.path) or "?"), "error", **attrs)
    return root


def write(report, out: TextIO, options: Options) -> None:
    root = build(report)
    ET.indent(root, space="  ")
    out.write('<?xml version="1.0" encoding="UTF-8"?>\n')
    out.write(ET.tostring(root, encoding="unicode"))
    out.write("\n")


register(Format("checkstyle", "Checkstyle XML (reviewdog, Jenkins warnings-ng)", write))
