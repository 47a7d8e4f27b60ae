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

import re
import threading
from dataclasses import dataclass, field
from typing import Any

from jinja2 import nodes
from jinja2.exceptions import TemplateSyntaxError
from jinja2.lexer import TokenStream
from jinja2.parser import Parser

from tmplstudio.render.sandbox import account_replay, environment, guard_loops, last_cost, render_chunks
from tmplstudio.reuse import REUSE

DATA_MARK = "\ue000"
VAR_MARK = "\ue001"
END_MARK = "\ue002"
_INDEX_BASE = 0xE100
_MAX_INDEX = 0xF8FF - _INDEX_BASE
# Bounds that keep lexing, parsing, compiling and every later tree walk fast and within
# Python's recursion limit, whatever the file holds (a message template has a few hundred
# tokens and a nesting depth under 10).
MAX_TOKENS = 10_000
MAX_NESTING = 60
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
    # One walk of the tree, done at scan time, serves every later question about it.
    outputs: list[nodes.Output] = field(default_factory=list)
    exprs: list[nodes.Node] = field(default_factory=list)     # {{ }} expressions in document order
    names: list[nodes.Name] = field(default_factory=list)
    loops: list[nodes.For] = field(default_factory=list)
    skeleton: "Skeleton | None" = None
    body: str = ""
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
    tokens: tuple[int, ...] = ()   # per character: index of its data token, or -1 (tags)


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
    return _scan(body, base)


def _scan(body: str, base: int) -> Scan:
    env = environment()
    result = Scan(base=base, body=body)
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
        raw_tokens = []
        for lineno, token, value in env.lexer.tokeniter(body, None):
            raw_tokens.append((lineno, token, value))
            if len(raw_tokens) > MAX_TOKENS:
                raise TemplateSyntaxError(f"template too complex: more than {MAX_TOKENS:,} Jinja tokens", lineno)
            found = body.find(value, pos) if value else pos
            start = pos if found < 0 else found
            end = start + len(value)
            if token == "data":
                result.order.append(("data", len(result.data)))
                result.data.append(DataSpan(value, start))
            elif token in ("variable_begin", "block_begin", "comment_begin", "raw_begin"):
                tag_start = start
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
        # The tags with their line numbers (the tree's nodes carry them: a skeleton parsed from
        # one text must not give another text's line numbers); literal text left out.
        key = tuple((ln, t, v) if t != "data" else (ln, "data", "") for ln, t, v in raw_tokens)
        skeleton = _SKELETONS.get(key)
        if skeleton is None:
            # Parse from the tokens we already have instead of lexing the body a second time.
            parser = Parser(env, "")
            parser.stream = TokenStream(env.lexer.wrap(iter(raw_tokens)), None, None)
            try:
                tree = parser.parse()
            except RecursionError:
                raise TemplateSyntaxError("expressions or tags nested too deeply", parser.stream.current.lineno) from None
            _check_nesting(tree)
            skeleton = _SKELETONS.put(key, Skeleton(tree))
        result.skeleton = skeleton
        result.tree = skeleton.tree
        result.outputs, result.exprs, result.names, result.loops = skeleton.outputs, skeleton.exprs, skeleton.names, skeleton.loops
    except TemplateSyntaxError as exc:
        line_start = _line_offset(body, 0, exc.lineno or 1)
        result.syntax_error = (exc.message or str(exc), off(_locate_error(body, 0, line_start, exc)))
        result.tree = None
        return result
    _attach_names(result)
    return result


def _check_nesting(tree: nodes.Template) -> None:
    """Refuse trees deeper than MAX_NESTING (iteratively: the tree may be deep)."""
    stack: list[tuple[nodes.Node, int]] = [(tree, 0)]
    while stack:
        node, depth = stack.pop()
        if depth > MAX_NESTING:
            raise TemplateSyntaxError(f"tags or expressions nested more than {MAX_NESTING} levels deep", getattr(node, "lineno", 1) or 1)
        stack.extend((child, depth + 1) for child in node.iter_child_nodes())


def _locate_error(body: str, base: int, line_start: int, exc: TemplateSyntaxError) -> int:
    """Jinja reports a line only; point at the last tag opening on that line, else its start."""
    rel = line_start - base
    nl = body.find("\n", rel)
    line = body[rel: nl if nl >= 0 else len(body)]
    best = -1
    for opener in ("{{", "{%", "{#"):
        best = max(best, line.rfind(opener))
    return line_start + (best if best >= 0 else 0)


class Skeleton:
    """What a template's tags say, independent of its literal text.

    Typing in literal text (the usual keystroke) changes only ``data`` tokens, so the parsed
    tree and the compiled template are cached on the token sequence with the data blanked
    out, and the literal text is handed to the compiled template at render time.
    """

    def __init__(self, tree: nodes.Template):
        self.tree = tree
        self.outputs: list[nodes.Output] = []
        self.exprs: list[nodes.Node] = []
        self.names: list[nodes.Name] = []
        self.loops: list[nodes.For] = []
        self.compiled = None  # (template, traceable), built on first render
        self.pathset = None   # paths through a template without partials (render/paths.py)
        self.traces = REUSE.memo("render.replays", _MAX_TRACES)  # sample values -> rendering with data by index
        self.replayable: bool | None = None
        self._has: dict[tuple, bool] = {}
        self._unmasked: dict[tuple[int, frozenset[str]], list[str]] = {}
        # id(node) -> index of its data token / {{ }} tag (path enumeration needs both).
        self.data_ids: dict[int, int] = {}
        self.var_ids: dict[int, int] = {}
        stack: list[nodes.Node] = [tree]
        while stack:  # one walk, in document order
            node = stack.pop()
            if isinstance(node, nodes.Output):
                self.outputs.append(node)
                self.exprs.extend(c for c in node.nodes if not isinstance(c, nodes.TemplateData))
            elif isinstance(node, nodes.Name):
                self.names.append(node)
            elif isinstance(node, nodes.For):
                self.loops.append(node)
            stack.extend(reversed(list(node.iter_child_nodes())))
        di = vi = 0
        for output in self.outputs:
            for child in output.nodes:
                if isinstance(child, nodes.TemplateData):
                    self.data_ids[id(child)] = di
                    di += 1
                else:
                    self.var_ids[id(child)] = vi
                    vi += 1


    def unmasked(self, k: int, mask_filters: set[str]) -> list[str]:
        """``unmasked_names`` of the k-th ``{{ }}`` expression, worked out once per skeleton."""
        key = (k, frozenset(mask_filters))
        if key not in self._unmasked:
            self._unmasked[key] = unmasked_names(self.exprs[k], mask_filters)
        return self._unmasked[key]

    def has(self, node_types: tuple) -> bool:
        """Does the tree contain a node of one of these types?"""
        if node_types not in self._has:
            self._has[node_types] = next(iter(self.tree.find_all(node_types)), None) is not None
        return self._has[node_types]


_SKELETONS = REUSE.memo("templates.skeletons", 64)
DATA_VAR = "_tmplstudio_data"
PLAIN_VAR = "_tmplstudio_plain"  # the same texts without markers (see _compile_skeleton)


def _attach_names(result: Scan) -> None:
    """Record which variables each {{ }} tag reads and which filters wrap them."""
    exprs = result.exprs
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


def literal_view(result: Scan) -> View:
    """The body as literal text: {{ }} become one placeholder, {% %} a line break."""
    chars: list[str] = []
    starts: list[int] = []
    ends: list[int] = []
    tokens: list[int] = []
    for kind, i in result.order:
        if kind == "data":
            d = result.data[i]
            n = len(d.text)
            chars.append(d.text)
            if result.remap is None:  # offsets run on with the text: whole ranges at once
                starts.extend(range(result.base + d.rel, result.base + d.rel + n))
                ends.extend(range(result.base + d.rel + 1, result.base + d.rel + n + 1))
            else:
                starts.extend(result.offset(d.rel + k) for k in range(n))
                ends.extend(result.offset(d.rel + k + 1) for k in range(n))
            tokens.extend([i] * n)
        elif kind == "var":
            v = result.vars[i]
            chars.append(PLACEHOLDER)
            starts.append(v.start)
            ends.append(v.end)
            tokens.append(-1)
        else:
            s, e = result.blocks[i]
            chars.append("\n")
            starts.append(s)
            ends.append(e)
            tokens.append(-1)
    return View("".join(chars), tuple(starts), tuple(ends), tuple(tokens))


def compile_traced(result: Scan):
    """The compiled template with provenance markers, and whether it is traceable.

    Each literal becomes ``_tmplstudio_data[i]`` (supplied by ``data_values`` at render time)
    and each ``{{ }}`` output is wrapped in markers naming its tag, so one compiled template
    serves every text with the same tags.
    """
    skeleton = result.skeleton
    if skeleton is None:
        return None
    with _COMPILE_LOCK:
        if skeleton.compiled is None:
            skeleton.compiled = _compile_skeleton(skeleton, len(result.data), len(result.vars))
    if skeleton.compiled is False:
        # Untraceable (never seen in practice): compile this exact text, without markers.
        tree = environment().parse(result.body)
        guard_loops(tree)
        return environment().from_string(tree), False
    return skeleton.compiled


_COMPILE_LOCK = threading.Lock()


def _compile_skeleton(skeleton: "Skeleton", n_data_tokens: int, n_var_tags: int):
    env = environment()
    tree = skeleton.tree
    n_vars = len(skeleton.exprs)
    n_data = sum(len(o.nodes) for o in skeleton.outputs) - n_vars
    traceable = n_data == n_data_tokens and n_vars == n_var_tags and max(n_data, n_vars) < _MAX_INDEX
    if not traceable:
        return False
    if traceable:
        # Text captured by a set block, a filter block or a call block is handed to an
        # expression ({% if tone == "soft" %}, | reverse): markers there would change what it
        # computes, so inside those blocks text comes unmarked (its origin is then unknown).
        captured = {id(o) for block in tree.find_all((nodes.AssignBlock, nodes.FilterBlock, nodes.CallBlock))
                    for o in block.find_all(nodes.Output)}
        di = vi = 0
        for output in skeleton.outputs:
            new_nodes: list[nodes.Node] = []
            plain = id(output) in captured
            for child in output.nodes:
                if isinstance(child, nodes.TemplateData):
                    lookup = nodes.Getitem(nodes.Name(PLAIN_VAR if plain else DATA_VAR, "load"), nodes.Const(di), "load",
                                           lineno=child.lineno)
                    # The replaced node is freed; a later marker node may get its id, so the old
                    # id must not stay known as a data token (path analysis looks nodes up by id).
                    del skeleton.data_ids[id(child)]
                    skeleton.data_ids[id(lookup)] = di
                    new_nodes.append(lookup)
                    di += 1
                elif plain:
                    new_nodes.append(child)
                    vi += 1
                else:
                    new_nodes.append(nodes.TemplateData(VAR_MARK + chr(_INDEX_BASE + vi), lineno=child.lineno))
                    new_nodes.append(child)
                    new_nodes.append(nodes.TemplateData(END_MARK, lineno=child.lineno))
                    vi += 1
            output.nodes = new_nodes
    guard_loops(tree, skeleton.loops)
    return env.from_string(tree), traceable


def data_values(result: Scan, traceable: bool) -> dict[str, Any]:
    """The literal texts for a skeleton-compiled template, each prefixed with its marker."""
    if not traceable:
        return {}
    return {DATA_VAR: [DATA_MARK + chr(_INDEX_BASE + k) + d.text for k, d in enumerate(result.data)],
            PLAIN_VAR: [d.text for d in result.data]}


# Provenance of one rendered character: a source offset (>= 0), or -(var index + 1), or None.
Origin = int | None


_MARKS = re.compile(f"([{DATA_MARK}{VAR_MARK}].?|{END_MARK})", re.S)


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
    # Split on the markers and hand out origins a run of text at a time: after a data marker
    # the next len(data) characters are that token's, anything else belongs to the innermost
    # open {{ }} (or to nothing, e.g. text a filter added).
    for k, part in enumerate(_MARKS.split(raw)):
        if k % 2:  # a marker
            if part[0] == DATA_MARK and len(part) == 2:
                idx = ord(part[1]) - _INDEX_BASE
                if 0 <= idx < len(result.data):
                    data_left = len(result.data[idx].text)
                    data_pos = result.data[idx].rel
            elif part[0] == VAR_MARK and len(part) == 2:
                var_stack.append(ord(part[1]) - _INDEX_BASE)
                data_left = 0
            elif part == END_MARK:
                if var_stack:
                    var_stack.pop()
            continue
        if not part:
            continue
        out.append(part)
        n = len(part)
        if data_left > 0:
            take = min(n, data_left)
            if result.remap is None:
                origins.extend(range(result.base + data_pos, result.base + data_pos + take))
            else:
                origins.extend(result.offset(data_pos + j) for j in range(take))
            data_pos += take
            data_left -= take
            n -= take
        if n:
            origins.extend([-(var_stack[-1] + 1) if var_stack else None] * n)
    return "".join(out), origins


# Where literal text can reach an expression (set blocks, filter blocks, macros, call blocks)
# or the output can differ between two renderings of the same values (random, lipsum), a
# rendering is always made by Jinja.
_NOT_REPLAYABLE = (nodes.AssignBlock, nodes.FilterBlock, nodes.Macro, nodes.CallBlock, nodes.Extends,
                   nodes.Include, nodes.Import, nodes.FromImport)
_MAX_TRACES = 16


def render_traced(result: Scan, compiled, values: dict[str, Any]) -> tuple[str, list[Origin]]:
    """A sample's rendering and each character's origin, rendered in this process (the render
    worker; tests); raises what rendering raises.

    With literal text handed in at render time, control flow depends only on the tags and the
    sample's values. So a rendering is remembered on the skeleton as "data token 3, then this
    value, ..." and, while only literal text changes (typing), rebuilt from the current literal
    text without running Jinja (``replay``; render/pool.py does that before asking a worker).
    """
    rebuilt = replay(result, values)
    if rebuilt is not None:
        return rebuilt
    template_obj, traceable = compiled
    raw = render_chunks(template_obj, {**values, **data_values(result, traceable)})
    return remember(result, values, raw, traceable, last_cost().steps)


def replay(result: Scan, values: dict[str, Any]) -> tuple[str, list[Origin]] | None:
    """The remembered rendering of ``values`` rebuilt from the current literal text, or None
    (never rendered with these values, not replayable, or over the evaluation's budget)."""
    skeleton = result.skeleton
    if skeleton is None or not _replayable(skeleton):
        return None
    trace = skeleton.traces.get(repr(values))
    return None if trace is None else _replay(trace, result)


def replayable(result: Scan) -> bool:
    """Can literal text never reach an expression in this template (no set or filter blocks,
    macros, partials, random)? Then its renderings depend only on the tags and the values."""
    return result.skeleton is not None and _replayable(result.skeleton)


def replayable_now(result: Scan, values: dict[str, Any]) -> bool:
    skeleton = result.skeleton
    return skeleton is not None and _replayable(skeleton) and skeleton.traces.get(repr(values)) is not None


def remember(result: Scan, values: dict[str, Any], raw: str, traceable: bool, steps: int) -> tuple[str, list[Origin]]:
    """Strip a traced rendering (``raw``, with its cost in steps) into text and origins, and
    remember it for replays where that is safe."""
    skeleton = result.skeleton
    if traceable and skeleton is not None and _replayable(skeleton):
        trace = _trace(raw, result)
        if trace is not None:
            skeleton.traces.put(repr(values), (trace, steps))
    return untrace(raw, result, traceable)


def _replayable(skeleton: "Skeleton") -> bool:
    if skeleton.replayable is None:
        tree = skeleton.tree
        skeleton.replayable = not (
            skeleton.has(_NOT_REPLAYABLE)
            or any(f.name == "random" for f in tree.find_all(nodes.Filter))
            # self.block() hands a block's literal text to an expression; recursive loops call back
            or any(n.name in ("self", "super") for n in tree.find_all(nodes.Name))
            or any(loop.recursive for loop in tree.find_all(nodes.For))
            or any(isinstance(c.node, nodes.Name) and c.node.name == "lipsum" for c in tree.find_all(nodes.Call)))
    return skeleton.replayable


def _trace(raw: str, result: Scan) -> list | None:
    """The rendering as data token indices and (text, origin) runs; None if a data token's
    text was not emitted exactly as written (then it cannot be replayed)."""
    items: list = []
    var_stack: list[int] = []
    expect = -1
    for k, part in enumerate(_MARKS.split(raw)):
        if k % 2:
            if len(part) == 2 and part[0] == DATA_MARK:
                expect = ord(part[1]) - _INDEX_BASE
                if not 0 <= expect < len(result.data):
                    return None
            elif len(part) == 2 and part[0] == VAR_MARK:
                var_stack.append(ord(part[1]) - _INDEX_BASE)
                expect = -1
            elif part == END_MARK and var_stack:
                var_stack.pop()
            else:
                return None
            continue
        if expect >= 0:
            text = result.data[expect].text
            if not part.startswith(text):
                return None
            items.append(expect)
            part = part[len(text):]
            expect = -1
        if part:
            items.append((part, -(var_stack[-1] + 1) if var_stack else None))
    return items


def _replay(remembered: tuple[list, int], result: Scan) -> tuple[str, list[Origin]] | None:
    trace, steps = remembered
    data = result.data
    total = sum(len(data[item].text) if type(item) is int else len(item[0]) for item in trace)
    if not account_replay(steps, total):
        return None  # let Jinja render it and stop where the budget runs out
    parts: list[str] = []
    origins: list[Origin] = []
    for item in trace:
        if type(item) is int:
            d = data[item]
            parts.append(d.text)
            if result.remap is None:
                origins.extend(range(result.base + d.rel, result.base + d.rel + len(d.text)))
            else:
                origins.extend(result.offset(d.rel + j) for j in range(len(d.text)))
        else:
            parts.append(item[0])
            origins.extend([item[1]] * len(item[0]))
    return "".join(parts), origins


def render_plain(text: str, variables: dict[str, Any]) -> str:
    """Render a small Jinja string (e.g. an email subject) without tracing."""
    tree = environment().parse(text)
    guard_loops(tree)
    return render_chunks(environment().from_string(tree), variables)
