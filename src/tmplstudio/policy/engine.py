"""Evaluate policy packs against one template: its literal text and each sample's rendering.

Pure library: no Textual, no printing. ``evaluate`` never raises for anything inside the
template; problems in it become findings with exact positions.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterable

from tmplstudio.policy.conditions import escalated, when_matches
from tmplstudio.policy.context import EvalContext
from tmplstudio.policy.gate import COVERAGE_RULE, NO_GATE, Applied, Gate, real_reason, select_packs
from tmplstudio.policy.kinds import KINDS, Hit
from tmplstudio.policy.merge import merge_overlapping
from tmplstudio.policy.model import Finding, Pack, Rule, Severity, TextFix
from tmplstudio.policy.ruleset import build_ruleset, ruleset_key
from tmplstudio.policy.units import Unit, junction_units, make_unit
from tmplstudio.render import sourcemap
from tmplstudio.render.paths import enumerate_paths
from tmplstudio.reuse import REUSE
from tmplstudio.template.meta import did_you_mean
from tmplstudio.template.source import Template, parse_template
from tmplstudio.text.sms import SmsStats, sms_stats

ENGINE_PACK = "tmplstudio"
# The template rendered with every variable empty: a value that may be blank when the message is
# sent (曝{{ sep }}光), text made by set blocks, macros, filters on constants and constant loops.
EMPTY_VALUES = "every variable empty"
ENGINE_RULES = {
    "front-matter": "Front matter is not valid.",
    "jinja-syntax": "Jinja syntax error.",
    "undefined-variable": "A sample lacks a value the template needs.",
    "render-error": "The template failed to render.",
    "sandbox": "The template tried something the sandbox does not allow.",
    "render-limit": "The template crashed or exhausted its render worker process.",
    COVERAGE_RULE: "No policy pack covers the template's locale or jurisdiction.",
    "suppression": "A suppression comment is incomplete.",
    "policy-timeout": "A policy pattern took too long and was stopped.",
    "too-many-paths": "Too many paths through the template to check each one.",
    "missing-partial": "An included or imported partial cannot be found.",
    "include-cycle": "A partial includes itself.",
    "macro-recursion": "A macro calls itself.",
    "dynamic-include": "An include whose name is computed cannot be checked.",
}
_SUPPRESS = re.compile(r"^\s*tmplstudio:\s*(allow|allow-file)\s+([a-z0-9\-,\s]+?)\s*(?:--\s*(.*?))?\s*$", re.S)


@dataclass(frozen=True)
class RenderSpan:
    start: int
    end: int
    severity: Severity
    rule: str


@dataclass
class Rendering:
    sample: str
    text: str | None
    error: str | None = None
    stats: SmsStats | None = None
    spans: list[RenderSpan] = field(default_factory=list)
    subject: str | None = None


@dataclass(frozen=True)
class FileSuppression:
    """An ``allow-file`` comment and what it silenced (rule id -> findings), for the report."""

    line: int
    reason: str
    silenced: tuple[tuple[str, int], ...]


@dataclass
class Evaluation:
    template: Template
    findings: list[Finding]
    renders: dict[str, Rendering]
    variables: list[str]
    missing: dict[str, list[str]]
    packs: list[Pack]
    narrowings: list[Applied] = field(default_factory=list)   # the config's exceptions that cover this template
    file_suppressions: list[FileSuppression] = field(default_factory=list)

    def count(self, severity: Severity) -> int:
        return sum(1 for f in self.findings if f.severity == severity and not f.suppressed)

    def worst(self) -> Severity | None:
        active = [f.severity for f in self.findings if not f.suppressed]
        return max(active, key=lambda s: s.rank) if active else None


def _literal_render_spans(hits: list[Hit], sample_units: list[Unit], renders: dict[str, "Rendering"]) -> None:
    """Mark, in each sample's preview, the rendered copies of hits found in the template's text."""
    literal = [h for h in hits if h.literal and h.file == 0 and h.unit is not None and not h.unit.is_render]
    if not literal:
        return
    needed: set[int] = set()
    for h in literal:
        needed.update(range(h.start, h.end))
    for unit in sample_units:
        where: dict[int, list[int]] = {}
        for k, origin in enumerate(unit.origins):
            if origin in needed:
                where.setdefault(origin, []).append(k)
        for h in literal:
            positions = sorted(k for off in range(h.start, h.end) for k in where.get(off, ()))
            run_start = prev = None
            for k in positions + [None]:
                if k is not None and prev is not None and k == prev + 1:
                    prev = k
                    continue
                if run_start is not None:
                    renders[unit.sample].spans.append(RenderSpan(run_start, prev + 1, h.severity, h.rule.id))
                run_start = prev = k


def _finding(template: Template, rule_id: str, pack: str, severity: Severity, message: str, start: int, end: int,
             text: str | None = None, sample: str | None = None, rule: Rule | None = None, fix: TextFix | None = None,
             file: str | None = None) -> Finding:
    start = max(0, min(start, len(template.source)))
    end = max(start, min(end, len(template.source)))
    line, col = template.position(start)
    end_line, end_col = template.position(end)
    return Finding(
        rule=rule_id, pack=pack, severity=severity, message=message, start=start, end=end,
        line=line, column=col, end_line=end_line, end_column=end_col,
        text=template.source[start:end] if text is None else text, sample=sample,
        suggestion=rule.suggestion if rule else None, fix=fix,
        explanation=rule.explanation if rule else "", source=rule.source if rule else (), file=file,
    )


def _node_span(ctx: EvalContext, file: int, node) -> tuple[int, int]:
    """Source span of the `{% %}` tag holding a node (Jinja nodes know only their line)."""
    sc = ctx.scans[file]
    body = sc.body.replace("\r\n", "\n").replace("\r", "\n")
    rel = 0
    for _ in range(max(getattr(node, "lineno", 1), 1) - 1):
        nl = body.find("\n", rel)
        if nl < 0:
            break
        rel = nl + 1
    line_end = body.find("\n", rel)
    line_end = len(body) if line_end < 0 else line_end
    open_tag = body.find("{%", rel, line_end)
    if open_tag < 0:
        open_tag = body.find("{{", rel, line_end)
    start = open_tag if open_tag >= 0 else rel
    close = body.find("}", start)
    end = min(close + 2, line_end) if close >= 0 else line_end
    return sc.offset(start), sc.offset(max(end, start))


def _render_samples(template: Template, scan: sourcemap.Scan, loader=None) -> tuple[dict[str, Rendering], list[Unit], list[tuple[str, str, str]]]:
    """Each sample's rendering, made in a render worker process (render/pool.py): a template
    that crashes or exhausts it costs that worker and becomes a finding."""
    from tmplstudio.render import pool

    renders: dict[str, Rendering] = {}
    units: list[Unit] = []
    errors: list[tuple[str, str, str]] = []  # (sample, rule id, message)
    samples = template.meta.samples
    if not samples:
        return renders, units, errors
    if scan.tree is None:
        for name in samples:
            renders[name] = Rendering(name, None, "the template has a syntax error")
        return renders, units, errors
    label = Path(template.path).name or template.path
    results = pool.render_samples(scan, samples, template.meta.subject, loader, template.path, label)
    counting = "cn" if template.meta.language == "zh" else "gsm"
    for name in samples:
        result = results[name]
        if result.error is not None:
            rule_id, msg = result.error
            renders[name] = Rendering(name, None, msg)
            errors.append((name, rule_id, msg))
            continue
        rendering = Rendering(name, result.text, None, sms_stats(result.text, counting))
        if result.subject_error is not None:
            rule_id, msg = result.subject_error
            errors.append((name, rule_id, f"subject: {msg}"))
        rendering.subject = result.subject
        renders[name] = rendering
        units.append(make_unit(name, name, result.text, origins=result.origins, vars=scan.vars))
    return renders, units, errors


_EMPTY_FAILED = REUSE.memo("render.empty_failures", 64)


def _render_empty(template: Template, scan: sourcemap.Scan, variables: list[str], loader) -> tuple[Unit | None, str | None]:
    """The rendering with every context variable empty (see EMPTY_VALUES, render/blank.py) and
    the subject rendered that way, in a render worker like every sample; (None, None) where the
    template cannot render that way even so: samples cover it."""
    from tmplstudio.render import pool
    from tmplstudio.render.blank import mark

    if scan.tree is None:
        return None, None
    subject = template.meta.subject
    names = list(variables)
    if subject:
        names += _used_variables(sourcemap.scan(subject, 0))
    label = Path(template.path).name or template.path
    values = mark(list(dict.fromkeys(names)))
    # Where literal text cannot reach an expression (the condition for replays), a failure
    # depends only on the tags and the values: remembered, so typing does not ask a worker again.
    deterministic = scan.skeleton is not None and not subject and sourcemap.replayable(scan)
    failed_key = (scan.skeleton, repr(values))
    if deterministic and _EMPTY_FAILED.get(failed_key):
        return None, None
    result = pool.render_samples(scan, {EMPTY_VALUES: values}, subject, loader, template.path, label)[EMPTY_VALUES]
    if result.error is not None:  # not a sample: its failures are nobody's finding
        if deterministic and result.error[0] not in ("render-limit", "sandbox"):  # budgets depend on the samples
            _EMPTY_FAILED.put(failed_key, True)
        return None, None
    return make_unit(EMPTY_VALUES, EMPTY_VALUES, result.text, origins=result.origins, vars=scan.vars), result.subject


def _beyond_the_samples(hits: list[Hit]) -> list[Hit]:
    """Hits in the every-variable-empty rendering that no sample or template text shows already."""
    # A set-aside hit does not count as shown: with the value empty, what it denied may be gone.
    seen = {(h.rule.pack_id, h.rule.id, h.file, h.start, h.end) for h in hits if h.sample != EMPTY_VALUES and h.set_aside is None}
    return [h for h in hits if h.sample != EMPTY_VALUES or (h.rule.pack_id, h.rule.id, h.file, h.start, h.end) not in seen]


def _used_variables(scan: sourcemap.Scan) -> list[str]:
    """Variables the template reads from its context, in order of first use.

    A name is a context variable unless the template assigns it somewhere (set, for, macro
    arguments, with) or it is a global such as ``range``. Cheaper than
    ``jinja2.meta.find_undeclared_variables``, which runs the whole code generator.
    """
    if scan.tree is None:
        return []
    from tmplstudio.render.sandbox import environment

    stored = {n.name for n in scan.names if n.ctx in ("store", "param")}
    stored.add("loop")
    glob = environment().globals
    ordered: list[str] = []
    for tag in scan.vars:
        for n in tag.names:
            if n not in stored and n not in glob and n not in ordered:
                ordered.append(n)
    for n in scan.names:
        if n.ctx == "load" and n.name not in stored and n.name not in glob and n.name not in ordered:
            ordered.append(n.name)
    return ordered


def _subject_unit(template: Template) -> list[Unit]:
    subject = template.meta.subject
    if not subject:
        return []
    key = template.key_positions.get("subject")
    base = template.source.find(subject, key[0]) if key else -1
    if base < 0:
        start, end = key if key else (0, 0)
        starts = tuple([start] * len(subject))
        ends = tuple([end] * len(subject))
        return [make_unit("subject", None, subject, source_starts=starts, source_ends=ends)]
    sub_scan = sourcemap.scan(subject, base)
    view = sourcemap.literal_view(sub_scan) if sub_scan.syntax_error is None else sourcemap.View(
        subject, tuple(range(base, base + len(subject))), tuple(range(base + 1, base + len(subject) + 1)))
    return [make_unit("subject", None, view.text, source_starts=view.starts, source_ends=view.ends)]


def _subject_renderings(template: Template, renders: dict[str, Rendering], empty_subject: str | None) -> list[Unit]:
    """The subject as each sample renders it, and with every variable empty, when it has tags:
    what the recipient reads in the inbox. Each character points at the whole subject (its
    rendering keeps no map back to the front matter)."""
    subject = template.meta.subject
    if not subject or ("{{" not in subject and "{%" not in subject):
        return []
    key = template.key_positions.get("subject", (0, 0))
    base = template.source.find(subject, key[0])
    span = (base, base + len(subject)) if base >= 0 else key
    texts = [(name, r.subject) for name, r in renders.items() if r.subject]
    if empty_subject:
        texts.append((EMPTY_VALUES, empty_subject))
    return [make_unit(f"subject ({name})", name, text, source_starts=(span[0],) * len(text),
                      source_ends=(span[1],) * len(text)) for name, text in texts if text]


def _suppressions(template: Template, scan: sourcemap.Scan, known: set[str]) -> tuple[dict[str, tuple[str, int]], dict[tuple[int, str], str], list[Finding]]:
    """File-wide (rule -> (reason, line)) and per-line suppressions from
    `{# tmplstudio: allow RULE -- reason #}` comments."""
    file_wide: dict[str, tuple[str, int]] = {}
    per_line: dict[tuple[int, str], str] = {}
    problems: list[Finding] = []
    for comment in scan.comments:
        m = _SUPPRESS.match(comment.text)
        if not m:
            if "tmplstudio:" in comment.text:
                problems.append(_finding(template, "suppression", ENGINE_PACK, Severity.ERROR,
                                         "suppression comment not understood; write {# tmplstudio: allow RULE-ID -- reason #}",
                                         comment.start, comment.end))
            continue
        scope, ids, reason = m.group(1), [i.strip() for i in m.group(2).replace(",", " ").split()], (m.group(3) or "").strip()
        if not real_reason(reason):
            said = f" ('{reason}' is not one)" if reason else ""
            problems.append(_finding(template, "suppression", ENGINE_PACK, Severity.ERROR,
                                     "a suppression needs a reason after '--', in words (it is kept for the audit trail)"
                                     f"{said}; nothing was suppressed", comment.start, comment.end))
            continue
        for rule_id in ids:
            if rule_id not in known:
                problems.append(_finding(template, "suppression", ENGINE_PACK, Severity.WARNING,
                                         f"suppression names unknown rule '{rule_id}'{did_you_mean(rule_id, sorted(known))}",
                                         comment.start, comment.end))
                continue
            if scope == "allow-file":
                file_wide[rule_id] = (reason, template.position(comment.start)[0])
            else:
                line, _ = template.position(comment.end)
                start_line, _ = template.position(comment.start)
                src = template.source
                line_start = src.rfind("\n", 0, comment.start) + 1
                own_line_has_text = src[line_start:comment.start].strip() != ""
                per_line[(line + 1, rule_id)] = reason
                if own_line_has_text:
                    per_line[(start_line, rule_id)] = reason
    return file_wide, per_line, problems


def evaluate(source: str, path: str, packs: Iterable[Pack], overrides: dict[str, str] | None = None,
             default_locale: str | None = None, ruleset_cache: dict | None = None,
             loader=None, gate: Gate | None = None) -> Evaluation:
    """Check ``source``. ``loader(name, including_path) -> (path, text) | None`` finds partials
    for include/import/extends, at render time and for path analysis. ``gate`` (the project
    config's mandatory packs and narrowings, policy/gate.py) decides which packs apply."""
    from tmplstudio.render.sandbox import partial_loader

    with partial_loader(loader, path):
        return _evaluate(source, path, packs, overrides or {}, default_locale, ruleset_cache, loader, gate or NO_GATE)


def _evaluate(source, path, packs, overrides, default_locale, ruleset_cache, loader, gate) -> Evaluation:
    template = parse_template(source, path, default_locale)
    meta = template.meta
    findings: list[Finding] = []
    for p in template.problems:
        findings.append(_finding(template, p.rule, ENGINE_PACK, Severity(p.severity), p.message, p.start, p.end))

    all_packs = list(packs)
    rel = gate.relative(path)
    selection = select_packs(meta, all_packs, gate, rel)
    active_packs = selection.packs
    for pid in selection.unknown:
        s, e = template.key_positions.get("policies", (0, 0))
        findings.append(_finding(template, "front-matter", ENGINE_PACK, Severity.ERROR,
                                 f"unknown policy pack '{pid}'{did_you_mean(pid, [p.id for p in all_packs])}", s, e))
    for key, message in selection.coverage:
        s, e = template.key_positions.get(key, (0, 0))
        findings.append(_finding(template, COVERAGE_RULE, ENGINE_PACK, Severity.ERROR, message, s, e))

    # One automaton for every loaded pack, built once per project: a template's active rules
    # are a subset of it, so templates with different packs or conditions share it.
    cache_key = ruleset_key(all_packs, overrides)
    ruleset = ruleset_cache.get(cache_key) if ruleset_cache is not None else None
    if ruleset is None:
        ruleset = build_ruleset(all_packs, overrides)
        if ruleset_cache is not None:
            ruleset_cache[cache_key] = ruleset
    active_ids = {p.id for p in active_packs}
    active = [(i, r) for i, r in enumerate(ruleset.rules) if r.pack_id in active_ids]

    body = template.body
    scan = sourcemap.scan(body, template.body_start)
    if scan.syntax_error is not None:
        msg, offset = scan.syntax_error
        line_end = source.find("\n", offset)
        findings.append(_finding(template, "jinja-syntax", ENGINE_PACK, Severity.ERROR, f"Jinja syntax error: {msg}",
                                 offset, line_end if line_end >= 0 else len(source)))
        view = sourcemap.View(body, tuple(range(template.body_start, len(source))), tuple(range(template.body_start + 1, len(source) + 1)))
    else:
        view = sourcemap.literal_view(scan)
    source_unit = make_unit("source", None, view.text, source_starts=view.starts, source_ends=view.ends)
    renders, sample_units, render_errors = _render_samples(template, scan, loader)
    variables = _used_variables(scan)
    missing = {v: [s for s, vals in meta.samples.items() if v not in vals] for v in variables}
    missing = {v: s for v, s in missing.items() if s}
    subject_units = _subject_unit(template)
    ctx = EvalContext(template, scan, view, ruleset, source_unit, sample_units, subject_units, variables)
    # Rules whose conditions this template meets; their patterns are the ones matched per piece.
    active = [(i, r) for i, r in active if not r.when or when_matches(r.when, meta)]
    ctx.set_patterns(tuple(i for i, _r in active))
    source_unit.tokens = view.tokens
    partial_templates: dict[int, Template] = {}
    if scan.tree is not None:
        pathset = enumerate_paths(scan, path, loader)
        ctx.pathset = pathset
        for k, partial in enumerate(pathset.partials, start=1):
            ctx.scans.append(partial.scan)
            partial_templates[k] = parse_template(partial.source, partial.path)
            pview = sourcemap.literal_view(partial.scan)
            ctx.partial_units.append(make_unit(f"partial {partial.name}", None, pview.text, source_starts=pview.starts,
                                               source_ends=pview.ends, file=k, tokens=pview.tokens))
        for problem in pathset.problems:
            s0, e0 = _node_span(ctx, problem.file, problem.node)
            sev = Severity.WARNING if problem.rule in ("dynamic-include", "macro-recursion") else Severity.ERROR
            findings.append(_finding(partial_templates.get(problem.file, template), problem.rule, ENGINE_PACK, sev,
                                     problem.message, s0, e0, file=partial_templates[problem.file].path if problem.file else None))
        if pathset.too_many:
            s0, e0 = ctx.body_line_span()
            findings.append(_finding(template, "too-many-paths", ENGINE_PACK, Severity.WARNING,
                                     "more than 1,024 paths through this template: each branch's text is checked on its own, "
                                     "but required elements and length are not checked per path", s0, e0))
        elif pathset.branching or pathset.partials:
            ctx.walk_units = junction_units(ctx)
            with_values = {u.raw for u in ctx.walk_units}
            ctx.walk_units += [u for u in junction_units(ctx, empty=True) if u.raw not in with_values]

    # Partials read the context too: their variables are empty in this rendering as well.
    in_partials = [v for part in (ctx.pathset.partials if ctx.pathset else ()) for v in _used_variables(part.scan)]
    # Not when a sample already met a limit: the template is a finding, and its budget is spent.
    limited = any(rule_id in ("sandbox", "render-limit") for _s, rule_id, _m in render_errors)
    empty, empty_subject = (None, None) if limited else _render_empty(template, scan, list(dict.fromkeys(variables + in_partials)), loader)
    if empty is not None:
        ctx.assembled_units.append(empty)
    ctx.assembled_units += _subject_renderings(template, renders, empty_subject)

    hits: list[Hit] = []
    for i, rule in active:
        for hit in KINDS[rule.kind].run(i, rule, ctx):
            if hit.set_aside is None:
                hit.severity = escalated(rule, i, hit, ctx)
            else:  # reported, so reviewers can audit it, but it does not count
                hit.severity = Severity.INFO
                hit.message = f"{hit.message or rule.message} (set aside: {hit.set_aside})"
                hit.fix = None
            if hit.preview is not None and hit.unit.sample in renders:
                renders[hit.unit.sample].spans.append(RenderSpan(*hit.preview, hit.severity, rule.id))
            if hit.reported:
                hits.append(hit)
    hits = merge_overlapping(_beyond_the_samples(hits), lambda file: partial_templates.get(file, template))

    _literal_render_spans(hits, sample_units, renders)
    for hit in hits:
        where = partial_templates.get(hit.file, template)
        f = _finding(where, hit.rule.id, hit.rule.pack_id, hit.severity, hit.message or hit.rule.message,
                     hit.start, hit.end, text=hit.text, sample=hit.sample, rule=hit.rule, fix=hit.fix,
                     file=where.path if hit.file else None)
        f.path, f.set_aside = hit.path, hit.set_aside
        findings.append(f)

    statically_missing = {s for v in missing.values() for s in v}
    superseded = frozenset().union(*(KINDS[r.kind].supersedes(r) for _i, r in active))
    # Path analysis reports a missing partial once, at its include tag; each sample's render
    # stopping on it is the same problem.
    missing_partials = ctx.pathset is not None and any(p.rule == "missing-partial" for p in ctx.pathset.problems)
    for sample, rule_id, msg in render_errors:
        if rule_id in superseded and sample in statically_missing:
            continue
        if rule_id == "missing-partial" and missing_partials:
            continue
        s, e = ctx.body_line_span()
        findings.append(_finding(template, rule_id, ENGINE_PACK, Severity.ERROR, f"sample '{sample}': {msg}", s, e, sample=sample))
    for rule, pattern in ctx.timeouts:
        s, e = ctx.body_line_span()
        findings.append(_finding(template, "policy-timeout", ENGINE_PACK, Severity.WARNING,
                                 f"pattern {pattern!r} of rule '{rule.id}' ({rule.pack_id}) took too long and was stopped", s, e))

    known = {r.id for p in all_packs for r in p.rules} | set(ENGINE_RULES)
    file_wide, per_line, problems = _suppressions(template, scan, known)
    findings.extend(problems)
    applied = [Applied(n, None if n.origin == "rules" else 0) for n in gate.narrowings if n.covers(rel)]
    narrowed_by: dict[int, Applied] = {}
    for f in findings:
        if f.rule in file_wide:
            f.suppressed, f.suppression_reason, f.suppression_scope = True, file_wide[f.rule][0], "file"
        elif not f.file and (f.line, f.rule) in per_line:
            f.suppressed, f.suppression_reason, f.suppression_scope = True, per_line[(f.line, f.rule)], "line"
        else:
            for a in applied:
                if a.silenced is not None and a.narrowing.matches(f.pack, f.rule):
                    narrowed_by[id(f)] = a
                    if a.narrowing.severity == "off":
                        f.suppressed, f.suppression_reason, f.suppression_scope = True, a.narrowing.reason, "config"
                    elif Severity(a.narrowing.severity).rank < f.severity.rank:
                        f.severity = Severity(a.narrowing.severity)
                    break
        override = overrides.get(f"{f.pack}/{f.rule}", overrides.get(f.rule))
        if override in ("error", "warning", "info"):
            f.severity = Severity(override)

    findings = [f for f in findings if overrides.get(f.rule) != "off" and overrides.get(f"{f.pack}/{f.rule}") != "off"]
    findings = _dedupe(findings)
    findings.sort(key=Finding.sort_key)
    silenced_by_file: dict[str, int] = {}
    for f in findings:
        if f.suppression_scope == "file":
            silenced_by_file[f.rule] = silenced_by_file.get(f.rule, 0) + 1
        if id(f) in narrowed_by:
            narrowed_by[id(f)].silenced += 1
    by_comment: dict[tuple[int, str], list[tuple[str, int]]] = {}
    for rule_id, (reason, line) in file_wide.items():
        by_comment.setdefault((line, reason), []).append((rule_id, silenced_by_file.get(rule_id, 0)))
    file_suppressions = [FileSuppression(line, reason, tuple(rules)) for (line, reason), rules in sorted(by_comment.items())]
    return Evaluation(template, findings, renders, variables, missing, active_packs, applied, file_suppressions)


def _dedupe(findings: list[Finding]) -> list[Finding]:
    seen: set[tuple] = set()
    out = []
    for f in findings:
        key = (f.rule, f.pack, f.start, f.end, f.sample, f.message)
        if key in seen:
            continue
        seen.add(key)
        out.append(f)
    return out
