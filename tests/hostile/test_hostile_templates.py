"""Hostile templates: every payload becomes a finding, fast, in bounded memory, executing nothing."""

from __future__ import annotations

import gc
import resource
import time
import tracemalloc
from pathlib import Path

import jinja2
import pytest

from payloads import BOMBS, PAYLOADS, SAMPLES, STRUCTURE
from tmplstudio.policy.engine import evaluate
from tmplstudio.policy.loader import build_pack

PACK_TOML = """
[pack]
id = "hostile"
title = "t"
version = "1"
[[rules]]
id = "visit-threat"
kind = "phrases"
severity = "error"
message = "m"
phrases = ["上门", "arrest"]
[[rules]]
id = "digits"
kind = "pattern"
severity = "info"
message = "m"
patterns = ["\\\\d{6,}"]
"""
TIME_LIMIT = 1.0
MEMORY_LIMIT = 64 * 1024 * 1024  # peak traced Python allocations per payload


def _pack():
    import tomllib

    return build_pack(tomllib.loads(PACK_TOML), Path("hostile.toml"), PACK_TOML)


PACK = _pack()


def _source(body: str, marker: Path) -> str:
    return SAMPLES + body.replace("MARKER", str(marker))


@pytest.fixture(scope="module")
def rss_budget():
    """Peak RSS of the whole process may not grow by more than 256 MB over the corpus."""
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    yield
    grown_mb = (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before) / 1024
    assert grown_mb < 256, f"peak RSS grew by {grown_mb:.0f} MB over the hostile corpus"


@pytest.mark.parametrize("name,body,expected", PAYLOADS, ids=[p[0] for p in PAYLOADS])
def test_payload_is_a_finding_within_a_second_and_harmless(name, body, expected, tmp_path, rss_budget):
    marker = tmp_path / "pwned"
    source = _source(body, marker)
    start = time.perf_counter()
    ev = evaluate(source, "hostile.j2", [PACK])
    elapsed = time.perf_counter() - start
    rules = {f.rule for f in ev.findings}
    assert rules & expected, f"{name}: no {sorted(expected)} finding, got {sorted(rules)}"
    if expected & {"sandbox", "render-error"} and not rules & {"jinja-syntax"}:
        assert ev.renders["a"].error is not None, f"{name} rendered: {ev.renders['a'].text[:200]!r}"
    assert elapsed <= TIME_LIMIT, f"{name} took {elapsed:.2f} s"
    assert not marker.exists(), f"{name} created a file"
    for f in ev.findings:
        assert 0 <= f.start <= f.end <= len(source)


MEMORY_CASES = [p for p in BOMBS if p[2] != STRUCTURE]


def _render_in_this_process(source: str) -> None:
    """What a render worker does with the template (render/worker.py), here, so tracemalloc
    sees the sandbox's own allocations (a worker is another process)."""
    from tmplstudio.render import sandbox, sourcemap
    from tmplstudio.template.source import parse_template

    template = parse_template(source, "hostile.j2")
    scan = sourcemap.scan(template.body, template.body_start)
    if scan.tree is None:
        return
    with sandbox.partial_loader(None, "hostile.j2"):
        try:
            compiled = sourcemap.compile_traced(scan)
            for values in template.meta.samples.values():
                sourcemap.render_traced(scan, compiled, values)
        except Exception:  # noqa: BLE001 - the refusal is the point; its size is what is measured
            pass


@pytest.mark.parametrize("name,body,expected", MEMORY_CASES, ids=[p[0] for p in MEMORY_CASES])
def test_payload_memory_is_bounded(name, body, expected, tmp_path):
    """Peak Python allocations while the sandbox renders the payload and while the engine
    evaluates it (tracemalloc, so timing is not measured here: tracing slows allocation-heavy
    code several times)."""
    source = _source(body, tmp_path / "pwned")
    for run in (_render_in_this_process, lambda text: evaluate(text, "hostile.j2", [PACK])):
        gc.collect()
        tracemalloc.start()
        try:
            run(source)
            _, peak = tracemalloc.get_traced_memory()
        finally:
            tracemalloc.stop()
        assert peak <= MEMORY_LIMIT, f"{name} allocated {peak / 1e6:.0f} MB"


def test_the_escape_payloads_are_real(tmp_path):
    """The same payloads do run commands in a plain (unsandboxed) Jinja environment: the
    corpus tests the sandbox, not payloads that could never work."""
    marker = tmp_path / "pwned"
    jinja2.Environment().from_string(
        "{{ cycler.__init__.__globals__.os.popen('touch MARKER').read() }}".replace("MARKER", str(marker))
    ).render()
    assert marker.exists()


def test_many_samples_share_one_rendering_budget():
    """40 samples that each run a loop bomb: the evaluation's renders stop together (its
    100,000 steps run out after four samples; the others are not rendered)."""
    samples = "".join(f"[samples.s{i}]\nx = {i}\n" for i in range(40))
    source = f"+++\n{samples}+++\n{{% for a in range(99999) %}}{{% for b in range(99999) %}}{{% endfor %}}{{% endfor %}}"
    start = time.perf_counter()
    ev = evaluate(source, "many.j2", [PACK])
    assert time.perf_counter() - start <= 1.5
    assert all(r.error for r in ev.renders.values())
    assert sum(1 for f in ev.findings if f.rule == "sandbox") == 40


def test_many_samples_share_one_output_budget():
    """Each sample's output is capped, and so is their sum (normalising and matching 40 x 100,000
    characters would take seconds)."""
    samples = "".join(f"[samples.s{i}]\nx = {i}\n" for i in range(40))
    source = f"+++\n{samples}+++\n{{{{ 'abcdefghij' * 9000 }}}}"
    start = time.perf_counter()
    ev = evaluate(source, "many.j2", [PACK])
    assert time.perf_counter() - start <= 3.0
    rendered = sum(len(r.text or "") for r in ev.renders.values())
    assert rendered <= 400_000
    assert any(r.error for r in ev.renders.values())


def test_ordinary_templates_still_render():
    body = ("{% set ns = namespace(total=0) %}{% for i in items %}{{ loop.index }}. {{ i|upper }}{{ ', ' if not loop.last }}"
            "{% set ns.total = ns.total + 1 %}{% endfor %} ({{ ns.total }}) {{ '%05.1f' % 3.14159 }} {{ '{:>6}'.format('ok') }} "
            "{{ x ~ '-' ~ x }} {{ 'a,b'.split(',')|join('+') }} {{ ('ab' * 3)|replace('a', 'A') }} {{ 'x'|center(5) }}|"
            "{{ items|map('upper')|join }} {{ [1, 2, 3]|sum }} {{ 2 ** 10 }} {{ '%s=%d' % ('n', 7) }}")
    ev = evaluate(SAMPLES + body, "ok.j2", [PACK])
    assert ev.renders["a"].error is None, ev.renders["a"].error
    assert ev.renders["a"].text == "1. A, 2. B (2) 003.1     ok 1-1 a+b AbAbAb   x  |AB 6 1024 n=7"
