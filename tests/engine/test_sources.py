"""Structured sources: what a compliance officer follows from a rule to the provision behind it."""

from __future__ import annotations

import json
import textwrap

import pytest

from tests.ci.cikit import make_project, tmplstudio, write
from tmplstudio.errors import InputError
from tmplstudio.policy.loader import load_pack
from tmplstudio.policy.sources import Source, parse_sources

PACK = textwrap.dedent('''
    [pack]
    id = "t"
    title = "T"
    version = "1"
    locales = ["zh"]
    sources = [{ title = "中国银行业协会《金融机构个人消费类贷款催收工作指引（试行）》", date = "2026-01-30", article = "第二十二条", verified = "2026-12-01" }]

    [[rules]]
    id = "visit"
    kind = "phrases"
    severity = "warning"
    message = "Announces a visit."
    explanation = "A field visit is lawful but restricted."
    source = [
      { title = "《个人信息保护法》", article = "第五十一条（三）", date = "2021-08-20", url = "https://example.org/pipl", verified = "2026-12-01" },
      "an old free-text source",
    ]
    phrases = ["上门催收"]
    [rules.examples]
    hit = ["我们将上门催收"]
    ok = ["请按时还款"]
''')


def _fail(message: str) -> InputError:
    return InputError(message, "p.toml", 9)


def test_a_table_and_the_old_string_form_both_load(tmp_path):
    pack = load_pack(write(tmp_path / "p.toml", PACK))
    rule = pack.rules[0]
    assert rule.source == (
        Source("《个人信息保护法》", "第五十一条（三）", "2021-08-20", "https://example.org/pipl", "2026-12-01"),
        Source("an old free-text source"),
    )
    assert pack.sources[0].article == "第二十二条"
    # What a reader quotes: instrument, provision, date; the old form reads exactly as written.
    assert rule.source[0].citation == "《个人信息保护法》, 第五十一条（三） (2021-08-20)"
    assert str(rule.source[1]) == "an old free-text source"
    assert rule.source[1].missing == ("article", "verified")


@pytest.mark.parametrize("value, says", [
    ({"title": "x", "artcle": "1"}, "unknown key 'artcle' (did you mean 'article'?)"),
    ({"article": "第6条"}, "needs a 'title'"),
    ({"title": "x", "verified": "yesterday"}, "verified must be the date the source was checked, as YYYY-MM-DD"),
    ({"title": "x", "article": 6}, "'article' must be a string"),
    ("  ", "is an empty string"),
    (42, "must be a string or a table"),
])
def test_a_bad_source_is_named(value, says):
    with pytest.raises(InputError) as err:
        parse_sources(["ok", value], "rule 'visit':", _fail)
    assert says in err.value.message
    assert "source #2" in err.value.message


def test_a_bad_source_in_a_pack_file_names_the_file_and_line(tmp_path):
    path = write(tmp_path / "p.toml", PACK.replace('url = "https', 'link = "https'))
    with pytest.raises(InputError) as err:
        load_pack(path)
    assert err.value.path == str(path)
    assert err.value.line == PACK.split("\n").index("source = [") + 1
    assert "unknown key 'link'" in err.value.message


def test_the_cli_reports_a_bad_source_without_a_traceback(tmp_path):
    make_project(tmp_path, PACK.replace('verified = "2026-12-01" },\n', 'verified = "01/12/2026" },\n'))
    r = tmplstudio("policy", "test", cwd=tmp_path)
    assert r.returncode == 2, r.stdout + r.stderr
    assert "demo.toml:" in r.stderr and "YYYY-MM-DD" in r.stderr
    assert "Traceback" not in r.stderr


def test_sarif_help_shows_the_article_and_links_the_copy_read(tmp_path):
    make_project(tmp_path, PACK)
    write(tmp_path / "templates" / "visit.j2", "+++\nlocale = \"zh-CN\"\n+++\n我们将上门催收\n")
    r = tmplstudio("validate", "--format", "sarif", cwd=tmp_path)
    rule = json.loads(r.stdout)["runs"][0]["tool"]["driver"]["rules"][0]
    assert ("Source: 《个人信息保护法》, 第五十一条（三） (2021-08-20) [https://example.org/pipl; verified 2026-12-01]; "
            "an old free-text source") in rule["help"]["text"]
    assert "[《个人信息保护法》, 第五十一条（三） (2021-08-20)](https://example.org/pipl)" in rule["help"]["markdown"]


def test_the_policy_browser_shows_article_url_and_verification(tmp_path):
    from tmplstudio.tui.screens.policy_browser import rule_content

    rule = load_pack(write(tmp_path / "p.toml", PACK)).rules[0]
    shown = rule_content(rule).plain
    assert "• 《个人信息保护法》, 第五十一条（三） (2021-08-20)\n  https://example.org/pipl · verified 2026-12-01\n" in shown
    assert "• an old free-text source\n" in shown


def test_a_hit_example_can_pin_the_severity_policy_test_checks(tmp_path):
    """`policy test` proves a severity, not only that the rule fires."""
    make_project(tmp_path, PACK.replace('hit = ["我们将上门催收"]', 'hit = [{ text = "我们将上门催收", severity = "error" }]'))
    r = tmplstudio("policy", "test", cwd=tmp_path)
    assert r.returncode == 1
    assert "expected the rule to report error, but it reported warning" in r.stdout
    make_project(tmp_path, PACK.replace('hit = ["我们将上门催收"]', 'hit = [{ text = "我们将上门催收", severity = "warning" }]'))
    r = tmplstudio("policy", "test", cwd=tmp_path)
    assert r.returncode == 0, r.stdout


def test_an_ok_example_cannot_name_a_severity(tmp_path):
    with pytest.raises(InputError) as err:
        load_pack(write(tmp_path / "p.toml", PACK.replace('ok = ["请按时还款"]', 'ok = [{ text = "请按时还款", severity = "info" }]')))
    assert "what a hit example must report" in err.value.message
