"""What a rule kind is: the one interface every kind module implements.

A kind declares its TOML keys and checks their values (``keys``, ``required``, ``validate``),
names the phrases it wants found (``phrases``: one automaton scans every rule's phrases at
once) and the regexes it matches (``patterns``), and turns a rule plus the evaluation context
into hits (``run``). The schema, `policy lint`, the rule set and the engine only ever talk to
kinds through this interface, so a new kind is one new module registered in ``kinds/__init__``.

Text kinds (``TextKind``) look at every text of a template -- its literal text, partials, the
subject, each sample's rendering and the joins between branches -- and return spans; the
others read the template's structure, samples or metadata once and return hits.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Callable, ClassVar, Iterable, NamedTuple

from tmplstudio.policy.frames import set_aside_by
from tmplstudio.policy.matching import PhraseIndex
from tmplstudio.policy.model import Rule, Severity, TextFix

if TYPE_CHECKING:
    from tmplstudio.policy.context import EvalContext
    from tmplstudio.policy.units import Unit

TEXT = PhraseIndex.TEXT          # the automaton of phrases looked for in running text
REQUIRED = PhraseIndex.REQUIRED  # the small automaton of required elements' phrases


class PhraseEntry(NamedTuple):
    """One phrase a rule wants found, under the list it was written in."""

    list: str               # the TOML list ("phrases", "groups[1]", "allow"), for lint messages
    phrase: str
    role: str               # how the rule asks for its occurrences: ctx.occurrences(unit).get((i, role))
    candidate: bool = False  # an occurrence makes the rule worth running on that text
    reports: bool = False   # the rule reports this phrase itself (not a context word such as allow)
    family: str = TEXT
    derived: bool = False   # not written in the pack (a pattern's required literal): lint leaves it alone
    by_sound: bool = False  # also found by its pinyin: homophones, pinyin, mixed (text/pinyin.py)


@dataclass
class Hit:
    rule: Rule
    start: int          # source offsets (whole file)
    end: int
    text: str
    sample: str | None
    severity: Severity
    message: str | None = None
    fix: TextFix | None = None
    unit: "Unit | None" = None
    norm_span: tuple[int, int] | None = None   # in the unit's normalised text (for escalation words)
    literal: bool = True
    file: int = 0               # 0: the template; k: partial k
    path: str | None = None     # branch conditions leading to the hit
    preview: tuple[int, int] | None = None    # raw span to mark in a sample's preview
    reported: bool = True       # False: only marks the preview (the finding comes from another text)
    set_aside: str | None = None  # why the hit does not count (negated, inside a sample value): reported as info


class Params:
    """A rule's own keys as read from TOML, and the way a kind reports what is wrong with them.

    Every problem is reported at the line (and column) of its key; a rule with any problem is
    not built, and the schema goes on with the next rule, so a pack's problems come out at once.
    """

    def __init__(self, values: dict[str, Any], where: str, report: Callable[..., None]):
        self.values = values
        self.where = where
        self._report = report
        self.failed = False

    def __contains__(self, key: str) -> bool:
        return key in self.values

    def get(self, key: str, default: Any = None) -> Any:
        return self.values.get(key, default)

    def problem(self, key: str | None, message: str, code: str = "invalid", value: str | None = None) -> None:
        self.failed = True
        self._report(key, f"{self.where}: {message}", code, value)

    def strings(self, key: str) -> None:
        """A string or a list of non-empty strings, stored as a list."""
        if key not in self.values:
            return
        value = self.values[key]
        if isinstance(value, str):
            value = [value]
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            self.problem(key, f"'{key}' must be a string or a list of strings")
            return
        if any(not v.strip() for v in value):
            self.problem(key, f"'{key}' contains an empty string")
            return
        if not value:
            self.problem(key, f"'{key}' is empty, so the rule could never fire")
            return
        self.values[key] = list(value)

    def whole(self, key: str) -> None:
        value = self.values.get(key)
        if key in self.values and (not isinstance(value, int) or isinstance(value, bool) or value < 0):
            self.problem(key, f"'{key}' must be a non-negative whole number")

    def boolean(self, key: str) -> None:
        if key in self.values and not isinstance(self.values[key], bool):
            self.problem(key, f"'{key}' must be true or false")

    def choice(self, key: str, options: tuple[str, ...], message: str) -> None:
        if key in self.values and self.values[key] not in options:
            self.problem(key, message)

    def patterns(self, key: str = "patterns") -> None:
        """A list of regexes, each one usable (``patterns.pattern_problem``); each bad one is
        reported at its own line."""
        from tmplstudio.policy.patterns import pattern_problem

        self.strings(key)
        if self.failed or key not in self.values:
            return
        for p in self.values[key]:
            why = pattern_problem(p)
            if why:
                self.problem(key, f"pattern {p!r}: {why}", code="regex", value=p)


class Kind:
    """The interface of a rule kind (see the module docstring). Subclasses set ``name``."""

    name: ClassVar[str] = ""
    keys: ClassVar[tuple[str, ...]] = ()         # its own TOML keys, besides those every rule has
    required: ClassVar[tuple[str, ...]] = ()     # keys it cannot do without
    per_text: ClassVar[bool] = False             # runs on every text (TextKind) or once per template
    # About the template's wording (phrases, proximity): a hit inside one sample value is data (a
    # company called 曝光科技), and words before it can deny it (frames, policy/frames.py). Pattern
    # rules also look for data's shape (a full card number), which no value makes harmless.
    wording: ClassVar[bool] = False
    denial_inside: ClassVar[bool] = False  # a denial may stand between the hit's words (near)

    def validate(self, params: Params) -> None:
        """Check and normalise the kind's own keys (``params.values``), reporting each problem."""

    def phrases(self, rule: Rule) -> Iterable[PhraseEntry]:
        return ()

    def patterns(self, rule: Rule) -> Iterable[tuple[str, bool]]:
        """(regex, matched on the original text rather than the normalised one)."""
        return ()

    def reads_normalised(self, params: dict[str, Any]) -> bool:
        """Does a rule with these keys find its hits in normalised text (where `near` words of
        an escalation are looked for)?"""
        return self.per_text

    def supersedes(self, rule: Rule) -> frozenset[str]:
        """Engine findings this rule reports better itself (they are dropped when it runs)."""
        return frozenset()

    def run(self, i: int, rule: Rule, ctx: "EvalContext") -> list[Hit]:
        raise NotImplementedError


class TextKind(Kind):
    """A kind that finds spans in running text; ``run`` applies it to every text of a template."""

    per_text = True

    def spans(self, i: int, rule: Rule, unit: "Unit", ctx: "EvalContext") -> list[tuple[int, int]]:
        """[start, end) spans in the unit's normalised text (raw text with ``on_original``)."""
        raise NotImplementedError

    def on_original(self, rule: Rule) -> bool:
        """Are this rule's spans in the unit's original (unnormalised) text?"""
        return False

    def run(self, i: int, rule: Rule, ctx: "EvalContext") -> list[Hit]:
        raw_spans = self.on_original(rule)
        needs_candidate = i in ctx.ruleset.candidate_rules
        source_spans: set[tuple[int, int, int]] = set()
        hits: list[Hit] = []
        for unit, candidates in ctx.text_units():
            if needs_candidate and i not in candidates:
                continue  # the usual case, settled without a call: none of its phrases occurs here
            for ns, ne in self.spans(i, rule, unit, ctx):
                rs, re_ = (ns, ne) if raw_spans else unit.raw_span(ns, ne)
                s, e, literal = unit.source_span_raw(rs, re_)
                file = unit.file_at(rs)
                matched = unit.raw[rs:re_]
                hit = Hit(rule, s, e, matched, None, rule.severity, unit=unit,
                          norm_span=None if raw_spans else (ns, ne), literal=literal, file=file)
                if unit.is_render:
                    hit.preview = (rs, re_)
                    if not literal and s == e == 0:
                        if any(matched in p.raw for p in ctx.partial_units):
                            hit.reported = False  # text from an included partial: its own unit reports it
                        else:  # text a set, filter or call block made: no map to characters, so the body
                            s, e = ctx.body_line_span()
                            hit.start, hit.end, hit.set_aside = s, e, None
                    elif not literal and self.wording:
                        name = ctx.sample_value_of(unit, rs, re_)
                        if name is not None:  # a customer's name is data, not the template's wording
                            hit.set_aside = (f"inside the value of {{{{ {name} }}}} in sample '{unit.sample}': "
                                             "data, not the template's wording")
                # As written in the template (not joined across a vanished value or comment):
                # one finding wherever it is found, with a quick fix.
                as_written = literal and (not unit.is_render or unit.verbatim(rs, re_))
                key = (file, s, e)
                if hit.reported and as_written:
                    if key in source_spans:
                        hit.reported = False  # the same characters, already found in another text
                    source_spans.add(key)
                if hit.reported and self.wording and not raw_spans and hit.set_aside is None:
                    framed = set_aside_by(ctx.frames_for(rule), unit.frame_text, rs, re_, inside=self.denial_inside)
                    if framed is not None:
                        hit.set_aside = f"{framed[0].name} ('{framed[1]}')"
                if hit.reported:
                    # A rendering names its sample when the hit needs its values; a subject as a
                    # sample renders it (a literal unit of its own) always does.
                    hit.sample = unit.sample if (not as_written if unit.is_render else unit.sample is not None) else None
                    hit.fix = text_fix(rule, s, e, matched) if as_written and file == 0 else None
                    hit.path = None if hit.sample else ctx.label_of(unit, rs)
                hits.append(hit)
        return hits


def text_fix(rule: Rule, start: int, end: int, matched: str) -> TextFix | None:
    """The quick fix for a text hit: the replacement listed for this phrase, or the rule's one."""
    if rule.fix is None:
        return None
    from tmplstudio.text.normalize import normalize_phrase

    if rule.fix.replacements:
        key = normalize_phrase(matched)
        for phrase, replacement in rule.fix.replacements.items():
            if normalize_phrase(phrase) == key:
                return TextFix(start, end, replacement)
    if rule.fix.replace is not None:
        return TextFix(start, end, rule.fix.replace)
    return None


def context_phrases(rule: Rule) -> list[PhraseEntry]:
    """The exemption lists text kinds share: ``allow`` contexts, ``not_after``/``not_before`` words."""
    return [PhraseEntry(key, phrase, key) for key in ("allow", "not_after", "not_before")
            for phrase in rule.params.get(key, ())]
