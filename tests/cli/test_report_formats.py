"""The format registry behind `validate --format`, and escaping in every report."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET

import pytest

from tests.ci.cikit import make_project, tmplstudio, write
from tmplstudio.cli import formats
from tmplstudio.cli.main import main

INJECTION = 'x\\n::error file=templates/innocent.j2,line=1::all clear\\r\\n::warning::\\u001b[2J'


@pytest.fixture
def project(tmp_path):
    root = make_project(tmp_path)
    write(root / "templates" / "bad.j2", "我们将上门催收\n")
    return root


def test_a_format_registered_in_one_place_is_accepted_by_validate(project, monkeypatch, capsys):
    """Adding a format is one module that registers itself: here, one registered by the test alone."""
    def write_tsv(report, out, options):
        for path, ev in report.evaluations:
            for f in ev.findings:
                out.write(f"{path}\t{f.line}\t{f.rule}\n")

    monkeypatch.chdir(project)
    monkeypatch.setitem(formats.formats(), "tsv", formats.Format("tsv", "tab-separated, for this test", write_tsv))
    assert main(["validate", "--format", "tsv"]) == 1
    assert capsys.readouterr().out == "templates/bad.j2\t1\tvisit-threat\n"


def test_every_builtin_format_is_a_registered_writer():
    assert {"text", "json", "sarif", "junit", "github", "gitlab", "checkstyle"} <= set(formats.formats())


def test_an_unknown_format_is_a_usage_error_not_a_fall_through(project):
    r = tmplstudio("validate", "--format", "yaml", cwd=project)
    assert r.returncode == 2 and r.stdout == ""
    assert "invalid choice: 'yaml'" in r.stderr and "Traceback" not in r.stderr


@pytest.fixture
def hostile(tmp_path):
    """A sample whose name carries a line break and a workflow command, and a pack message with an escape."""
    root = make_project(tmp_path)
    pack = (root / "policies" / "demo.toml").read_text(encoding="utf-8")
    pack = pack.replace('message = "Harsh tone."', 'message = "Harsh\\u001b[31m tone.\\n::error::from the pack"')
    (root / "policies" / "demo.toml").write_text(pack, encoding="utf-8")
    write(root / "templates" / "innocent.j2",
          f'+++\nlocale = "en-US"\n[samples."{INJECTION}"]\nverb = "arr"\n+++\nHello. We will {{{{ verb }}}}est you. 立即\n')
    return root


@pytest.mark.parametrize("fmt", ["text", "github", "junit", "checkstyle"])
def test_no_report_lets_a_field_start_a_workflow_command_or_send_an_escape(hostile, fmt):
    r = tmplstudio("validate", "--format", fmt, "--color", "never", cwd=hostile)
    assert r.returncode == 1, r.stderr
    assert "sample x" in r.stdout or "sample x" in r.stdout.replace("%0A", "\n")  # the finding is reported...
    lines = r.stdout.splitlines()
    commands = [line for line in lines if line.lstrip().startswith("::")]
    if fmt == "github":  # ...as exactly our own two annotations, each one line
        assert len(commands) == 2 and len(lines) == 2
        assert all(line.startswith(("::error file=templates/innocent.j2,", "::warning file=templates/innocent.j2,"))
                   for line in commands)
    else:
        assert commands == []
    assert "\x1b" not in r.stdout and "\r" not in r.stdout


def test_text_report_shows_the_escaped_characters(hostile):
    out = tmplstudio("validate", "--color", "never", cwd=hostile).stdout
    assert "[sample x\\n::error file=templates/innocent.j2,line=1::all clear\\r\\n::warning::\\x1b[2J]" in out
    assert "Harsh\\x1b[31m tone.\\n::error::from the pack" in out


def _strings(doc):
    if isinstance(doc, str):
        yield doc
    elif isinstance(doc, dict):
        for value in doc.values():
            yield from _strings(value)
    elif isinstance(doc, list):
        for value in doc:
            yield from _strings(value)


@pytest.mark.parametrize("fmt", ["json", "sarif", "gitlab"])
def test_json_based_reports_keep_the_exact_text_escaped_by_json(hostile, fmt):
    r = tmplstudio("validate", "--format", fmt, cwd=hostile)
    assert not any(line.lstrip().startswith("::") for line in r.stdout.splitlines())
    name = "x\n::error file=templates/innocent.j2,line=1::all clear\r\n::warning::\x1b[2J"
    assert any(name in text for text in _strings(json.loads(r.stdout)))


def test_checkstyle_report(project):
    write(project / "templates" / "warn.j2", "请立即还款\n")
    (project / "templates" / "bin.j2").write_bytes(b"\x00\x01")
    r = tmplstudio("validate", "--format", "checkstyle", cwd=project)
    assert r.returncode == 2
    root = ET.fromstring(r.stdout)
    assert root.tag == "checkstyle"
    files = {f.get("name"): f for f in root.findall("file")}
    [err] = files["templates/bad.j2"].findall("error")
    assert (err.get("line"), err.get("column"), err.get("severity"), err.get("source")) == ("1", "4", "error", "tmplstudio.demo.visit-threat")
    assert err.get("message").startswith("Announces a home visit.")
    [warn] = files["templates/warn.j2"].findall("error")
    assert warn.get("severity") == "warning"
    [binary] = files["templates/bin.j2"].findall("error")
    assert binary.get("source") == "tmplstudio.input"


def test_gitlab_code_quality_report(project):
    write(project / "templates" / "warn.j2", "请立即还款\n")
    r = tmplstudio("validate", "--format", "gitlab", cwd=project)
    assert r.returncode == 1
    issues = json.loads(r.stdout)
    assert [(i["check_name"], i["severity"], i["location"]["path"], i["location"]["positions"]["begin"]["line"]) for i in issues] \
        == [("demo/visit-threat", "critical", "templates/bad.j2", 1), ("demo/tone", "minor", "templates/warn.j2", 1)]
    for issue in issues:  # the fields GitLab requires
        assert {"description", "check_name", "fingerprint", "severity", "location"} <= set(issue)
    # The fingerprint does not move with the line: a blank line above the hit keeps it.
    write(project / "templates" / "bad.j2", "\n\n我们将上门催收\n")
    again = json.loads(tmplstudio("validate", "--format", "gitlab", cwd=project).stdout)
    assert again[0]["location"]["positions"]["begin"]["line"] == 3
    assert again[0]["fingerprint"] == issues[0]["fingerprint"]


def test_render_escapes_the_sample_name_in_its_header(hostile):
    r = tmplstudio("render", "templates/innocent.j2", cwd=hostile)
    assert not any(line.lstrip().startswith("::") for line in r.stdout.splitlines()), r.stdout
    assert "── x\\n::error file=templates/innocent.j2" in r.stdout
