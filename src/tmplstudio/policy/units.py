"""Texts the rules look at ("units") and how a span in one maps back to the template file.

* the **source** unit: the body's literal text, each ``{{ }}`` a placeholder, each ``{% %}`` a
  line break; every character maps to an exact source offset;
* the **subject** unit for emails, mapped into the front matter;
* one **sample** unit per sample rendering; each character knows whether it came from
  literal text (a source offset) or from a ``{{ }}`` tag (that tag's span).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from tmplstudio.policy.matching import TextFacts
from tmplstudio.render.sourcemap import Origin, VarTag
from tmplstudio.text.normalize import Normalized, normalize


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

    def file_at(self, raw_index: int) -> int:
        if self.files is not None and self.files:
            return self.files[min(raw_index, len(self.files) - 1)]
        return self.file

    @property
    def is_render(self) -> bool:
        return self.origins is not None

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
