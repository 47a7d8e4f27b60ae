"""`tmplstudio init` scaffolds a project that validates clean at once, and never clobbers files."""

from __future__ import annotations

from pathlib import Path

from tests.ci.cikit import tmplstudio, write


def test_init_then_validate_passes_with_the_bundled_packs(tmp_path):
    r = tmplstudio("init", cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    assert sorted(p.relative_to(tmp_path).as_posix() for p in tmp_path.rglob("*") if p.is_file()) == [
        "policies/team.toml", "templates/en-us-payment-reminder.j2", "templates/zh-cn-payment-reminder.j2", "tmplstudio.toml"]
    v = tmplstudio("validate", "--fail-on", "warning", cwd=tmp_path)
    assert v.returncode == 0, v.stdout + v.stderr
    assert "2 templates checked: 0 errors, 0 warnings, 0 info" in v.stdout
    # The project's own pack is loaded next to the bundled ones.
    packs = tmplstudio("policy", "list", cwd=tmp_path).stdout
    assert "team 0.1.0" in packs and "zh-collections" in packs


def test_the_config_is_commented_and_points_at_the_new_folders(tmp_path):
    tmplstudio("init", "--locale", "en-US", cwd=tmp_path)
    config = (tmp_path / "tmplstudio.toml").read_text(encoding="utf-8")
    assert 'templates = "templates"' in config and 'policies = ["policies"]' in config and 'locale = "en-US"' in config
    assert sum(1 for line in config.splitlines() if line.startswith("#")) >= 8


def test_locale_option_chooses_the_starter_templates(tmp_path):
    r = tmplstudio("init", "--locale", "zh-CN", cwd=tmp_path)
    assert r.returncode == 0
    assert [p.name for p in (tmp_path / "templates").iterdir()] == ["zh-cn-payment-reminder.j2"]
    text = (tmp_path / "templates" / "zh-cn-payment-reminder.j2").read_text(encoding="utf-8")
    assert 'locale = "zh-CN"' in text and "[samples.a]" in text and text.startswith("+++\n")
    assert tmplstudio("validate", cwd=tmp_path).returncode == 0


def test_unsupported_locale_is_a_usage_error(tmp_path):
    r = tmplstudio("init", "--locale", "fr-FR", cwd=tmp_path)
    assert r.returncode == 2 and "fr-FR" in r.stderr
    assert list(tmp_path.iterdir()) == []


def test_the_team_pack_rule_works_and_its_examples_pass(tmp_path):
    tmplstudio("init", cwd=tmp_path)
    write(tmp_path / "templates" / "final.j2", "+++\nlocale = \"en-US\"\n+++\nACME Bank: FINAL NOTICE. Call 1-800-555-0100. Reply STOP to opt out.\n")
    r = tmplstudio("validate", "templates/final.j2", cwd=tmp_path)
    assert r.returncode == 1 and "templates/final.j2:4:12 error no-final-notice" in r.stdout
    t = tmplstudio("policy", "test", "team", cwd=tmp_path)
    assert t.returncode == 0 and "ok team" in t.stdout and "4 passed, 0 failed" in t.stdout
    lint = tmplstudio("policy", "lint", "policies/team.toml", cwd=tmp_path)
    assert lint.returncode == 0 and lint.stdout.strip() == "1 pack linted: 0 errors, 0 warnings"


def test_existing_files_are_never_overwritten_without_force(tmp_path):
    write(tmp_path / "templates" / "zh-cn-payment-reminder.j2", "my own work\n")
    r = tmplstudio("init", cwd=tmp_path)
    assert r.returncode == 2
    assert "templates/zh-cn-payment-reminder.j2 already exists" in r.stderr and "--force" in r.stderr
    # Nothing was written: not even the files that did not exist.
    assert (tmp_path / "templates" / "zh-cn-payment-reminder.j2").read_text(encoding="utf-8") == "my own work\n"
    assert not (tmp_path / "tmplstudio.toml").exists() and not (tmp_path / "policies").exists()
    r = tmplstudio("init", "--force", cwd=tmp_path)
    assert r.returncode == 0 and "overwrote templates/zh-cn-payment-reminder.j2" in r.stdout
    assert "my own work" not in (tmp_path / "templates" / "zh-cn-payment-reminder.j2").read_text(encoding="utf-8")
    assert tmplstudio("validate", cwd=tmp_path).returncode == 0


def test_a_second_init_refuses(tmp_path):
    assert tmplstudio("init", cwd=tmp_path).returncode == 0
    before = {p: p.read_bytes() for p in Path(tmp_path).rglob("*") if p.is_file()}
    r = tmplstudio("init", cwd=tmp_path)
    assert r.returncode == 2 and "nothing was written" in r.stderr
    assert {p: p.read_bytes() for p in Path(tmp_path).rglob("*") if p.is_file()} == before
