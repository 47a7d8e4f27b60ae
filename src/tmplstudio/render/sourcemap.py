"""Where every character of a template's text and of its renderings comes from.

Jinja has no column source maps, so we build our own:

* the lexer's tokens concatenate back to the source, so walking them gives each ``data``
  token (literal text) and each ``{{ … }}`` tag its exact offsets;
* the parser turns tokens into ``TemplateData`` and expression nodes in the same order, so
  before compiling we prefix each literal with an invisible private-use marker naming its
  token, and wrap each expression's output in markers naming its tag. The rendered text then
  says, character by character, which source character (or which ``{{ }}`` tag) produced it.

The markers are stripped before anything is shown or measured.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from jinja2 import nodes
from jinja2.exceptions import TemplateSyntaxError

from tmplstudio.render.sandbox import environment, guard_loops

DATA_MARK = "\ue000"
VAR_MARK = "\ue001"
END_MARK = "\ue002"
_INDEX_BASE = 0xE100
_MAX_INDEX = 0xF8FF - _INDEX_BASE
PLACEHOLDER = "\ufffc"  # stands for a {{ }} value in the literal view


@dataclass(frozen=True)
class DataSpan:
    text: str      # literal text as Jinja emits it (after whitespace control, newlines as \n)
    rel: int       # offset in the newline-normalised body; Scan.offset() maps it to the file


@dataclass(frozen=True)
class VarTag:
    start: int     # offset of "{{"
    end: int       # offset after "}}"
    names: tuple[str, ...]            # variables read by the expression
    unmasked: tuple[str, ...] = ()    # filled in by the masking check
    filters: tuple[str, ...] = ()


@dataclass(frozen=True)
class Comment:
    text: str
    start: int
    end: int


@dataclass
class Scan:
    """The body's literal text, tags and comments with file offsets."""

    data: list[DataSpan] = field(default_factory=list)
    vars: list[VarTag] = field(default_factory=list)
    blocks: list[tuple[int, int]] = field(default_factory=list)
    comments: list[Comment] = field(default_factory=list)
    # Items in source order: ("data", i) | ("var", i) | ("block", i)
    order: list[tuple[str, int]] = field(default_factory=list)
    syntax_error: tuple[str, int] | None = None   # (message, offset)
    tree: nodes.Template | None = None
    base: int = 0
    # Jinja turns \r\n into \n before lexing; remap[i] is the body offset of normalised index i.
    remap: list[int] | None = None

    def offset(self, rel: int) -> int:
        """File offset of an index into the newline-normalised body."""
        if self.remap is None:
            return self.base + rel
        return self.base + self.remap[min(rel, len(self.remap) - 1)]


@dataclass(frozen=True)
class View:
    """Text to match on, with each character's [start, end) in the source file."""

    text: str
    starts: tuple[int, ...]
    ends: tuple[int, ...]


def _line_offset(text: str, base: int, lineno: int) -> int:
    pos = 0
    for _ in range(lineno - 1):
        nl = text.find("\n", pos)
        if nl < 0:
            break
        pos = nl + 1
    return base + pos


def scan(body: str, base: int) -> Scan:
    """Tokenise and parse ``body`` (which starts at file offset ``base``)."""
    env = environment()
    result = Scan(base=base)
    if "\r" in body:
        remap: list[int] = []
        chars: list[str] = []
        i = 0
        while i < len(body):
            remap.append(i)
            if body[i] == "\r":
                chars.append("\n")
                i += 2 if body.startswith("\r\n", i) else 1
            else:
                chars.append(body[i])
                i += 1
        remap.append(len(body))
        result.remap = remap
        body = "".join(chars)
    off = result.offset
    try:
        pos = 0
        tag_start = 0
        kind = None
        for lineno, token, value in env.lexer.tokeniter(body, None):
            found = body.find(value, pos) if value else pos
            start = pos if found < 0 else found
            end = start + len(value)
            if token == "data":
                result.order.append(("data", len(result.data)))
                result.data.append(DataSpan(value, start))
            elif token in ("variable_begin", "block_begin", "comment_begin", "raw_begin"):
                tag_start, kind = start, token
            elif token == "variable_end":
                result.order.append(("var", len(result.vars)))
                result.vars.append(VarTag(off(tag_start), off(end), ()))
            elif token in ("block_end", "raw_end"):
                result.order.append(("block", len(result.blocks)))
                result.blocks.append((off(tag_start), off(end)))
            elif token == "comment":
                close = body.find("#}", end)
                result.comments.append(Comment(value, off(tag_start), off(close + 2 if close >= 0 else end)))
            elif token == "linecomment":
                result.comments.append(Comment(value, off(start), off(end)))
            pos = end if found >= 0 else pos
        result.tree = env.parse(body)
    except TemplateSyntaxError as exc:
        line_start = _line_offset(body, 0, exc.lineno or 1)
        result.syntax_error = (exc.message or str(exc), off(_locate_error(body, 0, line_start, exc)))
        result.tree = None
        return result
    _attach_names(result)
    return result


def _locate_error(body: str, base: int, line_start: int, exc: TemplateSyntaxError) -> int:
    """Jinja reports a line only; point at the last tag opening on that line, else its start."""
    rel = line_start - base
    nl = body.find("\n", rel)
    line = body[rel: nl if nl >= 0 else len(body)]
    best = -1
    for opener in ("{{", "{%", "{#"):
        best = max(best, line.rfind(opener))
    return line_start + (best if best >= 0 else 0)


def _outputs_in_order(tree: nodes.Template):
    """(Output node, child index, child) for every Output child in document order."""
    for output in tree.find_all(nodes.Output):
        for i, child in enumerate(output.nodes):
            yield output, i, child


def _attach_names(result: Scan) -> None:
    """Record which variables each {{ }} tag reads and which filters wrap them."""
    exprs = [child for _o, _i, child in _outputs_in_order(result.tree) if not isinstance(child, nodes.TemplateData)]
    if len(exprs) != len(result.vars):
        return
    for i, expr in enumerate(exprs):
        names: list[str] = []
        for name in expr.find_all(nodes.Name):
            if name.ctx == "load" and name.name not in names:
                names.append(name.name)
        if isinstance(expr, nodes.Name) and expr.name not in names:
            names.append(expr.name)
        filters = tuple(f.name for f in _filters(expr))
        result.vars[i] = VarTag(result.vars[i].start, result.vars[i].end, tuple(names), (), filters)


def _filters(expr: nodes.Node):
    if isinstance(expr, nodes.Filter):
        yield expr
    yield from expr.find_all(nodes.Filter)


def unmasked_names(expr: nodes.Node, mask_filters: set[str]) -> list[str]:
    """Variable names in ``expr`` that are not under one of ``mask_filters``."""
    out: list[str] = []

    def walk(node: nodes.Node, masked: bool) -> None:
        if isinstance(node, nodes.Filter) and node.name in mask_filters:
            masked = True
        if isinstance(node, nodes.Name) and node.ctx == "load" and not masked:
            out.append(node.name)
        for child in node.iter_child_nodes():
            walk(child, masked)

    walk(expr, False)
    return out


def expressions(tree: nodes.Template) -> list[nodes.Node]:
    return [child for _o, _i, child in _outputs_in_order(tree) if not isinstance(child, nodes.TemplateData)]


def literal_view(result: Scan) -> View:
    """The body as literal text: {{ }} become one placeholder, {% %} a line break."""
    chars: list[str] = []
    starts: list[int] = []
    ends: list[int] = []
    for kind, i in result.order:
        if kind == "data":
            d = result.data[i]
            for k, ch in enumerate(d.text):
                chars.append(ch)
                starts.append(result.offset(d.rel + k))
                ends.append(result.offset(d.rel + k + 1))
        elif kind == "var":
            v = result.vars[i]
            chars.append(PLACEHOLDER)
            starts.append(v.start)
            ends.append(v.end)
        else:
            s, e = result.blocks[i]
            chars.append("\n")
            starts.append(s)
            ends.append(e)
    return View("".join(chars), tuple(starts), tuple(ends))


def compile_traced(result: Scan):
    """Compile the parsed body with provenance markers; None when it cannot be traced."""
    env = environment()
    tree = result.tree
    if tree is None:
        return None
    data_nodes = [(o, i, c) for o, i, c in _outputs_in_order(tree)]
    n_data = sum(1 for _o, _i, c in data_nodes if isinstance(c, nodes.TemplateData))
    n_vars = len(data_nodes) - n_data
    traceable = n_data == len(result.data) and n_vars == len(result.vars) and max(n_data, n_vars) < _MAX_INDEX
    if traceable:
        di = vi = 0
        for output in list(tree.find_all(nodes.Output)):
            new_nodes: list[nodes.Node] = []
            for child in output.nodes:
                if isinstance(child, nodes.TemplateData):
                    new_nodes.append(nodes.TemplateData(DATA_MARK + chr(_INDEX_BASE + di) + child.data, lineno=child.lineno))
                    di += 1
                else:
                    new_nodes.append(nodes.TemplateData(VAR_MARK + chr(_INDEX_BASE + vi), lineno=child.lineno))
                    new_nodes.append(child)
                    new_nodes.append(nodes.TemplateData(END_MARK, lineno=child.lineno))
                    vi += 1
            output.nodes = new_nodes
    guard_loops(tree)
    return env.from_string(tree), traceable


# Provenance of one rendered character: a source offset (>= 0), or -(var index + 1), or None.
Origin = int | None


def untrace(raw: str, result: Scan, traceable: bool) -> tuple[str, list[Origin]]:
    """Strip markers from a traced rendering; return the text and each character's origin."""
    if not traceable:
        clean = "".join(ch for ch in raw if ch not in (DATA_MARK, VAR_MARK, END_MARK))
        return clean, [None] * len(clean)
    out: list[str] = []
    origins: list[Origin] = []
    var_stack: list[int] = []
    data_left = 0
    data_pos = 0
    i = 0
    n = len(raw)
    while i < n:
        ch = raw[i]
        if ch == DATA_MARK and i + 1 < n:
            idx = ord(raw[i + 1]) - _INDEX_BASE
            if 0 <= idx < len(result.data):
                data_left = len(result.data[idx].text)
                data_pos = result.data[idx].rel
            i += 2
            continue
        if ch == VAR_MARK and i + 1 < n:
            var_stack.append(ord(raw[i + 1]) - _INDEX_BASE)
            data_left = 0
            i += 2
            continue
        if ch == END_MARK:
            if var_stack:
                var_stack.pop()
            i += 1
            continue
        out.append(ch)
        if data_left > 0:
            origins.append(result.offset(data_pos))
            data_pos += 1
            data_left -= 1
        elif var_stack:
            origins.append(-(var_stack[-1] + 1))
        else:
            origins.append(None)
        i += 1
    return "".join(out), origins


def render_plain(text: str, variables: dict[str, Any]) -> str:
    """Render a small Jinja string (e.g. an email subject) without tracing."""
    from tmplstudio.render.sandbox import render_chunks

    tree = environment().parse(text)
    guard_loops(tree)
    return render_chunks(environment().from_string(tree), variables)
