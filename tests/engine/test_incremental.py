"""What the engine remembers between evaluations never changes what it reports.

Typing reuses the last scan, rendering and paths, and texts are normalised and matched a
sentence piece at a time with each piece's results cached (docs/performance.md). Each shortcut
is checked here against the from-scratch computation it replaces.
"""

from __future__ import annotations

import random
import re
import tomllib
import unicodedata
from pathlib import Path

import pytest
from hypothesis import given, settings, strategies as st

from tests.ci.cikit import make_project
from tmplstudio.reuse import REUSE
from tmplstudio.policy.patterns import compile_pattern, piece_local
from tmplstudio.project import Project, bundled_pack_dir
from tmplstudio.render import sourcemap
from tmplstudio.text.normalize import Normalized, normalize, pieces

ROOT = Path(__file__).resolve().parents[2]
TEMPLATES = sorted((ROOT / "templates").glob("*.j2"))


def _whole(text: str) -> Normalized:
    """Normalisation of the whole text at once (no pieces, no cache)."""
    from tmplstudio.text.normalize import _normalize

    return _normalize(text)


ALPHABET = st.sampled_from(list("上门催收线户你好。？?；;！!，,\n\t .-_*·/0134579@$aArRsStT國際ＡＢ\u200b😀") + ["{{ x }}", "。\n\n", "a r r e s t"])


@settings(max_examples=400, deadline=None)
@given(st.lists(ALPHABET, max_size=60).map("".join))
def test_piecewise_normalisation_equals_whole_text(text):
    """Normalising sentence pieces and joining them is normalising the whole text. The one
    deliberate difference: spaced-out two-letter words (b e) fold only in a sentence that
    spaces words out (a r r e s t), not anywhere in the text."""
    got = normalize(text)
    assert "".join(pieces(text)) == text
    assert "".join(p for _at, p in got.pieces) == got.text or not got.pieces
    starts, ends, folded, raw = [], [], "", 0
    for piece in pieces(text):
        n = _whole(piece)
        folded += n.text
        starts += [s + raw for s in n.starts]
        ends += [e + raw for e in n.ends]
        raw += len(piece)
    assert (got.text, list(got.starts), list(got.ends)) == (folded, starts, ends)
    if not re.search(r"[a-z][ .\-_*·/][a-z]", unicodedata.normalize("NFKC", text).lower()):  # no spaced-out letters
        want = _whole(text)
        assert (got.text, list(got.starts), list(got.ends)) == (want.text, list(want.starts), list(want.ends))


def _corpus_texts() -> list[str]:
    texts = []
    for path in [*(ROOT / "tests" / "corpus").glob("*.toml"), *(ROOT / "tests" / "corpus" / "blind").glob("*.toml")]:
        texts += [m["text"] for m in tomllib.loads(path.read_text(encoding="utf-8"))["message"]]
    return texts


def _pack_patterns() -> list[str]:
    found: set[str] = set()
    for path in bundled_pack_dir().glob("*.toml"):
        for rule in tomllib.loads(path.read_text(encoding="utf-8")).get("rules", []):
            found.update(rule.get("patterns", []))
    return sorted(found)


def _matches(pattern: str, text: str) -> list[tuple[int, int]]:
    compiled, _bounded = compile_pattern(pattern)
    return [(m.start(), m.end()) for m in compiled.finditer(text)]


def test_piece_local_patterns_find_the_same_matches_piece_by_piece():
    """Every bundled pattern the engine matches per piece, on every corpus message (normalised
    and original), finds exactly what it finds on the whole text."""
    texts = _corpus_texts()
    local = [p for p in _pack_patterns() if piece_local(p)]
    assert len(texts) > 800 and len(local) > 40
    for text in texts:
        for variant in (normalize(text).text, text):
            parts, at = [], 0
            for piece in pieces(variant):
                parts.append((at, piece))
                at += len(piece)
            for pattern in local:
                by_piece = [(s + at, e + at) for at, piece in parts for s, e in _matches(pattern, piece)]
                assert by_piece == _matches(pattern, variant), (pattern, variant)


def test_a_pattern_is_skipped_only_where_it_cannot_match():
    """The literal pre-filter: on every corpus message (and on random texts built from the
    patterns' own literals), a bundled pattern that matches always finds one of its required
    literals in the text, so skipping texts without them never loses a match."""
    import random

    from tmplstudio.policy.patterns import required_literals

    texts = [normalize(t).text for t in _corpus_texts()]
    with_literals = [(p, required_literals(p)) for p in _pack_patterns() if required_literals(p)]
    assert len(with_literals) > 60
    rng = random.Random(3)
    pool = "".join(sorted({ch for _p, lits in with_literals for lit in lits for ch in lit})) + "0123456789 ,.，。"
    texts += ["".join(rng.choice(pool) for _ in range(rng.randint(1, 40))) for _ in range(3000)]
    for pattern, lits in with_literals:
        for text in texts:
            if _matches(pattern, text):
                assert any(lit in text for lit in lits), (pattern, lits, text)


@pytest.mark.parametrize("pattern, literals", [
    (r"回t退订", {"回t退订"}), (r"reply\s+stop|text stop", {"reply", "text stop"}), (r"a?b", {"b"}),
    (r"(ab)+c", {"ab"}), (r"x*", None), (r"[abc]d", {"d"}), (r"\d{13,19}", None), (r"(?:x|y)z", {"z"}),
    (r"K", {"k"}), (r"\u212a", None),
])
def test_required_literals_are_proven_conservatively(pattern, literals):
    from tmplstudio.policy.patterns import required_literals

    found = required_literals(pattern)
    assert (set(found) if found is not None else None) == literals


@pytest.mark.parametrize("pattern, local", [
    (r"\d{4}", True), (r"(?<![a-z])app(?![a-z])", True), (r"[^，。！？；,!?;\n]{0,8}?x", True),
    (r"^\s*【", False), (r"\]\s*$", False), (r"(?<=】[\s\S]*)】", False), (r"a.b", False),
    (r"[^a]", False), (r"x。", False), (r"\W", False), (r"[^，,!?\n]x", False),
])
def test_piece_locality_is_decided_conservatively(pattern, local):
    assert piece_local(pattern) is local


def _report(ev) -> tuple:
    findings = [(f.rule, f.pack, f.severity.value, f.start, f.end, f.sample, f.message, f.path, f.suppressed, f.file)
                for f in ev.findings]
    renders = {k: (r.text, r.error, sorted((s.start, s.end, s.rule) for s in r.spans)) for k, r in ev.renders.items()}
    return findings, renders


def test_typing_reports_what_a_fresh_start_reports():
    """Random keystrokes in the bundled templates (literal text, tags, whitespace control):
    after each one the warm engine's findings and previews equal a cold engine's."""
    rng = random.Random(11)
    warm = Project.discover(ROOT)
    typed = list("好的上门催收家人 。,？\n") + ["{{ name }}", "{%", "%}", "联系您的家人", "Reply STOP"]
    for path in TEMPLATES:
        text = path.read_text(encoding="utf-8")
        body_at = text.index("+++\n", 4) + 4 if text.startswith("+++") else 0
        warm.evaluate(text, path)
        for _ in range(6):
            i = rng.randint(body_at, len(text))
            j = min(len(text), i + rng.choice([0, 0, 1, 3]))
            text = text[:i] + rng.choice(typed) + text[j:]
            got = _report(warm.evaluate(text, path))
            REUSE.clear()
            want = _report(Project.discover(ROOT).evaluate(text, path))
            assert got == want, (path.name, text)


def test_renderings_are_not_replayed_where_output_can_differ():
    for body, replayable in [("{{ a }}b{% if c %}d{% endif %}", True), ("{{ [1, 2] | random }}x", False),
                             ("{% set s %}lit{% endset %}{{ s | upper }}", False), ("{{ lipsum(1) }}", False),
                             ("{% macro m() %}x{% endmacro %}{{ m() }}", False),
                             ("{% block sig %}【安和】{% endblock %}{% if '银行' in self.sig() %}a{% endif %}", False),
                             ("{% for i in [[1]] recursive %}{{ i }}{% endfor %}", False)]:
        sc = sourcemap.scan(body, 0)
        compiled = sourcemap.compile_traced(sc)
        try:
            sourcemap.render_traced(sc, compiled, {"a": 1, "c": True})
        except Exception:  # noqa: BLE001 - lipsum is not even offered by the sandbox
            pass
        assert bool(sc.skeleton.traces) is replayable, body


def test_traced_marker_nodes_are_never_taken_for_literal_tokens():
    """Compiling a skeleton for tracing replaces its literal nodes; a freed node's id reused by
    a marker node must not put that literal text on a path twice."""
    from tmplstudio.render.paths import enumerate_paths

    body = "AAA。{% for x in items %}{{ x }}；BBB{{ name }}CCC{% endfor %}DDD。"
    for _ in range(100):
        REUSE.clear()
        sc = sourcemap.scan(body, 0)
        sourcemap.compile_traced(sc)
        for path in enumerate_paths(sc, "t.j2").paths:
            data = [seg.index for seg in path.segs if seg.kind == "data"]
            assert data in ([0, 3], [0, 1, 2, 3]), data


def test_findings_after_a_timeout_are_complete_again(tmp_path):
    """A pattern that ran out of time is skipped on the template's other texts; the next
    evaluation of another text reports everything again."""
    make_project(tmp_path, '[pack]\nid = "t"\ntitle = "t"\nversion = "1"\n\n[[rules]]\nid = "dash-code"\nkind = "pattern"\n'
                           'severity = "error"\nmessage = "dash code"\npatterns = [\'(?:\\d|\\d\\d)*-\\d\']\n')

    def source(body: str) -> str:
        return f'+++\nchannel = "email"\nlocale = "en-US"\nsubject = "code 12-3"\n+++\n{body}\n'

    def found(project) -> list:
        ev = project.evaluate(source("x nothing here end"), tmp_path / "a.j2")
        return [(f.rule, f.text) for f in ev.findings]

    warm = Project.discover(tmp_path)
    slow = warm.evaluate(source("x " + "1" * 40 + "- end"), tmp_path / "a.j2")
    assert "policy-timeout" in [f.rule for f in slow.findings]
    REUSE.clear()
    assert found(warm) == found(Project.discover(tmp_path)) == [("dash-code", "12-3")]
