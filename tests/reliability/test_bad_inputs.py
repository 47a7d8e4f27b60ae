"""The bad-input matrix of docs/reliability.md: each case, its behaviour, no traceback.

CLI cases run `tmplstudio` in-process through ``cli.main.main`` (fast; the fuzz tests and
tests/cli cover the real-process path); studio cases open the file with Pilot.
"""

from __future__ import annotations

import contextlib
import io
import os
import time
from pathlib import Path
from unittest import mock

import pytest

from testkit import wait_until
from tmplstudio.cli.main import main

PACK = """\
[pack]
id = "t"
title = "t"
version = "1"
[[rules]]
id = "visit-threat"
kind = "phrases"
severity = "error"
message = "Announces a visit."
phrases = ["上门"]
"""
GOOD = "+++\nid = \"good\"\n[samples.a]\nname = \"张三\"\n+++\n【银行】{{ name }}您好，请还款。\n"


@pytest.fixture
def project(tmp_path: Path, monkeypatch) -> Path:
    (tmp_path / "tmplstudio.toml").write_text('templates = "templates"\npolicies = ["packs"]\nbundled = false\n', encoding="utf-8")
    (tmp_path / "packs").mkdir()
    (tmp_path / "packs" / "t.toml").write_text(PACK, encoding="utf-8")
    (tmp_path / "templates").mkdir()
    (tmp_path / "templates" / "good.j2").write_text(GOOD, encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    return tmp_path


def cli(*argv: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            code = main(list(argv))
        except SystemExit as exc:
            code = exc.code if isinstance(exc.code, int) else 2
    both = out.getvalue() + err.getvalue()
    assert "Traceback" not in both
    # Unreadable files are listed in the report (stdout), usage and config errors on stderr:
    # the third value is both, for the messages either way.
    return code, out.getvalue(), both


def write(project: Path, name: str, data: bytes | str) -> Path:
    path = project / "templates" / name
    path.write_bytes(data.encode("utf-8") if isinstance(data, str) else data)
    return path


# ---------------------------------------------------------------- template files

def test_binary_file(project):
    write(project, "bin.j2", b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR")
    code, out, err = cli("validate", "templates/bin.j2")
    assert code == 2 and "binary file (contains NUL bytes)" in err


def test_invalid_utf8_points_at_the_byte(project):
    write(project, "latin1.j2", "+++\nid = 'x'\n+++\nCaf".encode() + b"\xe9 au lait\n")
    code, out, err = cli("validate", "templates/latin1.j2")
    assert code == 2 and "latin1.j2:4:4" in err and "not valid UTF-8 (byte 0xe9)" in err


def test_bom_is_ignored_and_positions_stay_right(project):
    write(project, "bom.j2", "\ufeff" + GOOD.replace("请还款", "我们将上门"))
    code, out, err = cli("validate", "templates/bom.j2", "--format", "json")
    assert code == 1
    import json

    report = json.loads(out)
    t = report["templates"][0]
    assert t["id"] == "good"  # the front matter was read despite the BOM
    f = t["findings"][0]
    assert (f["rule"], f["line"], f["text"]) == ("visit-threat", 6, "上门")


def test_bom_front_matter_is_read_by_the_engine_too():
    """The studio keeps a BOM in the buffer (and writes it back): the engine must see the fence."""
    from tmplstudio.policy.engine import evaluate

    ev = evaluate("\ufeff" + GOOD, "t.j2", [])
    assert ev.template.meta.id == "good" and ev.renders["a"].text.startswith("【银行】张三")


def test_crlf_positions(project):
    write(project, "crlf.j2", GOOD.replace("请还款", "我们将上门").replace("\n", "\r\n"))
    code, out, err = cli("validate", "templates/crlf.j2")
    assert code == 1 and "templates/crlf.j2:6:" in out and "visit-threat" in out
    col = int(out.split("templates/crlf.j2:6:")[1].split()[0])
    line6 = GOOD.replace("请还款", "我们将上门").split("\n")[5]
    assert line6[col - 1:col + 1] == "上门"


def test_five_megabyte_template_is_refused_fast(project):
    write(project, "huge.j2", "+++\nid = 'huge'\n+++\n" + "上门催收。" * 350_000)
    start = time.perf_counter()
    code, out, err = cli("validate", "templates/huge.j2")
    assert time.perf_counter() - start < 2.0
    assert code == 2 and "5.3 MB; templates are limited to 1 MB" in err


def test_one_megabyte_template_is_checked_in_bounded_time(project):
    """Just under the limit: checked (not refused), and not in quadratic time."""
    body = ("您好，请于本月底前还款，如有疑问请致电客服。\n" * 15_000)[:320_000]  # 3 bytes each: 0.96 MB
    write(project, "big.j2", "+++\nid = 'big'\n+++\n" + body)
    start = time.perf_counter()
    code, out, err = cli("validate", "templates/big.j2")
    assert code in (0, 1)
    assert time.perf_counter() - start < 60


def test_empty_file(project):
    write(project, "empty.j2", b"")
    code, out, err = cli("validate", "templates/empty.j2")
    assert code in (0, 1) and "1 template checked" in out


def test_unreadable_file(project):
    """chmod 000. Tests run as root in CI, and root reads any file whatever its mode: there the
    read is made to fail with the same EACCES the kernel gives an ordinary user."""
    path = write(project, "secret.j2", GOOD)
    path.chmod(0o000)
    try:
        if os.geteuid() == 0:
            real = Path.read_bytes

            def denied(self):
                if self.name == "secret.j2":
                    raise PermissionError(13, "Permission denied", str(self))
                return real(self)

            with mock.patch.object(Path, "read_bytes", denied):
                code, out, err = cli("validate", "templates")
        else:
            code, out, err = cli("validate", "templates")
    finally:
        path.chmod(0o644)
    assert code == 2
    assert "templates/secret.j2: permission denied" in err
    assert "good.j2" not in err and "1 template checked" in out  # the others are still checked


def test_fifo_named_like_a_template_does_not_hang(project):
    os.mkfifo(project / "templates" / "pipe.j2")
    start = time.perf_counter()
    code, out, err = cli("validate", "templates")
    assert time.perf_counter() - start < 10
    assert code == 2 and "pipe.j2: not a regular file" in err and "1 template checked" in out


def test_folder_named_like_a_template(project):
    (project / "templates" / "dir.j2").mkdir()
    code, out, err = cli("validate", "templates/dir.j2")
    assert code in (0, 2)  # a folder argument is searched for templates; none is found
    assert "no templates" in err or "is a folder" in err


def test_symlink_loops_in_the_templates_folder(project):
    (project / "templates" / "self").symlink_to(".")
    (project / "templates" / "sub").mkdir()
    (project / "templates" / "sub" / "up").symlink_to("..")
    (project / "templates" / "dangling.j2").symlink_to("nowhere.j2")
    start = time.perf_counter()
    code, out, err = cli("validate", "templates", "--format", "json")
    assert time.perf_counter() - start < 10
    import json

    paths = [t["path"] for t in json.loads(out)["templates"]]
    assert paths == ["templates/good.j2"]  # once, not once per loop
    assert code in (0, 2)


def test_missing_folder(project):
    code, out, err = cli("validate", "no-such-folder")
    assert code == 2 and "no-such-folder: no such file or folder" in err


def test_missing_default_templates_folder(project, tmp_path_factory, monkeypatch):
    empty = tmp_path_factory.mktemp("empty")
    monkeypatch.chdir(empty)
    code, out, err = cli("validate", "--no-bundled")
    assert code == 2 and "no templates folder here" in err


def test_unclosed_front_matter(project):
    write(project, "open.j2", "+++\nid = 'x'\n【银行】您好\n")
    code, out, err = cli("validate", "templates/open.j2")
    assert code == 1 and "open.j2:1:1 error front-matter" in out and "never closed" in out


def test_jinja_syntax_soup(project):
    soup = "+++\nid = 'soup'\n+++\n{{ {% }} %} {# {{ }} #} {% if %}{% for x in %}{{ x | }}{% endfor {% endif {{ '\n{%- raw %}{{"
    write(project, "soup.j2", soup)
    code, out, err = cli("validate", "templates/soup.j2", "--format", "json")
    import json

    findings = json.loads(out)["templates"][0]["findings"]
    assert code == 1 and findings[0]["rule"] == "jinja-syntax" and findings[0]["line"] >= 4


# ---------------------------------------------------------------- policy packs

def test_non_toml_pack(project):
    (project / "packs" / "t.toml").write_text("[pack]\nid = \"t\"\nthis is not toml\n", encoding="utf-8")
    code, out, err = cli("validate", "templates")
    assert code == 2 and "packs/t.toml:3:6: not valid TOML" in err.replace(str(project) + "/", "")


def test_binary_pack(project):
    (project / "packs" / "t.toml").write_bytes(b"\x00\xff\xfe")
    code, out, err = cli("validate", "templates")
    assert code == 2 and ("not valid UTF-8" in err or "not valid TOML" in err)


def test_pack_with_a_rule_of_unknown_kind(project):
    (project / "packs" / "t.toml").write_text(PACK.replace('kind = "phrases"', 'kind = "phrase"'), encoding="utf-8")
    code, out, err = cli("validate", "templates")
    assert code == 2 and "unknown kind 'phrase'" in err and "did you mean 'phrases'" in err and "t.toml:7" in err


def test_ten_thousand_line_policy_loads_and_checks_quickly(project):
    rules = []
    for i in range(1_000):
        rules.append(f'[[rules]]\nid = "rule-{i}"\nkind = "phrases"\nseverity = "warning"\nmessage = "m{i}"\n'
                     f'phrases = ["词{i}甲", "词{i}乙"]\nexplanation = "e"\nsource = ["s"]\n[rules.examples]\nhit = ["词{i}甲"]\n')
    text = PACK + "\n".join(rules)
    assert text.count("\n") >= 10_000
    (project / "packs" / "big.toml").write_text(text.replace('id = "t"', 'id = "big"', 1), encoding="utf-8")
    write(project, "hit.j2", GOOD.replace("请还款", "词999甲"))
    start = time.perf_counter()
    code, out, err = cli("validate", "templates")
    elapsed = time.perf_counter() - start
    assert code == 0 and "rule-999" in out, err
    assert elapsed < 20, f"{elapsed:.1f} s"
    code, out, err = cli("policy", "test")
    assert code == 0, out + err


# ---------------------------------------------------------------- the studio

async def _open(project: Path, name: str):
    from tmplstudio.project import Project
    from tmplstudio.tui.app import StudioApp

    return StudioApp(Project.discover(project), project / "templates" / name, cwd=project)


@pytest.mark.parametrize("name,data,message", [
    ("bin.j2", b"\x00\x01binary", "binary file"),
    ("latin1.j2", b"Caf\xe9", "not UTF-8"),
    ("huge.j2", b"x" * 1_100_000, "too large"),
], ids=["binary", "latin1", "1.1MB"])
async def test_studio_refuses_unusable_files_with_a_message(project, name, data, message):
    write(project, name, data)
    app = await _open(project, name)
    async with app.run_test(size=(120, 36)) as pilot:
        await pilot.pause()
        assert any(message in str(n.message) for n in app._notifications)
        assert app.current is None or app.current.path.name != name


async def test_studio_does_not_hang_on_a_fifo(project):
    os.mkfifo(project / "templates" / "pipe.j2")
    app = await _open(project, "pipe.j2")
    async with app.run_test(size=(120, 36)) as pilot:
        await pilot.pause()
        assert any("not a regular file" in str(n.message) for n in app._notifications)


async def test_studio_keeps_a_bom_and_reads_the_front_matter(project):
    path = write(project, "bom.j2", "\ufeff" + GOOD)
    app = await _open(project, "bom.j2")
    async with app.run_test(size=(120, 36)) as pilot:
        await pilot.pause()
        assert app.editor.evaluation is not None and app.editor.evaluation.template.meta.id == "good"
        app.editor.move_cursor(app.editor.document.end)
        await pilot.press("x", "ctrl+s")
        await wait_until(pilot, lambda: path.read_bytes().endswith(b"x"), "the save to reach the disk")
    assert path.read_bytes() == ("\ufeff" + GOOD + "x").encode("utf-8")
