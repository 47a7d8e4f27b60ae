"""What `validate` found (the Report every format writes), and the console styling the commands share."""

from __future__ import annotations

import sys
from dataclasses import dataclass, field

from tmplstudio.errors import InputError
from tmplstudio.policy.engine import Evaluation
from tmplstudio.policy.model import Finding, Severity


@dataclass
class Report:
    evaluations: list[tuple[str, Evaluation]] = field(default_factory=list)  # (display path, evaluation)
    input_errors: list[InputError] = field(default_factory=list)
    # Per template (display path): the config file its project came from (display path; None
    # for the defaults) and that config's fail_on.
    configs: dict[str, str | None] = field(default_factory=dict)
    fail_on: dict[str, str] = field(default_factory=dict)
    baselined: int = 0  # findings left out because an earlier report (--baseline) has them

    def counts(self) -> dict[str, int]:
        counts = {"error": 0, "warning": 0, "info": 0, "suppressed": 0}
        for _path, ev in self.evaluations:
            for f in ev.findings:
                if f.suppressed:
                    counts["suppressed"] += 1
                else:
                    counts[f.severity.value] += 1
        return counts

    def config_counts(self) -> dict[str | None, int]:
        """Each config used, in first-use order, with how many templates it governed."""
        out: dict[str | None, int] = {}
        for path, _ev in self.evaluations:
            if path in self.configs:
                out[self.configs[path]] = out.get(self.configs[path], 0) + 1
        return out

    def threshold(self, path: str, fail_on: str | None = None) -> int:
        """The lowest severity rank that fails this template: --fail-on, else its config's."""
        return Severity(fail_on or self.fail_on.get(path, "error")).rank

    def exit_code(self, fail_on: str | None = None) -> int:
        if self.input_errors:
            return 2
        for path, ev in self.evaluations:
            threshold = self.threshold(path, fail_on)
            if any(not f.suppressed and f.severity.rank >= threshold for f in ev.findings):
                return 1
        return 0

    def fingerprints(self) -> list[list[str]]:
        """Per evaluation, each finding's fingerprint (see :func:`fingerprint`)."""
        return [fingerprints(ev) for _path, ev in self.evaluations]

    def drop_baseline(self, known: list[str]) -> None:
        """Leave out the findings whose fingerprints an earlier report has (each as often as it has it)."""
        remaining: dict[str, int] = {}
        for fp in known:
            remaining[fp] = remaining.get(fp, 0) + 1
        for _path, ev in self.evaluations:
            kept = []
            for f, fp in zip(list(ev.findings), fingerprints(ev)):
                if remaining.get(fp):
                    remaining[fp] -= 1
                    self.baselined += 1
                else:
                    kept.append(f)
            ev.findings[:] = kept


def exemption_lines(ev) -> list[str]:
    """What weakens one template's checks, for people: the config's narrowings that name it
    (with what they silenced) and its ``allow-file`` comments (with every rule they silence)."""
    out = []
    for applied in getattr(ev, "narrowings", ()):
        n = applied.narrowing
        if not n.templates:
            continue  # a [rules] entry covers every template: listed once (project_narrowings)
        count = "" if applied.silenced is None else f", {_count(applied.silenced, 'finding')} silenced"
        out.append(f"narrowed by {n.origin}: {n.describe()}{count} -- {n.reason}")
    for fs in getattr(ev, "file_suppressions", ()):
        rules = ", ".join(f"{rule} ({_count(n, 'finding')})" for rule, n in fs.silenced)
        out.append(f"allow-file at line {fs.line} silences {rules} -- {fs.reason}")
    return out


def project_narrowings(report: Report) -> list[str]:
    """The config's narrowings of every template ([rules] entries that lower or turn off a rule), once."""
    seen: dict[str, None] = {}
    for _path, ev in report.evaluations:
        for applied in getattr(ev, "narrowings", ()):
            n = applied.narrowing
            if not n.templates:
                seen.setdefault(f"{n.describe()} ({n.origin if n.origin != 'rules' else '[rules]'}) -- {n.reason}")
    return list(seen)


def _count(n: int, word: str) -> str:
    return f"{n} {word}{'s' if n != 1 else ''}"


def fingerprint(template_id: str, f: Finding, ordinal: int = 0) -> str:
    """Stable across line shifts and edits elsewhere in the file: the rule, its pack, the
    matched text (NFKC, case-folded, spaces collapsed), the sample and the template id; the
    ordinal tells apart the same text matched more than once in one template."""
    import hashlib
    import unicodedata

    text = " ".join(unicodedata.normalize("NFKC", f.text or "").casefold().split())
    key = "\x1f".join((f.pack, f.rule, text, f.sample or "", template_id, str(ordinal)))
    return hashlib.sha256(key.encode("utf-8")).hexdigest()[:32]


def fingerprints(ev) -> list[str]:
    seen: dict[tuple, int] = {}
    out = []
    for f in ev.findings:
        base = fingerprint(ev.template.meta.id, f)
        n = seen.get(base, 0)
        seen[base] = n + 1
        out.append(base if n == 0 else fingerprint(ev.template.meta.id, f, n))
    return out


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
