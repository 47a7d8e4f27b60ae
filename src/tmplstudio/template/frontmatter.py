"""Split a template file into TOML front matter and Jinja body, and rewrite front matter.

Format::

    +++
    id = "zh-due-today"
    [samples.a]
    name = "张三"
    +++
    【某某银行】尊敬的{{ name }}，...

Positions everywhere refer to the whole file, so the split keeps the body's offset.
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass
from typing import Any

import tomli_w

from tmplstudio import safe_toml
from tmplstudio.reuse import REUSE

FENCE = "+++"
_TOML_POS = re.compile(r"\(at line (\d+), column (\d+)\)")


@dataclass(frozen=True)
class Problem:
    """Something wrong inside a template file, reported as a finding (never an exception)."""

    message: str
    start: int
    end: int
    rule: str = "front-matter"
    severity: str = "error"


@dataclass(frozen=True)
class Split:
    data: dict[str, Any]
    fm_start: int        # offset of the first character of the TOML text (after the opening fence)
    fm_text: str
    body_start: int
    problems: tuple[Problem, ...]
    has_front_matter: bool


def _is_fence(line: str) -> bool:
    return line.rstrip("\r\n").rstrip() == FENCE


def split(source: str) -> Split:
    first_nl = source.find("\n")
    first_line = source if first_nl < 0 else source[: first_nl + 1]
    if not _is_fence(first_line.lstrip("\ufeff")):  # a byte-order mark may precede the fence
        return Split({}, 0, "", 0, (), False)
    fm_start = len(first_line)
    pos = fm_start
    while pos < len(source):
        nl = source.find("\n", pos)
        line_end = len(source) if nl < 0 else nl + 1
        if _is_fence(source[pos:line_end]):
            fm_text = source[fm_start:pos]
            data, problems = _parse_toml(fm_text, fm_start, source)
            return Split(data, fm_start, fm_text, line_end, problems, True)
        pos = line_end
    problem = Problem("front matter opened with '+++' on line 1 is never closed by a '+++' line", 0, len(first_line.rstrip("\r\n")))
    return Split({}, fm_start, source[fm_start:], len(source), (problem,), True)


@REUSE.cached("templates.front_matter", 64)
def _loads(text: str) -> dict[str, Any]:
    # Cached: while an author types in the body the front matter is unchanged. Callers copy
    # what they keep, so the shared dict is never mutated.
    return safe_toml.loads(text)


def _parse_toml(text: str, base: int, source: str) -> tuple[dict[str, Any], tuple[Problem, ...]]:
    try:
        return _loads(text), ()
    except tomllib.TOMLDecodeError as exc:
        msg = str(exc)
        m = _TOML_POS.search(msg)
        offset = base
        if m:
            line, col = int(m.group(1)), int(m.group(2))
            lines = text.split("\n")
            offset = base + sum(len(l) + 1 for l in lines[: line - 1]) + max(col - 1, 0)
            offset = min(offset, len(source))
            msg = _TOML_POS.sub("", msg).strip()
        end = min(offset + 1, len(source))
        return {}, (Problem(f"front matter is not valid TOML: {msg}", offset, end),)


@REUSE.cached("templates.key_offsets", 64)
def key_offsets(fm_text: str, fm_start: int) -> dict[str, tuple[int, int]]:
    """Where each top-level key or table header sits, for findings about a key.

    tomllib gives no positions, so scan lines: `key = ...` (dotted keys too) and `[table]`.
    Keys inside tables are recorded as "table.key".
    """
    result: dict[str, tuple[int, int]] = {}
    table = ""
    pos = fm_start
    for line in fm_text.split("\n"):
        stripped = line.lstrip()
        indent = len(line) - len(stripped)
        header = re.match(r"\[\[?\s*([^\]]+?)\s*\]\]?", stripped)
        if header:
            table = header.group(1).replace('"', "")
            result.setdefault(table, (pos + indent, pos + len(line.rstrip())))
        else:
            km = re.match(r"([A-Za-z0-9_\-\".]+)\s*=", stripped)
            if km:
                key = km.group(1).replace('"', "").strip()
                full = f"{table}.{key}" if table else key
                result.setdefault(full, (pos + indent, pos + indent + len(km.group(1))))
        pos += len(line) + 1
    return result


def _rebuild(source: str, data: dict[str, Any]) -> str:
    s = split(source)
    body = source[s.body_start:] if s.has_front_matter else source
    return f"{FENCE}\n{tomli_w.dumps(data)}{FENCE}\n{body}"


def add_sample_variable(source: str, name: str, value: str = "") -> str:
    """Give every sample (or a new sample ``default``) a value for ``name``; existing values stay.

    The front matter is rewritten with tomli-w: comments in it are not kept, which the
    studio says in its confirmation.
    """
    s = split(source)
    if s.problems:
        raise ValueError("front matter has errors; fix them before adding variables")
    data = dict(s.data)
    raw = data.get("samples") or {}
    if not isinstance(raw, dict) or not all(isinstance(v, dict) for v in raw.values()):
        raise ValueError("'samples' must be [samples.NAME] tables; fix the front matter before adding variables")
    samples = dict(raw)
    if not samples:
        samples = {"default": {}}
    for sample_name, values in samples.items():
        values = dict(values)
        values.setdefault(name, value)
        samples[sample_name] = values
    data["samples"] = samples
    return _rebuild(source, data)
