"""Signed packs: export signs the manifest; verify, elsewhere, checks it and every sign-off."""

from __future__ import annotations

import json
import shutil
import zipfile
from pathlib import Path

import pytest
from packkit import cli, rezip
from sshkit import make_key, signed, signer_line  # noqa: F401 - fixture


@pytest.fixture
def released(signed):
    """notice.j2 approved by li and wang, exported and signed by the author (a release manager may
    export what others approved)."""
    root, keys = signed
    for who in ("li", "wang"):
        r = cli(root, "approve", "templates/notice.j2", "--key", str(keys[who]))
        assert r.returncode == 0, r.stderr
    r = cli(root, "export", "--out", "pack.zip", "--key", str(keys["author"]))
    assert r.returncode == 0, r.stdout + r.stderr
    assert "manifest signed by ann.author@bank.example" in r.stdout
    return root, keys


def elsewhere(root: Path, tmp_path: Path) -> Path:
    """The sending team's machine: the pack and their own copy of allowed_signers, no project."""
    other = tmp_path / "sending-system"
    other.mkdir()
    shutil.copy(root / "pack.zip", other / "pack.zip")
    shutil.copy(root / "templates" / "allowed_signers", other / "trusted_signers")
    return other


def test_verify_on_another_machine_names_who_approved_and_when(released, tmp_path):
    root, _ = released
    other = elsewhere(root, tmp_path)
    r = cli(other, "verify", "pack.zip", "--allowed-signers", "trusted_signers")
    assert r.returncode == 0, r.stdout + r.stderr
    lines = r.stdout.splitlines()
    assert lines[0].startswith("  notice.j2 (notice): 2 of 2 approvals — li.wei@bank.example at 20")
    assert ", wang.fang@bank.example at 20" in lines[0]
    assert lines[1] == "  manifest signed by ann.author@bank.example (checked against trusted_signers)"
    assert lines[2] == "ok pack.zip: 1 template, 4 files match the manifest"
    with zipfile.ZipFile(other / "pack.zip") as zf:
        assert sorted(zf.namelist()) == ["manifest.json", "manifest.json.sig", "signers/allowed_signers", "templates/notice.j2"]


def test_a_pack_re_signed_by_an_outsider_fails_against_the_trusted_signers(released, tmp_path):
    """Mallory edits the template, fixes every hash, signs with her key and ships her own
    allowed_signers inside the pack: consistent on its own, refused against the trusted copy."""
    from tmplstudio.pack.digest import sha256_bytes
    from tmplstudio.pack.export import manifest_digest
    from tmplstudio.pack.sshsig import PACK_NAMESPACE, sign

    root, _ = released
    other = elsewhere(root, tmp_path)
    mallory = make_key(tmp_path / "mallory", "mallory")

    def forge(files):
        files["templates/notice.j2"] = files["templates/notice.j2"].replace("及时查看".encode(), "立即还款否则上门".encode())
        manifest = json.loads(files["manifest.json"])
        digest = sha256_bytes(files["templates/notice.j2"])
        manifest["templates"][0]["sha256"] = manifest["templates"][0]["approval"]["sha256"] = digest
        files["signers/allowed_signers"] = signer_line("li.wei@bank.example", mallory).encode() + \
            signer_line("wang.fang@bank.example", mallory).encode() + signer_line("ann.author@bank.example", mallory).encode()
        manifest["files"]["signers/allowed_signers"] = sha256_bytes(files["signers/allowed_signers"])
        manifest["files"]["templates/notice.j2"] = digest
        manifest["digest"] = manifest_digest(manifest)
        files["manifest.json"] = json.dumps(manifest, ensure_ascii=False, indent=2).encode()
        files["manifest.json.sig"] = sign(files["manifest.json"], mallory, PACK_NAMESPACE).encode()

    rezip(other / "pack.zip", other / "pack.zip", forge)
    r = cli(other, "verify", "pack.zip", "--allowed-signers", "trusted_signers")
    assert r.returncode == 1, r.stdout
    assert "pack.zip: manifest.json.sig: does not check out: signed by a key that is not in trusted_signers" in r.stdout
    # The approvers' signatures covered the old bytes: their entries no longer match the template.
    assert "pack.zip: templates/notice.j2: sign-off by li.wei@bank.example at" in r.stdout
    assert "its log entry approved something else" in r.stdout
    assert "0 of 2 required approvals check out" in r.stdout


def test_a_removed_manifest_signature_is_detected(released, tmp_path):
    root, _ = released
    other = elsewhere(root, tmp_path)
    rezip(other / "pack.zip", other / "pack.zip", lambda files: files.pop("manifest.json.sig"))
    r = cli(other, "verify", "pack.zip", "--allowed-signers", "trusted_signers")
    assert r.returncode == 1
    assert "pack.zip: manifest.json.sig: missing: the manifest says its project signs its packs" in r.stdout


def test_strict_export_refuses_a_tree_with_a_failing_signature(released):
    root, keys = released
    carol = make_key(root.parent / "carol", "carol")
    signers = root / "templates" / "allowed_signers"
    signers.write_text(signers.read_text(encoding="utf-8") + signer_line("carol@bank.example", carol), encoding="utf-8")
    r = cli(root, "approve", "templates/notice.j2", "--key", str(carol))
    assert r.returncode == 0, r.stderr
    # carol's key is then revoked: li and wang still make two, but carol's entry fails.
    shutil.copy(carol.with_suffix(".pub"), root / "templates" / "revoked_keys")
    r = cli(root, "export", "--out", "strict.zip", "--strict", "--key", str(keys["author"]))
    assert r.returncode == 1
    assert "signature notice.j2: carol@bank.example: signed with a revoked key" in r.stdout
    assert "refused: 1 sign-off signature does not check out (--strict)" in r.stderr
    assert not (root / "strict.zip").exists()
    r = cli(root, "export", "--out", "loose.zip", "--key", str(keys["author"]))
    assert r.returncode == 0 and "included notice.j2" in r.stdout  # two good sign-offs are enough
    with zipfile.ZipFile(root / "loose.zip") as zf:
        assert "signers/revoked_keys" in zf.namelist()
    r = cli(root, "verify", "loose.zip")
    assert r.returncode == 1 and "sign-off by carol@bank.example" in r.stdout and "revoked key" in r.stdout


def test_a_signed_project_exports_only_with_a_key(released):
    root, _ = released
    r = cli(root, "export", "--out", "nokey.zip", env={"HOME": str(root / "nohome")})
    assert r.returncode == 2 and "no such SSH key" in r.stderr and not (root / "nokey.zip").exists()
