"""`validate --format sarif`: SARIF 2.1.0 for GitHub code scanning and other SARIF consumers.

Validated in the tests against the OASIS schema (tests/fixtures/sarif-schema-2.1.0.json).

* ``tool.driver.rules``: one reporting descriptor per rule that produced a result, with the
  id ``PACK/RULE`` (rule ids are unique only within a pack), the rule's message as short
  description, its explanation and legal/platform source as help, and its severity as
  default level.
* ``results``: level ``error`` / ``warning`` / ``note``; one physical location in the template
  (or the partial the text comes from). SARIF lines are 1-based and ``endColumn`` is
  exclusive, like ours; columns are reported in UTF-16 code units (``columnKind =
  "utf16CodeUnits"``), the unit JavaScript-based viewers such as GitHub's use, so a character
  outside the Basic Multilingual Plane (an emoji, a CJK Extension B character) counts 2.
* suppressed findings carry ``suppressions: [{"kind": "inSource", "justification": reason}]``;
  unsuppressed ones an empty list (SARIF: "known not to be suppressed").
* files that could not be read are ``toolExecutionNotifications`` and make
  ``executionSuccessful`` false.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import TextIO
from urllib.parse import quote

from tmplstudio import __version__
from tmplstudio.cli.formats import finding_message, shown_path

SCHEMA_URI = "https://json.schemastore.org/sarif-2.1.0.json"
LEVEL = {"error": "error", "warning": "warning", "info": "note"}


def artifact_uri(path: str) -> str:
    p = Path(path)
    if p.is_absolute():
        return p.as_uri()
    return quote(path.replace(os.sep, "/"), safe="/-._~")


def utf16_column(line_text: str | None, column: int) -> int:
    """Convert a 1-based code-point column to a 1-based UTF-16 code-unit column."""
    if line_text is None:
        return column
    prefix = line_text[:column - 1]
    return column + sum(1 for ch in prefix if ord(ch) > 0xFFFF)


class _Lines:
    """Source lines of the files findings point into (the template, or a partial read from disk)."""

    def __init__(self):
        self._cache: dict[str, list[str] | None] = {}

    def get(self, key: str, source: str | None = None) -> list[str] | None:
        if key not in self._cache:
            if source is None:
                try:
                    source = Path(key).read_text(encoding="utf-8-sig")
                except (OSError, UnicodeDecodeError):
                    source = None
            self._cache[key] = None if source is None else source.split("\n")
        return self._cache[key]

    def line(self, key: str, number: int, source: str | None = None) -> str | None:
        lines = self.get(key, source)
        if lines is None or not 1 <= number <= len(lines):
            return None
        return lines[number - 1]


def _rule_descriptor(rule_key: str, pack_id: str, rule_id: str, rule, finding) -> dict:
    from tmplstudio.policy.engine import ENGINE_RULES

    short = rule.message if rule is not None else ENGINE_RULES.get(rule_id, finding.message)
    explanation = (rule.explanation if rule is not None else "") or finding.explanation or short
    sources = tuple(rule.source if rule is not None else finding.source)
    help_text = explanation
    help_md = explanation
    if sources:  # each with its article, so a reviewer can find the provision
        help_text += "\n\nSource: " + "; ".join(map(str, sources))
        help_md += "\n\n**Source:** " + "; ".join(f"[{s.citation}]({s.url})" if s.url else str(s) for s in sources)
    suggestion = rule.suggestion if rule is not None else None
    if suggestion:
        help_text += f"\n\nSuggestion: {suggestion}"
        help_md += f"\n\n**Suggestion:** {suggestion}"
    severity = rule.severity.value if rule is not None else finding.severity.value
    props: dict = {"pack": pack_id, "tags": ["compliance", pack_id]}
    if rule is not None:
        props["kind"] = rule.kind
    if sources:
        props["source"] = [str(s) for s in sources]
    return {
        "id": rule_key,
        "name": rule_id,
        "shortDescription": {"text": short},
        "fullDescription": {"text": explanation},
        "help": {"text": help_text, "markdown": help_md},
        "defaultConfiguration": {"level": LEVEL[severity]},
        "properties": props,
    }


def to_sarif(report, fail_on: str = "error") -> dict:
    lines = _Lines()
    rules: list[dict] = []
    rule_index: dict[str, int] = {}
    results: list[dict] = []
    for path, ev in report.evaluations:
        by_key: dict = {}
        for pack in ev.packs:
            for r in pack.rules:
                by_key.setdefault((r.pack_id, r.id), r)  # variants of a rule share one descriptor: the first entry's
        for f in ev.findings:
            key = f"{f.pack}/{f.rule}"
            if key not in rule_index:
                rule_index[key] = len(rules)
                rules.append(_rule_descriptor(key, f.pack, f.rule, by_key.get((f.pack, f.rule)), f))
            file = shown_path(f.file) or path  # a partial's findings point into the partial
            source = ev.template.source if not f.file else None
            start_text = lines.line(file, f.line, source)
            end_text = start_text if f.end_line == f.line else lines.line(file, f.end_line, source)
            region = {
                "startLine": f.line,
                "startColumn": utf16_column(start_text, f.column),
                "endLine": f.end_line,
                "endColumn": utf16_column(end_text, f.end_column),
            }
            if f.text and f.sample is None:
                region["snippet"] = {"text": f.text}  # the region's own characters (a sample's finding has rendered text)
            result = {
                "ruleId": key,
                "ruleIndex": rule_index[key],
                "level": LEVEL[f.severity.value],
                "message": {"text": finding_message(f)},
                "locations": [{"physicalLocation": {"artifactLocation": {"uri": artifact_uri(file)}, "region": region}}],
                "suppressions": [],
                "properties": {"template": path, "sample": f.sample, "pack": f.pack,
                               **({"renderedText": f.text} if f.sample is not None else {})},
            }
            if f.suppressed:
                result["suppressions"] = [{"kind": "inSource", "justification": f.suppression_reason or ""}]
            results.append(result)
    notifications = []
    for err in report.input_errors:
        note: dict = {"level": "error", "message": {"text": err.message}}
        if err.path:
            phys: dict = {"artifactLocation": {"uri": artifact_uri(shown_path(err.path))}}
            if err.line:
                phys["region"] = {"startLine": err.line, **({"startColumn": err.column} if err.column else {})}
            note["locations"] = [{"physicalLocation": phys}]
        notifications.append(note)
    invocation = {"executionSuccessful": not report.input_errors, "exitCode": report.exit_code(fail_on)}
    if notifications:
        invocation["toolExecutionNotifications"] = notifications
    return {
        "$schema": SCHEMA_URI,
        "version": "2.1.0",
        "runs": [{
            "tool": {"driver": {"name": "tmplstudio", "version": __version__, "semanticVersion": __version__, "rules": rules}},
            "invocations": [invocation],
            "columnKind": "utf16CodeUnits",
            "results": results,
        }],
    }


def write(report, out: TextIO, fail_on: str = "error") -> None:
    json.dump(to_sarif(report, fail_on), out, ensure_ascii=False, indent=2)
    out.write("\n")
