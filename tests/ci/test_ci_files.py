"""action.yml, the Dockerfile and shell completion: what can be checked without GitHub or Docker."""

from __future__ import annotations

import re
import shlex
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from tests.ci.cikit import REPO
from tmplstudio.cli.main import build_parser

ACTION = yaml.safe_load((REPO / "action.yml").read_text(encoding="utf-8"))


def test_action_is_composite_and_installs_the_pinned_checkout():
    assert ACTION["runs"]["using"] == "composite"
    steps = ACTION["runs"]["steps"]
    assert all("shell" in s for s in steps if "run" in s)  # composite run steps must name their shell
    assert any('pip install' in s.get("run", "") and "github.action_path" in s["run"] for s in steps)
    [upload] = [s for s in steps if s.get("uses", "").startswith("github/codeql-action/upload-sarif")]
    assert upload["with"]["sarif_file"] == "tmplstudio.sarif"


def test_action_inputs_reach_the_commands_only_through_the_environment():
    """Inputs go through env, never pasted into the script (a path with `$(...)` cannot run)."""
    for step in ACTION["runs"]["steps"]:
        script = step.get("run", "")
        assert "${{ inputs." not in script, step.get("name")


def _action_commands() -> list[list[str]]:
    commands = []
    for step in ACTION["runs"]["steps"]:
        for line in step.get("run", "").splitlines():
            line = line.strip()
            if line.startswith("tmplstudio "):
                line = line.split(">")[0].split("||")[0]
                commands.append([w for w in shlex.split(line)[1:] if not w.startswith('"$') and not w.startswith("${")])
    return commands


@pytest.mark.parametrize("argv", _action_commands())
def test_action_commands_parse(argv):
    assert build_parser().parse_args(argv).command == "validate"


def test_action_steps_run_in_bash_as_written(tmp_path):
    """The validate step's script, with the inputs set as the action sets them, run here."""
    from tests.ci.cikit import make_project, write

    root = make_project(tmp_path)
    write(root / "templates" / "bad.j2", "我们将上门催收\n")
    [step] = [s for s in ACTION["runs"]["steps"] if s.get("id") == "validate"]
    env = {"PATH": str(Path(sys.executable).parent) + ":/usr/bin:/bin", "NO_COLOR": "1",
           "TMPLSTUDIO_PATHS": "templates", "TMPLSTUDIO_FAIL_ON": "error", "TMPLSTUDIO_CONFIG": "", "TMPLSTUDIO_BASELINE": ""}
    r = subprocess.run(["bash", "-e", "-c", step["run"]], cwd=root, env=env, capture_output=True, text=True, timeout=120)
    assert r.returncode == 1, r.stderr
    assert r.stdout.startswith("::error file=templates/bad.j2,line=1,col=4,")


def test_dockerfile_copies_what_exists_and_runs_validate():
    text = (REPO / "Dockerfile").read_text(encoding="utf-8")
    for line in re.findall(r"^COPY (?!--from)(.+)$", text, re.M):
        *sources, _dest = line.split()
        for src in sources:
            assert (REPO / src).exists(), src
    [entry] = re.findall(r"^ENTRYPOINT (\[.*\])$", text, re.M)
    argv = yaml.safe_load(entry)
    assert argv[:2] == ["tmplstudio", "validate"]
    assert build_parser().parse_args(argv[1:] + ["--format", "sarif"]).command == "validate"
    assert re.search(r"^USER (?!root)", text, re.M)  # not as root


def test_bash_completion_completes_commands_and_format_choices():
    script = subprocess.run([sys.executable, "-m", "tmplstudio", "completion", "bash"], capture_output=True, text=True,
                            check=True).stdout
    probe = script + """
COMP_WORDS=(tmplstudio va); COMP_CWORD=1; _shtab_tmplstudio; echo "${COMPREPLY[@]}"
COMP_WORDS=(tmplstudio validate --format ""); COMP_CWORD=3; _shtab_tmplstudio; echo "${COMPREPLY[@]}"
"""
    out = subprocess.run(["bash", "-c", probe], capture_output=True, text=True, check=True).stdout.splitlines()
    assert out[0] == "validate"
    assert out[1].split() == sorted(["checkstyle", "github", "gitlab", "json", "junit", "sarif", "text"])
