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
* artifact URIs are relative to the repository root (``git rev-parse --show-toplevel``),
  which is how GitHub code scanning reads a relative URI, wherever `validate` ran from; outside
  a repository they are relative to the working directory, named by ``uriBaseId`` ``SRCROOT``
  in ``originalUriBaseIds``.
* ``partialFingerprints["tmplstudio/v1"]`` is the finding's fingerprint (cli/report.py): the
  rule, the normalised matched text and the template id, so an alert survives lines moving.
* a finding with a quick fix carries it as ``fixes`` (one replacement in the template).
* descriptions and help text stay under GitHub's 1,024 characters; a rule's ``helpUri`` is
  the address of the first source it cites (the instrument it rests on), else the package's
  Documentation URL (``[project.urls]``, when a release declares one), which is also the
  driver's ``informationUri``.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import TextIO
from urllib.parse import quote

from tmplstudio import __version__, documentation_url
from tmplstudio.cli.formats import Format, Options, finding_message, register, repository_root, shown_path

SCHEMA_URI = "https://json.schemastore.org/sarif-2.1.0.json"
LEVEL = {"error": "error", "warning": "warning", "info": "note"}
FINGERPRINT_KEY = "tmplstudio/v1"
BASE_ID = "SRCROOT"
TEXT_LIMIT = 1024  # GitHub code scanning's limit for descriptions and help text


def _relative_uri(path: Path) -> str:
    return quote(path.as_posix(), safe="/-._~")


class Locator:
    """Artifact locations: relative to the repository root, else to SRCROOT (the working directory)."""

    def __init__(self):
        self.cwd = Path(os.path.realpath(os.getcwd()))
        self.root = repository_root(str(self.cwd))
        self.used_base = False

    def location(self, path: str) -> dict:
        real = Path(os.path.realpath(path))
        base = self.root or self.cwd
        try:
            rel = real.relative_to(base)
        except ValueError:
            return {"uri": real.as_uri()}
        if self.root is not None:
            return {"uri": _relative_uri(rel)}
        self.used_base = True
        return {"uri": _relative_uri(rel), "uriBaseId": BASE_ID}

    def base_ids(self) -> dict | None:
        return {BASE_ID: {"uri": self.cwd.as_uri() + "/"}} if self.used_base else None


def _limited(text: str) -> str:
    return text if len(text) < TEXT_LIMIT else text[:TEXT_LIMIT - 2] + "…"


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


def _rule_descriptor(rule_key: str, pack_id: str, rule_id: str, rule, finding, pack=None) -> dict:
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
    docs = documentation_url()
    bundled = rule is None or getattr(pack, "bundled", False)
    severity = rule.severity.value if rule is not None else finding.severity.value
    props: dict = {"pack": pack_id, "tags": ["compliance", pack_id]}
    if rule is not None:
        props["kind"] = rule.kind
    if sources:
        props["source"] = [str(s) for s in sources]
    descriptor = {
        "id": rule_key,
        "name": rule_id,
        "shortDescription": {"text": _limited(short)},
        "fullDescription": {"text": _limited(explanation)},
        "help": {"text": _limited(help_text), "markdown": _limited(help_md)},
        "defaultConfiguration": {"level": LEVEL[severity]},
        "properties": props,
    }
    cited = next((s.url for s in sources if getattr(s, "url", "")), None)
    if cited:  # "learn more" leads to the instrument the rule rests on
        descriptor["helpUri"] = cited
    elif docs and bundled:  # the project's own packs are documented by the project, not by us
        descriptor["helpUri"] = f"{docs}/{'policies.md' if rule is not None else 'templates.md'}"
    return descriptor


def _line_column(source: str, offset: int) -> tuple[int, int]:
    """1-based line and UTF-16 column of a code-point offset into ``source``."""
    line_start = source.rfind("\n", 0, offset) + 1
    line = source.count("\n", 0, offset) + 1
    return line, utf16_column(source[line_start:offset], offset - line_start + 1)


def _fix(f, source: str, location: dict) -> dict:
    start_line, start_col = _line_column(source, f.fix.start)
    end_line, end_col = _line_column(source, f.fix.end)
    what = f"Replace with {f.fix.text!r}" if f.fix.start != f.fix.end else f"Insert {f.fix.text!r}"
    return {
        "description": {"text": f.suggestion or what},
        "artifactChanges": [{
            "artifactLocation": location,
            "replacements": [{
                "deletedRegion": {"startLine": start_line, "startColumn": start_col, "endLine": end_line, "endColumn": end_col},
                "insertedContent": {"text": f.fix.text},
            }],
        }],
    }


def to_sarif(report, fail_on: str | None = None) -> dict:
    lines = _Lines()
    locator = Locator()
    prints = report.fingerprints()
    rules: list[dict] = []
    rule_index: dict[str, int] = {}
    results: list[dict] = []
    for (path, ev), fingerprints in zip(report.evaluations, prints):
        by_key: dict = {}
        packs = {pack.id: pack for pack in ev.packs}
        for pack in ev.packs:
            for r in pack.rules:
                by_key.setdefault((r.pack_id, r.id), r)  # variants of a rule share one descriptor: the first entry's
        for f, fingerprint in zip(ev.findings, fingerprints):
            key = f"{f.pack}/{f.rule}"
            if key not in rule_index:
                rule_index[key] = len(rules)
                rules.append(_rule_descriptor(key, f.pack, f.rule, by_key.get((f.pack, f.rule)), f, packs.get(f.pack)))
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
            location = locator.location(f.file or ev.template.path)
            result = {
                "ruleId": key,
                "ruleIndex": rule_index[key],
                "level": LEVEL[f.severity.value],
                "message": {"text": finding_message(f)},
                "locations": [{"physicalLocation": {"artifactLocation": location, "region": region}}],
                "partialFingerprints": {FINGERPRINT_KEY: fingerprint},
                "suppressions": [],
                "properties": {"template": path, "sample": f.sample, "pack": f.pack,
                               **({"renderedText": f.text} if f.sample is not None else {})},
            }
            if f.suppressed:
                result["suppressions"] = [{"kind": "inSource", "justification": f.suppression_reason or ""}]
            elif f.fix is not None and not f.file:
                result["fixes"] = [_fix(f, ev.template.source, location)]
            results.append(result)
    notifications = []
    for err in report.input_errors:
        note: dict = {"level": "error", "message": {"text": err.message}}
        if err.path:
            phys: dict = {"artifactLocation": locator.location(err.path)}
            if err.line:
                phys["region"] = {"startLine": err.line, **({"startColumn": err.column} if err.column else {})}
            note["locations"] = [{"physicalLocation": phys}]
        notifications.append(note)
    invocation = {"executionSuccessful": not report.input_errors, "exitCode": report.exit_code(fail_on)}
    if notifications:
        invocation["toolExecutionNotifications"] = notifications
    driver = {"name": "tmplstudio", "version": __version__, "semanticVersion": __version__, "rules": rules}
    if documentation_url():
        driver["informationUri"] = documentation_url()
    run: dict = {"tool": {"driver": driver}, "invocations": [invocation], "columnKind": "utf16CodeUnits"}
    if locator.base_ids():
        run["originalUriBaseIds"] = locator.base_ids()
    run["results"] = results
    return {"$schema": SCHEMA_URI, "version": "2.1.0", "runs": [run]}


def write(report, out: TextIO, options: Options) -> None:
    json.dump(to_sarif(report, options.fail_on), out, ensure_ascii=False, indent=2)
    out.write("\n")


register(Format("sarif", "SARIF 2.1.0 for GitHub code scanning and other SARIF viewers", write))
