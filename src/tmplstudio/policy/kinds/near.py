"""``near``: one phrase of every group, within ``within`` characters, in one sentence.

``within = "sentence"`` drops the distance: a frame of a condition, a target and a consequence
(再拖下去，你爱人单位的领导迟早会听说) is a threat wherever in the sentence its parts stand."""

from __future__ import annotations

import bisect

from tmplstudio.policy.kinds._exempt import filtered, validate_exemptions
from tmplstudio.policy.kinds.base import PhraseEntry, TextKind, context_phrases


class Near(TextKind):
    name = "near"
    keys = ("groups", "within", "ordered", "allow", "not_after", "not_before", "context", "boundary")
    required = ("groups",)
    wording = True
    denial_inside = True

    def validate(self, params) -> None:
        groups = params.get("groups")
        if not isinstance(groups, list) or len(groups) < 2 or not all(
                isinstance(g, list) and g and all(isinstance(t, str) and t.strip() for t in g) for g in groups):
            params.problem("groups", "'groups' must be two or more non-empty lists of phrases")
        if params.get("within") != "sentence":
            params.whole("within")
        params.boolean("ordered")
        validate_exemptions(params)

    def phrases(self, rule):
        out = [PhraseEntry(f"groups[{g}]", p, f"g{g}", candidate=g == 0, reports=True)
               for g, group in enumerate(rule.params.get("groups", ())) for p in group]
        return out + context_phrases(rule)

    def spans(self, i, rule, unit, ctx):
        found = ctx.occurrences(unit)
        raw = [found.get((i, f"g{g}")) for g in range(len(rule.params["groups"]))]
        if not all(raw):
            return []
        groups = [filtered(i, rule, unit, occs, ctx) for occs in raw]
        if not all(groups):
            return []
        within = rule.params.get("within", 10)
        if within == "sentence":
            within = len(unit.norm.text)
        ordered = rule.params.get("ordered", False)
        facts = unit.facts
        # Each group's occurrences sorted by start, so an anchor looks only at those that can be
        # within reach (bisect) instead of at every one: linear, not quadratic, in the hits.
        indexed = []
        for group in groups[1:]:
            order = sorted(range(len(group)), key=lambda k: group[k].start)
            starts = [group[k].start for k in order]
            longest = max((o.end - o.start for o in group), default=0)
            indexed.append((group, order, starts, longest))
        spans: list[tuple[int, int]] = []
        by_start: list[tuple[int, int]] = []  # the same spans sorted, for the containment check
        widest = 0
        for anchor in groups[0]:
            sentence = facts.sentence_of(anchor.start)
            lo, hi = anchor.start, anchor.end
            ok = True
            prev = anchor
            for group, order, starts, longest in indexed:
                best = None
                first = bisect.bisect_left(starts, lo - within - longest)
                last = bisect.bisect_right(starts, hi + within)
                for k in sorted(order[first:last]):  # in the group's own order: ties resolve as before
                    occ = group[k]
                    if facts.sentence_of(occ.start) != sentence:
                        continue
                    if ordered and occ.start < prev.end:
                        continue
                    gap = max(occ.start - hi, lo - occ.end, 0)
                    if gap <= within and (occ.end <= anchor.start or occ.start >= anchor.end or not ordered):
                        if occ.start < anchor.end and occ.end > anchor.start:
                            continue  # the same characters cannot satisfy two groups
                        if best is None or gap < best[0]:
                            best = (gap, occ)
                if best is None:
                    ok = False
                    break
                lo, hi = min(lo, best[1].start), max(hi, best[1].end)
                prev = best[1]
            if ok and not _contained(by_start, widest, lo, hi):
                spans.append((lo, hi))
                bisect.insort(by_start, (lo, hi))
                widest = max(widest, hi - lo)
        return spans


def _contained(by_start: list[tuple[int, int]], widest: int, lo: int, hi: int) -> bool:
    """Is [lo, hi) inside one of the spans (sorted by start, none longer than ``widest``)?"""
    j = bisect.bisect_right(by_start, (lo, float("inf"))) - 1
    while j >= 0 and by_start[j][0] >= lo - widest:
        if by_start[j][1] >= hi:
            return True
        j -= 1
    return False
