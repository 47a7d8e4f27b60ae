"""`validate --format junit`: a JUnit XML test report (GitLab `artifacts:reports:junit`, Jenkins).

One test case per template. Unsuppressed findings at or above ``--fail-on`` make it fail; the
failure's text lists them in the compiler-style ``path:line:col severity rule message`` form.
Findings below the threshold and suppressed ones go to ``<system-out>``. A file that could not
be read is a test case with an ``<error>``.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from typing import TextIO

from tmplstudio.cli.formats import Format, Options, clean, finding_message, register, shown_path
from tmplstudio.policy.model import Severity

# XML 1.0 cannot carry most control characters, even escaped; clean() has made the rest visible.
_INVALID_XML = re.compile("[\ufffe\uffff]")


def _clean(text: str) -> str:
    return _INVALID_XML.sub("\ufffd", clean(text))


def _line(path: str, f) -> str:
    suppressed = f" (suppressed: {f.suppression_reason})" if f.suppressed else ""
    return _clean(f"{shown_path(f.file) or path}:{f.line}:{f.column} {f.severity.value} {f.rule} {finding_message(f)}{suppressed}")


def build(report, fail_on: str | None = None) -> ET.Element:
    suite = ET.Element("testsuite", name="tmplstudio validate")
    failures = errors = 0
    for path, ev in report.evaluations:
        case = ET.SubElement(suite, "testcase", classname="tmplstudio.templates", name=_clean(path), file=_clean(path))
        threshold = report.threshold(path, fail_on)
        failing = [f for f in ev.findings if not f.suppressed and f.severity.rank >= threshold]
        other = [f for f in ev.findings if f not in failing]
        if failing:
            failures += 1
            counts = {s: sum(1 for f in failing if f.severity == s) for s in Severity}
            summary = ", ".join(f"{n} {s.value}{'s' if n != 1 and s != Severity.INFO else ''}" for s, n in counts.items() if n)
            failure = ET.SubElement(case, "failure", message=summary, type=failing[0].severity.value)
            failure.text = "\n".join(_line(path, f) for f in failing) + "\n"
        if other:
            ET.SubElement(case, "system-out").text = "\n".join(_line(path, f) for f in other) + "\n"
    for err in report.input_errors:
        errors += 1
        name = _clean(shown_path(err.path) or "?")
        case = ET.SubElement(suite, "testcase", classname="tmplstudio.templates", name=name, file=name)
        error = ET.SubElement(case, "error", message=_clean(err.message), type="input")
        where = ":".join(str(x) for x in (name, err.line, err.column) if x is not None)
        error.text = _clean(f"{where}: {err.message}") + "\n"
    tests = len(report.evaluations) + len(report.input_errors)
    for key, value in (("tests", tests), ("failures", failures), ("errors", errors), ("skipped", 0)):
        suite.set(key, str(value))
    root = ET.Element("testsuites", name="tmplstudio", tests=str(tests), failures=str(failures), errors=str(errors))
    root.append(suite)
    return root


def write(report, out: TextIO, options: Options) -> None:
    root = build(report, options.fail_on)
    ET.indent(root, space="  ")
    out.write('<?xml version="1.0" encoding="UTF-8"?>\n')
    out.write(ET.tostring(root, encoding="unicode"))
    out.write("\n")


register(Format("junit", "JUnit XML test report: one test case per template (GitLab, Jenkins)", write))
