"""Signed approvals with real ed25519 keys: identity, four eyes, revocation, expiry, a missing
ssh-keygen and the history's integrity, all through the real CLI."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest
from packkit import NOTICE_BODY, cli, write
from sshkit import PEOPLE, make_key, signed, signed_project, signer_line  # noqa: F401 - fixture

LOG = "templates/approvals.log.jsonl"


def git(root: Path, *args: str, author: str | None = None) -> None:
    env = {**os.environ}
    if author:
        name, email = author.split("<")
        env.update(GIT_AUTHOR_NAME=name.strip(), GIT_AUTHOR_EMAIL=email.rstrip(">"),
                   GIT_COMMITTER_NAME="CI", GIT_COMMITTER_EMAIL="ci@bank.example")
    subprocess.run(["git", *args], cwd=root, check=True, capture_output=True, env=env, timeout=30)


def committed_by_author(root: Path) -> None:
    git(root, "init", "-q")
    git(root, "add", "-A")
    git(root, "commit", "-qm", "wording", author="Ann Author <ann.author@bank.example>")


def approve(root, who, keys, *paths, expect=0):
    r = cli(root, "approve", *(paths or ("templates/notice.j2",)), "--key", str(keys[who]))
    assert r.returncode == expect, r.stdout + r.stderr
    return r


def test_two_person_release_with_the_author_excluded(signed):
    root, keys = signed
    committed_by_author(root)
    r = approve(root, "author", keys, expect=1)
    assert ("refused  templates/notice.j2: ann.author@bank.example is its author (Ann Author <ann.author@bank.example> "
            "(last git commit author)); someone else must approve it") in r.stdout
    assert not (root / LOG).exists()
    r = approve(root, "li", keys)
    assert "approved templates/notice.j2 (notice) by li.wei@bank.example; 1 of 2 approvals" in r.stdout
    assert "still needed: 1 more, from wang.fang@bank.example" in r.stdout  # not the author, not li again
    r = cli(root, "status")
    assert r.returncode == 0
    assert "pending   templates/notice.j2  (1 of 2 approvals; may still approve: wang.fang@bank.example)" in r.stdout
    approve(root, "li", keys)  # approving twice is still one signer
    assert "1 of 2 approvals" in cli(root, "status").stdout
    r = approve(root, "wang", keys)
    assert "2 of 2 approvals" in r.stdout
    r = cli(root, "status", "--format", "json")
    data = json.loads(r.stdout)["templates"][0]
    assert data["state"] == "approved" and data["review"]["counted"] == ["li.wei@bank.example", "wang.fang@bank.example"]
    entries = [json.loads(ln) for ln in (root / LOG).read_text(encoding="utf-8").splitlines()]
    assert [e["by"] for e in entries] == ["li.wei@bank.example"] * 2 + ["wang.fang@bank.example"]
    assert all(e["signature"].startswith("-----BEGIN SSH SIGNATURE-----") for e in entries)
    r = cli(root, "audit-log", "--verify")
    assert r.returncode == 0 and "ok templates/approvals.log.jsonl: 3 entries, chain intact, 3 signatures checked" in r.stdout


def test_the_author_recorded_at_a_studio_save_cannot_approve(signed):
    from tmplstudio.pack.authors import record_save
    from tmplstudio.project import Project

    root, keys = signed
    approve(root, "li", keys)  # the project now has a log, so saves are recorded
    path = root / "templates" / "notice.j2"
    path.write_text(path.read_text(encoding="utf-8").replace("及时查看", "尽快查看"), encoding="utf-8")
    record_save(Project.discover(root), path, "wang.fang@bank.example")
    record_save(Project.discover(root), path, "wang.fang@bank.example")  # the same save twice: one entry
    r = approve(root, "wang", keys, expect=1)
    assert "wang.fang@bank.example is its author (wang.fang@bank.example (saved this version in the studio))" in r.stdout
    assert "approved" in approve(root, "li", keys).stdout
    kinds = [json.loads(ln)["kind"] for ln in (root / LOG).read_text(encoding="utf-8").splitlines()]
    assert kinds == ["approve", "author", "approve"]


def test_a_key_not_in_allowed_signers_cannot_approve_and_an_entry_by_one_does_not_count(signed):
    root, keys = signed
    mallory = make_key(root.parent / "elsewhere", "mallory")
    r = cli(root, "approve", "templates/notice.j2", "--key", str(mallory))
    assert r.returncode == 2 and "templates/allowed_signers: the key" in r.stderr and "is not allowed to approve" in r.stderr
    assert "Traceback" not in r.stderr and not (root / LOG).exists()
    approve(root, "li", keys)
    approve(root, "wang", keys)
    signers = root / "templates" / "allowed_signers"
    signers.write_text(signer_line(PEOPLE["li"], keys["li"]) + signer_line(PEOPLE["author"], keys["author"]), encoding="utf-8")
    r = cli(root, "status")
    assert r.returncode == 2
    assert "pending   templates/notice.j2  (1 of 2 approvals; wang.fang@bank.example: signed by a key that is not in allowed_signers" in r.stdout
    assert "templates/approvals.log.jsonl:2: sign-off by wang.fang@bank.example for notice.j2 does not count" in r.stderr
    r = cli(root, "audit-log", "--verify")
    assert r.returncode == 2 and "approvals.log.jsonl:2: signature of wang.fang@bank.example does not check out" in r.stderr


def test_a_revoked_key_stops_counting_until_its_approval_is_withdrawn(signed):
    root, keys = signed
    approve(root, "li", keys)
    approve(root, "wang", keys)
    shutil.copy(keys["wang"].with_suffix(".pub"), root / "templates" / "revoked_keys")
    r = cli(root, "status")
    assert r.returncode == 2 and "wang.fang@bank.example: signed with a revoked key" in r.stdout
    assert "approvals.log.jsonl:2:" in r.stderr
    r = cli(root, "approve", "templates/notice.j2", "--key", str(keys["wang"]))
    assert r.returncode == 2 and "cannot approve: signed with a revoked key" in r.stderr
    r = cli(root, "revoke", "templates/notice.j2", "--signer", PEOPLE["wang"], "--reason", "laptop stolen", "--key", str(keys["li"]))
    assert r.returncode == 0, r.stderr
    assert "revoked  notice.j2: wang.fang@bank.example's sign-off withdrawn by li.wei@bank.example" in r.stdout
    r = cli(root, "status")
    assert r.returncode == 0 and "pending   templates/notice.j2  (1 of 2 approvals" in r.stdout
    r = cli(root, "audit-log", "--verify")
    assert r.returncode == 0, r.stderr
    assert "note: templates/approvals.log.jsonl:2: signature of wang.fang@bank.example does not check out" in r.stdout
    assert "(withdrawn at line 3)" in r.stdout


def test_revoke_withdraws_the_whole_approval_and_needs_a_real_reason(signed):
    root, keys = signed
    approve(root, "li", keys)
    approve(root, "wang", keys)
    for reason in (".", "\u200b\u200b\u200b", "  "):
        r = cli(root, "revoke", "templates/notice.j2", "--reason", reason, "--key", str(keys["li"]))
        assert r.returncode == 2 and "needs a real reason" in r.stderr
    r = cli(root, "revoke", "templates/notice.j2", "--reason", "legal asked to re-check the fee wording", "--key", str(keys["author"]))
    assert r.returncode == 0, r.stderr
    assert cli(root, "status").stdout.startswith("draft     templates/notice.j2")
    r = cli(root, "revoke", "templates/notice.j2", "--reason", "again", "--key", str(keys["li"]))
    assert r.returncode == 2 and "has no approval to withdraw" in r.stderr
    r = cli(root, "audit-log")
    assert "revoked approval of notice.j2: legal asked to re-check the fee wording [signed]" in r.stdout


def test_an_expired_key_cannot_approve_and_its_later_entries_do_not_count(signed):
    root, keys = signed
    approve(root, "li", keys)
    approve(root, "wang", keys)
    signers = root / "templates" / "allowed_signers"
    original = signers.read_text(encoding="utf-8")
    signers.write_text(original.replace("wang.fang@bank.example ", 'wang.fang@bank.example valid-before="20200101" '),
                       encoding="utf-8")
    r = cli(root, "status")
    assert r.returncode == 2
    assert "wang.fang@bank.example: the signer's key was not valid then" in r.stdout and "key has expired" in r.stdout
    r = cli(root, "approve", "templates/notice.j2", "--key", str(keys["wang"]))
    assert r.returncode == 2 and "templates/allowed_signers" in r.stderr and "expired" in r.stderr
    # A key that expires after it signed keeps its signatures good (checked at the entry's time).
    signers.write_text(original.replace("wang.fang@bank.example ", 'wang.fang@bank.example valid-before="21000101" '),
                       encoding="utf-8")
    assert cli(root, "status").returncode == 0


def test_folder_and_locale_scopes_limit_who_may_approve(tmp_path, monkeypatch):
    root = tmp_path / "proj"
    root.mkdir()
    monkeypatch.chdir(root)
    scopes = '\n[approval.folders."production"]\nrequired = 3\nsigners = ["*@compliance.example"]\n'
    people = {**PEOPLE, "chen": "chen.jie@compliance.example", "zhou": "zhou.min@compliance.example",
              "sun": "sun.li@compliance.example"}
    keys = signed_project(root, people, required=1, extra_config=scopes)
    (root / "templates" / "production").mkdir()
    prod = root / "templates" / "production" / "notice.j2"
    prod.write_text((root / "templates" / "notice.j2").read_text(encoding="utf-8"), encoding="utf-8")
    r = approve(root, "li", keys, "templates/production/notice.j2", expect=1)
    assert "li.wei@bank.example may not approve templates here (allowed: one of *@compliance.example)" in r.stdout
    for who in ("chen", "zhou"):
        approve(root, who, keys, "templates/production/notice.j2")
    r = cli(root, "status", "templates/production")
    assert ("pending   templates/production/notice.j2  (2 of 3 approvals; may still approve: sun.li@compliance.example)"
            in r.stdout)
    approve(root, "sun", keys, "templates/production/notice.j2")
    approve(root, "li", keys)  # outside production one signer from anyone in allowed_signers is enough
    r = cli(root, "status")
    assert r.stdout.count("approved  ") == 2, r.stdout


def test_signed_projects_refuse_unsigned_approvals_and_legacy_records_do_not_count(signed):
    root, keys = signed
    r = cli(root, "approve", "templates/notice.j2", "--by", "Li Wei")
    assert r.returncode == 2 and "--by is for unsigned approvals" in r.stderr
    (root / "templates" / "approvals.toml").write_text(
        'schema = 1\n[approvals."notice.j2"]\nid = "notice"\nsha256 = "x"\npolicy_digest = "y"\n'
        'approved_by = "Li Wei"\napproved_at = 2026-01-01T00:00:00Z\n', encoding="utf-8")
    approve(root, "li", keys)
    entries = [json.loads(ln) for ln in (root / LOG).read_text(encoding="utf-8").splitlines()]
    assert [(e["by"], e["signature"] is None, e["data"].get("imported")) for e in entries] == [
        ("Li Wei", True, "approvals.toml schema 1"), ("li.wei@bank.example", False, None)]
    assert "1 of 2 approvals" in cli(root, "status").stdout


def test_a_missing_ssh_keygen_is_a_clear_error_naming_the_log_line(signed, tmp_path):
    root, keys = signed
    approve(root, "li", keys)
    bare = tmp_path / "bin"
    bare.mkdir()
    (bare / "git").symlink_to(shutil.which("git"))
    env = {"PATH": str(bare)}
    r = cli(root, "status", env=env)
    assert r.returncode == 2 and "Traceback" not in r.stderr
    assert "templates/approvals.log.jsonl:1: cannot check the signature of li.wei@bank.example: ssh-keygen was not found" in r.stderr
    assert "apt-get install openssh-client" in r.stderr
    r = cli(root, "approve", "templates/notice.j2", "--key", str(keys["wang"]), env=env)
    assert r.returncode == 2 and "ssh-keygen was not found" in r.stderr
    assert len((root / LOG).read_text(encoding="utf-8").splitlines()) == 1


# -- the history cannot be rewritten quietly ------------------------------------------------------------------


def three_entries(root, keys) -> bytes:
    approve(root, "li", keys)
    approve(root, "wang", keys)
    write(root, "other", NOTICE_BODY)
    approve(root, "li", keys, "templates/other.j2")
    return (root / LOG).read_bytes()


def edit_note(line: bytes) -> bytes:
    entry = json.loads(line)
    entry["data"]["note"] = "approved by the board"
    return json.dumps(entry, ensure_ascii=False, separators=(",", ":")).encode()


TAMPER = {
    "edited line": (lambda ls: [ls[0], edit_note(ls[1]), ls[2]], 3, "does not follow line 2: the hash it records for it differs, so line 2 was edited"),
    "edited last line": (lambda ls: [ls[0], ls[1], edit_note(ls[2])], 3, "entry 3 is not the one approvals.toml was derived from: it was edited"),
    "deleted line": (lambda ls: [ls[0], ls[2]], 2, "holds entry 3 where entry 2 belongs: entry 2 was removed, or the lines were reordered"),
    "deleted last line": (lambda ls: [ls[0], ls[1]], 2, "was derived from 3 log entries, but the log holds 2: entries were removed from its end"),
    "swapped lines": (lambda ls: [ls[1], ls[0], ls[2]], 1, "holds entry 2 where entry 1 belongs"),
}


@pytest.mark.parametrize("case", sorted(TAMPER))
def test_a_tampered_log_is_refused_with_its_file_and_line(signed, case):
    root, keys = signed
    change, line, message = TAMPER[case]
    lines = three_entries(root, keys).split(b"\n")[:-1]
    tampered = b"\n".join(change(lines)) + b"\n"
    (root / LOG).write_bytes(tampered)
    for args in (("status",), ("audit-log", "--verify"), ("export", "--out", "p.zip"),
                 ("approve", "templates/other.j2", "--key", str(keys["wang"]))):
        r = cli(root, *args)
        assert r.returncode == 2, (args, r.stdout, r.stderr)
        assert f"templates/approvals.log.jsonl:{line}: {message}" in r.stderr, (args, r.stderr)
        assert "Traceback" not in r.stderr
    assert (root / LOG).read_bytes() == tampered  # nothing appended, nothing dropped
    assert not (root / "p.zip").exists()


def test_a_log_cut_mid_line_by_a_crash_is_detected_not_truncated(signed):
    root, keys = signed
    data = three_entries(root, keys)
    cut = data[: len(data) - 40]
    (root / LOG).write_bytes(cut)
    r = cli(root, "approve", "templates/other.j2", "--key", str(keys["wang"]))
    assert r.returncode == 2
    assert "templates/approvals.log.jsonl:3: the last line is cut off (no newline at its end)" in r.stderr
    assert (root / LOG).read_bytes() == cut
    r = cli(root, "audit-log")
    assert r.returncode == 2 and "approvals.log.jsonl:3: the last line is cut off" in r.stderr


def test_an_edited_signed_entry_fails_its_signature_even_with_the_chain_rebuilt(signed):
    """An attacker who edits an entry and recomputes every later hash still cannot re-sign it."""
    import hashlib

    root, keys = signed
    lines = three_entries(root, keys).split(b"\n")[:-1]
    entries = [json.loads(ln) for ln in lines]
    entries[0]["data"]["note"] = "approved by the board"
    out, prev = [], "0" * 64
    for e in entries:
        e["prev"] = prev
        raw = json.dumps(e, ensure_ascii=False, separators=(",", ":")).encode()
        out.append(raw)
        prev = hashlib.sha256(raw).hexdigest()
    (root / LOG).write_bytes(b"\n".join(out) + b"\n")
    (root / "templates" / "approvals.toml").unlink()  # and the anchor removed
    r = cli(root, "audit-log", "--verify")
    assert r.returncode == 2
    assert ("approvals.log.jsonl:1: signature of li.wei@bank.example does not check out: the signature does not "
            "match the signed text (the entry was edited after signing)") in r.stderr
    # Every later entry signed over the old "prev" fails too: the history cannot be re-chained.
    assert "approvals.log.jsonl:2: signature of wang.fang@bank.example" in r.stderr
