"""``phrases``: any listed phrase, on word boundaries, outside allowed contexts.

``pinyin = true`` also finds the rule's Chinese phrases by their sound: homophones (尚门 for
上门), pinyin (zuo lao) and the two mixed (gong安), text/pinyin.py. ``abbreviations`` lists, per
phrase, the initial-letter slang written for it (``{ "警察" = ["jc"] }``): each abbreviation is
found as a Latin word and reported as that phrase would be.
"""

from __future__ import annotations

from tmplstudio.policy.kinds._exempt import filtered, validate_exemptions
from tmplstudio.policy.kinds.base import PhraseEntry, TextKind, context_phrases


class Phrases(TextKind):
    name = "phrases"
    keys = ("phrases", "allow", "not_after", "not_before", "context", "boundary", "pinyin", "abbreviations")
    required = ("phrases",)
    wording = True

    def validate(self, params) -> None:
        params.strings("phrases")
        validate_exemptions(params)
        if "pinyin" in params and not isinstance(params.get("pinyin"), bool):
            params.problem("pinyin", "'pinyin' must be true or false")
        if "abbreviations" in params:
            _validate_abbreviations(params)

    def phrases(self, rule):
        by_sound = rule.params.get("pinyin", False)
        entries = [PhraseEntry("phrases", p, "hit", candidate=True, reports=True, by_sound=by_sound)
                   for p in rule.params.get("phrases", ())]
        entries += [PhraseEntry("abbreviations", a, "hit", candidate=True, reports=True)
                    for abbreviations in rule.params.get("abbreviations", {}).values() for a in abbreviations]
        return entries + context_phrases(rule)

    def spans(self, i, rule, unit, ctx):
        occs = ctx.occurrences(unit).get((i, "hit"))
        if not occs:
            return []
        return [(o.start, o.end) for o in filtered(i, rule, unit, occs, ctx)]


def _validate_abbreviations(params) -> None:
    """A table: each key one of the rule's phrases, each value the Latin-letter abbreviations
    (two letters or more) written for it."""
    from tmplstudio.text.normalize import normalize_phrase

    table = params.get("abbreviations")
    if not isinstance(table, dict):
        params.problem("abbreviations", "'abbreviations' must be a table: phrase = [\"abbreviation\", ...]")
        return
    listed = {normalize_phrase(p) for p in params.get("phrases", ()) if isinstance(p, str)}
    out: dict[str, list[str]] = {}
    for phrase, value in table.items():
        values = [value] if isinstance(value, str) else value
        if not isinstance(values, list) or not all(isinstance(v, str) for v in values):
            params.problem("abbreviations", f"abbreviations of {phrase!r} must be a string or a list of strings")
            continue
        if normalize_phrase(phrase) not in listed:
            params.problem("abbreviations", f"abbreviations name {phrase!r}, which is not one of the rule's phrases")
            continue
        for v in values:
            if not (v.isascii() and v.isalpha() and len(v) >= 2):
                params.problem("abbreviations", f"abbreviation {v!r} of {phrase!r} must be two or more Latin letters")
        out[phrase] = list(values)
    if not params.failed:
        params.values["abbreviations"] = out
