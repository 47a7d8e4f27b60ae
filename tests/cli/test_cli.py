"""The command line through a real subprocess, as CI runs it."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

PACK = textwrap.dedent("""
    [pack]
    id = "demo"
    title = "Demo"
    version = "1"

    [[rules]]
    id = "visit-threat"
    kind = "phrases"
    severity = "error"
    message = "Announces a home visit."
    phrases = ["上门催收"]
    suggestion = "Invite the customer to call instead."
    [rules.examples]
    hit = ["我们将上门催收"]
    ok = ["线上门户"]

    [[rules]]
    id = "tone"
    kind = "phrases"
    severity = "warning"
    message = "Harsh tone."
    phrases = ["立即"]
""")


def tmplstudio(*args: str, cwd: Path, check: bool = False) -> subprocess.CompletedProcess:
    env = {**os.environ, "NO_COLOR": "1"}
    return subprocess.run([sys.executable, "-m", "tmplstudio", *args], cwd=cwd, capture_output=True, text=True,
                          env=env, timeout=120, check=check)


@pytest.fixture
def project(tmp_path: Path) -> Path:
    (tmp_path / "policies").mkdir()
    (tmp_path / "policies" / "demo.toml").write_text(PACK, encoding="utf-8")
    (tmp_path / "tmplstudio.toml").write_text('policies = ["policies"]\nbundled = false\n', encoding="utf-8")
    t = tmp_path / "templates"
    t.mkdir()
    (t / "clean.j2").write_text('+++\n[samples.a]\nname = "张三"\n+++\n【某银行】{{ name }}您好，请按时还款。\n', encoding="utf-8")
    (t / "_partials").mkdir()
    (t / "_partials" / "footer.j2").write_text("我们将上门催收\n", encoding="utf-8")
    return tmp_path


def test_clean_folder_exits_zero_and_skips_partials(project):
    r = tmplstudio("validate", cwd=project)
    assert r.returncode == 0, r.stdout + r.stderr
    assert "1 template checked: 0 errors" in r.stdout


def test_error_finding_exits_one_with_compiler_style_line(project):
    (project / "templates" / "bad.j2").write_text("您好\n我们将上门催收\n", encoding="utf-8")
    r = tmplstudio("validate", cwd=project)
    assert r.returncode == 1
    assert "templates/bad.j2:2:4 error visit-threat Announces a home visit." in r.stdout


def test_fail_on_warning(project):
    (project / "templates" / "warn.j2").write_text("请立即还款\n", encoding="utf-8")
    assert tmplstudio("validate", cwd=project).returncode == 0
    assert tmplstudio("validate", "--fail-on", "warning", cwd=project).returncode == 1


def test_json_output_contract(project):
    (project / "templates" / "bad.j2").write_text(
        "{# tmplstudio: allow tone -- legal approved #}\n请立即还款，我们将上门催收\n", encoding="utf-8")
    r = tmplstudio("validate", "--format", "json", "templates/bad.j2", cwd=project)
    assert r.returncode == 1
    data = json.loads(r.stdout)
    assert data["schema"] == 1 and data["tool"] == "tmplstudio"
    [t] = data["templates"]
    assert t["path"] == "templates/bad.j2" and t["locale"] == "zh-CN" and t["packs"] == ["demo"]
    by_rule = {f["rule"]: f for f in t["findings"]}
    assert by_rule["tone"]["suppressed"] is True
    v = by_rule["visit-threat"]
    assert (v["line"], v["column"], v["end_line"], v["end_column"]) == (2, 10, 2, 14)
    assert v["text"] == "上门催收" and v["sample"] is None and v["suggestion"] == "Invite the customer to call instead."
    assert data["summary"] == {"templates": 1, "error": 1, "warning": 0, "info": 0, "suppressed": 1, "baseline": 0}
    assert t["config"] == "tmplstudio.toml"
    assert len({f["fingerprint"] for f in t["findings"]}) == 2


@pytest.mark.parametrize("content, expect", [
    (b"\x00\x01\x02binary", "binary file"),
    ("您好".encode("gbk"), "not valid UTF-8"),
])
def test_unreadable_files_exit_two_with_one_line(project, content, expect):
    (project / "templates" / "weird.j2").write_bytes(content)
    r = tmplstudio("validate", cwd=project)
    assert r.returncode == 2
    assert expect in r.stdout and "Traceback" not in r.stdout + r.stderr
    assert "templates/weird.j2" in r.stdout


def test_missing_path_and_huge_file(project):
    r = tmplstudio("validate", "nope.j2", cwd=project)
    assert r.returncode == 2 and "nope.j2: no such file" in r.stdout
    (project / "templates" / "huge.j2").write_text("您好" * 2_600_000, encoding="utf-8")
    r = tmplstudio("validate", "templates/huge.j2", cwd=project)
    assert r.returncode == 2 and "MB" in r.stdout and "Traceback" not in r.stderr


def test_empty_file_is_checked_not_crashed(project):
    (project / "templates" / "empty.j2").write_text("", encoding="utf-8")
    r = tmplstudio("validate", "templates/empty.j2", cwd=project)
    assert r.returncode == 0 and "Traceback" not in r.stderr


@pytest.mark.parametrize("pack_text, expect", [
    ("[pack]\nid = 'demo'\n[[rules]]\nid = 'x'\nkind = 'phrases'\nseverity = 'error'\nmessage = 'm'\nphrases = [\n", "not valid TOML"),
    ("[pack]\nid = 'demo'\n[[rules]]\nid = 'x'\nkind = 'phrase'\nseverity = 'error'\nmessage = 'm'\n", "did you mean 'phrases'"),
    ("[pack]\nid = 'demo'\n[[rules]]\nid = 'x'\nkind = 'phrases'\nseverity = 'error'\nmessage = 'm'\nphrases = ['a']\nalow = ['b']\n", "did you mean 'allow'"),
    ("[pack]\nid = 'demo'\n[[rules]]\nid = 'x'\nkind = 'pattern'\nseverity = 'error'\nmessage = 'm'\npatterns = ['(a+)+$']\n", "nested unbounded"),
    ("[pack]\nid = 'demo'\n[[rules]]\nid = 'x'\nkind = 'pattern'\nseverity = 'error'\nmessage = 'm'\npatterns = ['[unclosed']\n", "invalid regular expression"),
])
def test_broken_pack_stops_validate_with_file_and_line(project, pack_text, expect):
    (project / "policies" / "demo.toml").write_text(pack_text, encoding="utf-8")
    r = tmplstudio("validate", cwd=project)
    assert r.returncode == 2
    assert "policies/demo.toml" in r.stderr and expect in r.stderr
    assert "Traceback" not in r.stderr and r.stderr.count("\n") == 1
    if "TOML" in expect or "kind" in pack_text and "phrase'" in pack_text:
        assert ":" in r.stderr.split("policies/demo.toml", 1)[1][:3]


def test_render_shows_count_encoding_and_segments(project):
    r = tmplstudio("render", "templates/clean.j2", cwd=project)
    assert r.returncode == 0
    assert "── a · 16 chars · CN · 1 part" in r.stdout
    assert "【某银行】张三您好，请按时还款。" in r.stdout


def test_render_reports_a_missing_sample_value(project):
    (project / "templates" / "m.j2").write_text('+++\n[samples.a]\nx = 1\n+++\n你好{{ name }}呀\n', encoding="utf-8")
    r = tmplstudio("render", "templates/m.j2", cwd=project)
    assert r.returncode == 1 and "'name' is undefined" in r.stdout


def test_policy_test_passes_and_fails_with_a_readable_diff(project):
    r = tmplstudio("policy", "test", cwd=project)
    assert r.returncode == 0 and "2 passed, 0 failed" in r.stdout
    broken = PACK.replace('ok = ["线上门户"]', 'ok = ["线上门户", "他们要上门催收了"]')
    (project / "policies" / "demo.toml").write_text(broken, encoding="utf-8")
    r = tmplstudio("policy", "test", cwd=project)
    assert r.returncode == 1
    assert "FAIL demo/visit-threat" in r.stdout and "expected no finding" in r.stdout
    assert "他们要上门催收了" in r.stdout and "^^^^^^^^" in r.stdout


def test_policy_list(project):
    r = tmplstudio("policy", "list", cwd=project)
    assert r.returncode == 0 and "visit-threat" in r.stdout and "phrases" in r.stdout


def test_unknown_config_key_and_override(project):
    (project / "tmplstudio.toml").write_text('policies = ["policies"]\nbundled = false\ntempaltes = "x"\n', encoding="utf-8")
    r = tmplstudio("validate", cwd=project)
    assert r.returncode == 2 and "did you mean 'templates'" in r.stderr


def test_config_can_turn_a_rule_off_or_change_its_severity(project):
    (project / "templates" / "bad.j2").write_text("我们将上门催收\n", encoding="utf-8")
    (project / "tmplstudio.toml").write_text('policies = ["policies"]\nbundled = false\n[rules]\nvisit-threat = { severity = "warning", reason = "branch visits are announced by law" }\n', encoding="utf-8")
    r = tmplstudio("validate", cwd=project)
    assert r.returncode == 0 and "warning visit-threat" in r.stdout
    (project / "tmplstudio.toml").write_text('policies = ["policies"]\nbundled = false\n[rules]\n"demo/visit-threat" = { severity = "off", reason = "home-service offers only" }\n', encoding="utf-8")
    r = tmplstudio("validate", cwd=project)
    assert r.returncode == 0 and not [line for line in r.stdout.splitlines() if "visit-threat" in line and line.startswith("  ")]
    assert "narrowed in config: demo/visit-threat off ([rules]) -- home-service offers only" in r.stdout  # with its reason


def test_config_in_pyproject_found_from_a_subfolder(project):
    (project / "tmplstudio.toml").unlink()
    (project / "pyproject.toml").write_text('[tool.tmplstudio]\npolicies = ["policies"]\nbundled = false\n', encoding="utf-8")
    (project / "templates" / "bad.j2").write_text("我们将上门催收\n", encoding="utf-8")
    r = tmplstudio("validate", cwd=project / "templates")
    assert r.returncode == 1 and "visit-threat" in r.stdout


def test_cli_does_not_import_textual():
    code = "import sys, tmplstudio.cli.main as m; m.build_parser(); import tmplstudio.project; print('textual' in sys.modules)"
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert r.stdout.strip() == "False"
