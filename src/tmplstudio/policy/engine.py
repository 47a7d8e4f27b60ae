"""Evaluate policy packs against one template: its literal text and each sample's rendering.

Pure library: no Textual, no printing. ``evaluate`` never raises for anything inside the
template; problems in it become findings with exact positions.
"""

from __future__ import annotations

import re
import threading
from dataclasses import dataclass, field
from typing import Any, Iterable

from tmplstudio.policy.kinds import OTHER_KINDS, TEXT_KINDS, Hit
from tmplstudio.policy.patterns import REGEX_TIMEOUT, compile_pattern, piece_local
from tmplstudio.policy.matching import Found, Occurrence, PhraseIndex
from tmplstudio.policy.model import Finding, Pack, Rule, Severity, TextFix
from tmplstudio.policy.units import Unit, make_unit
from tmplstudio.render import sourcemap
from tmplstudio.render.paths import PathSet, enumerate_paths
from tmplstudio.render.sandbox import describe_error
from tmplstudio.template.meta import TemplateMeta, did_you_mean
from tmplstudio.template.source import Template, parse_template
from tmplstudio.text.normalize import PIECES_KEPT, pieces
from tmplstudio.text.sms import SmsStats, sms_stats

ENGINE_PACK = "tmplstudio"
ENGINE_RULES = {
    "front-matter": "Front matter is not valid.",
    "jinja-syntax": "Jinja syntax error.",
    "undefined-variable": "A sample lacks a value the template needs.",
    "render-error": "The template failed to render.",
    "sandbox": "The template tried something the sandbox does not allow.",
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


@dataclass
class Evaluation:
    template: Template
    findings: list[Finding]
    renders: dict[str, Rendering]
    variables: list[str]
    missing: dict[str, list[str]]
    packs: list[Pack]

    def count(self, severity: Severity) -> int:
        return sum(1 for f in self.findings if f.severity == severity and not f.suppressed)

    def worst(self) -> Severity | None:
        active = [f.severity for f in self.findings if not f.suppressed]
        return max(active, key=lambda s: s.rank) if active else None


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


class RuleSet:
    """Rules with one phrase automaton and their patterns, built once per project (and kept
    in the per-user cache, policy/cache.py). Patterns compile on first use: a Chinese template
    never pays for the English packs' regexes."""

    def __init__(self, rules: list[Rule]):
        self.rules = rules
        self.index = PhraseIndex()
        self.local: dict[str, bool] = {}
        for i, rule in enumerate(rules):
            p = rule.params
            for phrase in p.get("phrases", []):
                self.index.add(phrase, i, "hit")
            for g, group in enumerate(p.get("groups", [])):
                for phrase in group:
                    self.index.add(phrase, i, f"g{g}")
            for role in ("allow", "not_after", "not_before", "any"):
                for phrase in p.get(role, []):
                    self.index.add(phrase, i, role)
            for k, esc in enumerate(rule.escalate):
                for phrase in esc.near:
                    self.index.add(phrase, i, f"esc{k}")
            for pattern in p.get("patterns", []):
                self.local[pattern] = piece_local(pattern)
        self.index.build()
        self._fresh()

    def _fresh(self) -> None:
        self.patterns = _Compiled()
        self._pattern_sets: dict[tuple[str, ...], int] = {}
        self._local_sets: dict[tuple[int, ...], dict] = {}
        self._piece_tables: dict[tuple[str, int], dict] = {}
        self.unit_spans: dict[tuple, dict[int, list]] = {}
        self._lock = threading.Lock()

    def remember_unit(self, key: tuple) -> dict[int, list]:
        """A new (first in, first out) entry of text-rule spans for one literal text."""
        memo: dict[int, list] = {}
        with self._lock:
            self.unit_spans[key] = memo
            while len(self.unit_spans) > PIECES_KEPT:
                del self.unit_spans[next(iter(self.unit_spans))]
        return memo

    def __getstate__(self) -> dict:
        return {"rules": self.rules, "index": self.index, "local": self.local}

    def __setstate__(self, state: dict) -> None:
        self.__dict__.update(state)
        self._fresh()

    def local_patterns(self, rule_indices: tuple[int, ...]) -> dict[bool, tuple[tuple[str, ...], frozenset[str], int]]:
        """For matching on normalised (False) and original (True) text: the piece-local patterns
        of these rules, as a sorted tuple, a set and the tuple's id. Templates of one kind run
        the same rules, so this is worked out once per rule combination."""
        found = self._local_sets.get(rule_indices)
        if found is None:
            found = {}
            for original in (False, True):
                local = tuple(sorted({p for i in rule_indices for p in self.rules[i].params.get("patterns", ())
                                      if (self.rules[i].params.get("match_on") == "original") == original and self.local.get(p)}))
                found[original] = (local, frozenset(local), self.pattern_set(local))
            self._local_sets[rule_indices] = found
        return found

    def pattern_set(self, patterns: tuple[str, ...]) -> int:
        """A small id for a set of patterns (the piece-local ones of a template's active rules)."""
        with self._lock:
            return self._pattern_sets.setdefault(patterns, len(self._pattern_sets))

    def piece_table(self, piece: str, set_id: int, patterns: tuple[str, ...], timed_out: set[str]) -> dict[str, tuple | None]:
        """The matches of every pattern in a set that matches ``piece`` at all (None: it timed
        out, now or earlier in this evaluation: ``timed_out``, which this adds to). Cached per
        piece unless something timed out, which may be the machine's load."""
        key = (piece, set_id)
        table = self._piece_tables.get(key)  # a dict read needs no lock; eviction is first in, first out
        if table is not None:
            return table
        table = {}
        clean = True
        for pattern in patterns:
            if pattern in timed_out:  # a runaway pattern costs one timeout per evaluation, not one per piece
                table[pattern] = None
                clean = False
                continue
            try:
                found = self.find_all(pattern, piece)
            except TimeoutError:
                timed_out.add(pattern)
                table[pattern] = None
                clean = False
                continue
            if found:
                table[pattern] = found
        if clean:
            with self._lock:
                self._piece_tables[key] = table
                while len(self._piece_tables) > PIECES_KEPT:
                    del self._piece_tables[next(iter(self._piece_tables))]
        return table

    def find_all(self, pattern: str, text: str) -> tuple[tuple[int, int, str], ...]:
        """Every match of ``pattern`` in ``text``; raises TimeoutError (never cached)."""
        compiled, bounded = self.patterns[pattern]
        found = compiled.finditer(text, timeout=REGEX_TIMEOUT) if bounded else compiled.finditer(text)
        return tuple((m.start(), m.end(), m.group(0)) for m in found)


class _Compiled(dict):
    """pattern -> (compiled, supports_timeout), compiled when first asked for."""

    def __missing__(self, pattern: str):
        compiled = self[pattern] = compile_pattern(pattern)
        return compiled


def build_ruleset(packs: Iterable[Pack], overrides: dict[str, str]) -> RuleSet:
    """One rule set for every enabled rule of ``packs`` not turned off in the config."""
    return RuleSet([r for p in packs for r in p.rules if r.enabled and overrides.get(r.id, overrides.get(r.key)) != "off"])


def ruleset_key(packs: Iterable[Pack], overrides: dict[str, str]) -> tuple:
    return tuple(id(p) for p in packs) + tuple(sorted(overrides.items()))


class EvalContext:
    def __init__(self, template: Template, scan: sourcemap.Scan, view: sourcemap.View, ruleset: RuleSet,
                 source_unit: Unit, sample_units: list[Unit], subject_units: list[Unit], variables: list[str]):
        self.template = template
        self.scan = scan
        self.literal_view = view
        self.ruleset = ruleset
        self.index = ruleset.index
        self.source_unit = source_unit
        self.sample_units = sample_units
        self.subject_units = subject_units
        self.variables = variables
        self._occ: dict[tuple[int, str], Found] = {}
        self.timeouts: list[tuple[Rule, str]] = []
        self.pathset: PathSet | None = None
        self.scans: list[sourcemap.Scan] = [scan]
        self._required_units: list[Unit] | None = None
        self._creditors = [n for n in template.meta.creditor_name]
        self._creditor_key = tuple(self._creditors)
        self._piece_matches: dict[tuple[int, bool], dict[str, list | None]] = {}
        self._whole_matches: dict[tuple[int, bool, str], tuple] = {}
        self._timed_out: set[str] = set()  # patterns that ran out of time on a piece of this template
        self._local: dict[bool, tuple[tuple[str, ...], frozenset[str], int]] = {}
        self.set_patterns(())

    def set_patterns(self, rule_indices: tuple[int, ...]) -> None:
        """The rules this evaluation runs: their piece-local patterns are matched per piece, in
        normalised or in original text as each rule says."""
        self._local = self.ruleset.local_patterns(rule_indices)

    def occurrences(self, unit: Unit, family: str = PhraseIndex.TEXT) -> Found:
        key = (id(unit), family)
        found = self._occ.get(key)
        if found is None:
            # In a sample's rendering, a phrase made only of the template's own text is the
            # same hit the literal view reports; only phrases that touch a value are new.
            keep = (lambda o: _touches_value(unit, o)) if unit.is_render and family == PhraseIndex.TEXT else None
            found = self._occ[key] = self.index.scan_norm(unit.norm, family, keep)
            if self._creditors and family == PhraseIndex.TEXT:
                from tmplstudio.text.normalize import normalize_phrase

                text = unit.norm.text
                for name in self._creditors:
                    n = normalize_phrase(name)
                    start = text.find(n) if n else -1
                    while start >= 0:
                        found.add((-1, "creditor"), Occurrence(start, start + len(n), n))
                        start = text.find(n, start + 1)
        return found

    def text_spans(self, i: int, rule: Rule, unit: Unit) -> list[tuple[int, int]]:
        """Spans where a text rule (phrases, near, pattern) hits a unit.

        A literal text (not a rendering, whose hits depend on which characters came from
        values) gives the same spans whenever it is the same text: the windows around a
        template's branches stay the same while the author types elsewhere, so their spans are
        remembered per text (with the creditor names that exempt text, and never after a
        pattern ran out of time)."""
        check = TEXT_KINDS[rule.kind]
        if unit.is_render:
            return check(i, rule, unit, self)
        key = (unit.raw, self._creditor_key)
        memo = self.ruleset.unit_spans.get(key)
        if memo is None:
            memo = self.ruleset.remember_unit(key)
        spans = memo.get(i)
        if spans is None:
            spans = check(i, rule, unit, self)
            if not self.timeouts and not self._timed_out:
                memo[i] = spans  # after a timeout a pattern is skipped, so the spans may be incomplete
        return spans

    def required_path_units(self) -> list[Unit]:
        """One unit per distinct path, {{ }} filled with the first sample's value where simple."""
        if self._required_units is None:
            ps = self.pathset
            # Sample renderings already cover a template with one path; paths matter when there
            # are branches, partials, or no samples to render.
            wanted = ps is not None and ps.paths and (ps.branching or ps.partials or not self.sample_units)
            self._required_units = path_units(self, substitute=True) if wanted else []
        return self._required_units

    def matches(self, pattern: str, unit: Unit, original: bool = False) -> tuple[tuple[int, int, str], ...] | list:
        """(start, end, text) of a policy pattern's matches in a unit's normalised text (or its
        original text), bounded in time where the pattern could backtrack. Raises TimeoutError."""
        if self.timeouts and any(p == pattern for _r, p in self.timeouts):
            return ()  # it already ran out of time on this template: reported once, not retried per text
        local, members, set_id = self._local[original]
        if pattern not in members:
            # Packs share patterns (one provider-format rule per provider): run each once per text.
            whole_key = (id(unit), original, pattern)
            found = self._whole_matches.get(whole_key)
            if found is None:
                found = self._whole_matches[whole_key] = self.ruleset.find_all(pattern, unit.raw if original else unit.norm.text)
            return found
        key = (id(unit), original)
        merged = self._piece_matches.get(key)
        if merged is None:
            merged = self._piece_matches[key] = {}
            if original:
                parts, at = [], 0
                for piece in pieces(unit.raw):
                    parts.append((at, piece))
                    at += len(piece)
            else:
                parts = unit.norm.pieces or [(0, unit.norm.text)]
            for at, piece in parts:
                for pat, found in self.ruleset.piece_table(piece, set_id, local, self._timed_out).items():
                    if found is None or merged.get(pat, ()) is None:
                        merged[pat] = None
                    elif at:
                        merged.setdefault(pat, []).extend((s + at, e + at, t) for s, e, t in found)
                    else:
                        merged.setdefault(pat, []).extend(found)
        found = merged.get(pattern, ())
        if found is None:
            raise TimeoutError(pattern)
        return found

    def note_timeout(self, rule: Rule, pattern: str) -> None:
        self.timeouts.append((rule, pattern))

    # Spans used by structural findings -------------------------------------------------
    def body_content_start(self) -> int:
        src = self.template.source
        i = self.template.body_start
        while i < len(src) and src[i] in " \t\r\n":
            i += 1
        return i

    def body_content_end(self) -> int:
        src = self.template.source
        i = len(src)
        while i > self.template.body_start and src[i - 1] in " \t\r\n":
            i -= 1
        return i

    def body_line_span(self, last: bool = False) -> tuple[int, int]:
        src = self.template.source
        if last:
            end = self.body_content_end()
            start = src.rfind("\n", self.template.body_start, end) + 1
            start = max(start, self.template.body_start)
            return start, end
        start = self.body_content_start()
        nl = src.find("\n", start)
        end = nl if nl >= 0 else len(src)
        return start, max(end, start)

    def overflow_span(self, unit: Unit, limit_chars: int) -> tuple[int, int]:
        """Source span from where a rendering passes ``limit_chars`` to the body's end."""
        end = self.body_content_end()
        if unit.origins and limit_chars < len(unit.origins):
            for origin in unit.origins[limit_chars:]:
                if origin is not None:
                    if origin >= 0:
                        return min(origin, end), end
                    tag = self.scan.vars[-origin - 1]
                    return min(tag.start, end), end
        start, _ = self.body_line_span(last=True)
        return start, end


def _touches_value(unit: Unit, occ: Occurrence) -> bool:
    rs, re_ = unit.raw_span(occ.start, occ.end)
    return any(o is None or o < 0 for o in unit.origins[rs:re_])


def _literal_render_spans(hits: list[Hit], sample_units: list[Unit], renders: dict[str, "Rendering"]) -> None:
    """Mark, in each sample's preview, the rendered copies of hits found in the template's text."""
    literal = [h for h in hits if h.literal and h.file == 0 and h.unit is not None and not h.unit.is_render
               and h.rule.kind in TEXT_KINDS]
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


def _simple_value(expr, values: dict[str, Any]) -> str | None:
    """The text a `{{ name }}` or `{{ name | mask }}` prints for ``values``; None if not that simple."""
    from jinja2 import nodes

    from tmplstudio.render.sandbox import mask

    masked = False
    while isinstance(expr, nodes.Filter) and expr.name == "mask":
        masked, expr = True, expr.node
    if isinstance(expr, nodes.Name) and expr.name in values:
        text = str(values[expr.name])
        return mask(text) if masked else text
    return None


def path_units(ctx: "EvalContext", substitute: bool = False, longest: bool = False, raw_only: bool = False) -> list[Unit]:
    """One unit per distinct path text, for whole-message checks (required elements, length).

    ``{{ }}`` become a placeholder, or with ``substitute`` the first sample's value, or with
    ``longest`` the longest sample value padded to the declared ``max_len``. These units carry
    no source map: their findings are placed on the body, not on characters.
    """
    ps = ctx.pathset
    if ps is None or not ps.paths:
        return []
    samples = list(ctx.template.meta.samples.values())
    first = samples[0] if samples else {}
    declared = ctx.template.meta.variables
    filler = "某" if ctx.template.meta.language == "zh" else "x"
    var_text: dict[tuple[int, int], str] = {}
    units: list[Unit] = []
    seen: set[str] = set()
    for path in ps.paths:
        pieces: list[str] = []
        for seg in path.segs:
            sc = ctx.scans[seg.file]
            if seg.kind == "data":
                pieces.append(sc.data[seg.index].text)
                continue
            key = (seg.file, seg.index)
            if key not in var_text:
                text = sourcemap.PLACEHOLDER
                expr = sc.exprs[seg.index] if seg.index < len(sc.exprs) else None
                if expr is not None and longest:
                    values = [v for v in (_simple_value(expr, smp) for smp in samples) if v is not None]
                    text = max(values, key=len) if values else ""
                    limits = [declared[n]["max_len"] for n in sc.vars[seg.index].names
                              if n in declared and isinstance(declared[n].get("max_len"), int)]
                    if limits:
                        text += filler * max(0, max(limits) - len(text))
                elif expr is not None and substitute:
                    text = _simple_value(expr, first) or sourcemap.PLACEHOLDER
                var_text[key] = text
            pieces.append(var_text[key])
        joined = "".join(pieces)
        if joined in seen:
            continue
        seen.add(joined)
        if raw_only:
            units.append(Unit(path.label or "path", None, joined, None, None, label=path.label))  # type: ignore[arg-type]
        else:
            units.append(make_unit(path.label or "path", None, joined, label=path.label))
    return units


def junction_units(ctx: "EvalContext", width: int = 24) -> list[Unit]:
    """Short texts around the places where a path joins text that is not adjacent in the
    template's own text (across a `{% %}` tag, or into a partial).

    Everything else on a path is already checked in the literal view, so only these joins can
    form a new phrase (上门{% if late %}催收{% endif %}); checking ±``width`` characters around
    each join instead of whole paths keeps path analysis inside the keystroke budget.
    """
    ps = ctx.pathset
    if ps is None or not ps.paths:
        return []
    order_pos = {(f, kind, idx): pos for f, sc in enumerate(ctx.scans) for pos, (kind, idx) in enumerate(sc.order)}
    units: list[Unit] = []
    seen: set[str] = set()
    for path in ps.paths:
        pieces: list[tuple[int, object, int]] = []  # (start in path text, segment, length)
        joins: list[int] = []
        pos = 0
        prev = None
        for seg in path.segs:
            here = (seg.file, seg.kind, seg.index)
            if prev is not None:
                before = order_pos.get(prev)
                if not (prev[0] == here[0] and before is not None and order_pos.get(here) == before + 1):
                    joins.append(pos)
            prev = here
            length = len(ctx.scans[seg.file].data[seg.index].text) if seg.kind == "data" else 1
            pieces.append((pos, seg, length))
            pos += length
        windows: list[list[int]] = []
        for j in joins:
            lo, hi = max(0, j - width), min(pos, j + width)
            if windows and lo <= windows[-1][1]:
                windows[-1][1] = hi
            else:
                windows.append([lo, hi])
        for lo, hi in windows:
            chars: list[str] = []
            starts: list[int] = []
            ends: list[int] = []
            files: list[int] = []
            for at, seg, length in pieces:  # only the characters inside the window get a source map
                if at + length <= lo or at >= hi:
                    continue
                sc = ctx.scans[seg.file]
                if seg.kind == "data":
                    d = sc.data[seg.index]
                    a, b = max(lo - at, 0), min(hi - at, length)
                    chars.append(d.text[a:b])
                    if sc.remap is None:
                        starts.extend(range(sc.base + d.rel + a, sc.base + d.rel + b))
                        ends.extend(range(sc.base + d.rel + a + 1, sc.base + d.rel + b + 1))
                    else:
                        starts.extend(sc.offset(d.rel + k) for k in range(a, b))
                        ends.extend(sc.offset(d.rel + k + 1) for k in range(a, b))
                    files.extend([seg.file] * (b - a))
                else:
                    tag = sc.vars[seg.index]
                    chars.append(sourcemap.PLACEHOLDER)
                    starts.append(tag.start)
                    ends.append(tag.end)
                    files.append(seg.file)
            text = "".join(chars)
            if not text.strip() or text in seen:
                continue
            seen.add(text)
            units.append(make_unit(path.label or "path", None, text, source_starts=tuple(starts),
                                   source_ends=tuple(ends), files=tuple(files), label=path.label))
    return units


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


def _escalated(rule: Rule, unit: Unit | None, span: tuple[int, int] | None, ctx: EvalContext, rule_index: int) -> Severity:
    for k, esc in enumerate(rule.escalate):
        if esc.when and not when_matches(esc.when, ctx.template.meta):
            continue
        if esc.near:
            if unit is None or span is None:
                continue
            occs = ctx.occurrences(unit).get((rule_index, f"esc{k}"), [])
            s, e = span
            if not any(max(o.start - e, s - o.end, 0) <= esc.within for o in occs):
                continue
        return esc.severity
    return rule.severity


def _text_fix(rule: Rule, start: int, end: int, matched: str) -> TextFix | None:
    if rule.fix is None:
        return None
    from tmplstudio.text.normalize import normalize_phrase

    if rule.fix.replacements:
        key = normalize_phrase(matched)
        for phrase, replacement in rule.fix.replacements.items():
            if normalize_phrase(phrase) == key:
                return TextFix(start, end, replacement)
    if rule.fix.replace is not None:
        return TextFix(start, end, rule.fix.replace)
    return None


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


def _render_samples(template: Template, scan: sourcemap.Scan) -> tuple[dict[str, Rendering], list[Unit], list[tuple[str, str, str]]]:
    renders: dict[str, Rendering] = {}
    units: list[Unit] = []
    errors: list[tuple[str, str, str]] = []  # (sample, rule id, message)
    compiled = None
    if scan.tree is not None and template.meta.samples:
        try:
            compiled = sourcemap.compile_traced(scan)
        except Exception as exc:  # noqa: BLE001 - any compile failure is a finding, not a crash
            rule_id, msg = describe_error(exc)
            for name in template.meta.samples:
                renders[name] = Rendering(name, None, msg)
                errors.append((name, rule_id, msg))
            return renders, units, errors
    for name, values in template.meta.samples.items():
        if compiled is None:
            renders[name] = Rendering(name, None, "the template has a syntax error" if scan.tree is None else None)
            continue
        try:
            text, origins = sourcemap.render_traced(scan, compiled, values)
        except Exception as exc:  # noqa: BLE001 - sandboxed template code may raise anything
            rule_id, msg = describe_error(exc)
            renders[name] = Rendering(name, None, msg)
            errors.append((name, rule_id, msg))
            continue
        counting = "cn" if template.meta.language == "zh" else "gsm"
        rendering = Rendering(name, text, None, sms_stats(text, counting))
        if template.meta.subject:
            try:
                rendering.subject = sourcemap.render_plain(template.meta.subject, values)
            except Exception as exc:  # noqa: BLE001
                rule_id, msg = describe_error(exc)
                errors.append((name, rule_id, f"subject: {msg}"))
        renders[name] = rendering
        units.append(make_unit(name, name, text, origins=origins, vars=scan.vars))
    return renders, units, errors


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


def _suppressions(template: Template, scan: sourcemap.Scan, known: set[str]) -> tuple[dict[str, str], dict[tuple[int, str], str], list[Finding]]:
    """File-wide and per-line suppressions from `{# tmplstudio: allow RULE -- reason #}` comments."""
    file_wide: dict[str, str] = {}
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
        if not reason:
            problems.append(_finding(template, "suppression", ENGINE_PACK, Severity.ERROR,
                                     "a suppression needs a reason after '--' (it is kept for the audit trail); nothing was suppressed",
                                     comment.start, comment.end))
            continue
        for rule_id in ids:
            if rule_id not in known:
                problems.append(_finding(template, "suppression", ENGINE_PACK, Severity.WARNING,
                                         f"suppression names unknown rule '{rule_id}'{did_you_mean(rule_id, sorted(known))}",
                                         comment.start, comment.end))
                continue
            if scope == "allow-file":
                file_wide[rule_id] = reason
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
             loader=None) -> Evaluation:
    """Check ``source``. ``loader(name, including_path) -> (path, text) | None`` finds partials
    for include/import/extends, at render time and for path analysis."""
    from tmplstudio.render.sandbox import partial_loader

    with partial_loader(loader, path):
        return _evaluate(source, path, packs, overrides or {}, default_locale, ruleset_cache, loader)


def _evaluate(source, path, packs, overrides, default_locale, ruleset_cache, loader) -> Evaluation:
    template = parse_template(source, path, default_locale)
    meta = template.meta
    findings: list[Finding] = []
    for p in template.problems:
        findings.append(_finding(template, p.rule, ENGINE_PACK, Severity(p.severity), p.message, p.start, p.end))

    all_packs = list(packs)
    if meta.policies is not None:
        by_id = {p.id: p for p in all_packs}
        active_packs = []
        for pid in meta.policies:
            if pid in by_id:
                active_packs.append(by_id[pid])
            else:
                s, e = template.key_positions.get("policies", (0, 0))
                findings.append(_finding(template, "front-matter", ENGINE_PACK, Severity.ERROR,
                                         f"unknown policy pack '{pid}'{did_you_mean(pid, list(by_id))}", s, e))
    else:
        active_packs = [p for p in all_packs if pack_applies(p, meta)]

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
    rules = [r for _i, r in active]

    body = template.body
    scan = sourcemap.scan(body, template.body_start, key=str(path))
    if scan.syntax_error is not None:
        msg, offset = scan.syntax_error
        line_end = source.find("\n", offset)
        findings.append(_finding(template, "jinja-syntax", ENGINE_PACK, Severity.ERROR, f"Jinja syntax error: {msg}",
                                 offset, line_end if line_end >= 0 else len(source)))
        view = sourcemap.View(body, tuple(range(template.body_start, len(source))), tuple(range(template.body_start + 1, len(source) + 1)))
    else:
        view = sourcemap.literal_view(scan)
    source_unit = make_unit("source", None, view.text, source_starts=view.starts, source_ends=view.ends)
    renders, sample_units, render_errors = _render_samples(template, scan)
    variables = _used_variables(scan)
    missing = {v: [s for s, vals in meta.samples.items() if v not in vals] for v in variables}
    missing = {v: s for v, s in missing.items() if s}
    subject_units = _subject_unit(template)
    ctx = EvalContext(template, scan, view, ruleset, source_unit, sample_units, subject_units, variables)
    # Rules whose conditions this template meets; their patterns are the ones matched per piece.
    active = [(i, r) for i, r in active if not r.when or when_matches(r.when, meta)]
    ctx.set_patterns(tuple(i for i, _r in active))
    source_unit.tokens = view.tokens
    partial_units: list[Unit] = []
    partial_templates: dict[int, Template] = {}
    walk_units: list[Unit] = []
    if scan.tree is not None:
        pathset = enumerate_paths(scan, path, loader)
        ctx.pathset = pathset
        for k, partial in enumerate(pathset.partials, start=1):
            ctx.scans.append(partial.scan)
            partial_templates[k] = parse_template(partial.source, partial.path)
            pview = sourcemap.literal_view(partial.scan)
            partial_units.append(make_unit(f"partial {partial.name}", None, pview.text, source_starts=pview.starts,
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
            walk_units = junction_units(ctx)

    def label_of(unit: Unit, rs: int) -> str | None:
        if unit.label is not None or not ctx.pathset:
            return unit.label
        idx = unit.tokens[rs] if rs < len(unit.tokens) else -1
        conds = ctx.pathset.data_conds.get((unit.file, idx), ())
        return " and ".join(conds) if conds else None

    hits: list[Hit] = []
    text_units = [source_unit, *partial_units, *subject_units, *sample_units, *walk_units]
    unit_candidates = [(u, ctx.occurrences(u).candidates) for u in text_units]
    for i, rule in active:
        if rule.kind in TEXT_KINDS:
            source_spans: set[tuple[int, int, int]] = set()
            raw_spans = rule.kind == "pattern" and rule.params.get("match_on") == "original"
            needs_phrase = rule.kind != "pattern"
            for unit, candidates in unit_candidates:
                if needs_phrase and i not in candidates:
                    continue  # the usual case, settled without a call: none of its phrases occurs here
                for ns, ne in ctx.text_spans(i, rule, unit):
                    rs, re_ = (ns, ne) if raw_spans else unit.raw_span(ns, ne)
                    s, e, literal = unit.source_span_raw(rs, re_)
                    file = unit.file_at(rs)
                    matched = unit.raw[rs:re_]
                    sev = _escalated(rule, unit, None if raw_spans else (ns, ne), ctx, i)
                    if unit.is_render:
                        renders[unit.sample].spans.append(RenderSpan(rs, re_, sev, rule.id))
                        if not literal and s == e == 0:
                            continue  # text from an included partial: its own unit reports it
                    key = (file, s, e)
                    if literal and key in source_spans:
                        continue
                    if literal:
                        source_spans.add(key)
                    sample = unit.sample if (unit.is_render and not literal) else None
                    hits.append(Hit(rule, s, e, matched, sample, sev, fix=_text_fix(rule, s, e, matched) if literal and file == 0 else None,
                                    unit=unit, norm_span=(ns, ne), literal=literal, file=file,
                                    path=None if sample else label_of(unit, rs)))
        else:
            for hit in OTHER_KINDS[rule.kind](i, rule, ctx):
                hits.append(hit)

    _literal_render_spans(hits, sample_units, renders)
    for hit in hits:
        where = partial_templates.get(hit.file, template)
        f = _finding(where, hit.rule.id, hit.rule.pack_id, hit.severity, hit.message or hit.rule.message,
                     hit.start, hit.end, text=hit.text, sample=hit.sample, rule=hit.rule, fix=hit.fix,
                     file=where.path if hit.file else None)
        f.path = hit.path
        findings.append(f)

    statically_missing = {s for v in missing.values() for s in v}
    covered_by_rule = any(r.kind == "variables" and "samples" in r.params.get("checks", []) and when_matches(r.when, meta) for r in rules)
    for sample, rule_id, msg in render_errors:
        if rule_id == "undefined-variable" and covered_by_rule and sample in statically_missing:
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
    for f in findings:
        reason = file_wide.get(f.rule) or (None if f.file else per_line.get((f.line, f.rule)))
        if reason:
            f.suppressed = True
            f.suppression_reason = reason
        override = overrides.get(f"{f.pack}/{f.rule}", overrides.get(f.rule))
        if override in ("error", "warning", "info"):
            f.severity = Severity(override)

    findings = [f for f in findings if overrides.get(f.rule) != "off" and overrides.get(f"{f.pack}/{f.rule}") != "off"]
    findings = _dedupe(findings)
    findings.sort(key=Finding.sort_key)
    return Evaluation(template, findings, renders, variables, missing, active_packs)


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


def clear_caches() -> None:
    """Forget what is remembered between evaluations in this process (scans, renderings,
    paths, normalised pieces and words), as at a fresh start. For tests and benchmarks: the
    per-user cache on disk and a project's own rule set are left alone."""
    from tmplstudio.text import normalize, segment

    sourcemap.forget()
    normalize._normalize_piece.cache_clear()
    segment.tokens.cache_clear()
