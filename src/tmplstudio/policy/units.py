"""Texts the rules look at ("units") and how a span in one maps back to the template file.

* the **source** unit: the body's literal text, each ``{{ }}`` a placeholder, each ``{% %}`` a
  line break; every character maps to an exact source offset;
* the **subject** unit for emails, mapped into the front matter;
* one **sample** unit per sample rendering; each character knows whether it came from
  literal text (a source offset) or from a ``{{ }}`` tag (that tag's span);
* **path** units (one per path through the template, for whole-message checks) and
  **junction** units (the text around each place a path joins text that is not adjacent in
  the template).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from tmplstudio.policy.matching import TextFacts
from tmplstudio.render import sourcemap
from tmplstudio.render.sourcemap import Origin, VarTag
from tmplstudio.text.normalize import Normalized, normalize

if TYPE_CHECKING:
    from tmplstudio.policy.context import EvalContext


@dataclass
class Unit:
    name: str                  # "source", "subject" or the sample name
    sample: str | None         # None for source/subject units
    raw: str                   # the text before normalisation (literal view or rendering)
    norm: Normalized
    facts: TextFacts
    # Per raw character: source [start, end) (literal units) or an Origin (renderings).
    source_starts: tuple[int, ...] | None = None
    source_ends: tuple[int, ...] | None = None
    origins: list[Origin] | None = None
    vars: list[VarTag] = field(default_factory=list)
    file: int = 0                        # 0: the template; k: partial k (literal units)
    files: tuple[int, ...] | None = None  # per raw character, for path units that cross files
    tokens: tuple[int, ...] = ()          # per raw character: data token index or -1
    label: str | None = None              # a path unit's conditions
    _frame_text: str | None = field(default=None, repr=False)

    @property
    def frame_text(self) -> str:
        """The text as written, lower case, one character per raw character, with what came
        from sample values made placeholders: where set-aside frames look (policy/frames.py).
        Not the normalised text, which folds away the dashes and spaces that end a clause; the
        words that deny a phrase must be the template's own, as written."""
        if self._frame_text is None:
            chars = [c.lower() if len(c.lower()) == 1 else c for c in self.raw]
            if self.origins is not None:
                for k, o in enumerate(self.origins[:len(chars)]):
                    if o is None or o < 0:
                        chars[k] = sourcemap.PLACEHOLDER
            self._frame_text = "".join(chars)
        return self._frame_text

    def value_only(self, rs: int, re_: int) -> bool:
        """Did every character of raw [rs, re_) of a rendering come from sample values?"""
        origins = self.origins[rs:re_] if self.origins is not None else ()
        return bool(origins) and all(o is None or o < 0 for o in origins)

    def file_at(self, raw_index: int) -> int:
        if self.files is not None and self.files:
            return self.files[min(raw_index, len(self.files) - 1)]
        return self.file

    @property
    def is_render(self) -> bool:
        return self.origins is not None

    def verbatim(self, rs: int, re_: int) -> bool:
        """Is raw [rs, re_) of a rendering one run of the template's own characters, as written
        (so the literal view sees it too)? Not when a value, or anything that vanished from the
        output (an empty value, a comment, whitespace control), lies inside it."""
        origins = self.origins[rs:re_] if self.origins is not None else ()
        if not origins or origins[0] is None or origins[0] < 0:
            return False
        first = origins[0]
        return all(o == first + k for k, o in enumerate(origins))

    def raw_span(self, start: int, end: int) -> tuple[int, int]:
        """Normalised [start, end) -> raw [start, end)."""
        return self.norm.span(start, end)

    def source_span(self, start: int, end: int) -> tuple[int, int, bool]:
        """Normalised span -> (source start, source end, comes only from literal text)."""
        rs, re_ = self.raw_span(start, end)
        return self.source_span_raw(rs, re_)

    def source_span_raw(self, rs: int, re_: int) -> tuple[int, int, bool]:
        """Raw (unnormalised) span -> (source start, source end, comes only from literal text)."""
        if self.origins is None:
            if self.source_starts is None or not self.source_starts:
                return 0, 0, True
            rs = min(rs, len(self.source_starts) - 1)
            re_ = max(min(re_, len(self.source_ends)), rs + 1)
            if self.files is not None:  # clip a span that runs into another file
                f0 = self.files[rs]
                while re_ - 1 > rs and self.files[re_ - 1] != f0:
                    re_ -= 1
            return self.source_starts[rs], self.source_ends[re_ - 1], True
        lo: int | None = None
        hi: int | None = None
        literal = True
        for origin in self.origins[rs:re_]:
            if origin is None:
                literal = False
                continue
            if origin >= 0:
                s, e = origin, origin + 1
            else:
                literal = False
                tag = self.vars[-origin - 1] if -origin - 1 < len(self.vars) else None
                if tag is None:
                    continue
                s, e = tag.start, tag.end
            lo = s if lo is None else min(lo, s)
            hi = e if hi is None else max(hi, e)
        if lo is None:
            return 0, 0, False
        return lo, hi, literal


def make_unit(name: str, sample: str | None, raw: str, **kw) -> Unit:
    norm = normalize(raw)
    return Unit(name, sample, raw, norm, TextFacts(norm), **kw)


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


def junction_units(ctx: "EvalContext", width: int = 24, empty: bool = False) -> list[Unit]:
    """Short texts around the places where a path joins text that is not adjacent in the
    template's own text (across a `{% %}` tag, or into a partial); with ``empty``, each ``{{ }}``
    printing nothing, so the text on both sides of it joins too (曝{% if x %}{{ sep }}光{% endif %}).

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
            if seg.kind != "data" and empty:
                joins.append(pos)
                continue
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
