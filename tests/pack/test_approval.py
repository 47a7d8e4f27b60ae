"""Approving templates: refusals, warnings, the ledger's format, status and staleness."""

from __future__ import annotations

import tomllib

from packkit import FIXED_TIME, NOTICE_BODY, approve, cli, load, proj_dir, write  # noqa: F401 - fixture

from tmplstudio.pack.ledger import Ledger
from tmplstudio.pack.status import APPROVED, DRAFT, FAILING, STALE, project_statuses


def states(root) -> dict[str, tuple[str, list[str]]]:
    statuses, _, _ = project_statuses(load(root))
    return {s.rel: (s.state, s.reasons) for s in statuses}


def test_refused_with_errors_lists_them_and_writes_nothing(proj_dir):
    write(proj_dir, "bad", "【示例银行】{{ name }}您好，本产品保证收益。\n")
    r = cli(proj_dir, "approve", "templates/bad.j2", "--by", "Li Wei")
    assert r.returncode == 1, r.stderr
    assert "refused  templates/bad.j2: 1 error finding" in r.stdout
    assert "templates/bad.j2:16:" in r.stdout and "guaranteed-return" in r.stdout
    assert not (proj_dir / "templates" / "approvals.toml").exists()
    # --accept-warnings does not help with errors
    r = cli(proj_dir, "approve", "templates/bad.j2", "--by", "Li Wei", "--accept-warnings")
    assert r.returncode == 1
    assert states(proj_dir)["bad.j2"][0] == FAILING


def test_warnings_need_accept_and_are_recorded(proj_dir):
    write(proj_dir, "warn", "【示例银行】{{ name }}您好，我们将上门催收。\n")
    r = cli(proj_dir, "approve", "templates/warn.j2", "--by", "Li Wei")
    assert r.returncode == 1 and "--accept-warnings" in r.stdout and "visit-threat" in r.stdout
    assert not (proj_dir / "templates" / "approvals.toml").exists()
    r = cli(proj_dir, "approve", "templates/warn.j2", "--by", "Li Wei", "--note", "visit wording reviewed", "--accept-warnings")
    assert r.returncode == 0, r.stdout + r.stderr
    data = tomllib.loads((proj_dir / "templates" / "approvals.toml").read_text(encoding="utf-8"))
    rec = data["approvals"]["warn.j2"]
    assert rec["id"] == "warn" and [(s["by"], s["note"], s["signed"]) for s in rec["signoffs"]] == [
        ("Li Wei", "visit wording reviewed", False)]
    assert [w["rule"] for w in rec["accepted_warnings"]] == ["visit-threat"]
    assert rec["accepted_warnings"][0]["text"] == "上门催收"
    assert rec["policy_packs"].keys() == {"test-pack"}
    assert states(proj_dir)["warn.j2"][0] == APPROVED


def test_ledger_record_fields_and_stable_order(proj_dir):
    write(proj_dir, "alpha", NOTICE_BODY)
    approve(proj_dir, "notice")
    approve(proj_dir, "alpha")
    text = (proj_dir / "templates" / "approvals.toml").read_text(encoding="utf-8")
    assert text.index('[approvals."alpha.j2"]') < text.index('[approvals."notice.j2"]')
    rec = tomllib.loads(text)["approvals"]["notice.j2"]
    assert list(rec)[:5] == ["id", "sha256", "policy_digest", "tool_version", "locale"]
    assert rec["signoffs"] == [{"by": "Li Wei", "at": FIXED_TIME, "signed": False, "line": 1}]
    import hashlib

    assert rec["sha256"] == hashlib.sha256((proj_dir / "templates" / "notice.j2").read_bytes()).hexdigest()
    # Re-writing the same ledger is byte-identical (no reordering churn).
    ledger = Ledger.load(proj_dir / "templates")
    assert ledger.dumps() == text


def test_stale_after_one_character_edit(proj_dir):
    approve(proj_dir, "notice")
    assert states(proj_dir)["notice.j2"] == (APPROVED, [])
    path = proj_dir / "templates" / "notice.j2"
    path.write_text(path.read_text(encoding="utf-8").replace("及时查看", "及时查阅"), encoding="utf-8")
    state, reasons = states(proj_dir)["notice.j2"]
    assert state == STALE and reasons == ["file changed since approval"]
    r = cli(proj_dir, "status")
    assert r.returncode == 0
    assert "stale     templates/notice.j2  (file changed since approval; approved by Li Wei at 2026-01-02T03:04:05Z)" in r.stdout


def test_stale_after_policy_change_but_not_after_reformatting(proj_dir):
    approve(proj_dir, "notice")
    pack = proj_dir / "packs" / "test.toml"
    original = pack.read_text(encoding="utf-8")
    # Reformatting (comments, quoting, spreading a list over lines) is not a policy change.
    pack.write_text("# reviewed 2026\n" + original.replace('phrases = ["上门催收"]', "phrases = [\n  '上门催收',\n]"), encoding="utf-8")
    assert states(proj_dir)["notice.j2"][0] == APPROVED
    # Any rule change is.
    pack.write_text(original.replace('phrases = ["上门催收"]', 'phrases = ["上门催收", "上门拜访"]'), encoding="utf-8")
    state, reasons = states(proj_dir)["notice.j2"]
    assert state == STALE
    assert reasons == ["policy set changed since approval (pack test-pack changed)"]


def test_stale_after_config_override_change(proj_dir):
    approve(proj_dir, "notice")
    cfg = proj_dir / "tmplstudio.toml"
    cfg.write_text(cfg.read_text(encoding="utf-8") + '[rules]\nvisit-threat = "error"\n', encoding="utf-8")
    state, reasons = states(proj_dir)["notice.j2"]
    assert state == STALE and reasons == ["policy set changed since approval (config overrides changed)"]


def test_status_draft_failing_missing_and_json(proj_dir):
    import json

    write(proj_dir, "bad", "本产品保证收益。\n")
    approve(proj_dir, "notice")
    (proj_dir / "templates" / "notice.j2").unlink()
    write(proj_dir, "other", NOTICE_BODY)
    r = cli(proj_dir, "status", "--format", "json")
    assert r.returncode == 0, r.stderr
    data = json.loads(r.stdout)
    got = {t["path"]: t["state"] for t in data["templates"]}
    assert got == {"bad.j2": FAILING, "other.j2": DRAFT}
    assert data["missing"] == ["notice.j2"]
    r = cli(proj_dir, "status")
    assert "missing   notice.j2" in r.stdout


def test_input_errors_exit_2_and_name_the_file(proj_dir):
    r = cli(proj_dir, "approve", "templates/nope.j2", "--by", "x")
    assert r.returncode == 2 and "templates/nope.j2" in r.stderr and "Traceback" not in r.stderr
    (proj_dir / "templates" / "approvals.toml").write_text("schema = [", encoding="utf-8")
    r = cli(proj_dir, "status")
    assert r.returncode == 2 and "approvals.toml" in r.stderr and "Traceback" not in r.stderr
    outside = proj_dir / "elsewhere.j2"
    outside.write_text("hello\n", encoding="utf-8")
    (proj_dir / "templates" / "approvals.toml").unlink()
    r = cli(proj_dir, "approve", "elsewhere.j2", "--by", "x")
    assert r.returncode == 2 and "elsewhere.j2" in r.stderr and "templates folder" in r.stderr


def test_default_approver_from_git_config(proj_dir):
    import subprocess

    subprocess.run(["git", "init", "-q"], cwd=proj_dir, check=True)
    subprocess.run(["git", "config", "user.name", "Wang Fang"], cwd=proj_dir, check=True)
    r = cli(proj_dir, "approve", "templates/notice.j2")
    assert r.returncode == 0, r.stderr
    assert "by Wang Fang" in r.stdout
