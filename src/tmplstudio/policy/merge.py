"""One finding per problem: hits of one rule that overlap become one hit over their union
(安排人员上门 + 上门催收 is one visit threat), and so do touching hits of a wording rule (恐吓威胁)
or of the same text (a run of one emoji is one format problem; ★ next to 【 are two), reported at the worst severity among
them with a quick fix one of them had."""

from __future__ import annotations

from tmplstudio.policy.kinds import KINDS, Hit
from tmplstudio.template.source import Template


def merge_overlapping(hits: list[Hit], template_of) -> list[Hit]:
    """``template_of(file)`` gives the Template a hit's offsets refer to (the template or a partial)."""
    groups: dict[tuple, list[Hit]] = {}
    out: list[Hit] = []
    for hit in hits:
        if hit.unit is None or hit.set_aside:
            out.append(hit)  # template-level findings and set-aside notes stay as they are
            continue
        groups.setdefault((hit.rule.pack_id, hit.rule.id, hit.file, hit.sample, hit.path), []).append(hit)
    for members in groups.values():
        members.sort(key=lambda h: (h.start, -h.end))
        run = [members[0]]
        for hit in members[1:]:
            reach = max(h.end for h in run)
            touching = hit.start == reach and (hit.text == run[-1].text or KINDS[hit.rule.kind].wording)
            if hit.start < reach or touching:
                run.append(hit)
                continue
            out.append(_union(run, template_of))
            run = [hit]
        out.append(_union(run, template_of))
    return out


def _union(run: list[Hit], template_of) -> Hit:
    if len(run) == 1:
        return run[0]
    start, end = run[0].start, max(h.end for h in run)
    widest = max(run, key=lambda h: (h.end - h.start, -h.start))
    worst = max(run, key=lambda h: h.severity.rank)
    template: Template = template_of(widest.file)
    widest.start, widest.end = start, end
    widest.text = template.source[start:end] if widest.literal else widest.text
    widest.severity = worst.severity
    widest.message = widest.message or next((h.message for h in run if h.message), None)
    # A member's quick fix still applies inside the union: keep the widest one there is.
    widest.fix = widest.fix or next((h.fix for h in sorted(run, key=lambda h: h.start - h.end) if h.fix), None)
    return widest
