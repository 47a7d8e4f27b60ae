"""Fuzz: path analysis never raises, stays bounded in paths, segments and time, and every
segment it reports points at a real literal or {{ }} tag of the right file."""

from __future__ import annotations

import time

from hypothesis import HealthCheck, given, settings, strategies as st

from tmplstudio.render import paths as paths_mod
from tmplstudio.render.paths import MAX_PATHS, enumerate_paths
from tmplstudio.render.sourcemap import scan

TAGS = st.sampled_from([
    "{% if a %}", "{% elif b %}", "{% else %}", "{% endif %}", "{% for i in items %}", "{% endfor %}",
    "{% macro m() %}", "{% macro n(x) %}", "{% endmacro %}", "{{ m() }}", "{{ n(1) }}", "{% call m() %}", "{% endcall %}",
    "{{ caller() }}", "{% include 'p.j2' %}", "{% include 'q.j2' %}", "{% include name %}", "{% import 'p.j2' as p %}",
    "{{ p.m() }}", "{% from 'p.j2' import m %}", "{% extends 'base.j2' %}", "{% block b %}", "{% endblock %}",
    "{% set x = 1 %}", "{% set y %}", "{% endset %}", "{% with %}", "{% endwith %}", "{% filter upper %}",
    "{% endfilter %}", "{{ x }}", "{{ a if b else c }}", "{{ x|mask }}", "上门", "text ", "\n", "{% raw %}", "{% endraw %}",
    "{# c #}", "{%- if a -%}", "{{- x -}}",
])
BODIES = st.lists(st.one_of(TAGS, st.text(max_size=4)), max_size=40).map("".join)
PARTIALS = {
    "p.j2": "{% macro m() %}from p {{ x }}{% if a %}A{% else %}B{% endif %}{% endmacro %}partial {% include 'q.j2' %}",
    "q.j2": "{% if z %}q{% endif %}{% include 'p.j2' %}",           # a cycle through p
    "base.j2": "+++\nid = 'base'\n+++\nhead {% block b %}default{% endblock %} tail",
}


def loader(name, including):
    return (name, PARTIALS[name]) if name in PARTIALS else None


def _check(pathset, main):
    assert len(pathset.paths) <= MAX_PATHS
    scans = [main] + [p.scan for p in pathset.partials]
    for path in pathset.paths:
        assert len(path.segs) <= paths_mod.MAX_PATH_SEGMENTS
        for seg in path.segs:
            assert 0 <= seg.file < len(scans)
            sc = scans[seg.file]
            if seg.kind == "data":
                assert 0 <= seg.index < len(sc.data)
            else:
                assert seg.kind == "var" and 0 <= seg.index < len(sc.vars)
    for problem in pathset.problems:
        assert problem.rule in ("missing-partial", "include-cycle", "macro-recursion", "dynamic-include")
        assert 0 <= problem.file < len(scans)


@settings(max_examples=400, suppress_health_check=[HealthCheck.too_slow], deadline=None)
@given(BODIES)
def test_paths_never_raise_and_point_at_real_tokens(body):
    main = scan(body, 0)
    start = time.perf_counter()
    pathset = enumerate_paths(main, "main.j2", loader)
    assert time.perf_counter() - start < 1.0
    if main.tree is None:
        assert pathset.paths == [] and not pathset.too_many
        return
    _check(pathset, main)


@settings(max_examples=40, suppress_health_check=[HealthCheck.too_slow], deadline=None)
@given(st.integers(2, 12), st.integers(2, 12), st.booleans())
def test_branch_and_macro_explosions_stop_within_a_second(width, depth, use_macros):
    if use_macros:
        body = "{% macro l0() %}x{% if a %}y{% endif %}{% endmacro %}" + "".join(
            "{% macro l" + str(k) + "() %}" + ("{{ l" + str(k - 1) + "() }}") * width + "{% endmacro %}" for k in range(1, depth)
        ) + "{{ l" + str(depth - 1) + "() }}"
    else:
        body = ("{% if a %}A{% elif b %}B{% else %}C{% endif %}" * width + "{% for i in items %}x{% endfor %}") * depth
    main = scan(body, 0)
    start = time.perf_counter()
    pathset = enumerate_paths(main, "main.j2", loader)
    assert time.perf_counter() - start < 1.0
    _check(pathset, main)
