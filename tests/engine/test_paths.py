"""Every path through a template: branches, loops, macros, includes, imports and extends."""

from __future__ import annotations

import textwrap
import time
from pathlib import Path

import pytest

from tmplstudio.project import Project

PACK = textwrap.dedent("""
    [pack]
    id = "paths"
    title = "t"
    version = "1"

    [[rules]]
    id = "visit-threat"
    kind = "phrases"
    severity = "error"
    message = "visit"
    phrases = ["上门催收", "break your legs"]

    [[rules]]
    id = "opt-out-required"
    kind = "required"
    severity = "error"
    message = "needs opt-out"
    any = ["回T退订", "reply stop"]

    [[rules]]
    id = "sender-identity-required"
    kind = "required"
    severity = "error"
    message = "needs signature"
    patterns = ['^【[^】]{2,12}】']

    [[rules]]
    id = "sms-length-encoding"
    kind = "length"
    severity = "warning"
    message = "too long"
    counting = "cn"
    limits = [{ segments = 1 }]
""")


@pytest.fixture
def project(tmp_path: Path):
    (tmp_path / "policies").mkdir()
    (tmp_path / "policies" / "p.toml").write_text(PACK, encoding="utf-8")
    (tmp_path / "tmplstudio.toml").write_text('policies = ["policies"]\nbundled = false\n', encoding="utf-8")
    (tmp_path / "templates" / "_partials").mkdir(parents=True)

    def make(files: dict[str, str]):
        for name, text in files.items():
            p = tmp_path / "templates" / name
            p.parent.mkdir(parents=True, exist_ok=True)
            p.write_text(text, encoding="utf-8")
        proj = Project.discover(tmp_path)
        return proj, tmp_path / "templates"

    return make


def check(proj, folder: Path, name: str):
    path = folder / name
    return proj.evaluate(path.read_text(encoding="utf-8"), path)


def by_rule(ev, rule):
    return [f for f in ev.findings if f.rule == rule and not f.suppressed]


def test_violation_only_through_an_elif_in_an_included_partial(project):
    proj, folder = project({
        "_partials/footer.j2": "{% if days > 60 %}请立即还款{% elif days > 30 %}否则我们将上门催收{% endif %}回T退订",
        "main.j2": '+++\n[samples.a]\ndays = 3\n+++\n【某银行】您好，{% include "_partials/footer.j2" %}',
    })
    ev = check(proj, folder, "main.j2")
    [f] = by_rule(ev, "visit-threat")
    assert f.file and f.file.endswith("_partials/footer.j2")
    partial = (folder / "_partials/footer.j2").read_text(encoding="utf-8")
    assert (f.line, f.column) == (1, partial.index("上门催收") + 1)
    assert f.path == "when days > 30 (not days > 60)"
    assert ev.renders["a"].text == "【某银行】您好，回T退订"  # the sample takes another path


def test_opt_out_missing_in_one_branch_names_that_path(project):
    proj, folder = project({
        "m.j2": '+++\n[samples.a]\nmarketing = true\n+++\n【某银行】您好，{% if marketing %}新品上线，回T退订{% else %}账单已出{% endif %}',
    })
    ev = check(proj, folder, "m.j2")
    [f] = by_rule(ev, "opt-out-required")
    assert f.path == "when not marketing" and "when not marketing" in f.message


def test_loop_body_threat_reported_with_its_loop(project):
    proj, folder = project({
        "l.j2": '+++\n[samples.a]\nitems = []\n+++\n【某银行】您好{% for x in items %}，我们将上门催收{% endfor %}。回T退订',
    })
    ev = check(proj, folder, "l.j2")
    [f] = by_rule(ev, "visit-threat")
    assert f.path == "for each x in items" and f.sample is None


def test_phrase_split_across_a_tag_is_found_on_the_path_that_joins_it(project):
    proj, folder = project({"s.j2": '【某银行】我们将上门{% if late %}催收{% endif %}。回T退订'})
    ev = check(proj, folder, "s.j2")
    [f] = by_rule(ev, "visit-threat")
    assert f.path == "when late"


def test_path_explosion_falls_back_and_warns_quickly(project):
    body = "【某银行】您好" + "".join(f"{{% if v{i} %}}第{i}条{{% endif %}}" for i in range(20)) + "我们将上门催收。回T退订"
    proj, folder = project({"x.j2": body})
    start = time.perf_counter()
    ev = check(proj, folder, "x.j2")
    assert time.perf_counter() - start < 2
    assert by_rule(ev, "too-many-paths")
    assert by_rule(ev, "visit-threat")  # branch texts are still checked


def test_required_signature_from_an_imported_macro(project):
    proj, folder = project({
        "_partials/sig.j2": "{% macro sig() %}【某银行】{% endmacro %}",
        "i.j2": '{% from "_partials/sig.j2" import sig %}{{ sig() }}您好，回T退订',
    })
    ev = check(proj, folder, "i.j2")
    assert by_rule(ev, "sender-identity-required") == []


def test_extends_uses_the_child_blocks(project):
    proj, folder = project({
        "_partials/base.j2": "【某银行】{% block body %}默认内容{% endblock %}回T退订",
        "e.j2": '{% extends "_partials/base.j2" %}{% block body %}我们将上门催收{% endblock %}',
    })
    ev = check(proj, folder, "e.j2")
    assert by_rule(ev, "visit-threat")
    assert by_rule(ev, "opt-out-required") == [] and by_rule(ev, "sender-identity-required") == []


def test_missing_partial_cycle_and_recursive_macro_are_findings(project):
    proj, folder = project({
        "_partials/loop.j2": '{% include "_partials/loop.j2" %}',
        "a.j2": '【某银行】{% include "_partials/nope.j2" %}回T退订',
        "b.j2": '【某银行】{% include "_partials/loop.j2" %}回T退订',
        "c.j2": '【某银行】{% macro m() %}{{ m() }}{% endmacro %}{{ m() }}回T退订',
        "d.j2": '+++\n[samples.a]\nx = 1\n[samples.b]\nx = 2\n+++\n【某银行】{% include "_partials/nope.j2" %}回T退订',
    })
    [f] = by_rule(check(proj, folder, "a.j2"), "missing-partial")
    assert (f.line, f.column) == (1, 6) and "nope.j2" in f.message
    # One finding, at the tag: each sample's render stopping on it is the same problem.
    ev = check(proj, folder, "d.j2")
    assert len(by_rule(ev, "missing-partial")) == 1 and by_rule(ev, "render-error") == []
    assert by_rule(check(proj, folder, "b.j2"), "include-cycle")
    assert by_rule(check(proj, folder, "c.j2"), "macro-recursion")


def test_length_uses_the_longest_path_and_declared_max_len(project):
    long_branch = "尊敬的客户" * 10
    proj, folder = project({
        "len.j2": '+++\n[variables.name]\nmax_len = 20\n[samples.a]\nname = "张三"\nvip = false\n+++\n'
                  '【某银行】{{ name }}您好{% if vip %}' + long_branch + '{% endif %}回T退订',
    })
    ev = check(proj, folder, "len.j2")
    [f] = by_rule(ev, "sms-length-encoding")
    assert f.path == "when vip" and f.sample is None
    assert ev.renders["a"].stats.segments == 1  # the sample alone fits in one part


def test_path_analysis_keeps_the_studio_live_on_forty_branches(project):
    body = "【某银行】" + "".join(f"{{% if d > {i} %}}逾期{i}天{{% elif d > {i + 100} %}}请还款{{% endif %}}" for i in range(20)) + "回T退订"
    proj, folder = project({"forty.j2": "+++\n[samples.a]\nd = 5\n+++\n" + body})
    check(proj, folder, "forty.j2")
    times = []
    for k in range(20):
        text = (folder / "forty.j2").read_text(encoding="utf-8") + "好" * k
        t0 = time.perf_counter()
        proj.evaluate(text, folder / "forty.j2")
        times.append(time.perf_counter() - t0)
    assert sorted(times)[10] < 0.25  # generous bound for a loaded CI machine; bench/ measures the real figure
