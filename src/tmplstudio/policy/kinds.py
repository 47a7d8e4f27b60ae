"""The seven rule kinds. Each turns a rule plus the evaluation context into hits.

Text kinds (phrases, near, pattern) run on every unit; the others read the template's
structure, samples or metadata.
"""

from __future__ import annotations

import bisect
import fnmatch
from dataclasses import dataclass
from functools import lru_cache
from typing import TYPE_CHECKING

import regex

from tmplstudio.policy.matching import Occurrence, inside_any
from tmplstudio.policy.model import Rule, Severity, TextFix
from tmplstudio.render.sourcemap import PLACEHOLDER

if TYPE_CHECKING:
    from tmplstudio.policy.engine import EvalContext
    from tmplstudio.policy.units import Unit

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
    norm_span: tuple[int, int] | None = None
    literal: bool = True
    file: int = 0               # 0: the template; k: partial k
    path: str | None = None     # branch conditions leading to the hit


# ---------------------------------------------------------------- text kinds


def _filtered(rule_index: int, rule: Rule, unit: "Unit", occs: list[Occurrence], ctx: "EvalContext") -> list[Occurrence]:
    found = ctx.occurrences(unit)
    word_mode = rule.params.get("boundary", "word") == "word"
    allow = found.get((rule_index, "allow"), []) + found.get((-1, "creditor"), [])
    not_after = found.get((rule_index, "not_after"), [])
    not_before = found.get((rule_index, "not_before"), [])
    context = rule.params.get("context", 4)
    valid = [o for o in (unit.facts.edge_ok(occ, occ.prefix, word_mode) for occ in occs) if o is not None]
    # Keep the longest phrase first, then apply exemptions: an exemption for 信用卡套现 must also
    # cover the 套现 inside it.
    out: list[Occurrence] = []
    for occ in _longest_first(valid):
        if inside_any(occ, allow):
            continue
        if any(occ.start - context <= n.end <= occ.start for n in not_after):
            continue
        if any(occ.end <= n.start <= occ.end + context for n in not_before):
            continue
        out.append(occ)
    return out


def _longest_first(occs: list[Occurrence]) -> list[Occurrence]:
    """Drop occurrences contained in a longer one (上门 inside 上门催收)."""
    occs = sorted(occs, key=lambda o: (o.start, -(o.end - o.start)))
    out: list[Occurrence] = []
    for occ in occs:
        if out and out[-1].start <= occ.start and occ.end <= out[-1].end:
            continue
        out.append(occ)
    return out


def check_phrases(i: int, rule: Rule, unit: "Unit", ctx: "EvalContext") -> list[tuple[int, int]]:
    occs = ctx.occurrences(unit).get((i, "hit"))
    if not occs:
        return []
    return [(o.start, o.end) for o in _filtered(i, rule, unit, occs, ctx)]


def check_near(i: int, rule: Rule, unit: "Unit", ctx: "EvalContext") -> list[tuple[int, int]]:
    found = ctx.occurrences(unit)
    raw = [found.get((i, f"g{g}")) for g in range(len(rule.params["groups"]))]
    if not all(raw):
        return []
    groups = [_filtered(i, rule, unit, occs, ctx) for occs in raw]
    if not all(groups):
        return []
    within = rule.params.get("within", 10)
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


def check_pattern(i: int, rule: Rule, unit: "Unit", ctx: "EvalContext") -> list[tuple[int, int]]:
    """Spans in the normalised text, or in the original text when ``match_on = "original"``
    (symbols and Traditional characters that normalisation would fold away)."""
    original = rule.params.get("match_on") == "original"
    validate = rule.params.get("validate")
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
            if validate:
                value = "".join(c for c in matched if c.isalnum())
                if validate == "luhn" and not (value.isdigit() and 12 < len(value) < 20 and _luhn(value)):
                    continue
                if validate == "cn-id" and not _cn_id(value):
                    continue
            if not original and allow and inside_any(Occurrence(start, end, ""), allow):
                continue
            spans.append((start, end))
    return spans


# ---------------------------------------------------------------- required


def _present(i: int, rule: Rule, unit: "Unit", ctx: "EvalContext") -> bool:
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
    for occ in ctx.occurrences(unit, "required").get((i, "any"), []):
        # Required phrases are looked for as written: Chinese word boundaries would only turn a
        # present element into a false "missing" (…催收回T退订 segments as 收回).
        occ2 = unit.facts.edge_ok(occ, occ.prefix, False)
        if occ2 and placed(occ2.start, occ2.end):
            return True
    for pattern in rule.params.get("patterns", []):
        try:
            if any(placed(s, e) for s, e, _t in ctx.matches(pattern, unit)):
                return True
        except TimeoutError:
            ctx.note_timeout(rule, pattern)
    return False


def check_required(i: int, rule: Rule, ctx: "EvalContext") -> list[Hit]:
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
        out = []
        for u in path_missing[:5]:
            out.append(Hit(rule, start, end, text, None, rule.severity, fix=None, path=u.label,
                           message=f"{rule.message} (missing on the path {u.label or 'without conditions'})"))
        return out
    if (units and len(missing) == len(units)) or path_missing:
        return [Hit(rule, start, end, text, None, rule.severity, fix=fix)]
    return [Hit(rule, start, end, text, u.sample, rule.severity, fix=fix) for u in missing]


# ---------------------------------------------------------------- variables


@lru_cache(maxsize=4096)
def _matches_globs(name: str, globs: tuple[str, ...]) -> bool:
    return _glob_pattern(globs).match(name.lower()) is not None


@lru_cache(maxsize=256)
def _glob_pattern(globs: tuple[str, ...]) -> "regex.Pattern":
    return regex.compile("|".join(fnmatch.translate(g.lower()) for g in globs) or r"(?!)")


def _sensitive(name: str, rule: Rule, ctx: "EvalContext") -> bool:
    spec = ctx.template.meta.variables.get(name, {})
    if spec.get("sensitive") is True:
        return True
    if spec.get("sensitive") is False:
        return False
    return _matches_globs(name, tuple(rule.params.get("sensitive", ())))


def check_variables(i: int, rule: Rule, ctx: "EvalContext") -> list[Hit]:
    checks = set(rule.params["checks"])
    scan = ctx.scan
    hits: list[Hit] = []
    src = ctx.template.source
    sev = rule.severity
    if scan.tree is None:
        return hits
    if "masking" in checks:
        masks = set(rule.params.get("mask_filters", ["mask"]))
        exprs = scan.exprs
        if len(exprs) == len(scan.vars):
            for k, tag in enumerate(scan.vars):
                bad = [n for n in dict.fromkeys(scan.skeleton.unmasked(k, masks)) if _sensitive(n, rule, ctx)]
                if bad:
                    names = ", ".join(bad)
                    fix = None
                    if len(bad) == 1 and tuple(tag.names) == (bad[0],):
                        fix = TextFix(tag.start, tag.end, "{{ " + bad[0] + " | mask }}")
                    hits.append(Hit(rule, tag.start, tag.end, src[tag.start:tag.end], None, sev,
                                    message=f"{rule.message} ({names} printed without {' or '.join(sorted(masks))})", fix=fix))
    if "samples" in checks:
        used = ctx.variables
        samples = ctx.template.meta.samples
        first_tag = {}
        for tag in scan.vars:
            for n in tag.names:
                first_tag.setdefault(n, tag)
        if used and not samples:
            tag = first_tag.get(used[0])
            s0, e0 = (tag.start, tag.end) if tag else _block_using(used[0], ctx)
            hits.append(Hit(rule, s0, e0, src[s0:e0], None, sev,
                            message=f"no samples: add [samples.NAME] with values for {', '.join(used)}"))
        for name in used:
            lacking = [s for s, values in samples.items() if name not in values]
            if not lacking:
                continue
            span = (first_tag[name].start, first_tag[name].end) if name in first_tag else _block_using(name, ctx)
            for s in lacking:
                hits.append(Hit(rule, span[0], span[1], src[span[0]:span[1]], s, sev,
                                message=f"sample '{s}' has no value for '{name}'"))
    view = ctx.literal_view
    text = view.text
    placeholder_idx = []
    k = text.find(PLACEHOLDER)
    while k >= 0:
        placeholder_idx.append(k)
        k = text.find(PLACEHOLDER, k + 1)
    if "edges" in checks and placeholder_idx:
        stripped = text.strip()
        content = (len(text) - len(text.lstrip()), len(text.rstrip()) - 1) if stripped else ()
        if content:
            for k, where in ((content[0], "first"), (content[-1], "last")):
                if text[k] == PLACEHOLDER:
                    s, e = view.starts[k], view.ends[k]
                    hits.append(Hit(rule, s, e, src[s:e], None, sev, message=f"a variable is the {where} thing in the body; put fixed text {'before' if where == 'first' else 'after'} it"))
                    if content[0] == content[-1]:
                        break
    if "adjacent" in checks:
        for a, b in zip(placeholder_idx, placeholder_idx[1:]):
            between = text[a + 1:b]
            if between.strip() == "":
                s, e = view.starts[a], view.ends[b]
                hits.append(Hit(rule, s, e, src[s:e], None, sev, message="two variables with nothing between them; providers reject adjacent variables"))
    if "embedded" in checks:
        for k in placeholder_idx:
            kind = _embedded(text, k)
            if kind:
                s, e = view.starts[k], view.ends[k]
                hits.append(Hit(rule, s, e, src[s:e], None, sev,
                                message=f"a variable inside a {kind}; providers require links and phone numbers as fixed text"))
    if "all-variable" in checks and placeholder_idx:
        literal = [ch for ch in text if ch != PLACEHOLDER and ch.isalnum()]
        if not literal:
            s, e = ctx.template.body_start, len(src)
            hits.append(Hit(rule, s, e, src[s:e].strip()[:40], None, sev, message="the body has no fixed text, only variables"))
    return hits


_GLUED = set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789./:_-")


def _embedded(text: str, k: int) -> str | None:
    """'link' or 'phone number' when the placeholder at ``k`` is glued into one (pay.{{ d }}.com, 0571-8{{ x }}6666)."""
    left = right = ""
    i = k - 1
    while i >= 0 and text[i] in _GLUED:
        left = text[i] + left
        i -= 1
    j = k + 1
    while j < len(text) and text[j] in _GLUED:
        right += text[j]
        j += 1
    glued = left + right
    if not glued or regex.search(r"(?:19|20)\d\d-(?:\d\d?-)?$", left):
        return None  # a date (2026-{{ month }}), not a number
    if ("." in glued or "/" in glued) and any(c.isalpha() for c in glued) and ("." in left[-1:] + right[:1] or "/" in left[-1:] + right[:1] or "://" in glued or "www" in glued.lower()):
        return "link"
    digits_left = len(left) - len(left.rstrip("0123456789")) if left else 0
    digits_right = len(right) - len(right.lstrip("0123456789")) if right else 0
    if (digits_left and digits_right) or max(sum(c.isdigit() for c in left), sum(c.isdigit() for c in right)) >= 3 and ("-" in glued or digits_left or digits_right):
        if not any(c.isalpha() for c in glued):
            return "phone number"
    return None


def _block_using(name: str, ctx: "EvalContext") -> tuple[int, int]:
    """The first {% %} tag that mentions ``name`` (for variables used only in conditions)."""
    pattern = regex.compile(rf"\b{regex.escape(name)}\b")
    src = ctx.template.source
    for start, end in ctx.scan.blocks:
        if pattern.search(src, start, end):
            return start, end
    return ctx.body_line_span()


# ---------------------------------------------------------------- length


def check_length(i: int, rule: Rule, ctx: "EvalContext") -> list[Hit]:
    """Length and SMS parts of each sample, and of the longest path at the longest values."""
    from tmplstudio.policy.engine import path_units
    from tmplstudio.text.sms import sms_stats

    counting = rule.params.get("counting", "gsm")
    worst: tuple[int, Hit] | None = None
    # Without samples, measure the literal text (each {{ }} counted as one character).
    candidates = [(u, False) for u in (ctx.sample_units or [ctx.source_unit])]
    if ctx.pathset and ctx.pathset.paths and (ctx.template.meta.samples or ctx.template.meta.variables):
        longest = max(path_units(ctx, longest=True, raw_only=True), key=lambda u: sms_stats(u.raw, counting).units, default=None)
        if longest is not None:
            candidates.append((longest, True))
    for unit, synthetic in candidates:
        stats = sms_stats(unit.raw, counting)
        for limit in rule.params["limits"]:
            sev = Severity(limit.get("severity", rule.severity.value))
            over = None
            if "chars" in limit and stats.chars > limit["chars"]:
                over = (f"{stats.chars} characters; the limit is {limit['chars']}", limit["chars"])
            elif "segments" in limit and stats.segments > limit["segments"]:
                per = {"GSM-7": 153, "UCS-2": 67, "CN": 67}[stats.encoding]
                over = (f"{stats.segments} SMS parts ({stats.encoding}, {stats.chars} characters); the limit is {limit['segments']}", limit["segments"] * per)
            if over is None:
                continue
            if synthetic:
                start, end = ctx.body_line_span(last=True)
                where = f" on the path {unit.label}" if unit.label else ""
                message = f"{rule.message}: the longest message{where}, with the longest sample values and declared max_len, is {over[0]}"
                hit = Hit(rule, start, end, ctx.template.source[start:end][:40], None, sev, message=message, path=unit.label)
                score = sev.rank * 1_000_000 + stats.units - 1  # a real sample wins a tie
            else:
                start, end = ctx.overflow_span(unit, over[1])
                hit = Hit(rule, start, end, ctx.template.source[start:end][:40], unit.sample, sev,
                          message=f"{rule.message}: {over[0]}")
                score = sev.rank * 1_000_000 + stats.units
            if worst is None or score > worst[0]:
                worst = (score, hit)
    return [worst[1]] if worst else []


# ---------------------------------------------------------------- send window


def _minutes(hhmm: str) -> int:
    h, m = hhmm.split(":")
    return int(h) * 60 + int(m)


def check_send_window(i: int, rule: Rule, ctx: "EvalContext") -> list[Hit]:
    window = ctx.template.meta.send_window
    if not window:
        return []
    allowed = rule.params["allowed"]
    a0, a1 = (_minutes(x) for x in allowed.split("-"))
    w0, w1 = (_minutes(x) for x in window.split("-"))
    if w0 >= a0 and w1 <= a1 and w0 < w1:
        return []
    start, end = ctx.template.key_positions.get("send_window", (0, 0))
    line_end = ctx.template.source.find("\n", end)
    end = line_end if line_end >= 0 else len(ctx.template.source)
    return [Hit(rule, start, end, ctx.template.source[start:end], None, rule.severity,
                message=f"{rule.message}: send_window {window} is outside the allowed {allowed} (recipient local time)")]


TEXT_KINDS = {"phrases": check_phrases, "near": check_near, "pattern": check_pattern}
OTHER_KINDS = {"required": check_required, "variables": check_variables, "length": check_length, "send_window": check_send_window}
