"""One finding per problem: hits of one rule that overlap or touch become one hit over their
union (安排人员上门 + 上门催收 is one visit threat; a run of the same emoji is one format
problem), reported at the worst severity among them."""

from __future__ import annotations

from tmplstudio.policy.kinds import Hit
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
            if hit.start <= max(h.end for h in run):
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
    return widest
