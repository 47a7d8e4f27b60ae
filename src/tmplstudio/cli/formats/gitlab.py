"""`validate --format gitlab`: a GitLab Code Quality report (``artifacts:reports:codequality``).

A JSON array with one issue per unsuppressed finding: ``description``, ``check_name``
(``PACK/RULE``), ``fingerprint`` (the finding's fingerprint, so GitLab tells new issues from
old ones across line shifts), ``severity`` and ``location`` (path relative to the repository
root, begin and end line and column). Severities: error is ``critical``, warning ``minor``,
info ``info``. A file that could not be read is a ``blocker`` issue at that file.
"""

from __future__ import annotations

import hashlib
import json
from typing import TextIO

from tmplstudio.cli.formats import Format, Options, finding_message, register, repository_path

SEVERITY = {"error": "critical", "warning": "minor", "info": "info"}


def to_issues(report) -> list[dict]:
    issues = []
    for (_path, ev), prints in zip(report.evaluations, report.fingerprints()):
        for f, fingerprint in zip(ev.findings, prints):
            if f.suppressed:
                continue
            issues.append({
                "type": "issue",
                "description": finding_message(f),
                "check_name": f"{f.pack}/{f.rule}",
                "fingerprint": fingerprint,
                "severity": SEVERITY[f.severity.value],
                "location": {
                    "path": repository_path(f.file or ev.template.path),
                    "positions": {"begin": {"line": f.line, "column": f.column},
                                  "end": {"line": f.end_line, "column": f.end_column}},
                },
            })
    for err in report.input_errors:
        where = repository_path(err.path) if err.path else ""
        issues.append({
            "type": "issue",
            "description": err.message,
            "check_name": "tmplstudio/input",
            "fingerprint": hashlib.sha256(f"input\x1f{where}\x1f{err.message}".encode()).hexdigest()[:32],
            "severity": "blocker",
            "location": {"path": where, "lines": {"begin": err.line or 1}},
        })
    return issues


def write(report, out: TextIO, options: Options) -> None:
    json.dump(to_issues(report), out, ensure_ascii=False, indent=2)
    out.write("\n")


register(Format("gitlab", "GitLab Code Quality JSON (merge-request widget)", write))
