"""Approvals made at once by several processes are all kept (the ledger lock, filelock)."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
from packkit import NOTICE_BODY, write
from sshkit import PEOPLE, signed  # noqa: F401 - fixture

PAIRS = 20


def test_twenty_concurrent_pairs_of_signed_approvals_lose_no_record(signed):
    """20 templates, each approved at the same moment by two reviewers in two processes.

    Pairs run one after another: 40 processes at once on a 2-core machine would push renders
    past the sandbox's wall-clock limits and turn approvals into refusals (the lock is what is
    tested here, and the next test hammers it from two processes in a tight loop)."""
    root, keys = signed
    for i in range(PAIRS):
        write(root, f"t{i:02d}", NOTICE_BODY)
    for i in range(PAIRS):
        procs = [subprocess.Popen([sys.executable, "-m", "tmplstudio", "approve", f"templates/t{i:02d}.j2", "--key",
                                   str(keys[who])], cwd=root, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
                 for who in ("li", "wang")]
        for p in procs:
            out, err = p.communicate(timeout=300)
            assert p.returncode == 0, out.decode() + err.decode()
    lines = (root / "templates" / "approvals.log.jsonl").read_bytes().split(b"\n")
    assert lines[-1] == b"" and len(lines) - 1 == 2 * PAIRS
    seen = sorted((json.loads(ln)["path"], json.loads(ln)["by"]) for ln in lines[:-1])
    assert seen == sorted((f"t{i:02d}.j2", PEOPLE[who]) for i in range(PAIRS) for who in ("li", "wang"))
    r = subprocess.run([sys.executable, "-m", "tmplstudio", "audit-log", "--verify"], cwd=root, capture_output=True,
                       text=True, timeout=300)
    assert r.returncode == 0, r.stderr
    assert f"{2 * PAIRS} entries, chain intact, {2 * PAIRS} signatures checked" in r.stdout
    r = subprocess.run([sys.executable, "-m", "tmplstudio", "status"], cwd=root, capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr
    assert f"{PAIRS + 1} templates: {PAIRS} approved, 0 pending" in r.stdout  # notice.j2 is still a draft


def _sign_many(root: str, key: str, count: int, barrier) -> None:
    from pathlib import Path

    from tmplstudio.pack.approval import _signer, Identity
    from tmplstudio.pack.ledger import append

    barrier.wait()
    for i in range(count):
        draft = {"kind": "approve", "path": f"{Path(key).name}-{i}.j2", "by": Path(key).name, "data": {"sha256": str(i)}}
        append(Path(root) / "templates", lambda ledger: [draft], _signer(Identity(key=key)))


def test_two_processes_appending_signed_entries_in_a_tight_loop_keep_the_chain(signed):
    import multiprocessing as mp

    root, keys = signed
    ctx = mp.get_context("spawn")
    barrier = ctx.Barrier(2)
    procs = [ctx.Process(target=_sign_many, args=(str(root), str(keys[who]), PAIRS, barrier)) for who in ("li", "wang")]
    for p in procs:
        p.start()
    for p in procs:
        p.join(300)
        assert p.exitcode == 0
    from tmplstudio.pack import log

    read = log.read(root / "templates" / "approvals.log.jsonl")
    assert read.problems == [] and len(read.entries) == 2 * PAIRS
    assert {e.path for e in read.entries} == {f"{who}-{i}.j2" for who in ("li", "wang") for i in range(PAIRS)}
    assert all(e.signature for e in read.entries)


def test_two_unsigned_approve_commands_at_once_keep_both_records(tmp_path, monkeypatch):
    from packkit import make_project

    monkeypatch.chdir(tmp_path)
    make_project(tmp_path)
    for name in ("one", "two"):
        write(tmp_path, name, NOTICE_BODY)
    procs = [subprocess.Popen([sys.executable, "-m", "tmplstudio", "approve", f"templates/{name}.j2", "--by", name],
                              cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.PIPE) for name in ("one", "two")]
    for p in procs:
        out, err = p.communicate(timeout=120)
        assert p.returncode == 0, err
    import tomllib

    data = tomllib.loads((tmp_path / "templates" / "approvals.toml").read_text(encoding="utf-8"))
    assert {k: [s["by"] for s in v["signoffs"]] for k, v in data["approvals"].items()} == {"one.j2": ["one"], "two.j2": ["two"]}


def test_the_lock_is_filelock_and_times_out_with_a_message(tmp_path):
    """The lock works where fcntl does not exist (filelock picks msvcrt on Windows); a held lock
    makes a writer give up with the lock file named, never hang."""
    from filelock import FileLock

    from tmplstudio.errors import InputError
    from tmplstudio.pack.ledger import LOCK_NAME, locked

    holder = FileLock(str(tmp_path / LOCK_NAME))
    holder.acquire()
    try:
        with pytest.raises(InputError) as err:
            with locked(tmp_path, timeout=0.3):
                pass
        assert LOCK_NAME in str(err.value) and "held the ledger lock" in str(err.value)
    finally:
        holder.release()
    with locked(tmp_path, timeout=1):
        pass
