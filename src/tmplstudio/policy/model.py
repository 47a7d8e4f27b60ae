"""The policy domain: packs, rules and the findings they produce.

Everything here is plain data. The pack format lives in ``schema.py`` (files: ``loader.py``),
what each rule kind does in ``kinds/``, and the evaluation in ``engine.py``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum
from typing import Any

from tmplstudio.policy.frames import Frame
from tmplstudio.policy.sources import Source


class Severity(str, Enum):
    ERROR = "error"
    WARNING = "warning"
    INFO = "info"

    @property
    def rank(self) -> int:
        return {"error": 3, "warning": 2, "info": 1}[self.value]


@dataclass(frozen=True)
class Example:
    """A text a rule must (``hit``) or must not (``ok``) fire on, with optional front matter."""

    text: str
    meta: dict[str, Any] = field(default_factory=dict)
    line: int | None = None  # where the example sits in the pack file, for readable test failures
    severity: Severity | None = None  # a hit example may also fix the severity the rule must report


@dataclass(frozen=True)
class Escalation:
    """Raise (or lower) a rule's severity when metadata or nearby words say so."""

    severity: Severity
    when: tuple[dict[str, Any], ...] = ()
    near: tuple[str, ...] = ()
    within: int = 20


@dataclass(frozen=True)
class Fix:
    """How a quick fix rewrites the template: replace the hit, or add text at the body's start/end."""

    replace: str | None = None
    replacements: dict[str, str] = field(default_factory=dict)
    prepend: str | None = None
    append: str | None = None


@dataclass(frozen=True)
class Rule:
    id: str
    kind: str
    severity: Severity
    message: str
    explanation: str
    source: tuple[Source, ...]
    pack_id: str
    params: dict[str, Any]
    suggestion: str | None = None
    fix: Fix | None = None
    when: tuple[dict[str, Any], ...] = ()
    escalate: tuple[Escalation, ...] = ()
    hit_examples: tuple[Example, ...] = ()
    ok_examples: tuple[Example, ...] = ()
    enabled: bool = True
    set_aside: tuple[Frame, ...] = ()  # the rule's own set-aside frames (policy/frames.py)
    negatable: bool = True             # the pack's frames apply to it
    line: int | None = None  # line of the rule in its pack file
    # Entries of one pack may share an id when each has a distinct variant: one rule (one id for
    # suppressions and config) with several matchers or conditions, e.g. the initial and the
    # subsequent form of the debt-collector disclosure.
    variant: str | None = None

    @property
    def key(self) -> str:
        return f"{self.pack_id}/{self.id}"

    @property
    def label(self) -> str:
        return f"{self.id} ({self.variant})" if self.variant else self.id


@dataclass(frozen=True)
class Pack:
    id: str
    title: str
    version: str
    path: str
    rules: tuple[Rule, ...]
    description: str = ""
    locales: tuple[str, ...] = ()
    channels: tuple[str, ...] = ()
    jurisdictions: tuple[str, ...] = ()
    providers: tuple[str, ...] = ()
    categories: tuple[str, ...] = ()
    sources: tuple[Source, ...] = ()
    set_aside: tuple[Frame, ...] = ()  # frames for every negatable rule of the pack (its negation words)
    bundled: bool = False


@dataclass(frozen=True)
class TextFix:
    """A concrete edit on the template source: replace [start, end) (code-point offsets) with text."""

    start: int
    end: int
    text: str


@dataclass
class Finding:
    rule: str
    pack: str
    severity: Severity
    message: str
    # Exact source span, 0-based code-point offsets into the whole file (front matter included).
    start: int
    end: int
    line: int
    column: int
    end_line: int
    end_column: int
    text: str
    sample: str | None = None
    suppressed: bool = False
    suppression_reason: str | None = None
    suppression_scope: str | None = None  # "line", "file" (allow-file) or "config" (a narrowing in tmplstudio.toml)
    suggestion: str | None = None
    fix: TextFix | None = None
    explanation: str = ""
    source: tuple[Source, ...] = ()
    file: str | None = None  # file the span is in, when it is not the template itself (a partial)
    # The branch conditions that reach this text ("when days > 60"); None on every path.
    path: str | None = None
    # Why the hit does not count (negated, advice to the reader, inside a sample value): it is
    # reported at info so a reviewer can audit it.
    set_aside: str | None = None

    def sort_key(self) -> tuple:
        return (self.start, self.end, -self.severity.rank, self.rule, self.sample or "")

    def to_json(self) -> dict[str, Any]:
        return {
            "rule": self.rule,
            "pack": self.pack,
            "severity": self.severity.value,
            "message": self.message,
            "text": self.text,
            "line": self.line,
            "column": self.column,
            "end_line": self.end_line,
            "end_column": self.end_column,
            "sample": self.sample,
            "suppressed": self.suppressed,
            "suppression_reason": self.suppression_reason,
            "suggestion": self.suggestion,
            "fix": None if self.fix is None else {"start": self.fix.start, "end": self.fix.end, "text": self.fix.text},
            "path": self.path,
            "file": self.file,
            "set_aside": self.set_aside,
        }
