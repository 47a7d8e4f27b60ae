"""Rendering untrusted templates: Jinja's SandboxedEnvironment, bounded by counted work.

Templates come from many hands, so rendering must never execute anything, never hang and
never exhaust memory, and the same template must give the same findings on any machine. Layers,
from the outside in:

* the render runs in a worker process (``render/pool.py``, ``render/worker.py``) with OS limits
  (address space, CPU time, a wall-clock kill as the last resort): a crash or a loop inside C
  code costs that worker, never the CLI or the studio;
* ``SandboxedEnvironment`` blocks attribute walks to ``__class__``/``__globals__`` and friends;
  built-in lists, dicts and sets are immutable (``l.extend(l)`` would double a list per call);
  ``lipsum`` is removed; sample dates cannot read the clock (``.now()``, ``.today()``);
* ``StrictUndefined`` turns a missing sample value into an error we report, not an empty string;
* **steps**, not seconds: every loop iteration, filter, call, operator, comparison and printed
  value costs steps (a filter or comparison as many as the items it walks), ``MAX_STEPS`` per
  rendering and ``MAX_EVALUATION_STEPS`` for all renderings of one evaluation. Counting work
  instead of timing it makes the limit fall at the same place on a fast laptop and a loaded
  CI runner;
* **size**: no operation may build a string longer than ``MAX_OUTPUT_CHARS`` or a sequence
  longer than ``MAX_SEQUENCE``, and the cost is estimated *before* the C code that would
  allocate it runs: ``*``/``**``/``%``/``+``/``~``, ``str.format`` widths (``'{:>999999999}'``),
  ``%``-format widths and precisions, ``ljust``/``center``/``zfill``/``expandtabs``,
  ``replace``, ``join``, ``translate``, ``int.to_bytes``, the ``join``/``indent``/``wordwrap``/
  ``sum``/``tojson`` filters, and the text of nested containers (``[l] * 1000`` prints a list a
  thousand times);
* **memory**: every guarded operation charges the size of what it builds to a per-render
  budget of ``MAX_WORK_CHARS``, so many medium allocations (``range(99999)|map('center', 9999)``)
  stop as surely as one huge one; output is consumed chunk by chunk with a size cap.

Everything the sandbox refuses raises ``RenderLimitError`` (a ``sandbox`` finding).
"""

from __future__ import annotations

import datetime as _dt
import operator
import os
import re
import string
import threading
from collections import deque
from collections.abc import ItemsView, KeysView, Mapping, ValuesView
from contextlib import contextmanager
from typing import Any, Iterable, Iterator

from jinja2 import BaseLoader, StrictUndefined, TemplateNotFound, nodes
from jinja2.compiler import CodeGenerator
from jinja2.exceptions import SecurityError, TemplateError, TemplateSyntaxError, UndefinedError
from jinja2.runtime import LoopContext, Undefined
from jinja2.sandbox import SandboxedEnvironment, modifies_known_mutable
from jinja2.utils import Namespace

# A message template takes a few hundred steps; a step costs 1-15 us, so these stop a rendering
# within ~0.3 s and an evaluation within ~1 s on this project's CI machine, and at the same place
# on any machine.
MAX_STEPS = 25_000                 # steps of work in one rendering
MAX_EVALUATION_STEPS = 100_000     # all renderings of one evaluation together (many samples)
MAX_OUTPUT_CHARS = 100_000         # one rendering, and any string built on the way
MAX_EVALUATION_OUTPUT_CHARS = 400_000  # all renderings of one evaluation together
MAX_SEQUENCE = 100_000             # loop iterations, list lengths
MAX_WORK_CHARS = 5_000_000         # characters built by guarded operations in one render
MAX_WIDTH = 10_000                 # widths, paddings, precisions
MAX_INT_BITS = 100_000             # integers from * and **
MAX_PARTIAL_LOADS = 200            # partials loaded by one rendering (include in a loop counts each time)
# Sample dates and times come from TOML; these would read the clock (or the machine's time
# zone, which the worker pins to UTC), so the same approved inputs could render differently.
CLOCK_ATTRIBUTES = frozenset({"now", "today", "utcnow"})
_WIDE_FORMAT = re.compile(r"%(?:\([^)]*\))?[-+ #0]*(?:\d{5,}|\*)|%(?:\([^)]*\))?[-+ #0]*\d*\.(?:\d{5,}|\*)")
_PERCENT_FIELD = re.compile(r"%(?:\([^)]*\))?[-+ #0]*\d*(?:\.\d*)?[hlL]?[diouxXeEfFgGcrsa]")
_BIG_NUMBER = re.compile(r"\d{5,}")
# `TMPLSTUDIO_RENDER_BUDGETS=off` switches the step and size checks off, so the tests (and anyone
# investigating) can see the worker's OS limits catch what the checks would have refused.
BUDGETS_ENV = "TMPLSTUDIO_RENDER_BUDGETS"


class RenderLimitError(Exception):
    """A template tried to do too much work or produce too much; reported as a `sandbox` finding."""


_state = threading.local()


def budgets_on() -> bool:
    return os.environ.get(BUDGETS_ENV, "on").strip().lower() not in ("off", "0", "false", "no")


class Budget:
    """What all renderings of one evaluation may still spend (steps, output characters)."""

    __slots__ = ("steps", "output")

    def __init__(self, steps: int = MAX_EVALUATION_STEPS, output: int = MAX_EVALUATION_OUTPUT_CHARS):
        self.steps = steps
        self.output = output


class _Render:
    """Counters of the rendering running on this thread."""

    __slots__ = ("steps", "step_limit", "evaluation_limited", "work", "loads", "checks")

    def __init__(self, step_limit: int, evaluation_limited: bool, checks: bool):
        self.steps = 0
        self.step_limit = step_limit
        self.evaluation_limited = evaluation_limited  # the evaluation's budget, not MAX_STEPS, is the limit
        self.work = 0
        self.loads = 0
        self.checks = checks


def _refuse(message: str) -> RenderLimitError:
    return RenderLimitError(message)


def _checking() -> bool:
    """Are the size checks on? Also outside a rendering: compiling folds filters of constants
    (``{{ [1]|tojson(indent=50000000) }}`` would run at compile time)."""
    r = getattr(_state, "render", None)
    return r.checks if r is not None else budgets_on()


def _step(n: int = 1) -> None:
    """Count ``n`` steps of work against the rendering's budget."""
    r = getattr(_state, "render", None)
    if r is None or not r.checks:
        return  # not rendering (a filter called by the engine itself), or the checks are off
    r.steps += n
    if r.steps > r.step_limit:
        if r.evaluation_limited:
            raise RenderLimitError(f"this template's renderings together did more than {MAX_EVALUATION_STEPS:,} steps of "
                                   "work (loop iterations, calls, filters, comparisons) and were stopped")
        raise RenderLimitError(f"the template did more than {MAX_STEPS:,} steps of work (loop iterations, calls, "
                               "filters, comparisons) and was stopped")


def _charge(chars: int) -> None:
    """Count characters (or items) built by a guarded operation against the render's budget."""
    r = getattr(_state, "render", None)
    if r is None or not r.checks:
        return
    r.work += max(int(chars), 0)
    if r.work > MAX_WORK_CHARS:
        raise RenderLimitError(f"the template built more than {MAX_WORK_CHARS:,} characters of intermediate text and was stopped")
    _step()


# ------------------------------------------------------------------ size estimates

def _size(value: Any) -> int:
    try:
        return len(value)
    except TypeError:
        return 1


def _cells(value: Any) -> int:
    """Items of a sequence counting those of nested containers (``[[l] * 99999]`` is 100,000):
    what comparing, hashing or printing its repetition walks, in C."""
    if isinstance(value, (str, bytes)):
        return len(value)
    return max(_shape(value)[0], 1)


def text_size(value: Any, limit: int = MAX_OUTPUT_CHARS) -> int:
    """An upper-bound-ish estimate of ``len(str(value))``, walking nested containers but
    stopping as soon as it passes ``limit`` (shared references count each time they print)."""
    if isinstance(value, str):
        return len(value)
    total = 0
    stack = [value]
    steps = 0
    while stack:
        obj = stack.pop()
        steps += 1
        if isinstance(obj, str):
            total += len(obj) + 2
        elif isinstance(obj, (bytes, bytearray)):
            total += len(obj) * 4 + 3
        elif isinstance(obj, bool) or obj is None:
            total += 5
        elif isinstance(obj, int):
            total += obj.bit_length() // 3 + 2
        elif isinstance(obj, float):
            total += 24
        elif isinstance(obj, Namespace):
            total += 12
            stack.append(dict(obj.__dict__.get("_Namespace__attrs", {})))
        elif isinstance(obj, Mapping):
            total += 2 + 4 * len(obj)
            if len(obj) > limit:
                return limit + 1
            for k, v in obj.items():
                stack.append(k)
                stack.append(v)
        elif isinstance(obj, (list, tuple, set, frozenset, deque, KeysView, ValuesView, ItemsView)):
            total += 2 + 2 * len(obj)
            if len(obj) > limit:
                return limit + 1
            stack.extend(obj)
        elif isinstance(obj, Undefined):
            total += 16
        else:
            total += 80  # objects print as a short repr (ranges, generators, cyclers...)
        if total > limit or steps > limit:
            _step(steps)
            return limit + 1
    _step(steps)
    return total


def _check_text(value: Any, what: str, limit: int = MAX_OUTPUT_CHARS) -> None:
    if _checking() and not isinstance(value, str) and text_size(value, limit) > limit:
        raise _refuse(f"{what} would print more than {limit:,} characters")


def _check_result(value: Any, what: str) -> Any:
    """Size of something a guarded operation built: refuse it if too big, else charge it."""
    if not _checking():
        return value
    if isinstance(value, str):
        if len(value) > MAX_OUTPUT_CHARS:
            raise _refuse(f"{what} built a text of {len(value):,} characters; the limit is {MAX_OUTPUT_CHARS:,}")
        _charge(len(value))
    elif isinstance(value, (list, tuple, dict, set, frozenset, bytes)):
        if len(value) > MAX_SEQUENCE:
            raise _refuse(f"{what} built {len(value):,} items; the limit is {MAX_SEQUENCE:,}")
        _charge(len(value))
    return value


def _check_width(what: str, *values: Any) -> None:
    if not _checking():
        return
    for v in values:
        if isinstance(v, int) and not isinstance(v, bool) and abs(v) > MAX_WIDTH:
            raise _refuse(f"{what} asked for a width of {v:,}; the limit is {MAX_WIDTH:,}")


def _materialise(value: Iterable[Any], what: str) -> list[Any]:
    out: list[Any] = []
    for item in value:
        out.append(item)
        if len(out) > MAX_SEQUENCE and _checking():
            raise _refuse(f"{what} got more than {MAX_SEQUENCE:,} items")
    _step(len(out))
    return out


def _check_percent_format(fmt: str, args: Any) -> None:
    """``fmt % args``: widths, precisions and the number of fields times the widest argument."""
    if not _checking():
        return
    if _WIDE_FORMAT.search(fmt):
        raise _refuse(f"a %-format width or precision above {MAX_WIDTH - 1:,} was refused")
    fields = len(_PERCENT_FIELD.findall(fmt))
    if not fields:
        return
    if isinstance(args, tuple):
        widest = max((text_size(a) for a in args), default=0)
    elif isinstance(args, Mapping):
        widest = max((text_size(a) for a in args.values()), default=0)
    else:
        widest = text_size(args)
    if len(fmt) + fields * widest > MAX_OUTPUT_CHARS:
        raise _refuse("a %-format would exceed the output limit")


def _check_brace_format(fmt: str, args: tuple, kwargs: Mapping) -> None:
    """``fmt.format(...)``: format-spec widths (also nested ``{:{}}``) and repeated fields."""
    if not _checking():
        return
    fields = 0
    nested = False
    try:
        parsed = list(string.Formatter().parse(fmt))
    except ValueError:
        return  # str.format will raise the same error
    for _literal, field, spec, _conv in parsed:
        if field is None:
            continue
        fields += 1
        if spec:
            if "{" in spec:
                nested = True
            if _BIG_NUMBER.search(spec):
                raise _refuse(f"a format width or precision above {MAX_WIDTH - 1:,} was refused")
    values = list(args) + list(kwargs.values())
    if nested:
        _check_width("a nested format spec", *values)
    widest = max((text_size(v) for v in values), default=0)
    if len(fmt) + fields * widest > MAX_OUTPUT_CHARS:
        raise _refuse("a str.format call would exceed the output limit")


# ------------------------------------------------------------------ guarded operations

def _guard(iterable: Iterable[Any]) -> Iterable[Any]:
    """Every ``for`` loop's iterable (and a recursive loop's ``loop(...)`` argument): a step per item."""
    count = 0
    for item in iterable:
        count += 1
        if count > MAX_SEQUENCE and _checking():
            raise RenderLimitError(f"a loop ran more than {MAX_SEQUENCE:,} times and was stopped")
        _step()
        yield item


def _guarded_iter(iterator: Iterator[Any], what: str) -> Iterator[Any]:
    count = 0
    for item in iterator:
        count += 1
        if count > MAX_SEQUENCE and _checking():
            raise _refuse(f"{what} produced more than {MAX_SEQUENCE:,} items")
        _charge(1 + (len(item) if isinstance(item, str) else 0))
        yield item


def _concat(items: tuple) -> str:
    """The ``~`` operator, with the size checked before the join."""
    if not _checking():
        return "".join(i if isinstance(i, str) else str(i) for i in items)
    parts: list[str] = []
    total = 0
    for item in items:
        if not isinstance(item, str):
            _check_text(item, "a ~ concatenation")
            item = str(item)
        total += len(item)
        if total > MAX_OUTPUT_CHARS:
            raise _refuse("a ~ concatenation would exceed the output limit")
        parts.append(item)
    _charge(total)
    return "".join(parts)


def _finalize(value: Any) -> Any:
    """Every ``{{ }}`` value, before it is turned into text."""
    if not _checking():
        return value
    _step()
    if isinstance(value, str):
        if len(value) > MAX_OUTPUT_CHARS:
            raise _refuse(f"output exceeded {MAX_OUTPUT_CHARS:,} characters and was stopped")
        return value
    if not isinstance(value, (int, float)) or isinstance(value, bool):
        _check_text(value, "a {{ }} value")
    return value


def mask(value: Any, keep: int = 4, char: str = "*") -> str:
    """Keep the last ``keep`` characters: '6222021234567890123' -> '***************0123'."""
    text = "" if value is None else str(value)
    keep = max(0, min(int(keep), 8))
    if len(text) <= keep:
        return text
    return char[:1] * (len(text) - keep) + text[-keep:] if keep else char[:1] * len(text)


# Filters that take collections as they are (they do not print the whole value).
_COLLECTION_FILTERS = frozenset({
    "length", "count", "first", "last", "sort", "join", "map", "select", "reject", "selectattr", "rejectattr",
    "batch", "slice", "sum", "list", "unique", "reverse", "min", "max", "dictsort", "items", "groupby", "random",
    "attr", "default", "d", "_tmplstudio_guard", "tojson", "pprint", "string", "safe", "abs", "int", "float",
    "round", "filesizeformat",
})
_WIDTH_FILTERS = frozenset({"center", "indent", "wordwrap", "truncate", "batch", "slice"})


def _shape(value: Any, limit: int = MAX_SEQUENCE) -> tuple[int, int]:
    """(items, depth) of a nested value, counting at most ``limit`` items."""
    items = depth = 0
    stack = [(value, 1)]
    while stack and items <= limit:
        obj, d = stack.pop()
        if isinstance(obj, Mapping):
            children = [v for kv in obj.items() for v in kv]
        elif isinstance(obj, (list, tuple, set, frozenset, deque)):
            children = list(obj)
        else:
            continue
        depth = max(depth, d)
        items += len(children)
        stack.extend((c, d + 1) for c in children)
    _step(items)
    return items, depth


def _check_indent(value: Any, indent: Any) -> None:
    """``tojson(indent=N)``: every item of every level gets a line of N spaces per level."""
    if indent is None:
        return
    _check_width("filter 'tojson'", indent)
    width = len(indent) if isinstance(indent, str) else indent if isinstance(indent, int) else 0
    if isinstance(indent, str) and width > MAX_WIDTH:
        raise _refuse(f"filter 'tojson' asked for an indent of {width:,} characters; the limit is {MAX_WIDTH:,}")
    items, depth = _shape(value)
    if text_size(value) + (items + 1) * (max(width, 0) * depth + 1) > MAX_OUTPUT_CHARS:
        raise _refuse("filter 'tojson' with that indent would exceed the output limit")


def _precheck_filter(name: str, value: Any, args: tuple, kwargs: dict) -> None:
    if not _checking():
        return
    if isinstance(value, (list, tuple, dict, set, frozenset, range, deque)):
        _step(len(value))  # the filter walks every item (select, sort, unique, tojson, ...)
    if name == "tojson":
        _check_indent(value, args[0] if args else kwargs.get("indent"))
    if name in _WIDTH_FILTERS:
        _check_width(f"filter '{name}'", *args, *kwargs.values())
    if name not in _COLLECTION_FILTERS:
        _check_text(value, f"filter '{name}' on a value that")
    if name in ("tojson", "pprint", "string"):
        _check_text(value, f"filter '{name}' on a value that")
    elif name == "format" and isinstance(value, str):
        _check_percent_format(value, kwargs or tuple(args))
    elif name == "replace" and len(args) >= 2:
        s, old, new = str(value), str(args[0]), str(args[1])
        _check_replace(s, old, new, args[2] if len(args) > 2 else kwargs.get("count"))
    elif name == "indent":
        width = args[0] if args else kwargs.get("width", 4)
        pad = len(width) if isinstance(width, str) else (width if isinstance(width, int) else 4)
        lines = str(value).count("\n") + 2
        if len(str(value)) + lines * max(pad, 0) > MAX_OUTPUT_CHARS:
            raise _refuse("filter 'indent' would exceed the output limit")
    elif name == "wordwrap":
        width = args[0] if args else kwargs.get("width", 79)
        wrap = args[2] if len(args) > 2 else kwargs.get("wrapstring")
        text = str(value)
        if isinstance(width, int) and width < 1:
            return  # textwrap raises ValueError
        pieces = len(text) // max(int(width) if isinstance(width, int) else 1, 1) + text.count("\n") + 1
        if len(text) + pieces * max(len(str(wrap)) if wrap is not None else 1, 1) > MAX_OUTPUT_CHARS:
            raise _refuse("filter 'wordwrap' would exceed the output limit")
    elif name in ("center", "truncate"):
        pass  # widths checked above


def _check_replace(s: str, old: str, new: str, count: Any = None) -> None:
    if len(new) <= len(old):
        return
    n = (len(s) + 1) if old == "" else s.count(old)
    if isinstance(count, int) and count >= 0:
        n = min(n, count)
    if len(s) + n * (len(new) - len(old)) > MAX_OUTPUT_CHARS:
        raise _refuse("a replace would exceed the output limit")


def _guarded_join(value: Iterable[Any], d: Any = "", attribute: Any = None, *, environment=None) -> str:
    if attribute is not None and environment is not None:
        from jinja2.filters import make_attrgetter

        value = map(make_attrgetter(environment, attribute), value)
    sep = str(d)
    parts: list[str] = []
    total = 0
    for item in value:
        if not isinstance(item, str):
            _check_text(item, "an item of a join")
            item = str(item)
        total += len(item) + (len(sep) if parts else 0)
        if total > MAX_OUTPUT_CHARS and _checking():
            raise _refuse("a join would exceed the output limit")
        parts.append(item)
    _step(len(parts))
    _charge(total)
    return sep.join(parts)


def _guarded_sum(environment, iterable, attribute=None, start=0):
    if attribute is not None:
        from jinja2.filters import make_attrgetter

        iterable = map(make_attrgetter(environment, attribute), iterable)
    items = _materialise(iterable, "filter 'sum'")
    if not isinstance(start, (int, float)) or any(not isinstance(i, (int, float)) for i in items):
        total = _size(start) + sum(_size(i) for i in items)
        if total > MAX_SEQUENCE:
            raise _refuse("filter 'sum' would build more than the sequence limit")
    result = sum(items, start)
    if isinstance(result, int) and not isinstance(result, bool) and result.bit_length() > MAX_INT_BITS:
        raise _refuse("filter 'sum' built a number too large")
    return result


def _wrap_filter(name: str, func):
    """Step and size checks around a filter; keeps Jinja's pass_context/... marker."""
    pass_arg = getattr(func, "jinja_pass_arg", None)
    skip = 1 if pass_arg is not None else 0

    def wrapper(*args, **kwargs):
        _step()
        value = args[skip] if len(args) > skip else None
        _precheck_filter(name, value, args[skip + 1:], kwargs)
        result = func(*args, **kwargs)
        if isinstance(result, Iterator) and not isinstance(result, (str, bytes)):
            return _guarded_iter(result, f"filter '{name}'")
        return _check_result(result, f"filter '{name}'")

    if pass_arg is not None:
        wrapper.jinja_pass_arg = pass_arg  # type: ignore[attr-defined]
    wrapper.__name__ = getattr(func, "__name__", name)
    wrapper.__doc__ = getattr(func, "__doc__", None)
    return wrapper


def _bounded_width(name: str, func):
    """Kept for callers of the old helper: the full filter guard."""
    return _wrap_filter(name, func)


# str methods whose result can be much larger than the string itself.
_PAD_METHODS = frozenset({"ljust", "rjust", "center", "zfill", "expandtabs"})


def _precheck_call(obj: Any, args: tuple, kwargs: dict) -> "_JoinItems | None":
    if not _checking():
        return None
    owner = getattr(obj, "__self__", None)
    name = getattr(obj, "__name__", "")
    if isinstance(owner, (list, tuple, dict, set, frozenset, deque)):
        _step(len(owner))  # l.count(x), l.index(x), d.values(), ... walk the container
    elif isinstance(owner, str):
        _step(len(owner) // 64)
    if isinstance(owner, int) and name == "to_bytes":
        length = args[0] if args else kwargs.get("length", 1)
        if isinstance(length, int) and length > MAX_OUTPUT_CHARS:
            raise _refuse(f"int.to_bytes asked for {length:,} bytes; the limit is {MAX_OUTPUT_CHARS:,}")
    if isinstance(owner, str):
        if name in _PAD_METHODS:
            _check_width(f"str.{name}", *args, *kwargs.values())
            if name == "expandtabs":
                size = args[0] if args else kwargs.get("tabsize", 8)
                if isinstance(size, int) and len(owner) + owner.count("\t") * max(size, 0) > MAX_OUTPUT_CHARS:
                    raise _refuse("str.expandtabs would exceed the output limit")
        elif name == "replace" and len(args) >= 2 and isinstance(args[0], str) and isinstance(args[1], str):
            _check_replace(owner, args[0], args[1], args[2] if len(args) > 2 else kwargs.get("count"))
        elif name == "join" and args:
            items = _materialise(args[0], "str.join")
            total = len(owner) * max(len(items) - 1, 0) + sum(len(i) if isinstance(i, str) else 0 for i in items)
            if total > MAX_OUTPUT_CHARS:
                raise _refuse("str.join would exceed the output limit")
            return _JoinItems(items)
        elif name == "translate" and args and isinstance(args[0], Mapping):
            longest = max((len(v) for v in args[0].values() if isinstance(v, str)), default=1)
            if len(owner) * max(longest, 1) > MAX_OUTPUT_CHARS:
                raise _refuse("str.translate would exceed the output limit")
    elif isinstance(owner, (bytes, bytearray)) and name in _PAD_METHODS | {"replace", "join", "translate"}:
        raise _refuse(f"bytes.{name} is not allowed in templates")
    return None


class _JoinItems(list):
    """The materialised argument of a str.join call (a generator can be iterated only once)."""


_COMPARE = {
    "eq": operator.eq, "ne": operator.ne, "gt": operator.gt, "gteq": operator.ge, "lt": operator.lt,
    "lteq": operator.le, "in": lambda a, b: a in b, "notin": lambda a, b: a not in b,
}


def _compare_cost(value: Any) -> None:
    """Comparing or hashing a value walks all of it (in C, where no step can be counted)."""
    if isinstance(value, str):
        _step(len(value) // 64)
    elif isinstance(value, (list, tuple, dict, set, frozenset, deque, Namespace)):
        text_size(value, MAX_STEPS)  # charges a step per item it visits


def _compare(first: Any, *rest: Any) -> Any:
    """``a == b``, ``a in b``, ``a < b < c``: the operands' size in steps, then Python's comparison.
    Every operand is evaluated first (a chain does not stop evaluating at a false link)."""
    left = first
    result: Any = True
    for k in range(0, len(rest), 2):
        op, right = rest[k], rest[k + 1]
        if _checking():
            _step()
            _compare_cost(left)
            _compare_cost(right)
        result = _COMPARE[op](left, right)
        if not result:
            return result
        left = right
    return result


class _GuardedCodeGenerator(CodeGenerator):
    """Compiles ``a ~ b`` to a size-checked join instead of Jinja's unchecked one, and
    comparisons to a call that counts their operands' size first."""

    def visit_Concat(self, node: nodes.Concat, frame) -> None:  # noqa: ANN001 - Jinja signature
        self.write("environment.guarded_concat((")
        for arg in node.nodes:
            self.visit(arg, frame)
            self.write(", ")
        self.write("))")

    def visit_Compare(self, node: nodes.Compare, frame) -> None:  # noqa: ANN001 - Jinja signature
        self.write("environment.guarded_compare(")
        self.visit(node.expr, frame)
        for op in node.ops:
            self.write(f", {op.op!r}, ")
            self.visit(op.expr, frame)
        self.write(")")


class TemplateSandbox(SandboxedEnvironment):
    intercepted_binops = frozenset(["*", "**", "%", "+"])
    code_generator_class = _GuardedCodeGenerator

    guarded_concat = staticmethod(_concat)
    guarded_compare = staticmethod(_compare)

    @staticmethod
    def concat(parts: Iterable[str]) -> str:
        """Joins the output buffers of {% set %} blocks, macros, call and filter blocks."""
        parts = parts if isinstance(parts, list) else list(parts)
        total = sum(len(p) for p in parts)
        if total > MAX_OUTPUT_CHARS and _checking():
            raise RenderLimitError(f"a block or macro built more than {MAX_OUTPUT_CHARS:,} characters and was stopped")
        _charge(total)
        return "".join(parts)

    def getattr(self, obj: Any, attribute: str) -> Any:
        _step()
        if isinstance(attribute, str) and attribute.startswith("_") and not (isinstance(obj, Mapping) and attribute in obj):
            # Private and dunder names are never safe; say so even when the object lacks them
            # (`request.application.__globals__` on a string), instead of "undefined".
            raise SecurityError(f"access to attribute {attribute!r} of {type(obj).__name__!r} object is unsafe.")
        return super().getattr(obj, attribute)

    def getitem(self, obj: Any, argument: Any) -> Any:
        _step()
        if isinstance(argument, str) and argument.startswith("_") and not (isinstance(obj, Mapping) and argument in obj):
            raise SecurityError(f"access to item {argument!r} of {type(obj).__name__!r} object is unsafe.")
        return super().getitem(obj, argument)

    def unsafe_undefined(self, obj: Any, attribute: str):
        # Fail at the unsafe access itself: Jinja's default returns an undefined, and the next
        # step of the walk (`|attr('__mro__')` on it) would report a missing variable instead.
        if _reads_clock(obj, attribute):
            raise SecurityError(f"'{attribute}' reads the clock, and a template must render the same whenever it "
                                "runs; use the sample's own date")
        raise SecurityError(f"access to attribute {attribute!r} of {type(obj).__name__!r} object is unsafe.")

    def is_safe_attribute(self, obj: Any, attr: str, value: Any) -> bool:
        # Immutable built-in containers: `l.extend(l)` doubles a list per call.
        return (super().is_safe_attribute(obj, attr, value) and not modifies_known_mutable(obj, attr)
                and not _reads_clock(obj, attr))

    def call_binop(self, context, operator_name, left, right):  # noqa: ANN001 - Jinja signature
        if not _checking():
            return super().call_binop(context, operator_name, left, right)
        _step()
        if operator_name == "**":
            if isinstance(right, (int, float)) and not isinstance(right, bool):
                if isinstance(left, int) and isinstance(right, int) and right > 0 and abs(left) > 1:
                    if left.bit_length() * right > MAX_INT_BITS:
                        raise RenderLimitError("a power that large was refused")
                elif abs(right) > 64 and not (isinstance(left, (int, float)) and abs(left) <= 1):
                    raise RenderLimitError("an exponent above 64 was refused")
            return operator.pow(left, right)
        if operator_name == "*":
            for seq, n in ((left, right), (right, left)):
                if isinstance(n, int) and isinstance(seq, (str, list, tuple, bytes)) and _cells(seq) * n > MAX_OUTPUT_CHARS:
                    raise RenderLimitError("a repetition would exceed the output limit")
            if isinstance(left, int) and isinstance(right, int) and left.bit_length() + right.bit_length() > MAX_INT_BITS:
                raise RenderLimitError("a product that large was refused")
            return _check_result(operator.mul(left, right), "a repetition")
        if operator_name == "+":
            if isinstance(left, (str, list, tuple, bytes)) and _size(left) + _size(right) > MAX_OUTPUT_CHARS:
                raise RenderLimitError("a concatenation would exceed the output limit")
            return _check_result(operator.add(left, right), "a concatenation")
        if operator_name == "%":
            if isinstance(left, str):
                _check_percent_format(left, right)
                return _check_result(operator.mod(left, right), "a %-format")
            return operator.mod(left, right)
        return super().call_binop(context, operator_name, left, right)

    def call(__self, __context, __obj, *args, **kwargs):  # noqa: N805, ANN001 - Jinja signature
        _step()
        if isinstance(__obj, LoopContext) and args:
            args = (_guard(args[0]),) + args[1:]  # loop(...) of a recursive for: its items count too
        checked = _precheck_call(__obj, args, kwargs)
        if isinstance(checked, _JoinItems):
            args = (list(checked),) + args[1:]
        result = super().call(__context, __obj, *args, **kwargs)
        return _check_result(result, f"{getattr(__obj, '__name__', 'a call')}()")

    def wrap_str_format(self, value: Any):
        wrapped = super().wrap_str_format(value)
        if wrapped is None:
            return None
        fmt = value.__self__
        is_map = value.__name__ == "format_map"

        def checked(*args: Any, **kwargs: Any) -> str:
            _step()
            if is_map and len(args) == 1 and isinstance(args[0], Mapping):
                _check_brace_format(fmt, (), args[0])
            else:
                _check_brace_format(fmt, args, kwargs)
            return _check_result(wrapped(*args, **kwargs), "str.format")

        return checked


class _PartialLoader(BaseLoader):
    """Finds partials for include/import/extends through the loader of the evaluation running
    on this thread (the engine is shared by projects with different template folders)."""

    def get_source(self, environment, template):  # noqa: ANN001 - Jinja signature
        r = getattr(_state, "render", None)
        if r is not None:
            r.loads += 1
            if r.loads > MAX_PARTIAL_LOADS and r.checks:
                raise RenderLimitError(f"more than {MAX_PARTIAL_LOADS} partials were loaded in one rendering "
                                       "(does a partial include itself?)")
        find = getattr(_state, "loader", None)
        found = find(template, getattr(_state, "including", "")) if find else None
        if found is None:
            raise TemplateNotFound(template)
        path, source = found
        from tmplstudio.template.frontmatter import split

        sp = split(source)
        body = source[sp.body_start:] if sp.has_front_matter else source
        return body, path, lambda: False


def _reads_clock(obj: Any, attr: str) -> bool:
    if attr not in CLOCK_ATTRIBUTES:
        return False
    kinds = (_dt.date, _dt.time)
    return isinstance(obj, kinds) or (isinstance(obj, type) and issubclass(obj, kinds))


@contextmanager
def partial_loader(loader, including: str = "", budget: Budget | None = None):
    """Set the partial loader for one evaluation; the outermost one on this thread also owns
    the evaluation's rendering budget (``budget``, or a full one)."""
    previous = (getattr(_state, "loader", None), getattr(_state, "including", ""), getattr(_state, "budget", None))
    _state.loader, _state.including = loader, including
    if budget is not None or previous[2] is None:
        _state.budget = budget or Budget()
    try:
        yield
    finally:
        _state.loader, _state.including, _state.budget = previous


def evaluation_budget() -> Budget | None:
    """The budget of the evaluation running on this thread (None outside ``partial_loader``)."""
    return getattr(_state, "budget", None)


def make_environment() -> TemplateSandbox:
    # cache_size=0: partials are looked up per evaluation, never from another project's cache.
    env = TemplateSandbox(undefined=StrictUndefined, autoescape=False, loader=_PartialLoader(), cache_size=0,
                          finalize=_finalize)
    env.globals.pop("lipsum", None)
    env.filters["mask"] = mask
    env.filters["join"] = _pass_environment(_guarded_join)
    env.filters["sum"] = _pass_environment_sum()
    for name, func in list(env.filters.items()):
        if name != "_tmplstudio_guard":
            env.filters[name] = _wrap_filter(name, func)
    env.filters["_tmplstudio_guard"] = _guard
    return env


def _pass_environment(func):
    from jinja2.utils import pass_environment

    @pass_environment
    def join(environment, value, d="", attribute=None):
        return func(value, d, attribute, environment=environment)

    return join


def _pass_environment_sum():
    from jinja2.utils import pass_environment

    @pass_environment
    def sum_(environment, iterable, attribute=None, start=0):
        return _guarded_sum(environment, iterable, attribute, start)

    return sum_


_env_lock = threading.Lock()
_env: TemplateSandbox | None = None


def environment() -> TemplateSandbox:
    global _env
    if _env is None:
        with _env_lock:
            if _env is None:
                _env = make_environment()
    return _env


def guard_loops(tree: nodes.Template, loops: list[nodes.For] | None = None) -> None:
    """Wrap every `for` loop's iterable in the step guard (in place)."""
    for loop in (loops if loops is not None else list(tree.find_all(nodes.For))):
        if isinstance(loop.iter, nodes.Filter) and loop.iter.name == "_tmplstudio_guard":
            continue
        loop.iter = nodes.Filter(loop.iter, "_tmplstudio_guard", [], [], None, None, lineno=loop.lineno)


class Cost:
    """What the last rendering on this thread spent (steps, output characters)."""

    __slots__ = ("steps", "output")

    def __init__(self, steps: int = 0, output: int = 0):
        self.steps = steps
        self.output = output


def last_cost() -> Cost:
    return getattr(_state, "last", None) or Cost()


def render_chunks(template, variables: dict[str, Any]) -> str:
    """Render with the step budget and the output cap; raises RenderLimitError or a Jinja error.
    The steps and output it spent are charged to the evaluation's budget (``last_cost`` tells)."""
    budget = getattr(_state, "budget", None)
    checks = budgets_on()
    _state.last = cost = Cost()
    limit = MAX_OUTPUT_CHARS
    step_limit, evaluation_limited = MAX_STEPS, False
    if budget is not None and checks:
        if budget.steps <= 0:
            raise RenderLimitError(f"this template's renderings together did more than {MAX_EVALUATION_STEPS:,} steps of work; "
                                   "this sample was not rendered")
        if budget.output <= 0:
            raise RenderLimitError(f"this template's renderings together exceeded {MAX_EVALUATION_OUTPUT_CHARS:,} characters; "
                                   "this sample was not rendered")
        if budget.steps < step_limit:
            step_limit, evaluation_limited = budget.steps, True
        limit = min(limit, budget.output)
    outer = getattr(_state, "render", None)
    _state.render = r = _Render(step_limit, evaluation_limited, checks)
    total = 0
    try:
        out: list[str] = []
        for chunk in template.generate(**variables):
            total += len(chunk)
            if total > limit and checks:
                raise RenderLimitError(f"output exceeded {limit:,} characters and was stopped")
            out.append(chunk)
        return "".join(out)
    except RecursionError:
        raise RenderLimitError("recursion too deep (a macro or loop that calls itself?)") from None
    except MemoryError:
        raise RenderLimitError("rendering ran out of memory") from None
    finally:
        _state.render = outer
        cost.steps, cost.output = min(r.steps, r.step_limit + 1), total
        if budget is not None:
            budget.steps -= cost.steps
            budget.output -= total


def account_replay(steps: int, chars: int) -> bool:
    """Charge a rendering rebuilt without Jinja (sourcemap's replay of a remembered trace) to
    the evaluation's budget, exactly as rendering it would have; False when it would not fit
    (then it must be rendered, and stops where the budget runs out)."""
    if chars > MAX_OUTPUT_CHARS:
        return False
    budget = getattr(_state, "budget", None)
    if budget is not None and budgets_on():
        if steps > budget.steps or chars > budget.output:
            return False
        budget.steps -= steps
        budget.output -= chars
    return True


def describe_error(exc: BaseException) -> tuple[str, str]:
    """(rule id, message) for an exception raised while rendering."""
    if isinstance(exc, RenderLimitError):
        return "sandbox", str(exc)
    if isinstance(exc, SecurityError):
        return "sandbox", f"blocked by the sandbox: {exc}"
    if isinstance(exc, UndefinedError):
        return "undefined-variable", str(exc)
    if isinstance(exc, RecursionError):
        return "sandbox", "recursion too deep (a macro that calls itself?)"
    if isinstance(exc, MemoryError):
        return "sandbox", "rendering ran out of memory"
    if isinstance(exc, OverflowError):
        return "sandbox", f"refused by the sandbox: {exc}"
    if isinstance(exc, TemplateSyntaxError):
        return "jinja-syntax", exc.message or str(exc)
    if isinstance(exc, TemplateNotFound):
        return "missing-partial", f"partial '{exc.name}' not found"
    if isinstance(exc, TemplateError):
        return "render-error", str(exc)
    return "render-error", f"{type(exc).__name__}: {exc}"


__all__ = [
    "MAX_STEPS", "MAX_OUTPUT_CHARS", "RenderLimitError", "TemplateSandbox", "environment", "Budget",
    "guard_loops", "render_chunks", "describe_error", "mask", "account_replay", "last_cost", "partial_loader",
]
