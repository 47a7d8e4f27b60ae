"""Rendering untrusted templates: Jinja's SandboxedEnvironment, bounded in time and output size.

Templates come from many hands, so rendering must never execute anything, never hang and
never exhaust memory:

* ``SandboxedEnvironment`` blocks attribute walks to ``__class__``/``__globals__`` and friends;
* ``StrictUndefined`` turns a missing sample value into an error we report, not an empty string;
* every ``for`` loop is wrapped in a guard that checks a deadline on each iteration, and output
  is consumed chunk by chunk with the same deadline and a size cap;
* ``*``, ``**``, ``%`` and ``+`` are intercepted so ``'x' * 10**9`` fails fast, and filters that
  take a width (``center``, ``indent``, ``wordwrap``…) are capped;
* globals that can allocate without bound (``lipsum``) are removed.
"""

from __future__ import annotations

import operator
import re
import threading
import time
from typing import Any, Iterable

from contextlib import contextmanager

from jinja2 import BaseLoader, StrictUndefined, TemplateNotFound, nodes
from jinja2.exceptions import SecurityError, TemplateError, TemplateSyntaxError, UndefinedError
from jinja2.sandbox import SandboxedEnvironment

RENDER_SECONDS = 0.25
MAX_OUTPUT_CHARS = 100_000
MAX_SEQUENCE = 100_000
_WIDE_FORMAT = re.compile(r"%[-+ #0]*(\d{5,}|\*)")


class RenderLimitError(Exception):
    """A template tried to run too long or produce too much; reported as a `sandbox` finding."""


_state = threading.local()


def _check_deadline() -> None:
    deadline = getattr(_state, "deadline", None)
    if deadline is not None and time.perf_counter() > deadline:
        raise RenderLimitError(f"rendering took longer than {RENDER_SECONDS:.2f} s and was stopped")


def _guard(iterable: Iterable[Any]) -> Iterable[Any]:
    count = 0
    for item in iterable:
        count += 1
        if count > MAX_SEQUENCE:
            raise RenderLimitError(f"a loop ran more than {MAX_SEQUENCE:,} times and was stopped")
        _check_deadline()
        yield item


def mask(value: Any, keep: int = 4, char: str = "*") -> str:
    """Keep the last ``keep`` characters: '6222021234567890123' -> '***************0123'."""
    text = "" if value is None else str(value)
    keep = max(0, min(int(keep), 8))
    if len(text) <= keep:
        return text
    return char[:1] * (len(text) - keep) + text[-keep:] if keep else char[:1] * len(text)


def _size(value: Any) -> int:
    try:
        return len(value)
    except TypeError:
        return 1


def _bounded_width(name: str, func):
    def wrapper(value, *args, **kwargs):
        for arg in list(args) + list(kwargs.values()):
            if isinstance(arg, int) and abs(arg) > 10_000:
                raise RenderLimitError(f"filter '{name}' asked for a width of {arg:,}; the limit is 10,000")
        return func(value, *args, **kwargs)

    return wrapper


class TemplateSandbox(SandboxedEnvironment):
    intercepted_binops = frozenset(["*", "**", "%", "+"])

    def call_binop(self, context, operator_name, left, right):  # noqa: ANN001 - Jinja signature
        _check_deadline()
        if operator_name == "**":
            if isinstance(right, (int, float)) and abs(right) > 64 and not (isinstance(left, (int, float)) and abs(left) <= 1):
                raise RenderLimitError("an exponent above 64 was refused")
            return operator.pow(left, right)
        if operator_name == "*":
            for seq, n in ((left, right), (right, left)):
                if isinstance(n, int) and isinstance(seq, (str, list, tuple)) and _size(seq) * n > MAX_OUTPUT_CHARS:
                    raise RenderLimitError("a repetition would exceed the output limit")
            return operator.mul(left, right)
        if operator_name == "+":
            if isinstance(left, (str, list, tuple)) and _size(left) + _size(right) > MAX_OUTPUT_CHARS:
                raise RenderLimitError("a concatenation would exceed the output limit")
            return operator.add(left, right)
        if operator_name == "%":
            if isinstance(left, str) and _WIDE_FORMAT.search(left):
                raise RenderLimitError("a %-format width above 9,999 was refused")
            return operator.mod(left, right)
        return super().call_binop(context, operator_name, left, right)


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
    previous = getattr(_state, "loader", None), getattr(_state, "including", "")
    _state.loader, _state.including = loader, including
    try:
        yield
    finally:
        _state.loader, _state.including = previous


def make_environment() -> TemplateSandbox:
    # cache_size=0: partials are looked up per evaluation, never from another project's cache.
    env = TemplateSandbox(undefined=StrictUndefined, autoescape=False, loader=_PartialLoader(), cache_size=0)
    env.globals.pop("lipsum", None)
    env.filters["mask"] = mask
    env.filters["_tmplstudio_guard"] = _guard
    for name in ("center", "indent", "wordwrap", "truncate", "format", "batch", "slice"):
        if name in env.filters:
            env.filters[name] = _bounded_width(name, env.filters[name])
    return env


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
        loop.iter = nodes.Filter(loop.iter, "_tmplstudio_guard", [], [], None, None, lineno=loop.lineno)


def render_chunks(template, variables: dict[str, Any]) -> str:
    """Render with the deadline and the output cap; raises RenderLimitError or a Jinja error."""
    _state.deadline = time.perf_counter() + RENDER_SECONDS
    try:
        out: list[str] = []
        total = 0
        for chunk in template.generate(**variables):
            total += len(chunk)
            if total > MAX_OUTPUT_CHARS:
                raise RenderLimitError(f"output exceeded {MAX_OUTPUT_CHARS:,} characters and was stopped")
            _check_deadline()
            out.append(chunk)
        return "".join(out)
    finally:
        _state.deadline = None


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
    if isinstance(exc, TemplateSyntaxError):
        return "jinja-syntax", exc.message or str(exc)
    if isinstance(exc, TemplateError):
        return "render-error", str(exc)
    return "render-error", f"{type(exc).__name__}: {exc}"


__all__ = [
    "RENDER_SECONDS", "MAX_OUTPUT_CHARS", "RenderLimitError", "TemplateSandbox", "environment",
    "guard_loops", "render_chunks", "describe_error", "mask",
]
