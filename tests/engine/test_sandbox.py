"""Templates are untrusted: rendering executes nothing and is bounded in time and size."""

import time

import pytest

from enginekit import run

NOTHING = """
[[rules]]
id = "noop"
kind = "phrases"
severity = "info"
message = "m"
phrases = ["zzzz"]
"""


def render_error(body: str) -> tuple[str | None, list[str]]:
    ev = run(NOTHING, '+++\n[samples.a]\nx = 1\n+++\n' + body)
    return ev.renders["a"].error, [f.rule for f in ev.findings]


@pytest.mark.parametrize("payload", [
    "{{ ''.__class__.__mro__[1].__subclasses__() }}",
    "{{ x.__class__.__init__.__globals__ }}",
    "{{ self._TemplateReference__context }}",
    "{{ cycler.__init__.__globals__.os }}",
    "{{ namespace.__init__.__globals__ }}",
])
def test_attribute_walks_are_blocked(payload):
    error, rules = render_error(payload)
    assert error is not None
    assert set(rules) & {"sandbox", "render-error", "undefined-variable"}


@pytest.mark.parametrize("payload", [
    "{{ 'x' * 10**9 }}",
    "{{ 2 ** 100000000 }}",
    "{% for a in range(100000) %}{% for b in range(100000) %}{% endfor %}{% endfor %}",
    "{% for a in range(100000) %}{{ 'yyyyyyyyyy' }}{% endfor %}",
    "{% macro m() %}{{ m() }}{% endmacro %}{{ m() }}",
    "{{ 'a'|center(10**9) }}",
    "{{ '%999999999d' % 1 }}",
    "{{ lipsum(10**6) }}",
])
def test_runaway_templates_stop_quickly(payload):
    start = time.perf_counter()
    error, rules = render_error(payload)
    assert time.perf_counter() - start < 1.0
    assert error is not None
    assert "sandbox" in rules or "render-error" in rules or "undefined-variable" in rules


def test_normal_rendering_with_loops_still_works():
    ev = run(NOTHING, '+++\n[samples.a]\nitems = ["a", "b"]\n+++\n{% for i in items %}{{ i }};{% endfor %}')
    assert ev.renders["a"].text == "a;b;"
