"""What the phrase kinds (phrases, near) share: word boundaries and exemptions."""

from __future__ import annotations

from typing import TYPE_CHECKING

from tmplstudio.policy.matching import Occurrence, inside_any
from tmplstudio.policy.model import Rule

if TYPE_CHECKING:
    from tmplstudio.policy.context import EvalContext
    from tmplstudio.policy.units import Unit


def filtered(rule_index: int, rule: Rule, unit: "Unit", occs: list[Occurrence], ctx: "EvalContext") -> list[Occurrence]:
    """Occurrences that respect word boundaries and no exemption covers."""
    found = ctx.occurrences(unit)
    word_mode = rule.params.get("boundary", "word") == "word"
    allow = found.get((rule_index, "allow"), [])
    creditors = found.get((-1, "creditor"), [])
    not_after = found.get((rule_index, "not_after"), [])
    not_before = found.get((rule_index, "not_before"), [])
    context = rule.params.get("context", 4)
    valid = [o for o in (unit.facts.edge_ok(occ, occ.prefix, word_mode) for occ in occs) if o is not None]
    # Keep the longest phrase first, then apply exemptions: an exemption for 信用卡套现 must also
    # cover the 套现 inside it.
    out: list[Occurrence] = []
    for occ in longest_first(valid):
        if inside_any(occ, allow) or any(_inside_name(unit.norm.text, name, occ) for name in creditors):
            continue
        if any(occ.start - context <= n.end <= occ.start for n in not_after):
            continue
        if any(occ.end <= n.start <= occ.end + context for n in not_before):
            continue
        out.append(occ)
    return out


def _inside_name(text: str, name: Occurrence, occ: Occurrence) -> bool:
    """A creditor's name exempts a phrase only inside a longer name (公安 in 公安县农商银行): a
    `creditor_name` that is just the phrase (上门催收) would otherwise exempt it everywhere."""
    if not (name.start <= occ.start and occ.end <= name.end):
        return False
    return any(ch.isalnum() for ch in text[name.start:occ.start] + text[occ.end:name.end])


def longest_first(occs: list[Occurrence]) -> list[Occurrence]:
    """Drop occurrences contained in a longer one (上门 inside 上门催收)."""
    occs = sorted(occs, key=lambda o: (o.start, -(o.end - o.start)))
    out: list[Occurrence] = []
    for occ in occs:
        if out and out[-1].start <= occ.start and occ.end <= out[-1].end:
            continue
        out.append(occ)
    return out


def validate_exemptions(params) -> None:
    """The keys phrases and near share: exemption lists, their reach and the boundary mode."""
    for key in ("allow", "not_after", "not_before"):
        params.strings(key)
    params.whole("context")
    params.choice("boundary", ("word", "substring"), 'boundary must be "word" or "substring"')
