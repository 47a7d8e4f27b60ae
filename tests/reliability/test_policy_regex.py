"""Policy regexes cannot hang the studio or CI, even ones built to slip past the load check."""

from __future__ import annotations

import re
import time
import tomllib
from pathlib import Path

import pytest

from tmplstudio.policy.engine import evaluate
from tmplstudio.policy.loader import build_pack
from tmplstudio.policy.patterns import compile_pattern, pattern_problem

# Each pattern passes `pattern_problem` (no "(a+)+" shape) yet backtracks catastrophically in
# a backtracking engine on the text next to it.
EVADERS = [
    ("alternation-star", r"(a|a)*b", "a" * 40),
    ("alternation-plus", r"(?:aa|a)+c", "a" * 40),
    ("optional-power", r"(?:a?){30}a{30}", "a" * 30),
    ("optional-chain", "a?" * 28 + "a" * 28, "a" * 28),
    ("bounded-nested", r"(?:a{1,20}){1,20}b", "a" * 60),
    ("wide-bounded", r"\d{1,300}\d{1,300}x", "1" * 5_000),
    ("quadratic-star", r"\s*x", " " * 90_000),
    ("quadratic-class", r"[^x]*y", "a" * 90_000),
    ("lookahead-star", r"(?=(a|a)*b)a", "a" * 40),
]


LITERAL = "'" * 3  # a TOML multi-line literal string: backslashes as written


def _pack(pattern: str):
    text = ('[pack]\nid = "evil"\ntitle = "t"\nversion = "1"\n[[rules]]\nid = "evil-pattern"\nkind = "pattern"\n'
            'severity = "warning"\nmessage = "m"\npatterns = [' + LITERAL + pattern + LITERAL + ']\n')
    data = tomllib.loads(text)
    assert data["rules"][0]["patterns"] == [pattern]
    return build_pack(data, Path("evil.toml"), text)


@pytest.mark.parametrize("name,pattern,text", EVADERS, ids=[e[0] for e in EVADERS])
def test_an_evading_pattern_still_finishes_quickly(name, pattern, text):
    assert pattern_problem(pattern) is None  # it slipped past the load check...
    pack = _pack(pattern)
    _, bounded = compile_pattern(pattern)
    assert bounded  # ...but it runs on the engine with a timeout
    for source in (f"+++\nlocale = 'en-US'\n+++\n{text}",                       # the literal text
                   f"+++\nlocale = 'en-US'\n[samples.a]\nv = '{text}'\n+++\n{{{{ v }}}}"):  # a rendering
        start = time.perf_counter()
        ev = evaluate(source, "t.j2", [pack])
        elapsed = time.perf_counter() - start
        assert elapsed < 1.0, f"{name}: {elapsed:.2f} s"
        assert all(f.rule in ("evil-pattern", "policy-timeout") for f in ev.findings), [f.rule for f in ev.findings]


def test_the_stdlib_engine_really_would_hang_on_them():
    """Why the patterns above must not reach `re`: a small input already takes long."""
    start = time.perf_counter()
    re.compile(r"(a|a)*b").search("a" * 22)
    assert time.perf_counter() - start > 0.05


@pytest.mark.parametrize("pattern", [r"(a+)+b", r"(\w*)*x", r"(x+y)+{2,}"])
def test_the_classic_runaway_shapes_are_refused_at_load(pattern):
    assert pattern_problem(pattern) is not None


@pytest.mark.parametrize("pattern", [r"1[3-9]\d{9}", r"\d{3,4}[- ]?\d{4}", r"\d{17}[\dx]", r"(?:通知|提醒|提示)",
                                     r"[a-z]{2,8}", r"(?:\d{4} ?)?\d{4}"])
def test_simple_patterns_keep_the_fast_stdlib_engine(pattern):
    compiled, bounded = compile_pattern(pattern)
    assert not bounded and isinstance(compiled, re.Pattern)


def test_one_unbounded_quantifier_uses_stdlib_only_on_short_texts():
    compiled, bounded = compile_pattern(r"\bhttps?://\S+")
    assert bounded
    short = [m.group(0) for m in compiled.finditer("see https://example.com now")]
    long_text = "see https://example.com now " + " " * 5_000
    long = [m.group(0) for m in compiled.finditer(long_text, timeout=0.5)]
    assert short == long == ["https://example.com"]


def test_a_runaway_pattern_times_out_once_per_template_not_once_per_sentence():
    """Texts are matched a sentence piece at a time; a pattern that runs out of time on the
    first piece is not tried on the other nineteen (which would take 20 timeouts)."""
    pack = _pack(r"(?:\d|\d\d)*-\d")
    body = ("编号" + "1" * 40 + "-。") * 20
    for _ in range(2):
        start = time.perf_counter()
        ev = evaluate(f'+++\nlocale = "zh-CN"\n+++\n{body}\n', "t.j2", [pack])
        elapsed = time.perf_counter() - start
        assert [f.rule for f in ev.findings if f.rule == "policy-timeout"] == ["policy-timeout"]
        assert elapsed < 1.5, f"{elapsed:.2f} s: the pattern was retried on every sentence"
