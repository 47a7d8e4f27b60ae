"""Two approve processes at once never lose a record (the ledger lock)."""

from __future__ import annotations

import multiprocessing as mp
import subprocess
import sys
import tomllib
from pathlib import Path

from packkit import NOTICE_BODY, proj_dir, write  # noqa: F401 - fixture


def _record_many(root: str, prefix: str, count: int, barrier) -> None:
    import datetime as dt

    from tmplstudio.pack.ledger import Approval, record

    barrier.wait()
    for i in range(count):
        record(Path(root), [Approval(path=f"{prefix}-{i}.j2", id=f"{prefix}-{i}", sha256="0" * 64, policy_digest="1" * 64,
                                     tool_version="t", approved_by=prefix,
                                     approved_at=dt.datetime(2026, 1, 1, tzinfo=dt.timezone.utc))])


def test_two_processes_recording_at_once_keep_every_record(tmp_path):
    ctx = mp.get_context("spawn")
    barrier = ctx.Barrier(2)
    procs = [ctx.Process(target=_record_many, args=(str(tmp_path), name, 25, barrier)) for name in ("a", "b")]
    for p in procs:
        p.start()
    for p in procs:
        p.join(120)
        assert p.exitcode == 0
    data = tomllib.loads((tmp_path / "approvals.toml").read_text(encoding="utf-8"))
    assert len(data["approvals"]) == 50


def test_two_approve_commands_at_once_keep_both_records(proj_dir):
    for name in ("one", "two"):
        write(proj_dir, name, NOTICE_BODY)
    procs = [subprocess.Popen([sys.executable, "-m", "tmplstudio", "approve", f"templates/{name}.j2", "--by", name],
                              cwd=proj_dir, stdout=subprocess.PIPE, stderr=subprocess.PIPE) for name in ("one", "two")]
    for p in procs:
        out, err = p.communicate(timeout=120)
        assert p.returncode == 0, err
    data = tomllib.loads((proj_dir / "templates" / "approvals.toml").read_text(encoding="utf-8"))
    assert {k: v["approved_by"] for k, v in data["approvals"].items()} == {"one.j2": "one", "two.j2": "two"}
