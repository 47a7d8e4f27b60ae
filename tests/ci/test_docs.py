"""docs/ci.md stays true: its CI files parse and every tmplstudio command in them is accepted."""

from __future__ import annotations

import re
import shlex

import pytest
import yaml

from tests.ci.cikit import REPO
from tmplstudio.cli.main import build_parser

DOC = (REPO / "docs" / "ci.md").read_text(encoding="utf-8")
YAML_BLOCKS = re.findall(r"```yaml\n(.*?)```", DOC, re.S)


def _commands() -> list[str]:
    _action, gh, gitlab, _precommit = (yaml.safe_load(b) for b in YAML_BLOCKS)
    lines = [line for step in gh["jobs"]["tmplstudio"]["steps"] for line in step.get("run", "").splitlines()]
    lines += gitlab["tmplstudio"]["script"]
    lines += re.findall(r"^(tmplstudio [^\n`|>#]*)", DOC, re.M)  # the ```sh examples
    return sorted({line.split("||")[0].split("|")[0].strip() for line in lines if line.strip().startswith("tmplstudio ")})


COMMANDS = _commands()


def test_the_doc_has_the_four_examples():
    assert len(YAML_BLOCKS) == 4
    action, gh, gitlab, precommit = (yaml.safe_load(b) for b in YAML_BLOCKS)
    [uses] = [s for s in action["jobs"]["tmplstudio"]["steps"] if "tmplstudio@" in s.get("uses", "")]
    action_inputs = yaml.safe_load((REPO / "action.yml").read_text(encoding="utf-8"))["inputs"]
    assert set(uses["with"]) <= set(action_inputs)  # the example only uses inputs the action has
    steps = gh["jobs"]["tmplstudio"]["steps"]
    assert any(s.get("uses", "").startswith("github/codeql-action/upload-sarif") for s in steps)
    assert gitlab["tmplstudio"]["artifacts"]["reports"]["junit"] == "tmplstudio-junit.xml"
    assert gitlab["tmplstudio"]["artifacts"]["reports"]["codequality"] == "gl-code-quality-report.json"
    assert precommit["repos"][0]["hooks"][0]["id"] == "tmplstudio-validate"


@pytest.mark.parametrize("command", COMMANDS)
def test_every_command_in_the_examples_parses(command):
    args = build_parser().parse_args(shlex.split(command)[1:])
    assert args.command in ("validate", "policy", "completion")


def test_the_commands_cover_every_ci_format():
    formats = {m for c in COMMANDS for m in re.findall(r"--format (\w+)", c)}
    assert formats == {"github", "sarif", "junit", "gitlab", "json"}
