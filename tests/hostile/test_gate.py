"""The author cannot switch the gate off (issue 14, section 1), through the real CLI.

Front matter alone turned checks off with no reason and no trace: `policies = []`,
`jurisdiction = []`, `locale = "ja-JP"`, a `creditor_name` that is the forbidden phrase. The
project config now decides which packs are mandatory, front matter can only add, an uncovered
locale or jurisdiction is an error, and every narrowing has a reason that validate shows and
the approval records.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ZH = '''[pack]
id = "zh"
title = "zh"
version = "1"
locales = ["zh"]
jurisdictions = ["CN"]
[[rules]]
id = "visit-threat"
kind = "phrases"
severity = "error"
message = "visit"
phrases = ["上门催收"]
[[rules]]
id = "public-shaming"
kind = "phrases"
severity = "error"
message = "shaming"
phrases = ["曝光"]
[[rules]]
id = "impersonation"
kind = "phrases"
severity = "error"
message = "police"
phrases = ["公安"]
'''
EN = '''[pack]
id = "en"
title = "en"
version = "1"
locales = ["en"]
jurisdictions = ["US"]
[[rules]]
id = "arrest-threat"
kind = "phrases"
severity = "error"
message = "arrest"
phrases = ["arrest"]
'''
BODY = "【某某银行】您好，我们将上门催收。\n"


def project(root: Path, config: str = "") -> Path:
    (root / "packs").mkdir(parents=True)
    (root / "packs" / "zh.toml").write_text(ZH, encoding="utf-8")
    (root / "packs" / "en.toml").write_text(EN, encoding="utf-8")
    (root / "templates").mkdir()
    (root / "tmplstudio.toml").write_text('policies = ["packs"]\nbundled = false\n' + config, encoding="utf-8")
    return root


def template(root: Path, name: str, front: str, body: str = BODY) -> Path:
    path = root / "templates" / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(f"+++\n{front}\n[samples.a]\nx = 1\n+++\n{body}", encoding="utf-8")
    return path


def cli(root: Path, *args: str) -> subprocess.CompletedProcess:
    r = subprocess.run([sys.executable, "-m", "tmplstudio", *args], cwd=root, capture_output=True, text=True, timeout=120,
                       env={**os.environ, "NO_COLOR": "1"})
    assert "Traceback" not in r.stderr, r.stderr
    return r


def rules(r: subprocess.CompletedProcess, name: str) -> list[str]:
    doc = json.loads(r.stdout)
    [t] = [t for t in doc["templates"] if Path(t["path"]).name == name]
    return [f["rule"] for f in t["findings"] if not f["suppressed"]]


@pytest.fixture
def root(tmp_path):
    return project(tmp_path / "p")


def test_policies_empty_does_not_drop_a_pack(root):
    template(root, "t.j2", 'locale = "zh-CN"\npolicies = []')
    r = cli(root, "validate", "--format", "json")
    assert r.returncode == 1 and rules(r, "t.j2") == ["visit-threat"]


def test_policies_in_front_matter_adds_a_pack(root):
    template(root, "t.j2", 'locale = "zh-CN"\npolicies = ["en"]', "【某某银行】您好，我们将上门催收。We will arrest you.\n")
    r = cli(root, "validate", "--format", "json")
    assert sorted(rules(r, "t.j2")) == ["arrest-threat", "visit-threat"]


def test_an_empty_jurisdiction_is_an_error_not_silence(root):
    template(root, "t.j2", 'locale = "zh-CN"\njurisdiction = []')
    r = cli(root, "validate")
    assert r.returncode == 1
    assert "templates/t.j2:3:1 error policy-coverage the template names no jurisdiction" in r.stdout
    assert "the packs cover CN, US" in r.stdout


def test_a_locale_no_pack_covers_is_an_error(root):
    template(root, "t.j2", 'locale = "ja-JP"')
    r = cli(root, "validate", "--format", "json")
    assert r.returncode == 1
    doc = json.loads(r.stdout)
    messages = [f["message"] for f in doc["templates"][0]["findings"]]
    assert any("no policy pack covers locale 'ja-JP' (the packs cover en, zh)" in m for m in messages), messages
    assert any("no policy pack covers jurisdiction 'JP'" in m for m in messages), messages


def test_the_config_can_declare_a_locale_covered(root):
    (root / "tmplstudio.toml").write_text('policies = ["packs"]\nbundled = false\n[gate.locales."ja"]\npacks = ["zh"]\n'
                                          '[gate.jurisdictions."JP"]\npacks = ["zh"]\n', encoding="utf-8")
    template(root, "t.j2", 'locale = "ja-JP"')
    r = cli(root, "validate", "--format", "json")
    assert rules(r, "t.j2") == ["visit-threat"]  # the config's mandatory pack checks it


def test_mandatory_packs_apply_whatever_the_front_matter_says(root):
    """A template in production/ dressed up as English is still checked by the Chinese pack."""
    (root / "tmplstudio.toml").write_text('policies = ["packs"]\nbundled = false\n'
                                          '[gate.folders."production"]\npacks = ["zh"]\n', encoding="utf-8")
    template(root, "production/t.j2", 'locale = "en-US"\npolicies = []')
    template(root, "drafts/t.j2", 'locale = "en-US"')
    r = cli(root, "validate", "--format", "json")
    doc = json.loads(r.stdout)
    by_path = {t["path"]: [f["rule"] for f in t["findings"]] for t in doc["templates"]}
    assert by_path["templates/production/t.j2"] == ["visit-threat"]
    assert by_path["templates/drafts/t.j2"] == []


def test_the_gate_refuses_an_unknown_pack(root):
    (root / "tmplstudio.toml").write_text('policies = ["packs"]\nbundled = false\n[gate]\npacks = ["zhh"]\n', encoding="utf-8")
    template(root, "t.j2", 'locale = "zh-CN"')
    r = cli(root, "validate")
    assert r.returncode == 2 and "[gate] names unknown pack 'zhh' (did you mean 'zh'?)" in r.stderr


def test_a_creditor_name_that_is_the_phrase_exempts_nothing(root):
    template(root, "same.j2", 'locale = "zh-CN"\ncreditor_name = "上门催收"')
    template(root, "longer.j2", 'locale = "zh-CN"\ncreditor_name = "公安县农商银行"',
             "【公安县农商银行】您好，请按时还款，否则通知公安。\n")
    r = cli(root, "validate", "--format", "json")
    assert rules(r, "same.j2") == ["visit-threat"]
    assert rules(r, "longer.j2") == ["impersonation"]  # 公安 inside the bank's name is exempt, the other is not


@pytest.mark.parametrize("reason", [".", "\u200b\u200b\u200b\u200b", "ok", "- -", "…"])
def test_a_suppression_reason_must_be_words(root, reason):
    template(root, "t.j2", 'locale = "zh-CN"', f"{{# tmplstudio: allow visit-threat -- {reason} #}}\n{BODY}")
    r = cli(root, "validate")
    assert r.returncode == 1
    assert "error visit-threat" in r.stdout  # nothing was suppressed
    assert "error suppression a suppression needs a reason after '--', in words" in r.stdout


def test_a_file_wide_suppression_lists_every_rule_it_silences(root):
    body = "{# tmplstudio: allow-file visit-threat, public-shaming, impersonation -- 上门服务与曝光台为我行公开业务 #}\n" \
           "【某某银行】您好，我们将上门催收，上门催收。逾期将曝光。\n"
    template(root, "t.j2", 'locale = "zh-CN"', body)
    r = cli(root, "validate")
    assert r.returncode == 0
    assert ("allow-file at line 6 silences visit-threat (2 findings), public-shaming (1 finding), "
            "impersonation (0 findings) -- 上门服务与曝光台为我行公开业务") in r.stdout


def test_turning_a_rule_off_in_config_needs_a_reason_and_shows(root):
    template(root, "t.j2", 'locale = "zh-CN"')
    (root / "tmplstudio.toml").write_text('policies = ["packs"]\nbundled = false\n[rules]\nvisit-threat = "off"\n',
                                          encoding="utf-8")
    r = cli(root, "validate")
    assert r.returncode == 2
    assert "[rules] turns rule 'visit-threat' off without a reason" in r.stderr
    (root / "tmplstudio.toml").write_text('policies = ["packs"]\nbundled = false\n[rules]\n'
                                          'visit-threat = { severity = "warning", reason = "." }\n', encoding="utf-8")
    assert cli(root, "validate").returncode == 2
    (root / "tmplstudio.toml").write_text('policies = ["packs"]\nbundled = false\n[rules]\n'
                                          'visit-threat = { severity = "off", reason = "branch visits are a service here" }\n',
                                          encoding="utf-8")
    r = cli(root, "validate")
    assert r.returncode == 0
    assert "narrowed in config: visit-threat off ([rules]) -- branch visits are a service here" in r.stdout


def test_a_narrowing_for_some_templates_shows_and_is_recorded_with_the_approval(root):
    (root / "tmplstudio.toml").write_text(
        'policies = ["packs"]\nbundled = false\n[[gate.narrow]]\ntemplates = ["service/*.j2"]\nrules = ["zh/visit-threat"]\n'
        'reason = "home-service reminders: the visit is the service (LEGAL-42)"\n', encoding="utf-8")
    template(root, "service/visit.j2", 'locale = "zh-CN"')
    template(root, "other.j2", 'locale = "zh-CN"')
    r = cli(root, "validate")
    assert r.returncode == 1  # other.j2 is not narrowed
    assert ("narrowed by tmplstudio.toml [[gate.narrow]] 1: zh/visit-threat off for service/*.j2, 1 finding silenced "
            "-- home-service reminders: the visit is the service (LEGAL-42)") in r.stdout
    doc = json.loads(cli(root, "validate", "--format", "json").stdout)
    [narrowed] = [t for t in doc["templates"] if t["path"] == "templates/service/visit.j2"]
    assert narrowed["narrowings"][0]["silenced"] == 1 and narrowed["findings"][0]["suppressed"]
    r = cli(root, "approve", "templates/service/visit.j2", "--by", "Li Wei")
    assert r.returncode == 0, r.stdout + r.stderr
    entry = json.loads((root / "templates" / "approvals.log.jsonl").read_text(encoding="utf-8").splitlines()[-1])
    data = entry["data"]
    assert data["narrowings"] == [{"rules": ["zh/visit-threat"], "severity": "off", "templates": ["service/*.j2"],
                                   "reason": "home-service reminders: the visit is the service (LEGAL-42)",
                                   "origin": "tmplstudio.toml [[gate.narrow]] 1", "silenced": 1}]
    [silenced] = data["suppressed"]
    assert silenced["rule"] == "visit-threat" and silenced["by"] == "config narrowing"


@pytest.mark.parametrize("entry, message", [
    ('templates = ["a/*.j2"]\nrules = ["visit-threat"]\nreason = "."', "a narrowing needs a reason in words"),
    ('rules = ["visit-threat"]\nreason = "a real reason"', "'templates' must list the templates it covers"),
    ('templates = ["a/*.j2"]\nrules = ["visit-thraet"]\nreason = "a real reason"', "names unknown rule 'visit-thraet'"),
])
def test_a_narrowing_without_reason_scope_or_known_rule_is_refused(root, entry, message):
    (root / "tmplstudio.toml").write_text('policies = ["packs"]\nbundled = false\n[[gate.narrow]]\n' + entry + "\n",
                                          encoding="utf-8")
    template(root, "t.j2", 'locale = "zh-CN"')
    r = cli(root, "validate")
    assert r.returncode == 2 and message in r.stderr, r.stderr
