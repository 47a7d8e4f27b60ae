"""Export: what is included, reproducibility and verify's tamper detection (targets: test_targets.py)."""

from __future__ import annotations

import io
import json
import zipfile
from pathlib import Path

import pytest
from packkit import NOTICE_BODY, approve, cli, load, proj_dir, rezip, write  # noqa: F401 - fixture

from tmplstudio.pack.export import build, write as write_pack
from tmplstudio.pack.verify import verify


def export_zip(root: Path, name: str = "pack.zip", *args: str, env: dict | None = None):
    r = cli(root, "export", "--out", name, *args, env=env)
    return r, root / name


def test_only_approved_current_clean_templates_are_exported(proj_dir):
    write(proj_dir, "draft", NOTICE_BODY)
    write(proj_dir, "stale", NOTICE_BODY)
    write(proj_dir, "bad", "本产品保证收益。\n")
    approve(proj_dir, "notice", "stale")
    (proj_dir / "templates" / "stale.j2").write_text(
        (proj_dir / "templates" / "stale.j2").read_text(encoding="utf-8") + " ", encoding="utf-8")
    r, pack = export_zip(proj_dir)
    assert r.returncode == 0, r.stdout + r.stderr
    assert "excluded bad.j2: not approved (draft)" not in r.stdout  # bad has errors: it is failing
    assert "excluded bad.j2: fails validation now: 1 error finding" in r.stdout
    assert "excluded draft.j2: not approved (draft)" in r.stdout
    assert "excluded stale.j2: approval is stale: file changed since approval" in r.stdout
    assert "included notice.j2" in r.stdout
    with zipfile.ZipFile(pack) as zf:
        assert zf.namelist() == ["manifest.json", "templates/notice.j2"]
        manifest = json.loads(zf.read("manifest.json"))
    assert [t["id"] for t in manifest["templates"]] == ["notice"]
    # --strict: the same export exits 1 because templates were excluded.
    r, _ = export_zip(proj_dir, "strict.zip", "--strict")
    assert r.returncode == 1 and (proj_dir / "strict.zip").exists()


def test_nothing_to_export_exits_1_without_writing(proj_dir):
    r, pack = export_zip(proj_dir)
    assert r.returncode == 1 and "nothing to export" in r.stderr and not pack.exists()


def test_manifest_content(proj_dir):
    approve(proj_dir, "notice", note="ok")
    r, pack = export_zip(proj_dir)
    assert r.returncode == 0
    with zipfile.ZipFile(pack) as zf:
        manifest = json.loads(zf.read("manifest.json"))
        source = zf.read("templates/notice.j2")
    assert source == (proj_dir / "templates" / "notice.j2").read_bytes()
    assert manifest["schema"] == 1 and manifest["tool"] == "tmplstudio" and manifest["target"] == "generic"
    t = manifest["templates"][0]
    assert (t["id"], t["path"], t["locale"], t["channel"]) == ("notice", "notice.j2", "zh-CN", "sms")
    assert [(s["by"], s["note"], s["at"]) for s in t["approval"]["signoffs"]] == [("Li Wei", "ok", "2026-01-02T03:04:05Z")]
    assert t["approval"]["signoffs"][0]["entry"]["signature"] is None  # unsigned: this project does not require it
    assert t["approval"]["policy_digest"] == manifest["policy_digest"]
    assert [v["name"] for v in t["variables"]] == ["name", "card_no", "amount"]
    assert t["variables"][1]["samples"] == {"short": "6222021234567890123", "long": "6222029876543210"}
    assert t["previews"]["short"]["text"] == "【示例银行】张三您好，您尾号***************0123的账户100元待确认，请及时查看。"
    assert t["previews"]["short"]["segments"] == 1


def test_two_exports_are_byte_identical(proj_dir):
    approve(proj_dir, "notice")
    r1, a = export_zip(proj_dir, "a.zip")
    r2, b = export_zip(proj_dir, "b.zip")
    assert r1.returncode == r2.returncode == 0
    assert a.read_bytes() == b.read_bytes()
    with zipfile.ZipFile(a) as zf:
        for info in zf.infolist():
            assert info.date_time == (1980, 1, 1, 0, 0, 0)
            assert (info.external_attr >> 16) & 0o777 == 0o644


def test_source_date_epoch(proj_dir):
    approve(proj_dir, "notice")
    _, a = export_zip(proj_dir, "a.zip", env={"SOURCE_DATE_EPOCH": "1767225600"})
    _, b = export_zip(proj_dir, "b.zip", env={"SOURCE_DATE_EPOCH": "1767225600"})
    _, c = export_zip(proj_dir, "c.zip", env={"SOURCE_DATE_EPOCH": "1767312000"})
    assert a.read_bytes() == b.read_bytes()
    assert a.read_bytes() != c.read_bytes()
    with zipfile.ZipFile(a) as zf:
        assert {i.date_time for i in zf.infolist()} == {(2026, 1, 1, 0, 0, 0)}
    r, _ = export_zip(proj_dir, "d.zip", env={"SOURCE_DATE_EPOCH": "yesterday"})
    assert r.returncode == 2 and "SOURCE_DATE_EPOCH" in r.stderr


def test_folder_export_verifies_and_matches_zip(proj_dir):
    approve(proj_dir, "notice")
    r = cli(proj_dir, "export", "--out", "outdir")
    assert r.returncode == 0, r.stderr
    _, pack = export_zip(proj_dir)
    with zipfile.ZipFile(pack) as zf:
        for name in zf.namelist():
            assert (proj_dir / "outdir" / name).read_bytes() == zf.read(name)
    assert cli(proj_dir, "verify", "outdir").returncode == 0
    # Re-exporting over a previous export replaces it; a folder that is not an export is refused.
    assert cli(proj_dir, "export", "--out", "outdir").returncode == 0
    (proj_dir / "other").mkdir()
    (proj_dir / "other" / "keep.txt").write_text("mine", encoding="utf-8")
    r = cli(proj_dir, "export", "--out", "other")
    assert r.returncode == 2 and "other" in r.stderr and (proj_dir / "other" / "keep.txt").exists()


# -- tamper detection ------------------------------------------------------------------------------------------


@pytest.fixture
def good_pack(proj_dir):
    write(proj_dir, "second", NOTICE_BODY)
    approve(proj_dir, "notice", "second")
    r, pack = export_zip(proj_dir)
    assert r.returncode == 0
    assert cli(proj_dir, "verify", "pack.zip").returncode == 0
    return pack


def edit_manifest(files, fn):
    manifest = json.loads(files["manifest.json"])
    fn(manifest)
    files["manifest.json"] = json.dumps(manifest, ensure_ascii=False, indent=2).encode()


CASES = {
    "added": (lambda f: f.__setitem__("templates/extra.j2", b"hello"), ["templates/extra.j2: added"]),
    "removed": (lambda f: f.pop("templates/second.j2"), ["templates/second.j2: removed"]),
    "modified": (lambda f: f.__setitem__("templates/notice.j2", f["templates/notice.j2"].replace("及时".encode(), "马上".encode())),
                 ["templates/notice.j2: modified", "templates/notice.j2: does not match template 'notice'"]),
    "manifest-edit": (lambda f: edit_manifest(f, lambda m: m["templates"][0]["approval"]["signoffs"][0].__setitem__("by", "Someone Else")),
                      ["manifest.json: edited"]),
    "manifest-removed": (lambda f: f.pop("manifest.json"), ["manifest.json: missing"]),
    "manifest-garbled": (lambda f: f.__setitem__("manifest.json", b"{not json"), ["manifest.json: not valid JSON"]),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_verify_detects_tampering(good_pack, proj_dir, case):
    change, expected = CASES[case]
    bad = proj_dir / f"tampered-{case}.zip"
    rezip(good_pack, bad, change)
    r = cli(proj_dir, "verify", bad.name)
    assert r.returncode == 1, r.stdout
    for text in expected:
        assert f"{bad.name}: {text}" in r.stdout
    assert "FAILED" in r.stdout and "Traceback" not in r.stderr


def test_verify_detects_tampering_in_a_folder(proj_dir):
    approve(proj_dir, "notice")
    assert cli(proj_dir, "export", "--out", "outdir").returncode == 0
    (proj_dir / "outdir" / "templates" / "notice.j2").write_text("changed", encoding="utf-8")
    (proj_dir / "outdir" / "stray.txt").write_text("x", encoding="utf-8")
    result = verify(proj_dir / "outdir")
    assert [str(p) for p in result.problems][:2] == [
        "stray.txt: added: in the pack but not in the manifest",
        "templates/notice.j2: modified: its SHA-256 differs from the manifest",
    ]


def test_verify_input_errors(proj_dir):
    r = cli(proj_dir, "verify", "missing.zip")
    assert r.returncode == 2 and "missing.zip" in r.stderr
    (proj_dir / "junk.zip").write_bytes(b"not a zip")
    r = cli(proj_dir, "verify", "junk.zip")
    assert r.returncode == 2 and "junk.zip" in r.stderr and "Traceback" not in r.stderr


def test_duplicate_ids_are_excluded_and_a_file_named_twice_is_not_a_duplicate(proj_dir):
    write(proj_dir, "copy", NOTICE_BODY, template_id="notice")
    approve(proj_dir, "notice", "copy")
    result = build(load(proj_dir))
    assert result.included == []
    assert {e.path: e.reason for e in result.excluded} == {
        "copy.j2": "template id 'notice' is also used by notice.j2",
        "notice.j2": "template id 'notice' is also used by copy.j2",
    }
    (proj_dir / "templates" / "copy.j2").unlink()
    r = cli(proj_dir, "export", "--out", "p.zip", "--strict", "templates", "templates/notice.j2")
    assert r.returncode == 0, r.stdout


def test_a_pack_made_before_sign_offs_still_verifies(proj_dir):
    """Packs exported by earlier versions carry approved_by/approved_at, no sign-offs: one unsigned approval."""
    from tmplstudio.pack.export import manifest_digest

    approve(proj_dir, "notice")
    r, pack = export_zip(proj_dir)
    assert r.returncode == 0

    def old_format(files):
        manifest = json.loads(files["manifest.json"])
        for key in ("approval", "policy_versions"):
            manifest.pop(key)
        t = manifest["templates"][0]
        t.pop("review")
        signoff = t["approval"].pop("signoffs")[0]
        t["approval"].update(approved_by=signoff["by"], approved_at=signoff["at"], note="")
        manifest["digest"] = manifest_digest(manifest)
        files["manifest.json"] = json.dumps(manifest, ensure_ascii=False, indent=2).encode()

    rezip(pack, proj_dir / "old.zip", old_format)
    r = cli(proj_dir, "verify", "old.zip")
    assert r.returncode == 0, r.stdout
    assert "  notice.j2 (notice): 1 of 1 approvals — Li Wei at 2026-01-02T03:04:05Z" in r.stdout
