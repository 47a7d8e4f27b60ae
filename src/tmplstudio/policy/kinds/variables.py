"""``variables``: how a template uses its variables -- sensitive values printed unmasked,
samples that lack a value, and the shapes providers reject (a variable at an edge of the body,
two side by side, one glued into a link or phone number, a body of variables only)."""

from __future__ import annotations

import fnmatch
from typing import TYPE_CHECKING

import regex

from tmplstudio.policy.kinds.base import Hit, Kind
from tmplstudio.policy.model import Rule, TextFix
from tmplstudio.render.sourcemap import PLACEHOLDER
from tmplstudio.reuse import REUSE
from tmplstudio.template.meta import did_you_mean

if TYPE_CHECKING:
    from tmplstudio.policy.context import EvalContext

CHECKS = ("masking", "samples", "edges", "adjacent", "all-variable", "embedded", "free-text")


class Variables(Kind):
    name = "variables"
    keys = ("checks", "sensitive", "mask_filters", "free_text")
    required = ("checks",)

    def validate(self, params) -> None:
        for key in ("checks", "sensitive", "mask_filters", "free_text"):
            params.strings(key)
        checks = params.get("checks")
        for check in checks if isinstance(checks, list) and not params.failed else ():
            if check not in CHECKS:
                params.problem("checks", f"unknown variables check '{check}'{did_you_mean(check, CHECKS)}")

    def supersedes(self, rule: Rule) -> frozenset[str]:
        # A sample that lacks a value is this rule's finding (at the variable), not a render error.
        return frozenset({"undefined-variable"}) if "samples" in rule.params.get("checks", ()) else frozenset()

    def run(self, i: int, rule: Rule, ctx: "EvalContext") -> list[Hit]:
        return _check(i, rule, ctx)


@REUSE.cached("variables.sensitive_names", 4096)
def _matches_globs(name: str, globs: tuple[str, ...]) -> bool:
    return _glob_pattern(globs).match(name.lower()) is not None


@REUSE.cached("variables.name_globs", 256)
def _glob_pattern(globs: tuple[str, ...]) -> "regex.Pattern":
    return regex.compile("|".join(fnmatch.translate(g.lower()) for g in globs) or r"(?!)")


def _sensitive(name: str, rule: Rule, ctx: "EvalContext") -> bool:
    spec = ctx.template.meta.variables.get(name, {})
    if spec.get("sensitive") is True:
        return True
    if spec.get("sensitive") is False:
        return False
    return _matches_globs(name, tuple(rule.params.get("sensitive", ())))


def _check(i: int, rule: Rule, ctx: "EvalContext") -> list[Hit]:
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
    if "free-text" in checks:
        globs = tuple(rule.params.get("free_text", ()))
        declared = set(ctx.template.meta.free_text)
        seen: set[str] = set()
        for tag in scan.vars:
            for n in tag.names:
                if n in ctx.variables and n not in seen and (n in declared or _matches_globs(n, globs)):
                    seen.add(n)
                    hits.append(Hit(rule, tag.start, tag.end, src[tag.start:tag.end], None, sev,
                                    message=f"{{{{ {n} }}}} is free text, written when the message is sent: "
                                            "what it will say is not checked here"))
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
