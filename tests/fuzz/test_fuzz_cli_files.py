"""Fuzz: whatever bytes a .j2 file holds, `tmplstudio validate` and `tmplstudio render` end
with exit code 0, 1 or 2 and a message, never a traceback."""

from __future__ import annotations

import contextlib
import io
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

from tmplstudio.cli.main import main

PIECES = st.sampled_from([
    b"+++\n", b"+++\r\n", b"id = 'x'\n", b"[samples.a]\nx = 1\n", b"{{ x }}", b"{% if x %}", b"{% endif %}", b"{%", b"}}",
    b"\xef\xbb\xbf", b"\x00", b"\xff", b"\xc3\x28", b"\xed\xa0\x80", b"\xf4\x90\x80\x80", "上门".encode(), b"\r\n", b"\n",
    b"{{ ''.__class__ }}", b"{{ 'x' * 10**9 }}", b"{% include 'nope.j2' %}", b"\x1b[31m", b"\xe2\x80\xae",
])
DATA = st.one_of(st.binary(max_size=200), st.lists(st.one_of(PIECES, st.binary(max_size=4)), max_size=30).map(b"".join))


def _run(argv: list[str]) -> tuple[int, str]:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            code = main(argv)
        except SystemExit as exc:  # argparse
            code = exc.code if isinstance(exc.code, int) else 2
    return code, out.getvalue() + err.getvalue()


@pytest.fixture(scope="module")
def workdir(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("cli-fuzz")
    (folder / "packs").mkdir()
    (folder / "packs" / "fuzz.toml").write_text(
        '[pack]\nid = "fuzz"\ntitle = "t"\nversion = "1"\n[[rules]]\nid = "visit-threat"\nkind = "phrases"\n'
        'severity = "error"\nmessage = "m"\nphrases = ["上门"]\n', encoding="utf-8")
    (folder / "tmplstudio.toml").write_text('policies = ["packs"]\nbundled = false\n', encoding="utf-8")
    return folder


@settings(max_examples=150, suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture], deadline=None)
@given(DATA, st.sampled_from(["json", "text", "sarif"]))
def test_validate_any_bytes(workdir, monkeypatch, data, fmt):
    monkeypatch.chdir(workdir)
    path = workdir / "fuzz.j2"
    path.write_bytes(data)
    code, output = _run(["validate", str(path), "--format", fmt])
    assert code in (0, 1, 2), output
    assert "usage:" not in output
    assert "Traceback" not in output


@settings(max_examples=60, suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture], deadline=None)
@given(DATA)
def test_render_any_bytes(workdir, monkeypatch, data):
    monkeypatch.chdir(workdir)
    path = workdir / "fuzz.j2"
    path.write_bytes(data)
    code, output = _run(["render", str(path)])
    assert code in (0, 1, 2), output
    assert "usage:" not in output
    assert "Traceback" not in output


@pytest.mark.parametrize("data", [b"\x00\x01\x02binary", b"\xff\xfe\xfd", b"+++\nid = [\n", b"{% if %}{{", b"", b"\xef\xbb\xbf+++\n+++\n",
                                  b"+++\n" + b"x = 1\n" * 10, "上门催收".encode() * 1000])
def test_validate_bytes_through_a_real_process(tmp_path, data):
    """The same through the installed entry point: a real interpreter, real stdout."""
    path = tmp_path / "t.j2"
    path.write_bytes(data)
    res = subprocess.run([sys.executable, "-m", "tmplstudio", "validate", str(path)], cwd=tmp_path, capture_output=True,
                         text=True, timeout=120)
    assert res.returncode in (0, 1, 2)
    assert "Traceback" not in res.stdout + res.stderr
    if res.returncode == 2:
        assert res.stderr.strip().startswith("tmplstudio: error:") or "could not be read" in res.stdout
