"""When packs, rules and escalations apply: conditions on a template's metadata (``when``,
a pack's locales/channels/...), and the words near a hit that raise its severity."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from tmplstudio.policy.model import Pack, Rule, Severity
from tmplstudio.template.meta import TemplateMeta

if TYPE_CHECKING:
    from tmplstudio.policy.context import EvalContext
    from tmplstudio.policy.kinds import Hit


def condition_matches(cond: dict[str, Any], meta: TemplateMeta) -> bool:
    for key, expected in cond.items():
        negate = key.startswith("not_")
        base = key[4:] if negate else key
        actual = meta.condition_value(base)
        options = expected if isinstance(expected, list) else [expected]
        if base in ("jurisdiction", "providers"):
            have = {str(a).lower() for a in (actual or ())}
            ok = bool(have & {str(o).lower() for o in options})
        elif base == "locale":
            ok = any(str(actual).lower() == str(o).lower() or str(actual).lower().startswith(str(o).lower() + "-") for o in options)
        elif isinstance(actual, bool):
            ok = actual in options
        else:
            ok = str(actual).lower() in {str(o).lower() for o in options}
        if ok == negate:
            return False
    return True


def when_matches(when: tuple[dict[str, Any], ...], meta: TemplateMeta) -> bool:
    return not when or any(condition_matches(c, meta) for c in when)


def pack_applies(pack: Pack, meta: TemplateMeta) -> bool:
    if pack.locales:
        loc = meta.locale.lower()
        if not any(loc == l or loc.startswith(l + "-") for l in pack.locales):
            return False
    if pack.channels and meta.channel not in pack.channels:
        return False
    if pack.jurisdictions and not set(pack.jurisdictions) & set(meta.jurisdiction):
        return False
    if pack.providers and not set(pack.providers) & set(meta.providers):
        return False
    if pack.categories and meta.category not in pack.categories:
        return False
    return True


def escalated(rule: Rule, rule_index: int, hit: "Hit", ctx: "EvalContext") -> Severity:
    """The hit's severity after the rule's ``[[rules.escalate]]`` entries: the first that
    applies wins. Every kind's hits go through here. ``when`` looks at the template's metadata;
    ``near`` needs the hit's place in a text, so it applies to text kinds' hits only (the
    schema refuses ``near`` on other kinds)."""
    for k, esc in enumerate(rule.escalate):
        if esc.when and not when_matches(esc.when, ctx.template.meta):
            continue
        if esc.near:
            if hit.unit is None or hit.norm_span is None:
                continue
            occs = ctx.occurrences(hit.unit).get((rule_index, f"esc{k}"), [])
            s, e = hit.norm_span
            if not any(max(o.start - e, s - o.end, 0) <= esc.within for o in occs):
                continue
        return esc.severity
    return hit.severity
