"""`tmplstudio init` starts a project with signed approvals and four eyes for production/."""

from __future__ import annotations

from packkit import cli


def test_init_requires_signatures_and_two_reviewers_in_production(tmp_path, monkeypatch):
    from tmplstudio.pack.settings import settings
    from tmplstudio.project import Project

    monkeypatch.chdir(tmp_path)
    assert cli(tmp_path, "init").returncode == 0
    conf = settings(Project.discover(tmp_path))
    assert conf.require_signature is True
    assert conf.requirement("production/reminder.j2", "zh-CN").required == 2
    assert conf.requirement("zh-cn-payment-reminder.j2", "zh-CN").required == 1
    assert conf.allowed_signers == tmp_path / "templates" / "allowed_signers"
    r = cli(tmp_path, "approve", "templates/zh-cn-payment-reminder.j2", "--by", "Li Wei")
    assert r.returncode == 2 and "--by is for unsigned approvals" in r.stderr
    assert cli(tmp_path, "validate").returncode == 0


def test_bad_approval_settings_name_the_config(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    cases = {
        "[approval]\nrequired = 0\n": "approval.required must be a whole number from 1 to 20, not 0",
        "[approval]\nrequire_signature = \"yes\"\n": "approval.require_signature must be true or false",
        "[approval]\nreqired = 2\n": "unknown key 'reqired' in [approval] (did you mean 'required'?)",
        "[approval.folders.production]\nsigners = \"li\"\n": "approval.folders.\"production\".signers must be a list",
    }
    for text, message in cases.items():
        (tmp_path / "tmplstudio.toml").write_text('templates = "templates"\n' + text, encoding="utf-8")
        (tmp_path / "templates").mkdir(exist_ok=True)
        (tmp_path / "templates" / "a.j2").write_text("hello\n", encoding="utf-8")
        r = cli(tmp_path, "status")
        assert r.returncode == 2 and "tmplstudio.toml: " + message in r.stderr, (text, r.stderr)
