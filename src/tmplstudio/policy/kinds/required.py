"""``required``: an element (a phrase of ``any`` or a ``patterns`` match) that every sample's
rendering and every path through the template must contain, optionally at its start or end."""

from __future__ import annotations

from tmplstudio.policy.frames import DENIED_WITHIN, set_aside_by
from tmplstudio.policy.kinds.base import REQUIRED, Hit, Kind, PhraseEntry
from tmplstudio.policy.model import TextFix


class Required(Kind):
    name = "required"
    # from_values: an element a sample value alone supplies counts (a support number kept in the
    # sending system); by default it does not: what the sender fills in is not the template's.
    keys = ("any", "patterns", "position", "window", "from_values")

    def validate(self, params) -> None:
        params.strings("any")
        params.patterns()
        params.whole("window")
        params.choice("position", ("anywhere", "start", "end"), "position must be anywhere, start or end")
        params.boolean("from_values")
        if not (params.get("any") or params.get("patterns")):
            params.problem(None, "kind 'required' needs 'any' (phrases) or 'patterns'")

    def phrases(self, rule):
        return [PhraseEntry("any", p, "any", family=REQUIRED) for p in rule.params.get("any", ())]

    def patterns(self, rule):
        return [(p, False) for p in rule.params.get("patterns", ())]

    def run(self, i, rule, ctx) -> list[Hit]:
        """The element must be in every sample's rendering and on every path through the template."""
        paths = ctx.required_path_units()
        units = ctx.sample_units or ([] if paths else [ctx.source_unit])
        missing = [u for u in units if not _present(i, rule, u, ctx)]
        path_missing = [u for u in paths if not _present(i, rule, u, ctx)]
        if not missing and not path_missing:
            return []
        position = rule.params.get("position", "anywhere")
        start, end = ctx.body_line_span(last=(position == "end"))
        fix = None
        if rule.fix and (rule.fix.prepend or rule.fix.append):
            if rule.fix.prepend:
                at = ctx.body_content_start()
                fix = TextFix(at, at, rule.fix.prepend)
            else:
                at = ctx.body_content_end()
                fix = TextFix(at, at, rule.fix.append)
        text = ctx.template.source[start:end]
        if path_missing and len(path_missing) < len(paths):
            # Some paths have it, some do not: name the paths that lack it.
            return [Hit(rule, start, end, text, None, rule.severity, fix=None, path=u.label,
                        message=f"{rule.message} (missing on the path {u.label or 'without conditions'})")
                    for u in path_missing[:5]]
        if (units and len(missing) == len(units)) or path_missing:
            return [Hit(rule, start, end, text, None, rule.severity, fix=fix)]
        return [Hit(rule, start, end, text, u.sample, rule.severity, fix=fix) for u in missing]


def _present(i: int, rule, unit, ctx) -> bool:
    text = unit.norm.text
    position = rule.params.get("position", "anywhere")
    window = rule.params.get("window", 0)
    if position == "end":
        limit = len(text.rstrip(" \n。.!！")) - window
        placed = lambda s, e: e >= limit  # noqa: E731
    elif position == "start":
        limit = len(text) - len(text.lstrip(" \n")) + window
        placed = lambda s, e: s <= limit  # noqa: E731
    else:
        placed = lambda s, e: True  # noqa: E731
    # The first candidate in the right place settles it: most templates have the element, so
    # stopping there keeps the check to one phrase lookup instead of every pattern.
    frames = ctx.frames_for(rule)
    frame_text = unit.frame_text

    def counts(s: int, e: int) -> bool:
        # A denied element is not given ("this message is not from a debt collector": the cue
        # right before it), and one a sample value alone supplies is not the template's to give.
        rs, re_ = unit.raw_span(s, e)
        if unit.is_render and not rule.params.get("from_values") and unit.value_only(rs, re_):
            return False
        return not frames or set_aside_by(frames, frame_text, rs, re_, within=DENIED_WITHIN) is None

    for occ in ctx.occurrences(unit, REQUIRED).get((i, "any"), []):
        # Required phrases are looked for as written: Chinese word boundaries would only turn a
        # present element into a false "missing" (…催收回T退订 segments as 收回).
        occ2 = unit.facts.edge_ok(occ, occ.prefix, False)
        if occ2 and placed(occ2.start, occ2.end) and counts(occ2.start, occ2.end):
            return True
    for pattern in rule.params.get("patterns", []):
        try:
            if any(placed(s, e) and counts(s, e) for s, e, _t in ctx.matches(pattern, unit)):
                return True
        except TimeoutError:
            ctx.note_timeout(rule, pattern)
    return False
