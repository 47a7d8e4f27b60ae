"""The pack format refuses what would otherwise load and silently never work, or crash later."""

from __future__ import annotations

import pytest

from tmplstudio.errors import InputError
from tmplstudio.policy.lint import lint_file
from tmplstudio.policy.loader import load_pack

HEADER = '[pack]\nid = "p"\ntitle = "t"\nversion = "1"\n'
RULE = '''
[[rules]]
id = "r"
kind = "phrases"
severity = "error"
message = "m"
explanation = "An explanation
that starts a line with when and kind."
phrases = ["上门催收"]
'''.replace('"An explanation\nthat', '"""An explanation\nthat').replace('kind."', 'kind."""')


@pytest.mark.parametrize("name, text, expected", [
    ("zero-width cue", HEADER + '[[set_aside]]\nname = "n"\ncues = ["\\u200b"]\n' + RULE, "empty after normalisation"),
    ("limit as text", HEADER + RULE.replace('kind = "phrases"', 'kind = "length"').replace('phrases = ["上门催收"]', 'limits = [{ segments = "2" }]'), "whole numbers"),
    ("enabled as text", HEADER + RULE + 'enabled = "false"\n', "enabled must be true or false"),
    ("empty phrases", HEADER + RULE.replace('["上门催收"]', '[]'), "is empty"),
    ("misspelt channel", HEADER + RULE + 'when = { channel = "smss" }\n', "never holds"),
    ("pack channel", HEADER.replace('version = "1"', 'version = "1"\nchannels = ["SMS"]') + RULE, "never matches"),
    ("ordered as text", HEADER + RULE.replace('kind = "phrases"', 'kind = "near"').replace('phrases = ["上门催收"]', 'groups = [["a"], ["b"]]\nordered = "yes"'), "true or false"),
    ("fix not text", HEADER + RULE + 'fix = { replace = 5 }\n', "fix.replace must be a string"),
    ("frames on a pattern", HEADER + RULE.replace('kind = "phrases"', 'kind = "pattern"').replace('phrases = ["上门催收"]', "patterns = ['x']\nnegatable = false"), "wording kinds"),
    ("near escalation on original text", HEADER + RULE.replace('kind = "phrases"', 'kind = "pattern"').replace('phrases = ["上门催收"]', "patterns = ['x']\nmatch_on = \"original\"") + '[[rules.escalate]]\nseverity = "error"\nnear = ["y"]\n', "normalised text"),
])
def test_a_pack_that_would_not_work_is_refused_with_the_reason(tmp_path, name, text, expected):
    path = tmp_path / "p.toml"
    path.write_text(text, encoding="utf-8")
    problems = [p for p in lint_file(path).problems if p.level == "error"]
    assert any(expected in p.message for p in problems), (name, [p.message for p in problems])
    with pytest.raises(InputError):
        load_pack(path)


def test_problems_are_placed_at_their_own_table_not_at_a_word_in_an_explanation(tmp_path):
    text = HEADER + RULE + 'when = { chanel = "sms" }\n[[rules.escalate]]\nseverity = "error"\nwhen = { channel = "sms" }\n' \
        '[[rules.escalate]]\nseverity = "severe"\nwhen = { channel = "sms" }\n'
    path = tmp_path / "p.toml"
    path.write_text(text, encoding="utf-8")
    lines = text.split("\n")
    by_message = {p.message: p.line for p in lint_file(path).problems}
    [when_line] = [ln for m, ln in by_message.items() if "unknown condition 'chanel'" in m]
    [severity_line] = [ln for m, ln in by_message.items() if "escalate severity" in m]
    assert lines[when_line - 1].startswith("when = { chanel")
    assert severity_line == len(lines) - lines[::-1].index("[[rules.escalate]]")
