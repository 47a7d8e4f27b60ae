"""What one evaluation knows about the template it checks: its texts (units), paths, the rule
set, and the occurrences and pattern matches found so far. Kinds read the template through it."""

from __future__ import annotations

from tmplstudio.policy.matching import Found, Occurrence, PhraseIndex, TextFacts
from tmplstudio.policy.model import Rule
from tmplstudio.policy.ruleset import RuleSet
from tmplstudio.policy.units import Unit, path_units
from tmplstudio.render import sourcemap
from tmplstudio.render.paths import PathSet
from tmplstudio.template.source import Template
from tmplstudio.text.normalize import normalize, pieces

_VALUE_FILTERS = frozenset({"mask", "upper", "lower", "title", "capitalize", "trim", "e", "escape", "string", "safe"})


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
        self._piece_matches: dict[tuple[int, bool], dict[str, list | None]] = {}
        self._whole_matches: dict[tuple[int, bool, str], tuple] = {}
        self._timed_out: set[str] = set()  # patterns that ran out of time on a piece of this template
        self._local: dict[bool, tuple[tuple[str, ...], frozenset[str], int]] = {}
        self.set_patterns(())
        self.partial_units: list[Unit] = []
        self.walk_units: list[Unit] = []
        self.assembled_units: list[Unit] = []  # renderings that are not samples (every variable empty)
        self._text_units: list[tuple[Unit, frozenset[int]]] | None = None
        # An HTML e-mail body is matched as its reader sees it (text/markup.py).
        self._markup = template.meta.channel == "email"
        self._read: set[int] = set()
        for unit in (source_unit, *sample_units):
            self._as_read(unit)

    def set_patterns(self, rule_indices: tuple[int, ...]) -> None:
        """The rules this evaluation runs: their piece-local patterns are matched per piece, in
        normalised or in original text as each rule says."""
        self._local = self.ruleset.local_patterns(rule_indices)
        self._sound_owners = frozenset(i for i in rule_indices if i in self.ruleset.sounds.owners)

    def _as_read(self, unit: Unit) -> Unit:
        """For an e-mail, the unit normalised through its markup (once)."""
        if self._markup and id(unit) not in self._read:
            self._read.add(id(unit))
            norm = normalize(unit.raw, markup=True)
            if norm.text != unit.norm.text:
                unit.norm = norm
                unit.facts = TextFacts(norm)
        return unit

    def occurrences(self, unit: Unit, family: str = PhraseIndex.TEXT) -> Found:
        """Occurrences of every phrase of the rule set in a unit, per (rule index, role)."""
        key = (id(unit), family)
        found = self._occ.get(key)
        if found is None:
            self._as_read(unit)
            # In a sample's rendering, a phrase written as one run of the template's own text is
            # the same hit the literal view reports; every other one (touching a value, or joined
            # across something that vanished from the output) is new.
            keep = (lambda o: not unit.verbatim(*unit.raw_span(o.start, o.end))) if unit.is_render and family == PhraseIndex.TEXT else None
            found = self._occ[key] = self.index.scan_norm(unit.norm, family, keep)
            if family == PhraseIndex.TEXT and (self.ruleset.split or self._sound_owners):
                self._add_evasions(unit, found, keep)
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

    def _add_evasions(self, unit: Unit, found: Found, keep) -> None:
        """Add what another reading of the text shows (RuleSet.evasions), piece by piece."""
        owners = set()
        tags: list[int] | None = None
        for at, piece in unit.norm.pieces or [(0, unit.norm.text)]:
            for owner_role, occs in self.ruleset.evasions(piece, self._sound_owners).items():
                for o in occs:
                    if at:
                        o = o._replace(start=o.start + at, end=o.end + at)
                    if keep is not None and owner_role[1] == "hit" and not keep(o):
                        continue
                    if unit.tokens:
                        # In literal text a line break may stand for a {% %} tag: a phrase
                        # across one is a path's business (junction units), not a line's.
                        if tags is None:
                            tags = [k for k, ch in enumerate(unit.raw) if ch == "\n" and unit.tokens[k] == -1]
                        rs, re_ = unit.raw_span(o.start, o.end)
                        if any(rs < k < re_ for k in tags):
                            continue
                    found.add(owner_role, o)
                    if owner_role in self.ruleset.reporting_candidates:
                        owners.add(owner_role[0])
        if owners:
            found.candidates = found.candidates | owners

    def text_units(self) -> list[tuple[Unit, frozenset[int]]]:
        """Every text the text kinds look at, with the rules that have a candidate phrase in it."""
        if self._text_units is None:
            units = [self._as_read(u) for u in (self.source_unit, *self.partial_units, *self.subject_units,
                                                 *self.sample_units, *self.walk_units, *self.assembled_units)]
            self._text_units = [(u, self.occurrences(u).candidates) for u in units]
        return self._text_units

    def sample_value_of(self, unit: Unit, rs: int, re_: int) -> str | None:
        """The context variable whose sample value printed all of a rendering's [rs, re_), when
        one ``{{ name }}`` (filters allowed) did; None when template text or a template-made
        value (a constant, a ``set`` variable, an expression mixing text in) contributed."""
        origins = unit.origins[rs:re_] if unit.origins is not None else ()
        if not origins or origins[0] is None or origins[0] >= 0 or any(o != origins[0] for o in origins):
            return None
        k = -origins[0] - 1
        exprs = self.scan.exprs
        if k >= len(exprs) or len(exprs) != len(self.scan.vars):
            return None
        from jinja2 import nodes

        expr = exprs[k]
        # Only filters that cannot bring in text of their own ({{ name | default("上门催收") }}
        # prints the template's words, not the sample's).
        while isinstance(expr, nodes.Filter) and expr.name in _VALUE_FILTERS and not expr.kwargs \
                and all(isinstance(a, nodes.Const) and not isinstance(a.value, str) for a in expr.args):
            expr = expr.node
        if isinstance(expr, nodes.Name) and expr.name in self.variables:
            return expr.name
        return None

    def frames_for(self, rule: Rule) -> tuple:
        """The set-aside frames that apply to a rule: its own, and its pack's unless it refuses them."""
        pack = self.ruleset.pack_frames.get(rule.pack_id, ()) if rule.negatable else ()
        return rule.set_aside + pack

    def label_of(self, unit: Unit, rs: int) -> str | None:
        """The branch conditions under which the text at ``rs`` of a literal unit is sent."""
        if unit.label is not None or not self.pathset:
            return unit.label
        idx = unit.tokens[rs] if rs < len(unit.tokens) else -1
        conds = self.pathset.data_conds.get((unit.file, idx), ())
        return " and ".join(conds) if conds else None

    def required_path_units(self) -> list[Unit]:
        """One unit per distinct path, {{ }} filled with the first sample's value where simple."""
        if self._required_units is None:
            ps = self.pathset
            # Sample renderings already cover a template with one path; paths matter when there
            # are branches, partials, or no samples to render.
            wanted = ps is not None and ps.paths and (ps.branching or ps.partials or not self.sample_units)
            self._required_units = [self._as_read(u) for u in path_units(self, substitute=True)] if wanted else []
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
                text = unit.raw if original else unit.norm.text
                found = () if not original and self.ruleset.cannot_match(pattern, text) else self.ruleset.find_all(pattern, text)
                self._whole_matches[whole_key] = found
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
                for pat, found in self.ruleset.piece_table(piece, set_id, local, self._timed_out, not original).items():
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

