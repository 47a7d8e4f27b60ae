"""Every path through a template: branches, loops, macros, includes, imports and extends.

A sample exercises one path; a collector's worst sentence may hide in a branch no sample
reaches. Walking the Jinja AST we enumerate the distinct sequences of literal text a
template can emit, each with the conditions that lead to it ("when days > 60"), so required
elements can be checked on every path and the longest path measured.

Paths are sequences of segments referring to literal-text tokens and ``{{ }}`` tags of the
template or of a partial (by file index), so texts and exact source positions come from the
scans. Enumeration stops past ``MAX_PATHS``; callers then fall back to checking each
branch's text on its own.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable

from jinja2 import nodes

from tmplstudio.render.sourcemap import Scan, scan

MAX_PATHS = 1024
# Bounds on the walk itself: macros calling macros can multiply the work without adding paths
# (ten calls of a macro that makes ten calls ... is 10^8 walks of one node).
MAX_STEPS = 20_000       # AST nodes visited (a real template needs a few hundred)
MAX_PATH_SEGMENTS = 20_000  # segments summed over the alternatives being built
# No wall-clock bound: it made `too-many-paths` come and go with the machine's load. The two
# counts above stop every walk within ~50 ms, at the same node on any machine.


@dataclass(frozen=True)
class Seg:
    kind: str     # "data" | "var"
    file: int     # 0 = the template, k >= 1 = partial k
    index: int    # data token or {{ }} tag index in that file's scan


@dataclass(frozen=True)
class Path:
    segs: tuple[Seg, ...]
    conds: tuple[str, ...]

    @property
    def label(self) -> str | None:
        return " and ".join(self.conds) if self.conds else None


@dataclass
class Partial:
    name: str
    path: str
    source: str
    body_start: int
    scan: Scan


@dataclass
class PathProblem:
    rule: str          # missing-partial | include-cycle | macro-recursion | too-many-paths | dynamic-include
    message: str
    file: int
    node: nodes.Node


@dataclass
class PathSet:
    paths: list[Path] = field(default_factory=list)
    too_many: bool = False
    partials: list[Partial] = field(default_factory=list)   # file index k -> partials[k - 1]
    problems: list[PathProblem] = field(default_factory=list)
    # conditions under which each literal token is emitted: (file, data index) -> conditions
    data_conds: dict[tuple[int, int], tuple[str, ...]] = field(default_factory=dict)

    @property
    def branching(self) -> bool:
        return self.too_many or len(self.paths) > 1


class _TooMany(Exception):
    pass


# ------------------------------------------------------------------ expression labels

_OPS = {"eq": "==", "ne": "!=", "gt": ">", "gteq": ">=", "lt": "<", "lteq": "<=", "in": "in", "notin": "not in"}


def unparse(node: nodes.Node) -> str:
    """A readable rendering of a condition expression (enough for labels, not a full printer)."""
    if isinstance(node, nodes.Name):
        return node.name
    if isinstance(node, nodes.Const):
        return repr(node.value) if isinstance(node.value, str) else str(node.value)
    if isinstance(node, nodes.Compare):
        out = unparse(node.expr)
        for op in node.ops:
            out += f" {_OPS.get(op.op, op.op)} {unparse(op.expr)}"
        return out
    if isinstance(node, nodes.And):
        return f"{unparse(node.left)} and {unparse(node.right)}"
    if isinstance(node, nodes.Or):
        return f"{unparse(node.left)} or {unparse(node.right)}"
    if isinstance(node, nodes.Not):
        return f"not {unparse(node.node)}"
    if isinstance(node, nodes.Getattr):
        return f"{unparse(node.node)}.{node.attr}"
    if isinstance(node, nodes.Getitem):
        return f"{unparse(node.node)}[{unparse(node.arg)}]"
    if isinstance(node, nodes.Test):
        return f"{unparse(node.node)} is {node.name}"
    if isinstance(node, nodes.Filter):
        if node.name == "_tmplstudio_guard":  # our loop guard, not the author's
            return unparse(node.node)
        return f"{unparse(node.node)} | {node.name}" if node.node is not None else node.name
    if isinstance(node, nodes.Call):
        return f"{unparse(node.node)}(…)"
    if isinstance(node, (nodes.List, nodes.Tuple)):
        return "[" + ", ".join(unparse(i) for i in node.items) + "]"
    if isinstance(node, nodes.BinExpr):
        return f"{unparse(node.left)} {node.operator} {unparse(node.right)}"
    return "…"


# ------------------------------------------------------------------ enumeration

Loader = Callable[[str, str], "tuple[str, str] | None"]  # (name, including file) -> (path, source)


class _Walker:
    def __init__(self, main: Scan, main_path: str, loader: Loader | None, limit: int):
        self.result = PathSet()
        self.scans: list[Scan] = [main]
        self.paths_of_file: list[str] = [main_path]
        self.loader = loader
        self.limit = limit
        self.maps: list[tuple[dict[int, int], dict[int, int]]] = [self._index(main)]
        self.include_stack: list[str] = [main_path]
        self.macro_stack: list[str] = []
        self.caller_stack: list[list[tuple[tuple[Seg, ...], tuple[str, ...]]]] = []
        self.steps = 0

    # Map AST nodes to token indices: TemplateData nodes and {{ }} expressions appear in
    # document order, exactly like the lexer's data tokens and variable tags.
    @staticmethod
    def _index(sc: Scan) -> tuple[dict[int, int], dict[int, int]]:
        if sc.skeleton is None:
            return {}, {}
        return sc.skeleton.data_ids, sc.skeleton.var_ids

    def load(self, name: str, file: int, node: nodes.Node) -> int | None:
        """File index of a partial, loading and scanning it once."""
        for k, p in enumerate(self.result.partials, start=1):
            if p.name == name:
                return k
        found = self.loader(name, self.paths_of_file[file]) if self.loader else None
        if found is None:
            self.result.problems.append(PathProblem("missing-partial", f"partial '{name}' not found in the templates folder", file, node))
            return None
        path, source = found
        from tmplstudio.template.frontmatter import split

        sp = split(source)
        body_start = sp.body_start if sp.has_front_matter else 0
        sc = scan(source[body_start:], body_start)
        if sc.syntax_error:
            self.result.problems.append(PathProblem("missing-partial", f"partial '{name}' has a Jinja syntax error: {sc.syntax_error[0]}", file, node))
            return None
        self.result.partials.append(Partial(name, path, source, body_start, sc))
        self.scans.append(sc)
        self.paths_of_file.append(path)
        self.maps.append(self._index(sc))
        return len(self.scans) - 1

    def product(self, a, b):
        if not a or not b:
            return a or b
        if len(a) * len(b) > self.limit:
            raise _TooMany
        if len(b) * sum(len(s) for s, _ in a) + len(a) * sum(len(s) for s, _ in b) > MAX_PATH_SEGMENTS:
            raise _TooMany
        return [(s1 + s2, c1 + c2) for s1, c1 in a for s2, c2 in b]

    def seq(self, body: list[nodes.Node], file: int, conds: tuple[str, ...], ctx: dict):
        alts = [((), ())]
        for node in body:
            alts = self.product(alts, self.node(node, file, conds, ctx))
        return alts

    def branch(self, body, file, conds, label, ctx):
        inner = conds + (label,)
        return [(s, (label,) + c) for s, c in self.seq(body, file, inner, ctx)]

    def node(self, node: nodes.Node, file: int, conds: tuple[str, ...], ctx: dict):
        self.steps += 1
        if self.steps > MAX_STEPS:
            raise _TooMany
        data_map, var_map = self.maps[file]
        if isinstance(node, nodes.Output):
            alts = [((), ())]
            for child in node.nodes:
                if id(child) in data_map:
                    idx = data_map[id(child)]
                    self.result.data_conds.setdefault((file, idx), conds)
                    alts = self.product(alts, [((Seg("data", file, idx),), ())])
                elif isinstance(child, nodes.TemplateData) or id(child) not in var_map and isinstance(child, nodes.Getitem):
                    continue  # marker nodes added by tracing
                else:
                    alts = self.product(alts, self.expression(child, file, conds, ctx, var_map.get(id(child), -1)))
            return alts
        if isinstance(node, nodes.If):
            tests = [node.test] + [e.test for e in node.elif_]
            bodies = [node.body] + [e.body for e in node.elif_]
            alts = []
            previous: list[str] = []
            for test, body in zip(tests, bodies):
                label = f"when {unparse(test)}" + (f" (not {' or '.join(previous)})" if previous else "")
                alts += self.branch(body, file, conds, label, ctx)
                previous.append(unparse(test))
            label = f"when not ({' or '.join(previous)})" if len(previous) > 1 else f"when not {previous[0]}"
            alts += self.branch(node.else_, file, conds, label, ctx) if node.else_ else [((), (label,))]
            if len(alts) > self.limit:
                raise _TooMany
            return alts
        if isinstance(node, nodes.For):
            it = unparse(node.iter)
            target = unparse(node.target)
            once = self.branch(node.body, file, conds, f"for each {target} in {it}", ctx)
            empty_label = f"when {it} is empty"
            empty = self.branch(node.else_, file, conds, empty_label, ctx) if node.else_ else [((), (empty_label,))]
            return once + empty
        if isinstance(node, nodes.Macro):
            ctx.setdefault("macros", {})[node.name] = (node, file)
            return [((), ())]
        if isinstance(node, nodes.CallBlock):
            body_alts = self.seq(node.body, file, conds, ctx)
            self.caller_stack.append(body_alts)
            try:
                return self.call(node.call, file, conds, ctx)
            finally:
                self.caller_stack.pop()
        if isinstance(node, nodes.Include):
            return self.include(node, file, conds, ctx)
        if isinstance(node, (nodes.Import, nodes.FromImport)):
            self.import_(node, file, ctx)
            return [((), ())]
        if isinstance(node, nodes.Extends):
            return [((), ())]  # handled by enumerate_paths
        if isinstance(node, nodes.Block):
            override = ctx.get("blocks", {}).get(node.name)
            if override is not None:
                block, bfile = override
                return self.seq(block.body, bfile, conds, ctx)
            return self.seq(node.body, file, conds, ctx)
        if isinstance(node, (nodes.Scope, nodes.With, nodes.FilterBlock, nodes.ScopedEvalContextModifier, nodes.EvalContextModifier)):
            return self.seq(node.body, file, conds, ctx)
        return [((), ())]  # set, do, break, … emit nothing

    def expression(self, expr: nodes.Node, file: int, conds, ctx, var_index: int):
        if isinstance(expr, nodes.Call):
            expanded = self.call(expr, file, conds, ctx, quiet=True)
            if expanded is not None:
                return expanded
        if var_index < 0:
            return [((), ())]
        return [((Seg("var", file, var_index),), ())]

    def call(self, call: nodes.Call, file: int, conds, ctx, quiet: bool = False):
        target = call.node
        if isinstance(target, nodes.Name) and target.name == "caller" and self.caller_stack:
            return self.caller_stack[-1]
        macro = None
        if isinstance(target, nodes.Name):
            macro = ctx.get("macros", {}).get(target.name)
        elif isinstance(target, nodes.Getattr) and isinstance(target.node, nodes.Name):
            macro = ctx.get("modules", {}).get(target.node.name, {}).get(target.attr)
        if macro is None:
            return None if quiet else [((), ())]
        node, mfile = macro
        key = f"{mfile}:{node.name}"
        if key in self.macro_stack:
            self.result.problems.append(PathProblem("macro-recursion", f"macro '{node.name}' calls itself; its text is checked once", file, call))
            return [((), ())]
        self.macro_stack.append(key)
        try:
            return self.seq(node.body, mfile, conds, ctx)
        finally:
            self.macro_stack.pop()

    def _partial_ctx(self, k: int) -> dict:
        pctx: dict = {}
        tree = self.scans[k].tree
        for m in tree.find_all(nodes.Macro):
            pctx.setdefault("macros", {})[m.name] = (m, k)
        return pctx

    def include(self, node: nodes.Include, file: int, conds, ctx):
        if not isinstance(node.template, nodes.Const) or not isinstance(node.template.value, str):
            self.result.problems.append(PathProblem("dynamic-include", "an include whose name is computed cannot be checked; name the partial literally", file, node))
            return [((), ())]
        name = node.template.value
        k = self.load(name, file, node)
        if k is None:
            return [((), ())]
        path = self.paths_of_file[k]
        if path in self.include_stack:
            self.result.problems.append(PathProblem("include-cycle", f"'{name}' includes itself (through {' → '.join(self.include_stack)})", file, node))
            return [((), ())]
        self.include_stack.append(path)
        try:
            return self.seq(self.scans[k].tree.body, k, conds, self._partial_ctx(k))
        finally:
            self.include_stack.pop()

    def import_(self, node, file: int, ctx: dict) -> None:
        if not isinstance(node.template, nodes.Const):
            return
        k = self.load(node.template.value, file, node)
        if k is None:
            return
        macros = self._partial_ctx(k).get("macros", {})
        if isinstance(node, nodes.Import):
            ctx.setdefault("modules", {})[node.target] = macros
        else:
            for item in node.names:
                name, alias = item if isinstance(item, tuple) else (item, item)
                if name in macros:
                    ctx.setdefault("macros", {})[alias] = macros[name]


_PARTIAL_NODES = (nodes.Include, nodes.Import, nodes.FromImport, nodes.Extends)


def enumerate_paths(main: Scan, main_path: str, loader: Loader | None = None, limit: int = MAX_PATHS) -> PathSet:
    # Paths refer to literal text by token index, so a template that pulls in no partial has
    # the same paths whatever its literal text says: typing reuses them from its skeleton.
    skeleton = main.skeleton
    reusable = skeleton is not None and limit == MAX_PATHS and not skeleton.has(_PARTIAL_NODES)
    if reusable and skeleton.pathset is not None:
        return skeleton.pathset
    result = _enumerate(main, main_path, loader, limit)
    if reusable:
        skeleton.pathset = result
    return result


def _enumerate(main: Scan, main_path: str, loader: Loader | None, limit: int) -> PathSet:
    walker = _Walker(main, main_path, loader, limit)
    result = walker.result
    if main.tree is None:
        return result
    ctx: dict = {}
    for m in main.tree.find_all(nodes.Macro):
        ctx.setdefault("macros", {})[m.name] = (m, 0)
    try:
        extends = next(iter(main.tree.find_all(nodes.Extends)), None)
        if extends is not None and isinstance(extends.template, nodes.Const):
            k = walker.load(extends.template.value, 0, extends)
            if k is not None:
                ctx["blocks"] = {b.name: (b, 0) for b in main.tree.find_all(nodes.Block)}
                pctx = walker._partial_ctx(k)
                pctx["blocks"] = ctx["blocks"]
                pctx.setdefault("macros", {}).update(ctx.get("macros", {}))
                alts = walker.seq(walker.scans[k].tree.body, k, (), pctx)
            else:
                alts = walker.seq(main.tree.body, 0, (), ctx)
        else:
            alts = walker.seq(main.tree.body, 0, (), ctx)
        seen: set[tuple] = set()
        for segs, conds in alts:
            if segs in seen:
                continue
            seen.add(segs)
            result.paths.append(Path(segs, conds))
    except _TooMany:
        result.too_many = True
        result.paths = []
    except RecursionError:
        result.too_many = True
        result.paths = []
    return result
