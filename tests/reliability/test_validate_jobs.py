"""`validate --jobs N`: the same report as one process, from both cores."""

from __future__ import annotations

import io
import os
import subprocess
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "bench"))
from engine import generate_templates  # noqa: E402  (bench/engine.py's generator)

from tmplstudio.cli.parallel import evaluate_files  # noqa: E402
from tmplstudio.cli.report import Report  # noqa: E402


@pytest.fixture(scope="module")
def folder(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("load")
    templates = root / "templates"
    templates.mkdir()
    generate_templates(templates, 90)
    (templates / "bad.j2").write_bytes(b"\xff\xfe not utf-8")
    (templates / "_partial.j2").write_text("partial", encoding="utf-8")
    (templates / "broken.j2").write_text("+++\nid = 'x'\n+++\n{% if %}", encoding="utf-8")
    return root


def _validate(folder: Path, *args: str) -> tuple[int, bytes]:
    res = subprocess.run([sys.executable, "-m", "tmplstudio", "validate", "templates", *args], cwd=folder,
                         capture_output=True, timeout=300)
    return res.returncode, res.stdout + b"\n--stderr--\n" + res.stderr


@pytest.mark.parametrize("fmt", ["json", "text", "sarif"])
def test_two_jobs_give_the_same_report_as_one(folder, fmt):
    one = _validate(folder, "--format", fmt)
    two = _validate(folder, "--format", fmt, "--jobs", "2")
    assert one[0] == two[0] == 2  # findings, plus one unreadable file
    assert one[1] == two[1]


def test_bad_jobs_values_are_usage_errors(folder):
    code, out = _validate(folder, "--jobs", "-1")
    assert code == 2 and b"--jobs" in out and b"Traceback" not in out


def test_both_cores_are_used_and_order_is_kept(folder, monkeypatch):
    from tmplstudio.project import Project

    monkeypatch.chdir(folder)
    project = Project.discover(folder)
    files = sorted((folder / "templates").glob("t*.j2"))
    report = Report()
    evaluate_files(project, files, report, jobs=2, chunk=4)
    pids = {ev.pid for _, ev in report.evaluations}
    assert len(pids) == 2 and os.getpid() not in pids
    assert [p for p, _ in report.evaluations] == [f"templates/{f.name}" for f in files]


def test_slim_evaluations_write_exactly_what_full_ones_do(folder, monkeypatch):
    """The report writers see the same thing from a SlimEvaluation as from the engine's Evaluation."""
    from tmplstudio.cli import formats
    from tmplstudio.project import Project

    monkeypatch.chdir(folder)
    project = Project.discover(folder)
    files = sorted((folder / "templates").glob("*.j2"))[:30]
    full = Report()
    for path in files:
        try:
            source = path.read_bytes().decode("utf-8")
        except UnicodeDecodeError:
            continue
        full.evaluations.append((f"templates/{path.name}", project.evaluate(source, path)))
    slim = Report()
    evaluate_files(project, [f for f in files if f.name != "bad.j2"], slim, jobs=1)

    def render(report, fmt):
        out = io.StringIO()
        formats.write(fmt, report, out, formats.Options(show_suppressed=True))
        return out.getvalue()

    for fmt in formats.formats():
        assert render(full, fmt) == render(slim, fmt), fmt
