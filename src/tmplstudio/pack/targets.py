"""Converting an approved template for a sending platform.

Platforms substitute values into fixed text; they cannot run Jinja. So a template converts
only when its body is literal text and plain ``{{ variable }}`` tags, optionally through the
masking filter (``{{ card_no | mask }}``: the sending system passes the already-masked value;
the variable list says how to mask it). The Jinja AST decides: any statement (``if``, ``for``,
``set``, macros…), any other filter, attribute or item access, call or expression makes the
template inexpressible, and it is excluded with the reason and its line.

Targets:

* ``generic`` — the Jinja source as approved (no conversion);
* ``aliyun``  — ``${name}`` placeholders, the variable list, the 【signature】 split off;
* ``tencent`` — ``{1}``…``{n}`` numbered in order of appearance, with the ordered parameter
  names; two variables with nothing between them cannot be told apart and are refused;
* ``twilio``  — a Content API ``twilio/text`` request body with ``{{1}}``… and sample values.

Every conversion is checked by substituting each sample's values back in: the result must be
exactly the engine's preview, or the template is excluded.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any

from jinja2 import nodes

TARGETS = ("generic", "aliyun", "tencent", "twilio")
MASK_FILTER = "mask"
TWILIO_MAX_BODY = 1600
_SIGNATURE = re.compile(r"^【([^【】]{1,30})】")
_ALIYUN_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


class Unsupported(Exception):
    """The template cannot be expressed on the target; the message is the reason."""


@dataclass(frozen=True)
class Var:
    name: str
    mask: dict[str, Any] | None = None   # {"keep": 4, "char": "*"} when piped through `mask`

    @property
    def key(self) -> tuple:
        return (self.name, None if self.mask is None else tuple(sorted(self.mask.items())))


@dataclass
class Flat:
    """A template body as literal text and variables, in order."""

    parts: list[str | Var] = field(default_factory=list)

    def add_text(self, text: str) -> None:
        if not text:
            return
        if self.parts and isinstance(self.parts[-1], str):
            self.parts[-1] += text
        else:
            self.parts.append(text)

    @property
    def variables(self) -> list[Var]:
        return [p for p in self.parts if isinstance(p, Var)]


def _mask_params(flt: nodes.Filter, line: int) -> dict[str, Any]:
    if flt.dyn_args is not None or flt.dyn_kwargs is not None:
        raise Unsupported(f"line {line}: the mask filter's arguments must be constants")
    params: dict[str, Any] = {"keep": 4, "char": "*"}
    names = ["keep", "char"]
    if len(flt.args) > 2:
        raise Unsupported(f"line {line}: the mask filter takes at most two arguments")
    values = list(zip(names, flt.args)) + [(kw.key, kw.value) for kw in flt.kwargs]
    for key, node in values:
        if key not in params or not isinstance(node, nodes.Const):
            raise Unsupported(f"line {line}: the mask filter's arguments must be constants (keep, char)")
        params[key] = node.value
    params["keep"] = max(0, min(int(params["keep"]), 8))
    params["char"] = str(params["char"])[:1]
    return params


def _describe(node: nodes.Node) -> str:
    return {
        nodes.If: "{% if %}", nodes.For: "{% for %}", nodes.Assign: "{% set %}", nodes.AssignBlock: "{% set %}",
        nodes.Macro: "{% macro %}", nodes.CallBlock: "{% call %}", nodes.FilterBlock: "{% filter %}",
        nodes.With: "{% with %}", nodes.Include: "{% include %}", nodes.Import: "{% import %}",
        nodes.FromImport: "{% from %}", nodes.Block: "{% block %}", nodes.Extends: "{% extends %}",
    }.get(type(node), f"a {type(node).__name__} statement")


def flatten(body: str, line_offset: int = 0) -> Flat:
    """The body as text and variables, or Unsupported with the reason (lines are file lines)."""
    from jinja2.exceptions import TemplateSyntaxError

    from tmplstudio.render.sandbox import environment

    try:
        tree = environment().parse(body)
    except TemplateSyntaxError as exc:
        raise Unsupported(f"line {(exc.lineno or 1) + line_offset}: Jinja syntax error") from None
    flat = Flat()
    for stmt in tree.body:
        line = (getattr(stmt, "lineno", 1) or 1) + line_offset
        if not isinstance(stmt, nodes.Output):
            raise Unsupported(f"line {line}: control flow ({_describe(stmt)}) cannot be expressed on the platform")
        for node in stmt.nodes:
            line = (getattr(node, "lineno", 1) or 1) + line_offset
            if isinstance(node, nodes.TemplateData):
                flat.add_text(node.data)
            elif isinstance(node, nodes.Name):
                flat.parts.append(Var(node.name))
            elif isinstance(node, nodes.Filter) and node.name == MASK_FILTER and isinstance(node.node, nodes.Name):
                flat.parts.append(Var(node.node.name, _mask_params(node, line)))
            elif isinstance(node, nodes.Filter):
                raise Unsupported(f"line {line}: filter '{node.name}' (only '{MASK_FILTER}' on a plain variable can be expressed)")
            elif isinstance(node, nodes.Const) and isinstance(node.value, str):
                flat.add_text(node.value)
            else:
                raise Unsupported(f"line {line}: '{{{{ … }}}}' holds an expression ({type(node).__name__}), not a plain variable")
    return flat


def apply_mask(value: Any, mask: dict[str, Any] | None) -> str:
    from tmplstudio.render.sandbox import mask as mask_filter

    if mask is None:
        return "" if value is None else str(value)
    return mask_filter(value, mask["keep"], mask["char"])


@dataclass
class Converted:
    target: str
    filename: str | None                 # path inside the pack, None for generic
    payload: dict[str, Any] | None       # the JSON written to ``filename``
    params: list[dict[str, Any]]         # for the manifest: placeholder -> variable (+ mask)

    def file_bytes(self) -> bytes:
        return (json.dumps(self.payload, ensure_ascii=False, indent=2) + "\n").encode("utf-8")


def _split_signature(flat: Flat) -> tuple[str | None, Flat]:
    if not flat.parts or not isinstance(flat.parts[0], str):
        return None, flat
    m = _SIGNATURE.match(flat.parts[0])
    if not m:
        return None, flat
    rest = Flat(list(flat.parts))
    rest.parts[0] = flat.parts[0][m.end():]
    if not rest.parts[0]:
        rest.parts.pop(0)
    return m.group(1), rest


def _samples(meta) -> dict[str, dict[str, Any]]:
    return dict(meta.samples)


def _check_roundtrip(flat: Flat, renders: dict, fill, template_text: str) -> None:
    """Substituting each sample back into the converted text must give the engine's preview."""
    for name, rendering in renders.items():
        if rendering.text is None:
            raise Unsupported(f"sample '{name}' does not render")
        if fill(name) != rendering.text:
            raise Unsupported(f"the converted text does not reproduce sample '{name}' exactly")


def convert(target: str, evaluation, line_offset: int = 0) -> Converted:
    """Convert an evaluated template; raises Unsupported with the reason."""
    if target == "generic":
        return Converted("generic", None, None, [])
    if target not in TARGETS:
        raise ValueError(target)
    template = evaluation.template
    meta = template.meta
    if meta.channel != "sms":
        raise Unsupported(f"channel '{meta.channel}': the {target} target sends text messages (sms)")
    flat = flatten(template.body, line_offset)
    samples = _samples(meta)
    renders = evaluation.renders

    def values(sample: str, var: Var) -> str:
        return apply_mask(samples[sample].get(var.name), var.mask)

    def fill_with(parts: list[str | Var], prefix: str = ""):
        return lambda s: prefix + "".join(p if isinstance(p, str) else values(s, p) for p in parts)

    if target == "aliyun":
        sign, body = _split_signature(flat)
        seen: dict[str, Var] = {}
        for v in body.variables:
            if not _ALIYUN_NAME.match(v.name):
                raise Unsupported(f"variable '{v.name}': Alibaba Cloud variable names are letters, digits and '_'")
            if v.name in seen and seen[v.name].key != v.key:
                raise Unsupported(f"variable '{v.name}' is used both masked and unmasked (or with different masks); one ${{{v.name}}} cannot be both")
            seen.setdefault(v.name, v)
        content = "".join(p if isinstance(p, str) else f"${{{p.name}}}" for p in body.parts)
        _check_roundtrip(body, renders, fill_with(body.parts, f"【{sign}】" if sign else ""), content)
        variables = list(seen.values())
        payload = {
            "template_name": meta.id,
            "template_type": meta.category,
            "sign_name": sign,
            "template_content": content,
            "variables": [v.name for v in variables],
            "masked": {v.name: v.mask for v in variables if v.mask is not None},
            "samples": {s: {v.name: values(s, v) for v in variables} for s in samples},
        }
        params = [{"placeholder": f"${{{v.name}}}", "variable": v.name, "mask": v.mask} for v in variables]
        return Converted(target, f"aliyun/{meta.id}.json", payload, params)

    if target == "tencent":
        sign, body = _split_signature(flat)
        previous: str | Var | None = None
        for part in body.parts:
            if isinstance(part, Var) and isinstance(previous, Var):
                raise Unsupported(f"adjacent variables '{previous.name}' and '{part.name}' (nothing between them): Tencent Cloud cannot tell where one ends")
            previous = part
        order = body.variables
        pieces, n = [], 0
        for part in body.parts:
            if isinstance(part, str):
                pieces.append(part)
            else:
                n += 1
                pieces.append("{%d}" % n)
        content = "".join(pieces)
        _check_roundtrip(body, renders, fill_with(body.parts, f"【{sign}】" if sign else ""), content)
        payload = {
            "template_name": meta.id,
            "sms_type": meta.category,
            "sign_name": sign,
            "template_content": content,
            "params": [v.name for v in order],
            "masked": {v.name: v.mask for v in order if v.mask is not None},
            "samples": {s: [values(s, v) for v in order] for s in samples},
        }
        params = [{"placeholder": "{%d}" % i, "variable": v.name, "mask": v.mask} for i, v in enumerate(order, 1)]
        return Converted(target, f"tencent/{meta.id}.json", payload, params)

    # twilio
    numbers: dict[tuple, int] = {}
    distinct: list[Var] = []
    for v in flat.variables:
        if v.key not in numbers:
            numbers[v.key] = len(numbers) + 1
            distinct.append(v)
    body_text = "".join(p if isinstance(p, str) else "{{%d}}" % numbers[p.key] for p in flat.parts)
    if len(body_text) > TWILIO_MAX_BODY:
        raise Unsupported(f"the body is {len(body_text)} characters; twilio/text allows {TWILIO_MAX_BODY}")
    _check_roundtrip(flat, renders, fill_with(flat.parts), body_text)
    first = next(iter(samples), None)
    payload = {
        "friendly_name": meta.id,
        "language": meta.language,
        "variables": {str(numbers[v.key]): (values(first, v) if first else v.name) for v in distinct},
        "types": {"twilio/text": {"body": body_text}},
    }
    params = [{"placeholder": "{{%d}}" % numbers[v.key], "variable": v.name, "mask": v.mask} for v in distinct]
    return Converted(target, f"twilio/{meta.id}.json", payload, params)
