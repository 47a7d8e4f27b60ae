"""Consoles: one that cannot encode Chinese, and the colour switches (NO_COLOR, FORCE_COLOR, --color)."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from tests.ci.cikit import make_project, write


def run(*args: str, cwd, env: dict) -> subprocess.CompletedProcess:
    base = {k: v for k, v in os.environ.items() if k not in ("NO_COLOR", "FORCE_COLOR", "PYTHONIOENCODING")}
    return subprocess.run([sys.executable, "-m", "tmplstudio", *args], cwd=cwd, capture_output=True,
                          env={**base, **env}, timeout=120)


@pytest.fixture
def project(tmp_path):
    root = make_project(tmp_path)
    write(root / "templates" / "bad.j2", "我们将上门催收\n")
    write(root / "templates" / "上门.j2", "我们将上门催收\n")  # a Chinese name, printed in every report line
    return root


@pytest.mark.parametrize("args", [("validate",), ("validate", "--show-suppressed"), ("policy", "test"),
                                  ("policy", "lint"), ("render", "templates/上门.j2"), ("policy", "list")])
def test_a_cp1252_console_gets_escapes_not_a_traceback(project, args):
    r = run(*args, cwd=project, env={"PYTHONIOENCODING": "cp1252"})
    assert b"Traceback" not in r.stderr and b"UnicodeEncodeError" not in r.stderr, r.stderr.decode("cp1252", "replace")
    r.stdout.decode("cp1252")  # every byte is cp1252
    if args[0] == "validate":
        assert r.returncode == 1  # the finding, not a crash
        assert b"templates/\\u4e0a\\u95e8.j2:1:4 error visit-threat" in r.stdout  # 上门.j2, readable as escapes


def test_an_unencodable_error_message_is_escaped_too(tmp_path):
    r = run("validate", "缺少的文件.j2", cwd=tmp_path, env={"PYTHONIOENCODING": "ascii"})
    assert r.returncode == 2 and b"Traceback" not in r.stderr
    assert b"\\u7f3a" in r.stdout + r.stderr


ESC = b"\x1b["


@pytest.mark.parametrize("env, flag, coloured", [
    ({}, None, False),                               # not a terminal
    ({"FORCE_COLOR": "1"}, None, True),              # force-color.org
    ({"FORCE_COLOR": ""}, None, False),              # empty: not set
    ({"FORCE_COLOR": "1", "NO_COLOR": "1"}, None, False),  # NO_COLOR wins, as in CPython
    ({"FORCE_COLOR": "1", "NO_COLOR": ""}, None, True),    # an empty NO_COLOR does not count (no-color.org)
    ({"NO_COLOR": "1"}, "always", True),             # the flag decides
    ({"FORCE_COLOR": "1"}, "never", False),
])
@pytest.mark.parametrize("command", [("validate",), ("policy", "test"), ("policy", "lint")])
def test_colour_switches_on_every_colouring_command(project, env, flag, coloured, command):
    args = [*command, *(["--color", flag] if flag else [])]
    r = run(*args, cwd=project, env=env)
    assert b"Traceback" not in r.stderr
    assert (ESC in r.stdout) == coloured, r.stdout[:300]
