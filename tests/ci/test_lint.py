"""`tmplstudio policy lint`: every check with a pack that triggers it and one that does not."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from tests.ci.cikit import make_project, tmplstudio, write
from tmplstudio.policy.lint import lint_file, lint_paths

HEADER = '[pack]\nid = "t"\ntitle = "T"\nversion = "1"\nlocales = ["zh"]\n'

# A rule with nothing to complain about; the cases below change one thing in it.
GOOD_RULE = textwrap.dedent('''
    [[rules]]
    id = "visit"
    kind = "phrases"
    severity = "error"
    message = "Announces a visit."
    source = [{ title = "《刑法》", article = "第二百九十三条之一（二）", verified = "2026-12-01" }]
    phrases = ["上门催收", "上门追讨"]
    allow = ["上门服务"]
    [rules.examples]
    hit = ["我们将上门催收"]
    ok = ["可预约上门服务"]
''')

SOURCE = 'source = [{ title = "《刑法》", article = "第二百九十三条之一（二）", verified = "2026-12-01" }]'

GOOD_PATTERN = textwrap.dedent('''
    [[rules]]
    id = "idno"
    kind = "pattern"
    severity = "error"
    message = "ID number."
    source = [{ title = "《个人信息保护法》", article = "第五十一条（三）", verified = "2026-12-01" }]
    patterns = ['(?<!\\d)\\d{17}[\\dx](?!\\d)']
    [rules.examples]
    hit = ["身份证11010519491231002X"]
    ok = ["订单号123"]
''')


def lint(tmp_path: Path, text: str, name: str = "p.toml"):
    path = write(tmp_path / name, text)
    return lint_file(path).problems


def codes(problems) -> list[tuple[str, str]]:
    return [(p.level, p.code) for p in problems]


def test_a_clean_pack_has_no_problems(tmp_path):
    assert lint(tmp_path, HEADER + GOOD_RULE + GOOD_PATTERN) == []


# (check, pack text that triggers it, expected level, text the message must contain)
TRIGGERS = [
    ("toml", HEADER + GOOD_RULE.replace('phrases = ["上门催收", "上门追讨"]', 'phrases = ["上门催收",'), "error", "not valid TOML"),
    ("unknown-key", HEADER + GOOD_RULE.replace("allow =", "alow ="), "error", "did you mean 'allow'"),
    ("unknown-key", HEADER.replace("locales", "locale") + GOOD_RULE, "error", "did you mean 'locales'"),
    ("unknown-key", HEADER + GOOD_RULE.replace("hit = [", "hits = ["), "error", "did you mean 'hit'"),
    ("unknown-key", HEADER + GOOD_RULE.replace('allow = ["上门服务"]', 'allow = ["上门服务"]\nwhen = { sender_rol = "creditor" }'),
     "error", "did you mean 'sender_role'"),
    ("unknown-kind", HEADER + GOOD_RULE.replace('kind = "phrases"', 'kind = "phrase"'), "error", "did you mean 'phrases'"),
    ("duplicate-id", HEADER + GOOD_RULE + GOOD_RULE, "error", "used twice"),
    ("regex", HEADER + GOOD_PATTERN.replace("patterns = [", "patterns = ['(a+)+$', "), "error", "nested unbounded"),
    ("regex", HEADER + GOOD_PATTERN.replace("patterns = [", "patterns = ['[unclosed', "), "error", "invalid regular expression"),
    ("never-matches", HEADER + GOOD_RULE.replace('"上门追讨"', '"\\u200b\\u200d"'), "error", "empty after normalisation"),
    ("never-matches", HEADER + GOOD_PATTERN.replace("patterns = [", "patterns = ['上門', "), "error", "'門' → '门'"),
    ("never-matches", HEADER + GOOD_PATTERN.replace("patterns = [", "patterns = ['ＩＤ\\d+', "), "error", "'Ｉ' → 'i'"),
    ("shadowed", HEADER + GOOD_RULE.replace('allow = ["上门服务"]', 'allow = ["上门服务", "上門追討"]'), "error", "every hit lies inside"),
    ("example-fails", HEADER + GOOD_RULE.replace('hit = ["我们将上门催收"]', 'hit = ["我们将上门催收", "您好"]'), "error",
     "hit example '您好' does not trigger"),
    ("example-fails", HEADER + GOOD_RULE.replace('ok = ["可预约上门服务"]', 'ok = ["可预约上门服务", "他们要上门追讨了"]'), "error",
     "ok example '他们要上门追讨了' triggers the rule on '上门追讨'"),
    ("invalid", HEADER + GOOD_RULE.replace('severity = "error"', 'severity = "fatal"'), "error", "severity must be"),
    ("redundant-phrase", HEADER + GOOD_RULE.replace('"上门追讨"', '"上门追讨", "上門追討"'), "warning", "'上門追討' matches exactly what '上门追讨' matches (both normalise to '上门追讨')"),
    ("invisible", HEADER + GOOD_RULE.replace('"上门追讨"', '"上门\\u200b追讨"'), "warning", "'上门\\u200b追讨' contains invisible"),
    ("literal-star", HEADER + GOOD_RULE.replace('"上门追讨"', '"上门*追讨"'), "warning", "matches only '上门追讨'"),
    ("no-examples", HEADER + GOOD_RULE.replace('ok = ["可预约上门服务"]', ""), "warning", "no 'ok' example"),
    ("no-examples", HEADER + GOOD_RULE.replace('hit = ["我们将上门催收"]', ""), "warning", "no 'hit' example"),
    ("no-source", HEADER + GOOD_RULE.replace(SOURCE + "\n", ""), "warning", "no 'source'"),
    # The old string form still loads, but says neither which provision nor when it was checked.
    ("incomplete-source", HEADER + GOOD_RULE.replace(SOURCE, 'source = ["刑法 293-1"]'), "warning",
     "source '刑法 293-1' has no article and no verification date"),
    ("incomplete-source", HEADER + GOOD_RULE.replace(', verified = "2026-12-01"', ""), "warning", "has no verification date"),
    ("incomplete-source", HEADER.replace('locales', 'sources = ["Demo guide"]\nlocales') + GOOD_RULE, "warning",
     "[pack]: source 'Demo guide' has no article"),
    ("unknown-key", HEADER + GOOD_RULE.replace("article =", "articel ="), "error", "did you mean 'article'"),
    ("invalid", HEADER + GOOD_RULE.replace('verified = "2026-12-01"', 'verified = "1.12.2026"'), "error", "as YYYY-MM-DD"),
    ("invalid", HEADER + GOOD_RULE.replace('title = "《刑法》", ', ""), "error", "needs a 'title'"),
    ("example-fails", HEADER + GOOD_RULE.replace('hit = ["我们将上门催收"]', 'hit = [{ text = "我们将上门催收", severity = "warning" }]'),
     "error", "is reported as error, not warning"),
]


@pytest.mark.parametrize("code, text, level, says", TRIGGERS, ids=[f"{t[0]}-{i}" for i, t in enumerate(TRIGGERS)])
def test_each_check_fires_on_its_fixture(tmp_path, code, text, level, says):
    problems = lint(tmp_path, text)
    mine = [p for p in problems if p.code == code]
    assert mine, f"expected {code}, got {[str(p) for p in problems]}"
    assert mine[0].level == level
    assert any(says in p.message for p in mine), [p.message for p in mine]
    assert all(p.line for p in mine)  # every problem points at a line


# Near misses: each looks like a trigger above but is fine.
NEAR_MISSES = [
    ("unknown-key", HEADER + GOOD_RULE.replace('allow = ["上门服务"]', 'allow = ["上门服务"]\nwhen = { not_channel = "push", flags.attorney_involved = false }')),
    ("regex", HEADER + GOOD_PATTERN.replace("patterns = [", "patterns = ['(?:\\.[a-z]+)+', ")),
    # A class holding both forms is redundant, not unmatchable.
    ("never-matches", HEADER + GOOD_PATTERN.replace("patterns = [", "patterns = ['[門门]口', ")),
    # match_on = "original" matches the text as written: Traditional characters are the point.
    ("never-matches", HEADER + GOOD_PATTERN.replace("patterns = [", "patterns = ['上門', ")
     .replace("[rules.examples]", 'match_on = "original"\n[rules.examples]').replace('hit = [', 'hit = ["上門", ')),
    ("shadowed", HEADER + GOOD_RULE),                                  # allow 上门服务 is a context around 上门, not the phrase
    ("redundant-phrase", HEADER + GOOD_RULE.replace('"上门追讨"', '"上门追讨", "REPLY STOP"')),  # upper case is fine
    ("invisible", HEADER + GOOD_RULE.replace('"上门追讨"', '"上門追討"')),  # Traditional in a phrase matches Simplified text
    ("literal-star", HEADER.replace('["zh"]', '["en"]') + GOOD_RULE.replace('"上门追讨"', '"f**k", "arrest*"')),
    # An unquoted TOML date is a verification date too.
    ("incomplete-source", HEADER + GOOD_RULE.replace('verified = "2026-12-01"', "verified = 2026-12-01")),
    # A hit example at the severity the rule reports.
    ("example-fails", HEADER + GOOD_RULE.replace('hit = ["我们将上门催收"]', 'hit = [{ text = "我们将上门催收", severity = "error" }]')),
]


@pytest.mark.parametrize("code, text", NEAR_MISSES, ids=[f"{t[0]}-{i}" for i, t in enumerate(NEAR_MISSES)])
def test_each_check_stays_quiet_on_its_near_miss(tmp_path, code, text):
    problems = lint(tmp_path, text)
    assert [str(p) for p in problems if p.code == code] == []
    assert [str(p) for p in problems if p.level == "error"] == []  # a valid pack, so the silence means something


def test_what_lint_calls_dead_is_dead_in_the_engine(tmp_path):
    """The engine agrees with `shadowed` and `never-matches`: those entries never produce a finding."""
    from tmplstudio.policy.engine import evaluate
    from tmplstudio.policy.loader import load_pack

    text = HEADER + GOOD_RULE.replace('allow = ["上门服务"]', 'allow = ["上门服务", "上門追討"]') + GOOD_PATTERN.replace(
        "patterns = [", "patterns = ['上門', ")
    pack = load_pack(write(tmp_path / "p.toml", text))
    for body in ("我们将上门追讨", "我们将上門追討", "请到上門办理", "请到上门办理"):
        ev = evaluate(f"+++\nlocale = \"zh-CN\"\n+++\n{body}\n", "x.j2", [pack])
        assert [f.rule for f in ev.findings if f.pack == "t"] == [], body
    # ...while the rule's other phrase still fires, so the silence above is not a broken setup.
    ev = evaluate("+++\nlocale = \"zh-CN\"\n+++\n我们将上门催收\n", "x.j2", [pack])
    assert [f.rule for f in ev.findings if f.pack == "t"] == ["visit"]


def test_all_problems_are_reported_not_only_the_first(tmp_path):
    text = (HEADER + GOOD_RULE.replace("allow =", "alow =")
            + GOOD_PATTERN.replace("patterns = [", "patterns = ['(a+)+', '[x', ")
            + GOOD_RULE.replace('id = "visit"', 'id = "visit2"').replace('kind = "phrases"', 'kind = "phrasez"'))
    problems = lint(tmp_path, text)
    assert sorted({p.code for p in problems if p.level == "error"}) == ["regex", "unknown-key", "unknown-kind"]
    assert len([p for p in problems if p.code == "regex"]) == 2
    # ...each at its own line: alow = (line 14), the patterns line (25), the third rule's kind (32).
    assert sorted((p.line, p.code) for p in problems if p.level == "error") == [
        (14, "unknown-key"), (25, "regex"), (25, "regex"), (32, "unknown-kind")]


def test_the_loader_would_stop_at_the_first_one(tmp_path):
    from tmplstudio.errors import InputError
    from tmplstudio.policy.loader import load_pack

    path = write(tmp_path / "p.toml", HEADER + GOOD_RULE.replace("allow =", "alow =") + GOOD_PATTERN.replace("patterns = [", "patterns = ['(a+)+', "))
    with pytest.raises(InputError, match="alow"):
        load_pack(path)


def test_malformed_structures_are_problems_not_crashes(tmp_path):
    text = HEADER + textwrap.dedent('''
        [[rules]]
        id = "Bad Id"
        kind = "phrases"
        severity = "error"
        message = "m"
        phrases = "x"
        examples = "no"
        [[rules]]
        id = "p"
        kind = "pattern"
        severity = "error"
        message = "m"
        patterns = 5
        [[rules]]
        id = "l"
        kind = "length"
        severity = "error"
        message = "m"
        limits = [{ segmnts = 2 }]
    ''')
    problems = lint(tmp_path, text)
    assert {p.code for p in problems} >= {"invalid", "unknown-key"}
    assert any("did you mean 'segments'" in p.message for p in problems)


def test_variants_may_share_an_id_but_not_a_variant(tmp_path):
    first = GOOD_RULE.replace('id = "visit"', 'id = "visit"\nvariant = "a"')
    second = GOOD_RULE.replace('id = "visit"', 'id = "visit"\nvariant = "b"').replace('"上门追讨"', '"上门拜访"')
    assert lint(tmp_path, HEADER + first + second) == []
    again = lint(tmp_path, HEADER + first + first)
    assert [(p.code, p.line) for p in again if p.level == "error"] == [("duplicate-id", 20)]
    # An example failure names the variant, at the example's own line.
    broken = second.replace('ok = ["可预约上门服务"]', 'ok = ["可预约上门服务", "我们会上门拜访"]')
    [fail] = [p for p in lint(tmp_path, HEADER + first + broken) if p.code == "example-fails"]
    assert fail.message.startswith("rule 'visit (b)': ok example '我们会上门拜访'") and fail.line == 31


def test_duplicate_pack_ids_across_files(tmp_path):
    a = write(tmp_path / "a.toml", HEADER + GOOD_RULE)
    b = write(tmp_path / "b.toml", HEADER + GOOD_PATTERN)
    c = write(tmp_path / "c.toml", HEADER.replace('id = "t"', 'id = "other"') + GOOD_PATTERN)
    results = lint_paths([a, b, c])
    assert [p.code for p in results[0].problems] == []
    assert [(p.code, p.line) for p in results[1].problems] == [("duplicate-pack", 2)]
    assert "also used by" in results[1].problems[0].message
    # c shares b's rule id 'idno' (issue 14: the same rule id in two packs is reported)
    assert [p.code for p in results[2].problems] == ["shared-id"]


# ---------------------------------------------------------------- the command


def test_cli_output_format_and_exit_code_on_errors(tmp_path):
    write(tmp_path / "p.toml", HEADER + GOOD_RULE.replace("allow =", "alow ="))
    r = tmplstudio("policy", "lint", "p.toml", cwd=tmp_path)
    assert r.returncode == 1
    assert "p.toml:14:1: error unknown-key rule 'visit': unknown key 'alow' for kind 'phrases' (did you mean 'allow'?)" in r.stdout
    assert r.stdout.splitlines()[-1] == "1 pack linted: 1 error, 0 warnings"


def test_cli_warnings_alone_do_not_fail(tmp_path):
    write(tmp_path / "p.toml", HEADER + GOOD_RULE.replace(SOURCE + "\n", ""))
    r = tmplstudio("policy", "lint", "p.toml", cwd=tmp_path)
    assert r.returncode == 0
    assert "p.toml:7: warning no-source rule 'visit'" in r.stdout
    assert r.stdout.splitlines()[-1] == "1 pack linted: 0 errors, 1 warning"


def test_cli_default_is_the_projects_packs_even_when_they_do_not_load(tmp_path):
    make_project(tmp_path, HEADER + GOOD_RULE.replace('kind = "phrases"', 'kind = "phrase"'))
    # validate refuses to run with this pack...
    write(tmp_path / "templates" / "a.j2", "您好\n")
    assert tmplstudio("validate", cwd=tmp_path).returncode == 2
    # ...and lint reads it anyway and says why.
    r = tmplstudio("policy", "lint", cwd=tmp_path)
    assert r.returncode == 1
    assert "policies/demo.toml:9:1: error unknown-kind" in r.stdout and "did you mean 'phrases'" in r.stdout


def test_cli_accepts_folders_and_pack_ids(tmp_path):
    make_project(tmp_path, HEADER + GOOD_RULE)
    assert tmplstudio("policy", "lint", "t", cwd=tmp_path).returncode == 0
    assert "1 pack linted: 0 errors, 0 warnings" in tmplstudio("policy", "lint", "policies", cwd=tmp_path).stdout
    r = tmplstudio("policy", "lint", "tt", cwd=tmp_path)
    assert r.returncode == 2 and "did you mean 't'" in r.stderr
