"""``phrases``: any listed phrase, on word boundaries, outside allowed contexts."""

from __future__ import annotations

from tmplstudio.policy.kinds._exempt import filtered, validate_exemptions
from tmplstudio.policy.kinds.base import PhraseEntry, TextKind, context_phrases


class Phrases(TextKind):
    name = "phrases"
    keys = ("phrases", "allow", "not_after", "not_before", "context", "boundary")
    required = ("phrases",)
    wording = True

    def validate(self, params) -> None:
        params.strings("phrases")
        validate_exemptions(params)

    def phrases(self, rule):
        return [PhraseEntry("phrases", p, "hit", candidate=True, reports=True) for p in rule.params.get("phrases", ())] \
            + context_phrases(rule)

    def spans(self, i, rule, unit, ctx):
        occs = ctx.occurrences(unit).get((i, "hit"))
        if not occs:
            return []
        return [(o.start, o.end) for o in filtered(i, rule, unit, occs, ctx)]
