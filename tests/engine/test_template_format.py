"""Front matter, positions, suppression comments and Jinja errors as the author sees them."""

from tmplstudio.policy.model import Severity
from tmplstudio.template.frontmatter import add_sample_variable, split
from tmplstudio.template.source import parse_template

from enginekit import rules_fired, run

PHRASE = """
[[rules]]
id = "visit-threat"
kind = "phrases"
severity = "error"
message = "visit"
phrases = ["上门催收"]
"""


def test_defaults_without_front_matter():
    t = parse_template("【某银行】您好", "templates/zh-hello.j2")
    m = t.meta
    assert (m.id, m.locale, m.jurisdiction, m.channel, m.sender_role, m.audience, m.stage, m.category) == (
        "zh-hello", "zh-CN", ("CN",), "sms", "third_party_collector", "debtor", "subsequent", "notification")
    assert parse_template("Hello", "x.j2").meta.locale == "en-US"
    assert parse_template("Hello", "x.j2").meta.jurisdiction == ("US",)


def test_unknown_key_is_reported_with_did_you_mean_at_its_line():
    ev = run(PHRASE, '+++\nid = "x"\nsender_rol = "creditor"\n+++\nhi')
    [f] = ev.findings
    assert f.rule == "front-matter" and "did you mean 'sender_role'" in f.message
    assert (f.line, f.column) == (3, 1)


def test_bad_enum_value_and_bad_window():
    ev = run(PHRASE, '+++\nchannel = "fax"\nsend_window = "8am-9pm"\n+++\nhi')
    msgs = [f.message for f in ev.findings]
    assert any("'channel' must be one of" in m for m in msgs)
    assert any("send_window" in m for m in msgs)


def test_malformed_toml_points_at_the_file_position():
    ev = run(PHRASE, '+++\nid = "x"\ntitle = \n+++\nhi')
    [f] = ev.findings
    assert f.rule == "front-matter" and f.line == 3


def test_unclosed_front_matter_is_a_finding():
    ev = run(PHRASE, '+++\nid = "x"\n我们将上门催收')
    assert [f.rule for f in ev.findings] == ["front-matter"]
    assert "never closed" in ev.findings[0].message


def test_positions_count_front_matter_and_code_points():
    src = '+++\nid = "x"\n+++\n第一行\n您好，我们将上门催收。'
    [f] = run(PHRASE, src).findings
    assert (f.line, f.column, f.end_line, f.end_column) == (5, 7, 5, 11)


def test_crlf_source_positions():
    src = '+++\r\nid = "x"\r\n+++\r\n第一行\r\n我们将上门催收'
    [f] = run(PHRASE, src).findings
    assert src[f.start:f.end] == "上门催收" and f.line == 5


def test_jinja_syntax_error_is_a_finding_with_a_position_and_text_is_still_checked():
    src = '+++\nid = "x"\n+++\n您好{{ name }\n我们将上门催收'
    ev = run(PHRASE, src)
    rules = rules_fired(ev)
    assert "jinja-syntax" in rules
    syn = [f for f in ev.findings if f.rule == "jinja-syntax"][0]
    assert syn.line == 4 and syn.column == 3
    assert "visit-threat" in rules


def test_suppression_next_line_needs_a_reason_and_stays_in_output():
    src = "{# tmplstudio: allow visit-threat -- approved by legal, ticket 12 #}\n我们将上门催收\n"
    ev = run(PHRASE, src)
    [f] = ev.findings
    assert f.suppressed and f.suppression_reason == "approved by legal, ticket 12"
    ev = run(PHRASE, "{# tmplstudio: allow visit-threat #}\n我们将上门催收\n")
    rules = rules_fired(ev)
    assert "visit-threat" in rules and "suppression" in rules


def test_suppression_only_covers_the_next_line_unless_file_wide():
    ev = run(PHRASE, "{# tmplstudio: allow visit-threat -- home service offer, approved by legal #}\n您好\n我们将上门催收\n")
    assert rules_fired(ev) == ["visit-threat"]
    ev = run(PHRASE, "{# tmplstudio: allow-file visit-threat -- home service offer, approved by legal #}\n您好\n我们将上门催收\n")
    assert rules_fired(ev) == []


def test_suppression_of_unknown_rule_warns():
    ev = run(PHRASE, "{# tmplstudio: allow visit-thraet -- a reason given #}\n您好\n")
    [f] = ev.findings
    assert f.severity == Severity.WARNING and "did you mean 'visit-threat'" in f.message


def test_add_sample_variable_rewrites_every_sample():
    src = '+++\nid = "x"\n[samples.a]\nname = "张三"\n[samples.b]\nname = "李四"\n+++\n{{ name }}{{ amount }}'
    out = add_sample_variable(src, "amount", "100")
    data = split(out).data
    assert data["samples"]["a"] == {"name": "张三", "amount": "100"}
    assert data["samples"]["b"]["amount"] == "100"
    assert out.endswith("+++\n{{ name }}{{ amount }}")


def test_email_subject_is_checked_at_its_position():
    src = '+++\nchannel = "email"\nsubject = "最后通知：上门催收"\n+++\n您好'
    [f] = run(PHRASE, src).findings
    assert src[f.start:f.end] == "上门催收" and f.line == 3
