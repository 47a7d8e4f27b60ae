"""``pattern``: regular expressions, on normalised text or on the text as written, optionally
validated (a Luhn check for card numbers, the check digit of a Chinese ID number)."""

from __future__ import annotations

from tmplstudio.policy.kinds.base import PhraseEntry, TextKind
from tmplstudio.policy.matching import Occurrence, inside_any
from tmplstudio.render.sourcemap import PLACEHOLDER


class Pattern(TextKind):
    name = "pattern"
    keys = ("patterns", "validate", "allow", "match_on")
    required = ("patterns",)

    def validate(self, params) -> None:
        params.patterns()
        params.strings("allow")
        params.choice("match_on", ("normalized", "original"), 'match_on must be "normalized" or "original"')
        params.choice("validate", ("luhn", "cn-id"), 'validate must be "luhn" or "cn-id"')

    def phrases(self, rule):
        return [PhraseEntry("allow", p, "allow") for p in rule.params.get("allow", ())] + _literal_gate(rule, self.on_original(rule))

    def patterns(self, rule):
        original = self.on_original(rule)
        return [(p, original) for p in rule.params.get("patterns", ())]

    def reads_normalised(self, params) -> bool:
        return params.get("match_on") != "original"

    def on_original(self, rule) -> bool:
        return rule.params.get("match_on") == "original"

    def spans(self, i, rule, unit, ctx):
        """Spans in the normalised text, or in the original text when ``match_on = "original"``
        (symbols and Traditional characters that normalisation would fold away)."""
        original = self.on_original(rule)
        check = rule.params.get("validate")
        allow = ctx.occurrences(unit).get((i, "allow"), [])
        spans: list[tuple[int, int]] = []
        for pattern in rule.params["patterns"]:
            try:
                found = ctx.matches(pattern, unit, original)
            except TimeoutError:
                ctx.note_timeout(rule, pattern)
                continue
            for start, end, matched in found:
                if end == start or PLACEHOLDER in matched:
                    continue  # a {{ }} placeholder is not text; samples check what it becomes
                if check:
                    value = "".join(c for c in matched if c.isalnum())
                    if check == "luhn" and not (value.isdigit() and 12 < len(value) < 20 and _luhn(value)):
                        continue
                    if check == "cn-id" and not _cn_id(value):
                        continue
                if not original and allow and inside_any(Occurrence(start, end, ""), allow):
                    continue
                spans.append((start, end))
        return spans


def _literal_gate(rule, original: bool) -> list[PhraseEntry]:
    """The strings one of which every match of the rule's patterns contains, as candidate
    phrases: the one scan that finds every rule's phrases then tells which texts the rule can
    match at all, and it is not run on the others. Only when every pattern has such strings
    and the automaton finds each exactly as written (normalisation leaves it alone)."""
    from tmplstudio.policy.patterns import required_literals
    from tmplstudio.text.normalize import normalize_phrase

    if original:
        return []  # the automaton reads normalised text
    literals: set[str] = set()
    for pattern in rule.params.get("patterns", ()):
        found = required_literals(pattern)
        if not found or any(normalize_phrase(lit).strip() != lit or lit.endswith("*") for lit in found):
            return []
        literals |= found
    return [PhraseEntry("patterns", lit, "literal", candidate=True, derived=True) for lit in sorted(literals)]


def _luhn(digits: str) -> bool:
    total = 0
    for k, ch in enumerate(reversed(digits)):
        d = int(ch)
        if k % 2 == 1:
            d *= 2
            if d > 9:
                d -= 9
        total += d
    return total % 10 == 0


_CN_ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_CN_ID_CHECK = "10x98765432"


def _cn_id(value: str) -> bool:
    if len(value) != 18 or not value[:17].isdigit():
        return False
    total = sum(int(c) * w for c, w in zip(value[:17], _CN_ID_WEIGHTS))
    return _CN_ID_CHECK[total % 11] == value[17].lower()
