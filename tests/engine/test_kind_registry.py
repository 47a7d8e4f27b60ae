"""A rule kind is one module behind one interface: a kind defined here, in the test only, loads,
lints, runs on every text of a template and reports, with nothing else in the code changed."""

from __future__ import annotations

from pathlib import Path

import pytest

from tmplstudio.policy import kinds
from tmplstudio.policy.engine import evaluate
from tmplstudio.policy.kinds import KINDS, Hit, Kind, PhraseEntry, TextKind
from tmplstudio.policy.lint import lint_file
from tmplstudio.policy.loader import load_pack
from tmplstudio.errors import InputError


class Shouting(TextKind):
    """Flags a listed word written in capitals (a made-up kind: its phrases use their own role,
    which the old engine never treated as a candidate, so such a kind silently never ran)."""

    name = "shouting"
    keys = ("words",)
    required = ("words",)

    def validate(self, params) -> None:
        params.strings("words")

    def phrases(self, rule):
        return [PhraseEntry("words", w, "word", candidate=True, reports=True) for w in rule.params.get("words", ())]

    def spans(self, i, rule, unit, ctx):
        occs = ctx.occurrences(unit).get((i, "word"), [])
        return [(o.start, o.end) for o in occs if unit.raw[slice(*unit.raw_span(o.start, o.end))].isupper()]


class BodyLongerThan(Kind):
    """A template-level kind: the literal body has more than ``chars`` characters."""

    name = "body_longer_than"
    keys = ("chars",)
    required = ("chars",)

    def validate(self, params) -> None:
        params.whole("chars")

    def run(self, i, rule, ctx):
        if len(ctx.source_unit.raw.strip()) <= rule.params["chars"]:
            return []
        s, e = ctx.body_line_span()
        return [Hit(rule, s, e, ctx.template.source[s:e], None, rule.severity)]


PACK = '''[pack]
id = "house"
title = "House"
version = "1"

[[rules]]
id = "no-shouting"
kind = "shouting"
severity = "warning"
message = "Do not shout."
source = [{ title = "House style", article = "§1", verified = "2026-12-01" }]
words = ["pay now"]
[[rules.escalate]]
severity = "error"
near = ["today"]
within = 10
[rules.examples]
hit = ["PAY NOW please"]
ok = ["pay now please"]

[[rules]]
id = "short-body"
kind = "body_longer_than"
severity = "info"
message = "Keep it short."
source = [{ title = "House style", article = "§2", verified = "2026-12-01" }]
chars = 30
[[rules.escalate]]
severity = "warning"
when = { channel = "sms" }
[rules.examples]
hit = ["Your balance is due; please contact us at your convenience."]
ok = ["Balance due."]
'''


@pytest.fixture
def registered():
    for kind in (Shouting(), BodyLongerThan()):
        kinds.register(kind)
    yield
    for name in ("shouting", "body_longer_than"):
        kinds.unregister(name)


def _pack(tmp_path: Path, text: str = PACK):
    path = tmp_path / "house.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_a_new_kind_loads_runs_and_reports(tmp_path, registered):
    pack = load_pack(_pack(tmp_path))
    assert [r.kind for r in pack.rules] == ["shouting", "body_longer_than"]
    source = ('+++\nlocale = "en-US"\nchannel = "sms"\n[samples.a]\nname = "Ann"\n+++\n'
              "Hi {{ name }}, PAY NOW or call us. We can help with a plan that suits you.\n")
    ev = evaluate(source, "t.j2", [pack])
    found = {f.rule: f for f in ev.findings}
    assert found["no-shouting"].text == "PAY NOW" and found["no-shouting"].severity.value == "warning"
    assert found["short-body"].severity.value == "warning"  # escalated by `when`, as for every kind
    assert any(s.rule == "no-shouting" for s in ev.renders["a"].spans)  # marked in the preview too
    ev = evaluate(source.replace("or call us", "today"), "t.j2", [pack])
    assert {f.rule: f.severity.value for f in ev.findings}["no-shouting"] == "error"  # escalated by `near`
    quiet = evaluate('+++\nlocale = "en-US"\n+++\npay now, thanks.\n', "t.j2", [pack])
    assert [f.rule for f in quiet.findings] == []


def test_a_new_kind_is_linted_and_its_examples_run(tmp_path, registered):
    assert lint_file(_pack(tmp_path)).problems == []
    broken = PACK.replace('chars = 30', 'chars = -1').replace('ok = ["pay now please"]', 'ok = ["PAY NOW please"]')
    problems = lint_file(_pack(tmp_path, broken)).problems
    assert {p.code for p in problems} == {"invalid", "example-fails"}
    line = broken.split("\n").index("chars = -1") + 1
    assert any("'chars' must be a non-negative whole number" in p.message and (p.line, p.column) == (line, 1) for p in problems)
    assert any("ok example 'PAY NOW please' triggers the rule" in p.message for p in problems)


def test_its_keys_belong_to_it_alone(tmp_path, registered):
    path = _pack(tmp_path, PACK.replace('words = ["pay now"]', 'phrases = ["pay now"]'))
    messages = [p.message for p in lint_file(path).problems]
    assert "rule 'no-shouting': unknown key 'phrases' for kind 'shouting' (kinds that take it: phrases)" in messages
    assert "rule 'no-shouting': kind 'shouting' needs 'words'" in messages
    with pytest.raises(InputError) as err:
        load_pack(path)
    assert "and 1 more problem" in err.value.message and err.value.line is not None


def test_without_it_registered_the_pack_is_refused_with_the_kinds_that_exist(tmp_path):
    assert "shouting" not in KINDS
    with pytest.raises(InputError) as err:
        load_pack(_pack(tmp_path))
    assert "unknown kind 'shouting'" in err.value.message and "kinds: phrases, near, pattern" in err.value.message
