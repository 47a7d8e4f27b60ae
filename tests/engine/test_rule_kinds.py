"""Each rule kind, observed the way a user sees it: which text is reported, where, how severe."""

from tmplstudio.policy.model import Severity

from enginekit import rules_fired, run

PHRASES = """
[[rules]]
id = "visit-threat"
kind = "phrases"
severity = "warning"
message = "visit"
phrases = ["上门", "上门催收", "arrest*", "court"]
allow = ["送货上门", "we will never threaten arrest"]
not_after = ["谨防"]
fix = { replace = "联系" }
[[rules.escalate]]
severity = "error"
near = ["否则", "or else"]
within = 10
"""


def test_chinese_phrase_respects_word_boundaries():
    ev = run(PHRASES, "线上门户已开通，马上门店有售。")
    assert rules_fired(ev) == []
    ev = run(PHRASES, "我们将安排人员上门催收。")
    [f] = ev.findings
    assert f.text == "上门催收"  # the longest phrase wins, not a duplicate 上门
    assert (f.line, f.column, f.end_column) == (1, 8, 12)


def test_jieba_glued_pronoun_does_not_hide_a_phrase():
    ev = run("""
[[rules]]
id = "tpd"
kind = "phrases"
severity = "error"
message = "m"
phrases = ["家人"]
""", "我们会通知你家人。")
    assert rules_fired(ev) == ["tpd"]


def test_latin_phrase_word_boundaries_and_prefix_star():
    assert rules_fired(run(PHRASES, "A courtesy reminder about your arrears.")) == []
    ev = run(PHRASES, "You will be ARRESTED and taken to court.")
    assert [f.text for f in ev.findings] == ["ARRESTED", "court"]


def test_allow_context_and_not_after():
    assert rules_fired(run(PHRASES, "本店支持送货上门。")) == []
    assert rules_fired(run(PHRASES, "We will never threaten arrest.")) == []
    assert rules_fired(run(PHRASES, "谨防上门推销。")) == []


def test_evasions_are_found_and_highlight_the_original_characters():
    src = "否则将上 門\u200b催收"
    ev = run(PHRASES, src)
    [f] = ev.findings
    assert f.text == "上 門\u200b催收"
    assert src[f.start:f.end] == f.text


def test_escalation_near_a_conditional_connector():
    assert run(PHRASES, "我们将上门催收。").findings[0].severity == Severity.WARNING
    assert run(PHRASES, "再不还款，否则上门催收。").findings[0].severity == Severity.ERROR


def test_quick_fix_replaces_exactly_the_hit():
    src = "我们将上门催收。"
    [f] = run(PHRASES, src).findings
    fixed = src[: f.fix.start] + f.fix.text + src[f.fix.end:]
    assert fixed == "我们将联系。"


NEAR = """
[[rules]]
id = "third-party-disclosure"
kind = "near"
severity = "error"
message = "m"
groups = [["联系", "通知", "contact"], ["家人", "单位", "employer"]]
within = 6
"""


def test_near_requires_both_groups_close_in_one_sentence():
    assert rules_fired(run(NEAR, "我们将联系你的家人。")) == ["third-party-disclosure"]
    assert rules_fired(run(NEAR, "请联系我们。家人平安。")) == []
    assert rules_fired(run(NEAR, "请联系客服热线了解您的账单详情以及单位信息")) == []
    assert rules_fired(run(NEAR, "We will contact your employer today.")) == ["third-party-disclosure"]


PATTERN = r"""
[[rules]]
id = "pii"
kind = "pattern"
severity = "error"
message = "m"
patterns = ['\d{13,19}']
validate = "luhn"

[[rules]]
id = "cnid"
kind = "pattern"
severity = "error"
message = "m"
patterns = ['\d{17}[\dx]']
validate = "cn-id"
"""


def test_pattern_with_luhn_and_cn_id_validation():
    assert rules_fired(run(PATTERN, "卡号4111111111111111")) == ["pii"]
    assert rules_fired(run(PATTERN, "合同号4111111111111112")) == []
    assert rules_fired(run(PATTERN, "身份证11010519491231002X")) == ["cnid"]
    assert rules_fired(run(PATTERN, "身份证110105194912310021")) == []
    # full-width digits are folded before matching
    assert rules_fired(run(PATTERN, "卡号４１１１１１１１１１１１１１１１")) == ["pii"]


REQUIRED = r"""
[[rules]]
id = "opt-out-required"
kind = "required"
severity = "error"
message = "m"
any = ["reply stop"]
position = "end"
window = 40
fix = { append = " Reply STOP to opt out." }

[[rules]]
id = "signature"
kind = "required"
severity = "error"
message = "m"
patterns = ['^【[^】]{2,12}】']
"""


def test_required_at_end_and_signature_at_start():
    ev = run(REQUIRED, "【某银行】Your bill is due. Reply STOP to opt out.")
    assert rules_fired(ev) == []
    ev = run(REQUIRED, "Reply STOP to opt out. Your bill is due and this sentence is long enough to be far from it.")
    assert "opt-out-required" in rules_fired(ev)
    assert "signature" in rules_fired(ev)


def test_required_fix_appends_at_body_end():
    src = "+++\nid = 'x'\n+++\n【某银行】Your bill is due.\n"
    [f] = [f for f in run(REQUIRED, src).findings if f.rule == "opt-out-required"]
    fixed = src[: f.fix.start] + f.fix.text + src[f.fix.end:]
    assert fixed.endswith("Your bill is due. Reply STOP to opt out.\n")


def test_a_sample_value_alone_never_supplies_a_required_element():
    """What the sending system fills in is not the template's to give: a signature (or a
    disclosure) that only a sample value holds is missing (issue 13 §4)."""
    src = '+++\n[samples.a]\nbrand = "【某银行】"\n[samples.b]\nbrand = "无"\n+++\n{{ brand }}您好\n'
    sig = [f for f in run(REQUIRED, src).findings if f.rule == "signature"]
    assert [f.sample for f in sig] == [None]  # missing in every sample: one finding


VARIABLES = """
[[rules]]
id = "vars"
kind = "variables"
severity = "error"
message = "m"
checks = ["masking", "samples", "edges", "adjacent", "all-variable"]
sensitive = ["card_no", "*id_number*"]
"""


def test_sensitive_variable_must_be_masked():
    ev = run(VARIABLES, "您的卡{{ card_no }}已逾期。")
    [f] = [f for f in ev.findings if "printed without" in f.message]
    assert f.text == "{{ card_no }}"
    assert f.fix.text == "{{ card_no | mask }}"
    ev = run(VARIABLES, '+++\n[samples.a]\ncard_no = "6222021234567890123"\n+++\n您的卡{{ card_no | mask }}已逾期。')
    assert rules_fired(ev) == []
    assert ev.renders["a"].text == "您的卡***************0123已逾期。"


def test_missing_sample_values_name_the_sample():
    src = '+++\n[samples.a]\nname = "张三"\n[samples.b]\nother = 1\n+++\n您好{{ name }}先生。'
    ev = run(VARIABLES, src)
    [f] = ev.findings
    assert f.sample == "b" and "name" in f.message


def test_structure_edges_and_adjacent():
    ev = run(VARIABLES, '+++\n[samples.a]\na = "1"\nb = "2"\n+++\n{{ a }}{{ b }}')
    messages = " | ".join(f.message for f in ev.findings)
    assert "first" in messages and "last" in messages and "nothing between" in messages and "no fixed text" in messages


LENGTH = """
[[rules]]
id = "sms-length-encoding"
kind = "length"
severity = "warning"
message = "too long"
counting = "gsm"
limits = [{ segments = 1 }, { chars = 300, severity = "error" }]
"""


def test_length_reports_the_longest_sample_with_segments():
    src = '+++\n[samples.short]\nx = "a"\n[samples.long]\nx = "' + "b" * 200 + '"\n+++\nHello {{ x }} there.'
    [f] = run(LENGTH, src).findings
    assert f.sample == "long" and "2 SMS parts" in f.message and f.severity == Severity.WARNING


SEND = """
[[rules]]
id = "send-window"
kind = "send_window"
severity = "error"
message = "outside"
allowed = "08:00-21:00"
"""


def test_send_window_outside_allowed_is_reported_on_its_line():
    [f] = run(SEND, '+++\nid = "x"\nsend_window = "07:30-20:00"\n+++\nhi').findings
    assert f.line == 3
    assert run(SEND, '+++\nsend_window = "09:00-20:00"\n+++\nhi').findings == []


def test_when_conditions_gate_a_rule():
    pack = """
[[rules]]
id = "collector-only"
kind = "phrases"
severity = "error"
message = "m"
phrases = ["debt"]
when = { sender_role = "third_party_collector", flags.attorney_involved = false }
"""
    assert rules_fired(run(pack, "+++\nsender_role = 'creditor'\n+++\nyour debt")) == []
    assert rules_fired(run(pack, "+++\nsender_role = 'third_party_collector'\n+++\nyour debt")) == ["collector-only"]
    assert rules_fired(run(pack, "+++\n[flags]\nattorney_involved = true\n+++\nyour debt")) == []


def test_phrase_only_in_a_sample_value_is_reported_against_the_sample():
    src = '+++\n[samples.nice]\nname = "张三"\n[samples.rude]\nname = "老赖"\n+++\n尊敬的{{ name }}，请还款。'
    ev = run("""
[[rules]]
id = "abusive-language"
kind = "phrases"
severity = "error"
message = "m"
phrases = ["老赖"]
""", src)
    [f] = ev.findings
    assert f.sample == "rude"
    assert f.text == "老赖"
    assert src[f.start:f.end] == "{{ name }}"  # the tag that injected it
    assert ev.renders["rude"].spans[0].rule == "abusive-language"


def test_phrase_inside_an_if_block_is_found_at_its_source_position():
    src = '+++\n[samples.a]\ndays = 3\n+++\n您已逾期。{% if days > 60 %}我们将上门催收。{% endif %}'
    [f] = run(PHRASES, src).findings
    assert src[f.start:f.end] == "上门催收" and f.sample is None


def test_same_tags_different_text_render_their_own_text():
    # The compiled template is shared by texts with the same tags; each must render its own words.
    a = run(PHRASES, '+++\n[samples.s]\nx = "1"\n+++\n您好{{ x }}号，请还款。')
    b = run(PHRASES, '+++\n[samples.s]\nx = "1"\n+++\n我们{{ x }}号将上门催收。')
    assert a.renders["s"].text == "您好1号，请还款。"
    assert b.renders["s"].text == "我们1号将上门催收。"
    assert [f.text for f in b.findings] == ["上门催收"] and a.findings == []


def test_a_star_in_one_rule_does_not_change_another_rule_with_the_same_word():
    pack = """
[[rules]]
id = "a"
kind = "phrases"
severity = "error"
message = "m"
phrases = ["court*"]
[[rules]]
id = "b"
kind = "phrases"
severity = "error"
message = "m"
phrases = ["court"]
"""
    assert rules_fired(run(pack, "A courtesy reminder.")) == ["a"]


def test_exemption_covers_the_shorter_phrase_inside_a_longer_one():
    pack = """
[[rules]]
id = "coerced-borrowing"
kind = "phrases"
severity = "warning"
message = "m"
phrases = ["信用卡套现", "套现"]
not_after = ["勿"]
"""
    assert rules_fired(run(pack, "请勿参与信用卡套现。")) == []
    assert rules_fired(run(pack, "你去信用卡套现还钱。")) == ["coerced-borrowing"]


def test_a_phrase_inside_one_longer_word_is_a_hit_but_not_across_words():
    pack = """
[[rules]]
id = "threat-arrest-criminal"
kind = "phrases"
severity = "error"
message = "m"
phrases = ["犯罪", "上门"]
"""
    assert rules_fired(run(pack, "你的行为已构成犯罪。")) == ["threat-arrest-criminal"]
    assert rules_fired(run(pack, "线上门户已开通。")) == []


def test_separators_between_chinese_and_latin_are_folded():
    pack = """
[[rules]]
id = "unofficial-payment-channel"
kind = "phrases"
severity = "error"
message = "m"
phrases = ["加qq"]
"""
    assert rules_fired(run(pack, "还款请加 QQ 123456")) == ["unofficial-payment-channel"]
    assert rules_fired(run(pack, "还款请加.QQ")) == ["unofficial-payment-channel"]


def test_negated_flag_condition_in_dotted_form():
    pack = """
[[rules]]
id = "attorney-implication"
kind = "phrases"
severity = "error"
message = "m"
phrases = ["律师函"]
when = { not_flags.attorney_involved = true }
"""
    assert rules_fired(run(pack, "我们将发律师函。")) == ["attorney-implication"]
    assert rules_fired(run(pack, "+++\n[flags]\nattorney_involved = true\n+++\n我们将发律师函。")) == []


def test_preview_marks_literal_hits_in_every_sample_and_value_hits_in_their_sample():
    src = '+++\n[samples.a]\nname = "张三"\n[samples.b]\nname = "上门催收"\n+++\n{{ name }}您好，我们将上门催收。'
    ev = run(PHRASES, src)
    a, b = ev.renders["a"], ev.renders["b"]
    assert [a.text[s.start:s.end] for s in a.spans] == ["上门催收"]
    assert sorted(b.text[s.start:s.end] for s in b.spans) == ["上门催收", "上门催收"]
    assert [f.sample for f in ev.findings] == ["b", None]
