"""Rendering untrusted templates: Jinja's SandboxedEnvironment, bounded in time and memory.

Templates come from many hands, so rendering must never execute anything, never hang and
never exhaust memory. Layers, from the outside in:

* ``SandboxedEnvironment`` blocks attribute walks to ``__class__``/``__globals__`` and friends;
  built-in lists, dicts and sets are immutable (``l.extend(l)`` would double a list per call);
  ``lipsum`` is removed;
* ``StrictUndefined`` turns a missing sample value into an error we report, not an empty string;
* **time**: one render gets ``RENDER_SECONDS`` and one evaluation (all its samples and its
  subject) ``EVALUATION_RENDER_SECONDS``. Every ``for`` loop, filter, call and intercepted
  operator checks the deadline, and a watchdog thread interrupts Python code that runs past it
  anyway (a recursive ``loop()``, a filter iterating internally) with an asynchronous
  exception;
* **size**: no operation may build a string longer than ``MAX_OUTPUT_CHARS`` or a sequence
  longer than ``MAX_SEQUENCE``, and the cost is estimated *before* the C code that would
  allocate it runs: ``*``/``**``/``%``/``+``/``~``, ``str.format`` widths (``'{:>999999999}'``),
  ``%``-format widths and precisions, ``ljust``/``center``/``zfill``/``expandtabs``,
  ``replace``, ``join``, ``translate``, the ``join``/``indent``/``wordwrap``/``sum`` filters,
  and the text of nested containers (``[l] * 1000`` prints a list a thousand times);
* **memory**: every guarded operation charges the size of what it builds to a per-render
  budget of ``MAX_WORK_CHARS``, so many medium allocations (``range(99999)|map('center', 9999)``)
  stop as surely as one huge one; output is consumed chunk by chunk with a size cap.

Everything the sandbox refuses raises ``RenderLimitError`` (a ``sandbox`` finding).
"""

from __future__ import annotations

import ctypes
import heapq
import itertools
import operator
import re
import string
import threading
import time
from collections import deque
from collections.abc import ItemsView, KeysView, Mapping, ValuesView
from contextlib import contextmanager
from typing import Any, Iterable, Iterator

from jinja2 import BaseLoader, StrictUndefined, TemplateNotFound, nodes
from jinja2.compiler import CodeGenerator
from jinja2.exceptions import SecurityError, TemplateError, TemplateSyntaxError, UndefinedError
from jinja2.runtime import Undefined
from jinja2.sandbox import SandboxedEnvironment, modifies_known_mutable
from jinja2.utils import Namespace

RENDER_SECONDS = 0.25
EVALUATION_RENDER_SECONDS = 0.6    # all renders of one evaluation together (many samples)
MAX_OUTPUT_CHARS = 100_000         # one rendering, and any string built on the way
MAX_EVALUATION_OUTPUT_CHARS = 400_000  # all renderings of one evaluation together
MAX_SEQUENCE = 100_000             # loop iterations, list lengths
MAX_WORK_CHARS = 5_000_000         # characters built by guarded operations in one render
MAX_WIDTH = 10_000                 # widths, paddings, precisions
MAX_INT_BITS = 100_000             # integers from * and **
WATCHDOG_GRACE = 0.05              # the watchdog interrupts this long after the deadline
_WIDE_FORMAT = re.compile(r"%(?:\([^)]*\))?[-+ #0]*(?:\d{5,}|\*)|%(?:\([^)]*\))?[-+ #0]*\d*\.(?:\d{5,}|\*)")
_PERCENT_FIELD = re.compile(r"%(?:\([^)]*\))?[-+ #0]*\d*(?:\.\d*)?[hlL]?[diouxXeEfFgGcrsa]")
_BIG_NUMBER = re.compile(r"\d{5,}")


class RenderLimitError(Exception):
    """A template tried to run too long or produce too much; reported as a `sandbox` finding."""


class RenderTimeout(RenderLimitError):
    """Raised asynchronously by the watchdog in a render that ran past its deadline."""

    def __init__(self, message: str | None = None):
        super().__init__(message or f"rendering took longer than {RENDER_SECONDS:.2f} s and was stopped")


_state = threading.local()


def _refuse(message: str) -> RenderLimitError:
    return RenderLimitError(message)


def _check_deadline() -> None:
    deadline = getattr(_state, "deadline", None)
    if deadline is not None and time.perf_counter() > deadline:
        raise RenderLimitError(f"rendering took longer than {RENDER_SECONDS:.2f} s and was stopped")


def _charge(chars: int) -> None:
    """Count characters (or items) built by a guarded operation against the render's budget."""
    if getattr(_state, "deadline", None) is None:
        return  # not rendering (a filter called by the engine itself)
    _state.work = work = getattr(_state, "work", 0) + max(int(chars), 0)
    if work > MAX_WORK_CHARS:
        raise RenderLimitError(f"the template built more than {MAX_WORK_CHARS:,} characters of intermediate text and was stopped")
    _check_deadline()


# ------------------------------------------------------------------ the watchdog

class _Watchdog:
    """Interrupts renders that run past their deadline, from another thread.

    Deadline checks in guards cover loops and operators; Python code that loops without
    touching them (a recursive ``loop()``, a generator inside a filter) is stopped by raising
    ``RenderTimeout`` in the rendering thread with ``PyThreadState_SetAsyncExc``. C code that
    could run long is never reached: the size checks refuse it before it starts.
    """

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.wake = threading.Condition(self.lock)
        self.heap: list[tuple[float, int, "_Arm"]] = []
        self.counter = itertools.count()
        self.thread: threading.Thread | None = None

    def arm(self, deadline: float) -> "_Arm":
        token = _Arm(threading.get_ident(), deadline)
        with self.lock:
            heapq.heappush(self.heap, (deadline + WATCHDOG_GRACE, next(self.counter), token))
            if self.thread is None or not self.thread.is_alive():
                self.thread = threading.Thread(target=self._run, name="tmplstudio-render-watchdog", daemon=True)
                self.thread.start()
            self.wake.notify()
        return token

    def disarm(self, token: "_Arm") -> bool:
        """Stop watching; True if the watchdog fired (an exception may still be pending)."""
        with self.lock:
            token.active = False
            return token.fired

    def _run(self) -> None:
        with self.lock:
            while True:
                while self.heap and not self.heap[0][2].active:
                    heapq.heappop(self.heap)
                if not self.heap:
                    self.wake.wait(30)
                    if not self.heap:
                        self.thread = None
                        return
                    continue
                when, _n, token = self.heap[0]
                delay = when - time.perf_counter()
                if delay > 0:
                    self.wake.wait(delay)
                    continue
                heapq.heappop(self.heap)
                if token.active:
                    token.fired = True
                    _async_raise(token.thread_id, RenderTimeout)
                    # Re-fire later if the render swallowed the exception and kept going.
                    heapq.heappush(self.heap, (time.perf_counter() + 0.1, next(self.counter), token))


class _Arm:
    __slots__ = ("thread_id", "deadline", "active", "fired")

    def __init__(self, thread_id: int, deadline: float):
        self.thread_id = thread_id
        self.deadline = deadline
        self.active = True
        self.fired = False

    def __lt__(self, other: "_Arm") -> bool:  # heap ties never compare tokens, but be safe
        return id(self) < id(other)


def _async_raise(thread_id: int, exc_type: type[BaseException] | None) -> None:
    ctypes.pythonapi.PyThreadState_SetAsyncExc(ctypes.c_ulong(thread_id), ctypes.py_object(exc_type) if exc_type else None)


_WATCHDOG = _Watchdog()


# ------------------------------------------------------------------ size estimates

def _size(value: Any) -> int:
    try:
        return len(value)
    except TypeError:
        return 1


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
            return limit + 1
    return total


def _check_text(value: Any, what: str, limit: int = MAX_OUTPUT_CHARS) -> None:
    if not isinstance(value, str) and text_size(value, limit) > limit:
        raise _refuse(f"{what} would print more than {limit:,} characters")


def _check_result(value: Any, what: str) -> Any:
    """Size of something a guarded operation built: refuse it if too big, else charge it."""
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
    for v in values:
        if isinstance(v, int) and not isinstance(v, bool) and abs(v) > MAX_WIDTH:
            raise _refuse(f"{what} asked for a width of {v:,}; the limit is {MAX_WIDTH:,}")


def _materialise(value: Iterable[Any], what: str) -> list[Any]:
    out: list[Any] = []
    for item in value:
        out.append(item)
        if len(out) > MAX_SEQUENCE:
            raise _refuse(f"{what} got more than {MAX_SEQUENCE:,} items")
        if len(out) % 1024 == 0:
            _check_deadline()
    return out


def _check_percent_format(fmt: str, args: Any) -> None:
    """``fmt % args``: widths, precisions and the number of fields times the widest argument."""
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
    count = 0
    for item in iterable:
        count += 1
        if count > MAX_SEQUENCE:
            raise RenderLimitError(f"a loop ran more than {MAX_SEQUENCE:,} times and was stopped")
        _check_deadline()
        yield item


def _guarded_iter(iterator: Iterator[Any], what: str) -> Iterator[Any]:
    count = 0
    for item in iterator:
        count += 1
        if count > MAX_SEQUENCE:
            raise _refuse(f"{what} produced more than {MAX_SEQUENCE:,} items")
        _charge(1 + (len(item) if isinstance(item, str) else 0))
        yield item


def _concat(items: tuple) -> str:
    """The ``~`` operator, with the size checked before the join."""
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


def _precheck_filter(name: str, value: Any, args: tuple, kwargs: dict) -> None:
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
        if total > MAX_OUTPUT_CHARS:
            raise _refuse("a join would exceed the output limit")
        parts.append(item)
        if len(parts) % 1024 == 0:
            _check_deadline()
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
    """Deadline and size checks around a filter; keeps Jinja's pass_context/... marker."""
    pass_arg = getattr(func, "jinja_pass_arg", None)
    skip = 1 if pass_arg is not None else 0

    def wrapper(*args, **kwargs):
        _check_deadline()
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
    owner = getattr(obj, "__self__", None)
    name = getattr(obj, "__name__", "")
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


class _GuardedCodeGenerator(CodeGenerator):
    """Compiles ``a ~ b`` to a size-checked join instead of Jinja's unchecked one."""

    def visit_Concat(self, node: nodes.Concat, frame) -> None:  # noqa: ANN001 - Jinja signature
        self.write("environment.guarded_concat((")
        for arg in node.nodes:
            self.visit(arg, frame)
            self.write(", ")
        self.write("))")


class TemplateSandbox(SandboxedEnvironment):
    intercepted_binops = frozenset(["*", "**", "%", "+"])
    code_generator_class = _GuardedCodeGenerator

    guarded_concat = staticmethod(_concat)

    @staticmethod
    def concat(parts: Iterable[str]) -> str:
        """Joins the output buffers of {% set %} blocks, macros, call and filter blocks."""
        parts = parts if isinstance(parts, list) else list(parts)
        total = sum(len(p) for p in parts)
        if total > MAX_OUTPUT_CHARS:
            raise RenderLimitError(f"a block or macro built more than {MAX_OUTPUT_CHARS:,} characters and was stopped")
        _charge(total)
        return "".join(parts)

    def getattr(self, obj: Any, attribute: str) -> Any:
        if isinstance(attribute, str) and attribute.startswith("_") and not (isinstance(obj, Mapping) and attribute in obj):
            # Private and dunder names are never safe; say so even when the object lacks them
            # (`request.application.__globals__` on a string), instead of "undefined".
            raise SecurityError(f"access to attribute {attribute!r} of {type(obj).__name__!r} object is unsafe.")
        return super().getattr(obj, attribute)

    def getitem(self, obj: Any, argument: Any) -> Any:
        if isinstance(argument, str) and argument.startswith("_") and not (isinstance(obj, Mapping) and argument in obj):
            raise SecurityError(f"access to item {argument!r} of {type(obj).__name__!r} object is unsafe.")
        return super().getitem(obj, argument)

    def unsafe_undefined(self, obj: Any, attribute: str):
        # Fail at the unsafe access itself: Jinja's default returns an undefined, and the next
        # step of the walk (`|attr('__mro__')` on it) would report a missing variable instead.
        raise SecurityError(f"access to attribute {attribute!r} of {type(obj).__name__!r} object is unsafe.")

    def is_safe_attribute(self, obj: Any, attr: str, value: Any) -> bool:
        # Immutable built-in containers: `l.extend(l)` doubles a list per call.
        return super().is_safe_attribute(obj, attr, value) and not modifies_known_mutable(obj, attr)

    def call_binop(self, context, operator_name, left, right):  # noqa: ANN001 - Jinja signature
        _check_deadline()
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
                if isinstance(n, int) and isinstance(seq, (str, list, tuple, bytes)) and _size(seq) * n > MAX_OUTPUT_CHARS:
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
        _check_deadline()
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
            _check_deadline()
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
        find = getattr(_state, "loader", None)
        found = find(template, getattr(_state, "including", "")) if find else None
        if found is None:
            raise TemplateNotFound(template)
        path, source = found
        from tmplstudio.template.frontmatter import split

        sp = split(source)
        body = source[sp.body_start:] if sp.has_front_matter else source
        return body, path, lambda: False


@contextmanager
def partial_loader(loader, including: str = ""):
    """Set the partial loader for one evaluation; also starts its rendering budget."""
    previous = (getattr(_state, "loader", None), getattr(_state, "including", ""),
                getattr(_state, "eval_deadline", None), getattr(_state, "eval_output", None))
    _state.loader, _state.including = loader, including
    if previous[2] is None:  # the outermost evaluation on this thread owns the budget
        _state.eval_deadline = time.perf_counter() + EVALUATION_RENDER_SECONDS
        _state.eval_output = 0
    try:
        yield
    finally:
        _state.loader, _state.including, _state.eval_deadline, _state.eval_output = previous


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
    """Wrap every `for` loop's iterable in the deadline guard (in place)."""
    for loop in (loops if loops is not None else list(tree.find_all(nodes.For))):
        if isinstance(loop.iter, nodes.Filter) and loop.iter.name == "_tmplstudio_guard":
            continue
        loop.iter = nodes.Filter(loop.iter, "_tmplstudio_guard", [], [], None, None, lineno=loop.lineno)


def render_chunks(template, variables: dict[str, Any]) -> str:
    """Render with the deadline and the output cap; raises RenderLimitError or a Jinja error."""
    now = time.perf_counter()
    deadline = now + RENDER_SECONDS
    eval_deadline = getattr(_state, "eval_deadline", None)
    if eval_deadline is not None:
        if now >= eval_deadline:
            raise RenderLimitError(f"this template's renderings together took longer than {EVALUATION_RENDER_SECONDS:.1f} s; "
                                   "this sample was not rendered")
        deadline = min(deadline, eval_deadline)
    eval_output = getattr(_state, "eval_output", None)
    limit = MAX_OUTPUT_CHARS
    if eval_output is not None:
        limit = min(limit, MAX_EVALUATION_OUTPUT_CHARS - eval_output)
        if limit <= 0:
            raise RenderLimitError(f"this template's renderings together exceeded {MAX_EVALUATION_OUTPUT_CHARS:,} characters; "
                                   "this sample was not rendered")
    outer = getattr(_state, "deadline", None), getattr(_state, "work", 0)
    _state.deadline = deadline if outer[0] is None else min(deadline, outer[0])
    _state.work = 0
    token = _WATCHDOG.arm(_state.deadline)
    total = 0
    try:
        out: list[str] = []
        for chunk in template.generate(**variables):
            total += len(chunk)
            if total > limit:
                raise RenderLimitError(f"output exceeded {limit:,} characters and was stopped")
            _check_deadline()
            out.append(chunk)
        return "".join(out)
    except RecursionError:
        raise RenderLimitError("recursion too deep (a macro or loop that calls itself?)") from None
    except MemoryError:
        raise RenderLimitError("rendering ran out of memory") from None
    finally:
        _finish(token)
        _state.deadline, _state.work = outer
        if eval_output is not None and getattr(_state, "eval_output", None) is not None:
            _state.eval_output += total


def account_output(n: int) -> bool:
    """Count ``n`` characters of a rendering rebuilt without Jinja (sourcemap.render_traced)
    against the output limits; False when they would not fit, and then it must be rendered."""
    if n > MAX_OUTPUT_CHARS:
        return False
    eval_output = getattr(_state, "eval_output", None)
    if eval_output is not None:
        if eval_output + n > MAX_EVALUATION_OUTPUT_CHARS:
            return False
        _state.eval_output = eval_output + n
    return True


def _finish(token: _Arm) -> None:
    """Disarm the watchdog; if it fired, make sure its exception cannot escape later."""
    while True:
        try:
            fired = _WATCHDOG.disarm(token)
            if fired:
                _async_raise(token.thread_id, None)  # clear a still-pending exception
            return
        except RenderTimeout:
            continue  # delivered right here: disarm again (it is not pending any more)


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
    "RENDER_SECONDS", "MAX_OUTPUT_CHARS", "RenderLimitError", "TemplateSandbox", "environment",
    "guard_loops", "render_chunks", "describe_error", "mask", "account_output",
]
