"""Issue 14, sections 3-6, through the real CLI: symbolic links out of the project, the clock
in renderings, inputs that produced tracebacks, and the dependency bounds.

Each test runs `python -m tmplstudio` as a separate process (the 0444 folder runs in-process:
see its docstring)."""

from __future__ import annotations

import contextlib
import io
import json
import os
import re
import subprocess
import sys
import time
import tomllib
from pathlib import Path
from unittest import mock

import pytest

REPO = Path(__file__).resolve().parents[2]
PACK = """\
[pack]
id = "t"
title = "t"
version = "1"
locales = ["zh"]
[[rules]]
id = "visit-threat"
kind = "phrases"
severity = "error"
message = "Announces a visit."
phrases = ["上门催收"]
"""
GOOD = "+++\nid = \"good\"\nlocale = \"zh-CN\"\n[samples.a]\nname = \"张三\"\n+++\n【银行】{{ name }}您好，请还款。\n"
SECRET = "root:x:0:0:SECRET-LINE-FROM-OUTSIDE\n"


@pytest.fixture
def root(tmp_path: Path) -> Path:
    root = tmp_path / "project"
    (root / "packs").mkdir(parents=True)
    (root / "packs" / "t.toml").write_text(PACK, encoding="utf-8")
    (root / "templates").mkdir()
    (root / "templates" / "good.j2").write_text(GOOD, encoding="utf-8")
    (root / "tmplstudio.toml").write_text('policies = ["packs"]\nbundled = false\n', encoding="utf-8")
    return root


def cli(root: Path, *args: str, env: dict | None = None, timeout: float = 120) -> subprocess.CompletedProcess:
    r = subprocess.run([sys.executable, "-m", "tmplstudio", *args], cwd=root, capture_output=True, text=True,
                       timeout=timeout, env={**os.environ, "NO_COLOR": "1", **(env or {})})
    assert "Traceback" not in r.stdout + r.stderr, r.stderr
    return r


# ---------------------------------------------------------------- section 3: symbolic links

def test_a_template_linked_to_a_file_outside_the_project_is_refused_and_never_read(root, tmp_path):
    secret = tmp_path / "secret.txt"
    secret.write_text(SECRET, encoding="utf-8")
    (root / "templates" / "leak.j2").symlink_to(secret)
    (root / "templates" / "passwd.j2").symlink_to("/etc/passwd")
    for fmt in ("text", "json", "sarif"):
        r = cli(root, "validate", "--format", fmt)
        assert r.returncode == 2
        assert "SECRET-LINE" not in r.stdout and "root:x:0:0" not in r.stdout
    r = cli(root, "validate")
    assert f"templates/leak.j2: is a symbolic link to {secret}, outside the project ({root})" in r.stdout
    assert "templates/passwd.j2: is a symbolic link to /etc/passwd, outside the project" in r.stdout
    assert "1 template checked" in r.stdout  # good.j2 still is
    r = cli(root, "validate", "templates/leak.j2")  # named on the command line (pre-commit passes files)
    assert r.returncode == 2 and "is a symbolic link to" in r.stdout + r.stderr
    r = cli(root, "approve", "templates/leak.j2", "--by", "Li Wei")
    assert r.returncode == 2 and "outside the project" in r.stderr


def test_a_link_to_the_root_folder_is_not_walked(root):
    (root / "templates" / "root").symlink_to("/")
    start = time.perf_counter()
    r = cli(root, "validate", timeout=60)
    assert time.perf_counter() - start < 30
    assert r.returncode == 2
    assert "templates/root: is a symbolic link to /, outside the project" in r.stdout
    assert "1 template checked" in r.stdout


def test_links_inside_the_project_or_into_link_roots_are_followed(root, tmp_path):
    (root / "common").mkdir()
    (root / "common" / "inner.j2").write_text(GOOD.replace('"good"', '"inner"'), encoding="utf-8")
    (root / "templates" / "common").symlink_to(root / "common")
    shared = tmp_path / "shared"
    shared.mkdir()
    (shared / "outer.j2").write_text(GOOD.replace('"good"', '"outer"'), encoding="utf-8")
    (root / "templates" / "shared").symlink_to(shared)
    r = cli(root, "validate")
    assert r.returncode == 2 and "templates/shared: is a symbolic link to" in r.stdout
    (root / "tmplstudio.toml").write_text('policies = ["packs"]\nbundled = false\nlink_roots = ["../shared"]\n',
                                          encoding="utf-8")
    r = cli(root, "validate")
    assert r.returncode == 0, r.stdout
    assert "3 templates checked" in r.stdout  # good, common/inner, shared/outer (a monorepo's shared folder)


def test_a_read_only_folder_inside_templates_is_listed_not_a_traceback(root, monkeypatch):
    """Mode 0444 (no search bit): an ordinary user can list the names but not open or stat them.
    Tests run as root in CI, and root passes any mode check: there the stat of an entry fails
    with the same EACCES the kernel gives an ordinary user. The CLI runs in-process for that."""
    from tmplstudio.cli.main import main

    locked = root / "templates" / "locked"
    locked.mkdir()
    (locked / "x.j2").write_text(GOOD, encoding="utf-8")
    locked.chmod(0o444)
    monkeypatch.chdir(root)
    real_is_dir = Path.is_dir

    def denied(self):
        if self.parent == locked:
            raise PermissionError(13, "Permission denied", str(self))
        return real_is_dir(self)

    out, err = io.StringIO(), io.StringIO()
    try:
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            if os.geteuid() == 0:
                with mock.patch.object(Path, "is_dir", denied):
                    code = main(["validate"])
            else:
                code = main(["validate"])
    finally:
        locked.chmod(0o755)
    assert code == 2
    assert "Traceback" not in out.getvalue() + err.getvalue()
    assert "templates/locked/x.j2: permission denied" in out.getvalue()
    assert "1 template checked" in out.getvalue()


# ---------------------------------------------------------------- section 4: no clock, no time zone

CLOCK = ('+++\nid = "clock"\nlocale = "zh-CN"\n[samples.a]\nname = "张三"\nd = 2026-03-01T10:00:00\n+++\n'
         "【银行】{{ name }}您好，账单日{{ d.timestamp()|int }}，{{ d.astimezone() }}，{{ d.strftime('%s %c') }}。\n")


def test_the_same_approved_template_exports_the_same_bytes_in_any_time_zone(root):
    (root / "templates" / "clock.j2").write_text(CLOCK, encoding="utf-8")
    r = cli(root, "approve", "templates/clock.j2", "--by", "Li Wei", env={"TZ": "UTC"})
    assert r.returncode == 0, r.stdout + r.stderr
    packs = {}
    for tz in ("UTC", "Asia/Shanghai"):
        out = root / f"pack-{tz.replace('/', '-')}.zip"
        r = cli(root, "export", "--out", str(out), env={"TZ": tz, "SOURCE_DATE_EPOCH": "1767225600"})
        assert r.returncode == 0, r.stdout + r.stderr
        packs[tz] = out.read_bytes()
    assert packs["UTC"] == packs["Asia/Shanghai"]
    r = cli(root, "render", "templates/clock.j2", env={"TZ": "Asia/Shanghai"})
    assert "1772359200，2026-03-01 10:00:00+00:00，1772359200 Sun Mar  1 10:00:00 2026" in r.stdout  # read as UTC


@pytest.mark.parametrize("call", ["d.now()", "d.today()", "d.utcnow()", "t.today()"])
def test_reading_the_clock_is_a_sandbox_finding(root, call):
    (root / "templates" / "now.j2").write_text(
        f"+++\nlocale = \"zh-CN\"\n[samples.a]\nd = 2026-03-01T10:00:00\nt = 2026-03-01\n+++\n今天是{{{{ {call} }}}}。\n",
        encoding="utf-8")
    r = cli(root, "validate", "templates/now.j2")
    assert r.returncode == 1
    assert re.search(r"error sandbox sample 'a': blocked by the sandbox: '(now|today|utcnow)' reads the clock", r.stdout), r.stdout


# ---------------------------------------------------------------- section 5: inputs that produced tracebacks

BOMBS = {
    "nested-arrays": ("x = " + "[" * 5000 + "]" * 5000, "arrays and inline tables are nested more than 32 deep"),
    "nested-tables": ("x = " + "{a = " * 5000 + "1" + "}" * 5000, "arrays and inline tables are nested more than 32 deep"),
    "dotted-key": (".".join(["a"] * 20000) + " = 1", "a key has more than 16 dotted parts"),
    "dotted-100k": (".".join(["a"] * 100000) + " = 1", "a key has more than 16 dotted parts"),
    "header": ("[" + ".".join(["a"] * 20000) + "]", "a table header has more than 16 dotted parts"),
    "big-int": ("x = " + "1" * 5001, "a number of 5,001 characters"),
}


@pytest.mark.parametrize("name", sorted(BOMBS))
def test_toml_bombs_in_front_matter_are_findings_with_a_position(root, name):
    toml, message = BOMBS[name]
    (root / "templates" / "bomb.j2").write_text(f"+++\n{toml}\n+++\n您好\n", encoding="utf-8")
    start = time.perf_counter()
    r = cli(root, "validate", "templates/bomb.j2")
    assert time.perf_counter() - start < 20
    assert r.returncode == 1
    assert re.search(rf"templates/bomb.j2:2:\d+ error front-matter front matter is not valid TOML: {re.escape(message)}", r.stdout), r.stdout


@pytest.mark.parametrize("name", sorted(BOMBS))
def test_toml_bombs_in_a_pack_and_in_the_config_stop_with_file_line_and_column(root, name):
    toml, message = BOMBS[name]
    (root / "packs" / "bomb.toml").write_text(f"# a hostile pack\n{toml}\n", encoding="utf-8")
    r = cli(root, "validate")
    assert r.returncode == 2
    assert re.search(rf"packs/bomb.toml:2:\d+: not valid TOML: {re.escape(message)}", r.stderr), r.stderr
    (root / "packs" / "bomb.toml").unlink()
    (root / "tmplstudio.toml").write_text(f'policies = ["packs"]\nbundled = false\n{toml}\n', encoding="utf-8")
    r = cli(root, "validate")
    assert r.returncode == 2
    assert "tmplstudio.toml: config is not valid TOML: " + message in r.stderr, r.stderr


def test_toml_and_json_bombs_in_the_approvals_files_are_clear_errors(root):
    r = cli(root, "approve", "templates/good.j2", "--by", "Li Wei")
    assert r.returncode == 0, r.stdout + r.stderr
    ledger = root / "templates" / "approvals.toml"
    original = ledger.read_text(encoding="utf-8")
    ledger.write_text(original + "x = " + "[" * 5000 + "]" * 5000 + "\n", encoding="utf-8")
    r = cli(root, "status")
    assert r.returncode == 2
    assert "approvals.toml: the approvals ledger is not valid TOML: arrays and inline tables are nested more than 32 deep" in r.stderr
    ledger.write_text(original, encoding="utf-8")
    log = root / "templates" / "approvals.log.jsonl"
    log.write_text(log.read_text(encoding="utf-8") + "[" * 100_000 + "]" * 100_000 + "\n", encoding="utf-8")
    r = cli(root, "status")
    assert r.returncode == 2
    assert "approvals.log.jsonl:2: not a valid log entry (nested too deeply)" in r.stderr, r.stderr


@pytest.mark.parametrize("pattern, message", [
    ("a{4294967295}", "repetition counts ({m,n}, nested ones multiplied) reach 4,294,967,295"),
    ("(?:a{65535}){65535}", "repetition counts ({m,n}, nested ones multiplied) reach 4,294,836,225"),
    ("", "'patterns' contains an empty string"),
])
def test_runaway_overflowing_and_empty_patterns_are_load_errors(root, pattern, message):
    (root / "packs" / "t.toml").write_text(PACK + f'[[rules]]\nid = "digits"\nkind = "pattern"\nseverity = "error"\n'
                                           f'message = "m"\npatterns = [{json.dumps(pattern)}]\n', encoding="utf-8")
    start = time.perf_counter()
    r = cli(root, "validate")
    assert time.perf_counter() - start < 20
    assert r.returncode == 2 and message in r.stderr, r.stderr


def test_an_empty_phrase_is_a_load_error(root):
    (root / "packs" / "t.toml").write_text(PACK.replace('phrases = ["上门催收"]', 'phrases = ["上门催收", ""]'), encoding="utf-8")
    r = cli(root, "validate")
    assert r.returncode == 2 and "'phrases' contains an empty string" in r.stderr


def test_the_same_rule_id_in_two_packs_is_reported(root):
    (root / "packs" / "u.toml").write_text(PACK.replace('id = "t"', 'id = "u"'), encoding="utf-8")
    r = cli(root, "policy", "lint", "packs")
    assert re.search(r"packs/u.toml:\d+: warning shared-id rule 'visit-threat' is also a rule of pack 't'", r.stdout), r.stdout
    assert "name one as 'u/visit-threat'" in r.stdout


def test_a_self_including_partial_is_one_finding_in_render(root):
    (root / "templates" / "selfinc.j2").write_text("+++\nlocale = \"zh-CN\"\n[samples.a]\nx = 1\n+++\n"
                                                   "{% include '_self.j2' %}\n", encoding="utf-8")
    (root / "templates" / "_self.j2").write_text("您好{% include '_self.j2' %}\n", encoding="utf-8")
    r = cli(root, "render", "templates/selfinc.j2")
    assert r.returncode == 1
    assert r.stdout.strip() == ("── a: cannot render: more than 200 partials were loaded in one rendering "
                                "(does a partial include itself?)")
    assert "Exception ignored" not in r.stderr and r.stderr == ""
    r = cli(root, "validate", "templates/selfinc.j2")
    assert "include-cycle" in r.stdout


# ---------------------------------------------------------------- section 6: dependency bounds

def _bounds() -> dict[str, str]:
    project = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    out = {}
    for spec in project["dependencies"]:
        m = re.match(r"^([A-Za-z0-9_.-]+)\s*>=\s*([0-9][^,;\s]*)", spec)
        assert m, f"{spec}: every dependency needs a lower bound (>=) that CI tests"
        out[m.group(1).lower()] = m.group(2)
    return out


def test_every_lower_bound_is_the_version_ci_installs_in_its_minimum_environment():
    pins = {}
    for line in (REPO / ".ci" / "constraints-min.txt").read_text(encoding="utf-8").splitlines():
        if line and not line.startswith("#"):
            name, version = line.split("==")
            pins[name.lower()] = version
    bounds = _bounds()
    assert set(pins) == set(bounds)
    for name, bound in bounds.items():
        # `regex>=2024.4` admits 2024.4.16 first; the others name an exact release.
        assert pins[name] == bound or pins[name].startswith(bound + "."), (name, bound, pins[name])
    ci = (REPO / ".ci" / "run").read_text(encoding="utf-8")
    assert "-c .ci/constraints-min.txt" in ci and "tests/hostile tests/engine" in ci


def test_jinja_is_at_least_3_1_6():
    """3.1.4 ran code through a partial's file name (CVE-2024-56201); 3.1.5 let |attr reach
    str.format past the sandbox (CVE-2025-27516)."""
    assert tuple(int(x) for x in _bounds()["jinja2"].split(".")) >= (3, 1, 6)
    import jinja2

    assert tuple(int(x) for x in jinja2.__version__.split(".")[:3]) >= (3, 1, 6)
