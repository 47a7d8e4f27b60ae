"""What is remembered between evaluations (tmplstudio/reuse.py) never changes a result: the
corpora, typing sequences and the hostile fuzz cases give the same findings and previews with
reuse on (and warm) as with every memo switched off."""

from __future__ import annotations

import random
import sys
from pathlib import Path

import pytest

from tmplstudio.project import Project
from tmplstudio.reuse import REUSE

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "bench"))

import corpus_report  # noqa: E402


def _report(ev) -> tuple:
    findings = tuple((f.rule, f.pack, f.severity.value, f.start, f.end, f.sample, f.message, f.path, f.suppressed, f.file)
                     for f in ev.findings)
    renders = tuple((name, r.text, r.error, tuple((s.start, s.end, s.rule, s.severity.value) for s in r.spans))
                    for name, r in sorted(ev.renders.items()))
    return findings, renders


@pytest.fixture(scope="module")
def project():
    return Project.discover(ROOT)


def _sources() -> list[tuple[str, str]]:
    messages = corpus_report.load_corpus() + corpus_report.load_corpus(corpus_report.BLIND_DIR)
    return [(f"{m.id}.j2", m.source()) for m in messages]


def test_the_corpora_give_the_same_findings_with_reuse_on_and_off(project):
    sources = _sources()
    with REUSE.off():
        cold = [_report(project.evaluate(src, path)) for path, src in sources]
    REUSE.clear()
    for _ in range(2):  # the second pass answers from what the first remembered
        warm = [_report(project.evaluate(src, path)) for path, src in sources]
        assert warm == cold
    assert sum(hits for _n, hits, _m in REUSE.stats().values()) > 0, "the warm pass remembered nothing"


def test_typing_gives_the_same_findings_with_reuse_on_and_off(project):
    """Random edits (literal text, tags, newlines, deletions) to the bundled templates: every
    state is checked warm, right after the previous one, and cold."""
    rng = random.Random(20261204)
    templates = sorted((ROOT / "templates").glob("*.j2"))
    inserts = ["上门", "催收", "{{ name }}", "{% if x %}", "{% endif %}", "\n", "，", "否则", "arrest", "{#", "#}", "。", " "]
    for path in templates:
        text = path.read_text(encoding="utf-8")
        body = text.index("+++", 3) + 4
        for _ in range(12):
            at = rng.randrange(body, len(text) + 1)
            if rng.random() < 0.3 and at < len(text):
                text = text[:at] + text[at + rng.randint(1, 3):]
            else:
                text = text[:at] + rng.choice(inserts) + text[at:]
            warm = _report(project.evaluate(text, str(path)))
            with REUSE.off():
                cold = _report(project.evaluate(text, str(path)))
            assert warm == cold, f"{path.name}: warm and cold differ after typing\n{text}"


def test_hostile_templates_give_the_same_findings_with_reuse_on_and_off(project):
    """The sandbox-escape payloads (not the resource bombs, whose findings depend on time)."""
    sys.path.insert(0, str(ROOT / "tests" / "hostile"))
    from payloads import ESCAPES, SAMPLES

    assert len(ESCAPES) >= 40
    for name, body, _expected in ESCAPES:
        source = SAMPLES + body.replace("MARKER", "1")
        warm = [_report(project.evaluate(source, "h.j2")) for _ in range(2)]
        with REUSE.off():
            cold = _report(project.evaluate(source, "h.j2"))
        assert warm[0] == warm[1] == cold, name


def test_templates_with_the_same_tags_on_other_lines_keep_their_own_line_numbers(tmp_path):
    """Parsed tags are shared between texts with the same tags (typing in literal text parses
    nothing again); a shared tree must not carry another text's line numbers."""
    project = Project.discover(tmp_path)
    first = project.evaluate('+++\nlocale = "zh-CN"\n+++\n您好。{% include "missing.j2" %}\n', "a.j2")
    second = project.evaluate('+++\nlocale = "zh-CN"\n+++\n您好。\n\n\n{% include "missing.j2" %}\n', "b.j2")
    [a] = [f for f in first.findings if f.rule == "missing-partial"]
    [b] = [f for f in second.findings if f.rule == "missing-partial"]
    assert (a.line, b.line) == (4, 7)


def test_every_memo_is_switched_by_one_switch_and_cleared_by_one_clear(project):
    project.evaluate('+++\nlocale = "zh-CN"\n+++\n我们将上门催收。\n', "t.j2")
    stats = REUSE.stats()
    assert {"text.normalized_pieces", "text.words", "phrases.piece_scans", "templates.skeletons",
            "render.replays", "patterns.compiled", "patterns.piece_tables"} <= set(stats)
    assert any(entries for entries, _h, _m in stats.values())
    REUSE.clear()
    assert all(entries == 0 for entries, _h, _m in REUSE.stats().values())
    with REUSE.off():
        project.evaluate('+++\nlocale = "zh-CN"\n+++\n我们将上门催收。\n', "t.j2")
        assert all(entries == 0 for entries, _h, _m in REUSE.stats().values())
