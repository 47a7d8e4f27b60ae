"""Hostile packs and ids, through the real CLI: nothing is written outside --out, and `verify`
reads no more than it must (issue 14, sections 3 and 4)."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "pack"))
from packkit import NOTICE_BODY, PROVIDER_PACKS, approve, cli, make_project, use_bundled, write  # noqa: E402

HANG_GUARD = 120  # seconds; every case below finishes in a few, a hang fails instead of blocking the suite


@pytest.fixture
def proj(tmp_path, monkeypatch):
    root = tmp_path / "proj"
    root.mkdir()
    monkeypatch.chdir(root)
    monkeypatch.delenv("SOURCE_DATE_EPOCH", raising=False)
    return make_project(root)


# Runs the CLI as its child and writes that child's peak RSS: a child forked straight from pytest
# would count pytest's own pages (hundreds of MB) as its own until it execs.
RSS_WRAPPER = """
import resource, subprocess, sys
code = subprocess.call(sys.argv[2:])
open(sys.argv[1], "w").write(str(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss))
sys.exit(code)
"""


def run(root: Path, *args: str, env: dict | None = None) -> tuple[subprocess.CompletedProcess, int]:
    """Run the CLI; its result, and its own peak RSS in kB."""
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        rss = Path(tmp) / "rss"
        p = subprocess.Popen([sys.executable, "-c", RSS_WRAPPER, str(rss), sys.executable, "-m", "tmplstudio", *args],
                             cwd=root, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                             env={**os.environ, **(env or {})}, start_new_session=True)
        try:
            out, err = p.communicate(timeout=HANG_GUARD)
        except subprocess.TimeoutExpired:
            os.killpg(p.pid, 9)  # the wrapper and the tmplstudio it started
            p.communicate()
            pytest.fail(f"tmplstudio {' '.join(args)} did not finish within {HANG_GUARD} s")
        return subprocess.CompletedProcess(p.args, p.returncode, out, err), int(rss.read_text())


def no_traceback(r) -> None:
    assert "Traceback" not in r.stderr and "Traceback" not in r.stdout, r.stderr


# -- ids that would leave the output folder ---------------------------------------------------------------


def test_an_escaping_id_is_refused_by_approve_and_never_reaches_a_pack(proj, tmp_path):
    use_bundled(proj, *PROVIDER_PACKS)  # the provider targets check with their packs
    write(proj, "escape", NOTICE_BODY, template_id="../../../../ESCAPED")
    r = cli(proj, "approve", "templates/escape.j2", "--by", "Li Wei")
    assert r.returncode == 1 and "template id '../../../../ESCAPED' cannot name a file" in r.stdout
    no_traceback(r)
    # An approval recorded before ids were checked (or written by hand) still cannot reach a pack.
    from tmplstudio.pack import approval as approval_mod
    from tmplstudio.pack.digest import policy_set
    from tmplstudio.pack.ledger import append
    from tmplstudio.project import Project

    project = Project.discover(proj)
    c = approval_mod.check(project, proj / "templates" / "escape.j2")
    record = approval_mod.make_approval(c, policy_set(project)).record()
    append(proj / "templates", lambda ledger: [{"kind": "approve", "path": "escape.j2", "by": "Li Wei", "data": record}])
    approve(proj, "notice")
    out = tmp_path / "out" / "a" / "b"
    out.mkdir(parents=True)
    for target in ("aliyun", "tencent", "generic"):  # (a zh-CN notice is not Twilio's to send)
        for dest in (out / f"{target}.zip", out / f"{target}-folder"):
            r = cli(proj, "export", "--out", str(dest), "--target", target)
            assert r.returncode == 0, r.stdout + r.stderr
            assert "excluded escape.j2: template id '../../../../ESCAPED' cannot name a file" in r.stdout
            assert "included notice.j2" in r.stdout
            if dest.suffix == ".zip":
                with zipfile.ZipFile(dest) as zf:
                    assert not [n for n in zf.namelist() if ".." in n or "ESCAPED" in n]
            else:
                assert not [p for p in dest.rglob("*") if "ESCAPED" in p.name]
    assert not [p for p in tmp_path.rglob("*ESCAPED*")]


def test_the_pack_writer_refuses_a_path_outside_the_pack(proj, tmp_path):
    from tmplstudio.errors import InputError
    from tmplstudio.pack.export import ExportResult, write as write_pack

    for bad in ("../ESCAPED.json", "aliyun/../../ESCAPED.json", "/tmp/ESCAPED.json", "a\\..\\ESCAPED.json"):
        for dest in (tmp_path / "w.zip", tmp_path / "w-folder"):
            with pytest.raises(InputError, match="refusing to write"):
                write_pack(ExportResult(files={"manifest.json": b"{}", bad: b"x"}), dest)
            assert not dest.exists()
    assert not list(tmp_path.rglob("*ESCAPED*"))


# -- verify under hostile zips ----------------------------------------------------------------------------


def good_zip(proj: Path) -> dict[str, bytes]:
    approve(proj, "notice")
    r = cli(proj, "export", "--out", "good.zip")
    assert r.returncode == 0, r.stderr
    with zipfile.ZipFile(proj / "good.zip") as zf:
        return {n: zf.read(n) for n in zf.namelist()}


def relisted(files: dict[str, bytes], extra: dict[str, bytes]) -> dict[str, bytes]:
    """``files`` plus ``extra``, with the manifest listing the extra files and its digest recomputed,
    as an attacker who rewrites the manifest would do."""
    from tmplstudio.pack.digest import sha256_bytes
    from tmplstudio.pack.export import manifest_digest

    manifest = json.loads(files["manifest.json"])
    for name, data in extra.items():
        manifest["files"][name] = sha256_bytes(data)
    manifest["digest"] = manifest_digest(manifest)
    return {**files, **extra, "manifest.json": json.dumps(manifest, ensure_ascii=False, indent=2).encode()}


def write_zip(path: Path, files: dict[str, bytes], more=None) -> Path:
    """A zip of ``files`` (names as given, unchecked); ``more(zf)`` may add entries of its own."""
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as zf:
        for name, data in files.items():
            zf.writestr(zipfile.ZipInfo(name), data, compress_type=zipfile.ZIP_DEFLATED)
        if more is not None:
            more(zf)
    return path


@pytest.mark.parametrize("name", ["aliyun/../../../../ESCAPED.json", "/etc/ESCAPED.json", "templates/./x.j2",
                                  "a\\..\\..\\ESCAPED.json", "templates//x.j2"])
def test_verify_rejects_entries_that_point_outside_the_pack(proj, name):
    bad = write_zip(proj / "bad.zip", relisted(good_zip(proj), {name: b"{}"}))
    r, _ = run(proj, "verify", "bad.zip")
    assert r.returncode == 2, r.stdout
    assert f"bad.zip: entry {name!r} is" in r.stderr and "relative paths inside it" in r.stderr
    assert not r.stdout.startswith("ok")
    no_traceback(r)


def test_a_one_gigabyte_entry_is_refused_before_it_is_read(proj):
    def gigabyte(zf):
        with zf.open("templates/bomb.j2", "w", force_zip64=True) as handle:
            chunk = b"\0" * (1 << 24)
            for _ in range(64):  # 1 GiB of zeros, about 1 MB compressed
                handle.write(chunk)

    path = write_zip(proj / "bomb.zip", good_zip(proj), gigabyte)
    assert path.stat().st_size < 2_000_000
    r, rss_kb = run(proj, "verify", "bomb.zip")
    assert r.returncode == 2 and "entry 'templates/bomb.j2' is 1,024 MiB, over the 64 MiB limit" in r.stderr, r.stderr
    assert rss_kb < 300_000, f"verify used {rss_kb} kB"  # never decompressed: a full read took 2.1 GB
    no_traceback(r)


def test_a_small_entry_that_expands_a_thousand_times_is_refused(proj):
    write_zip(proj / "ratio.zip", good_zip(proj), lambda zf: zf.writestr("templates/zeros.j2", b"\0" * (20 * 2**20)))
    r, _ = run(proj, "verify", "ratio.zip")
    assert r.returncode == 2 and "entry 'templates/zeros.j2' expands" in r.stderr and "zip bomb" in r.stderr, r.stderr


def test_a_hundred_thousand_entries_are_refused_from_the_end_record(proj):
    path = proj / "many.zip"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_STORED) as zf:
        for i in range(100_000):
            zf.writestr(zipfile.ZipInfo(f"f{i}"), b"")
    r, rss_kb = run(proj, "verify", "many.zip")
    assert r.returncode == 2 and "the zip holds 100,000 entries, more than the 10,000 a pack may hold" in r.stderr, r.stderr
    no_traceback(r)


def test_ten_thousand_entries_are_read_in_linear_time(proj):
    """Just under the bound: every name added to the manifest, all checked (no names.count per entry)."""
    extra = {f"templates/extra/{i}.j2": b"x" for i in range(9_990)}
    write_zip(proj / "wide.zip", relisted(good_zip(proj), extra))
    r, _ = run(proj, "verify", "wide.zip")
    assert r.returncode == 0, r.stdout[-2000:] + r.stderr
    assert "ok wide.zip: 1 template, 9992 files match the manifest" in r.stdout


def test_duplicate_entries_are_refused(proj):
    import warnings

    def again(zf):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # zipfile warns about the duplicate it is asked to write
            zf.writestr("templates/notice.j2", b"other text")

    write_zip(proj / "dupe.zip", good_zip(proj), again)
    r, _ = run(proj, "verify", "dupe.zip")
    assert r.returncode == 2 and "holds 'templates/notice.j2' twice" in r.stderr, r.stderr


def test_a_manifest_with_a_duplicate_key_does_not_verify(proj):
    files = good_zip(proj)
    text = files["manifest.json"].decode()
    # A second "templates" key (an empty list) that a plain json.loads would silently prefer.
    files["manifest.json"] = text.replace('\n  "digest"', '\n  "templates": [],\n  "digest"', 1).encode()
    write_zip(proj / "dupkey.zip", files)
    r, _ = run(proj, "verify", "dupkey.zip")
    assert r.returncode == 1 and "manifest.json: not valid JSON (duplicate key 'templates')" in r.stdout, r.stdout
    no_traceback(r)


# -- verify under hostile folders ---------------------------------------------------------------------------


def folder_pack(proj: Path) -> Path:
    approve(proj, "notice")
    r = cli(proj, "export", "--out", "outdir")
    assert r.returncode == 0, r.stderr
    assert cli(proj, "verify", "outdir").returncode == 0
    return proj / "outdir"


def test_a_symlink_to_dev_zero_is_never_opened(proj):
    pack = folder_pack(proj)
    (pack / "templates" / "zero.j2").symlink_to("/dev/zero")
    r, rss_kb = run(proj, "verify", "outdir")
    assert r.returncode == 2 and "outdir: entry 'templates/zero.j2' is a symbolic link" in r.stderr, r.stderr
    assert rss_kb < 300_000
    no_traceback(r)


def test_a_symlink_replacing_a_listed_file_is_refused(proj):
    pack = folder_pack(proj)
    secret = proj / "secret.txt"
    secret.write_text("not for the pack", encoding="utf-8")
    (pack / "templates" / "notice.j2").unlink()
    (pack / "templates" / "notice.j2").symlink_to(secret)
    r, _ = run(proj, "verify", "outdir")
    assert r.returncode == 2 and "outdir: entry 'templates/notice.j2' is a symbolic link" in r.stderr, r.stderr


def test_a_fifo_does_not_hang_verify(proj):
    pack = folder_pack(proj)
    os.mkfifo(pack / "templates" / "pipe.j2")
    r, _ = run(proj, "verify", "outdir")
    assert r.returncode == 2 and "outdir: entry 'templates/pipe.j2' is not a regular file" in r.stderr, r.stderr
    no_traceback(r)


def test_a_fifo_named_as_the_pack_does_not_hang_verify(proj):
    os.mkfifo(proj / "pack.zip")
    r, _ = run(proj, "verify", "pack.zip")
    assert r.returncode == 2 and "pack.zip: not a regular file or a folder" in r.stderr, r.stderr


# -- SOURCE_DATE_EPOCH --------------------------------------------------------------------------------------


@pytest.mark.parametrize("value, message", [
    ("99999999999", "SOURCE_DATE_EPOCH=99999999999 is after 2107-12-31, the latest date a zip file can hold"),
    ("1" + "0" * 30, "is after 2107-12-31"),
    ("-5", "SOURCE_DATE_EPOCH must not be negative"),
    ("soon", "SOURCE_DATE_EPOCH must be an integer"),
])
def test_an_impossible_source_date_epoch_is_a_clear_error(proj, value, message):
    approve(proj, "notice")
    for out in ("p.zip", "pfolder"):
        r, _ = run(proj, "export", "--out", out, env={"SOURCE_DATE_EPOCH": value})
        assert r.returncode == 2 and message in r.stderr, r.stderr
        assert not (proj / out).exists()
        no_traceback(r)
    r, _ = run(proj, "export", "--out", "p.zip", env={"SOURCE_DATE_EPOCH": "4354819198"})  # the last second a zip holds
    assert r.returncode == 0, r.stderr
    with zipfile.ZipFile(proj / "p.zip") as zf:
        assert {i.date_time for i in zf.infolist()} == {(2107, 12, 31, 23, 59, 58)}
