"""`[[rules.escalate]]` applies to every rule kind, not only to the text kinds.

Packs rely on it: `opt-out-required` (a required rule) is an error for SMS and email, and
`template-variable-structure` (a variables rule) is an error under the providers that reject
the structure. Before the kinds registry only phrases/near/pattern hits were escalated, so both
stayed warnings and `approve --accept-warnings` let them through.
"""

from __future__ import annotations

import pytest

from enginekit import run

SMS = 'channel = "sms"\n'
EMAIL = 'channel = "email"\n'

RULES = {
    "phrases": 'phrases = ["上门"]',
    "near": 'groups = [["上门"], ["催收"]]',
    "pattern": 'patterns = ["上门\\\\S{0,2}催收"]',
    "required": 'any = ["退订"]',
    "variables": 'checks = ["edges"]',
    "length": 'limits = [{ chars = 5 }]',
    "send_window": 'allowed = "08:00-21:00"',
}
BODY = "{{ name }}我们将上门催收，请尽快处理。\n"


def _rule(kind: str, escalate: str) -> str:
    return f'''
[[rules]]
id = "r"
kind = "{kind}"
severity = "info"
message = "m"
{RULES[kind]}
{escalate}
'''


def _source(front: str) -> str:
    return f'+++\nlocale = "zh-CN"\nsend_window = "07:00-22:00"\n{front}[samples.a]\nname = "张三"\n+++\n{BODY}'


@pytest.mark.parametrize("kind", list(RULES))
def test_every_kind_escalates_when_the_template_meets_the_condition(kind):
    toml = _rule(kind, '[[rules.escalate]]\nseverity = "error"\nwhen = { channel = "sms" }')
    sms = [f.severity.value for f in run(toml, _source(SMS)).findings if f.rule == "r"]
    email = [f.severity.value for f in run(toml, _source(EMAIL)).findings if f.rule == "r"]
    assert sms and set(sms) == {"error"}, f"{kind}: not escalated for SMS"
    assert email and set(email) == {"info"}, f"{kind}: escalated although the condition does not hold"


@pytest.mark.parametrize("kind", ["phrases", "near", "pattern"])
def test_text_kinds_also_escalate_on_words_near_the_hit(kind):
    toml = _rule(kind, '[[rules.escalate]]\nseverity = "error"\nnear = ["我们将"]\nwithin = 2')
    assert {f.severity.value for f in run(toml, _source(SMS)).findings if f.rule == "r"} == {"error"}
    far = _source(SMS).replace("我们将", "我们明天或许将")
    assert {f.severity.value for f in run(toml, far).findings if f.rule == "r"} == {"info"}


def test_near_words_on_a_kind_without_text_are_a_pack_error():
    from tmplstudio.errors import InputError

    with pytest.raises(InputError) as err:
        run(_rule("required", '[[rules.escalate]]\nseverity = "error"\nnear = ["否则"]'), _source(SMS))
    assert "escalate 'near' needs the normalised text" in err.value.message


def test_the_first_escalation_that_applies_wins_and_a_length_limit_keeps_its_own_severity():
    toml = '''
[[rules]]
id = "r"
kind = "length"
severity = "info"
message = "m"
limits = [{ chars = 5, severity = "warning" }]
[[rules.escalate]]
severity = "error"
when = { channel = "email" }
'''
    assert [f.severity.value for f in run(toml, _source(SMS)).findings if f.rule == "r"] == ["warning"]
    assert [f.severity.value for f in run(toml, _source(EMAIL)).findings if f.rule == "r"] == ["error"]
