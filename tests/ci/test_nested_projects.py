"""Each template is checked under its own project's config, wherever the command runs from.

The case that once printed "Passed": a repository whose tmplstudio project sits in a subfolder
(messaging/tmplstudio.toml with a team pack), checked from the repository root by pre-commit.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from tests.ci.cikit import REPO, tmplstudio, write

TEAM_PACK = """
[pack]
id = "team"
title = "Team rules"
version = "1"

[[rules]]
id = "team-word"
kind = "phrases"
severity = "error"
message = "A word the team does not send."
explanation = "The team's style guide bans it."
source = ["Team style guide §1"]
phrases = ["团队禁语"]
"""

OTHER_PACK = TEAM_PACK.replace('id = "team"', 'id = "other"').replace("团队禁语", "另一禁语").replace("team-word", "other-word")


def nested_repo(root: Path) -> Path:
    for folder, pack in (("messaging", TEAM_PACK), ("billing", OTHER_PACK)):
        write(root / folder / "policies" / "pack.toml", pack)
        write(root / folder / "tmplstudio.toml", 'policies = ["policies"]\nbundled = false\nfail_on = "error"\n')
        write(root / folder / "templates" / "notice.j2", "【某银行】您好，团队禁语，另一禁语。\n")
    return root


def test_templates_under_different_projects_are_each_checked_under_their_own(tmp_path):
    root = nested_repo(tmp_path)
    r = tmplstudio("validate", "messaging/templates", "billing/templates", cwd=root)
    assert r.returncode == 1, r.stderr
    assert "messaging/templates/notice.j2:1:9 error team-word" in r.stdout
    assert "billing/templates/notice.j2:1:14 error other-word" in r.stdout
    assert "messaging/templates/notice.j2:1:14" not in r.stdout  # the other project's rule is not applied here
    assert "config: messaging/tmplstudio.toml (1 template), billing/tmplstudio.toml (1 template)" in r.stdout
    doc = json.loads(tmplstudio("validate", "--format", "json", "billing/templates", "messaging/templates", cwd=root).stdout)
    assert [(t["path"], t["config"], t["packs"]) for t in doc["templates"]] == [
        ("billing/templates/notice.j2", "billing/tmplstudio.toml", ["other"]),
        ("messaging/templates/notice.j2", "messaging/tmplstudio.toml", ["team"]),
    ]


def test_the_same_result_from_the_root_and_from_inside_the_project(tmp_path):
    root = nested_repo(tmp_path)
    inside = tmplstudio("validate", "--format", "json", "templates/notice.j2", cwd=root / "messaging")
    outside = tmplstudio("validate", "--format", "json", "messaging/templates/notice.j2", cwd=root)
    assert inside.returncode == outside.returncode == 1
    strip = lambda doc: [[(f["rule"], f["line"], f["column"]) for f in t["findings"]] for t in json.loads(doc)["templates"]]  # noqa: E731
    assert strip(inside.stdout) == strip(outside.stdout) == [[("team-word", 1, 9)]]


def test_config_option_overrides_discovery(tmp_path):
    root = nested_repo(tmp_path)
    r = tmplstudio("validate", "--config", "billing/tmplstudio.toml", "messaging/templates", cwd=root)
    assert r.returncode == 1
    assert "messaging/templates/notice.j2:1:14 error other-word" in r.stdout and "team-word" not in r.stdout
    assert "config: billing/tmplstudio.toml" in r.stdout
    r = tmplstudio("validate", "--config", "nope.toml", "messaging/templates", cwd=root)
    assert r.returncode == 2 and "nope.toml: config file does not exist" in r.stderr
    write(root / "pyproject.toml", "[project]\nname = 'x'\n")
    r = tmplstudio("validate", "--config", "pyproject.toml", cwd=root)
    assert r.returncode == 2 and "no [tool.tmplstudio] table" in r.stderr


def test_a_template_with_no_config_above_it_names_the_defaults(tmp_path):
    write(tmp_path / "loose" / "a.j2", "【某银行】您好，请按时还款。\n")
    r = tmplstudio("validate", "--no-bundled", "loose/a.j2", cwd=tmp_path)
    assert r.returncode == 0 and "config: none (defaults)" in r.stdout


def _git(repo: Path, *args: str) -> None:
    subprocess.run(["git", *args], cwd=repo, check=True, capture_output=True,
                   env={**os.environ, "GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@example.com",
                        "GIT_COMMITTER_NAME": "t", "GIT_COMMITTER_EMAIL": "t@example.com"})


def test_pre_commit_from_the_repository_root_fails_on_the_nested_projects_rule(tmp_path):
    """Real pre-commit, run from the repository root. The hook is our .pre-commit-hooks.yaml
    entry as a local hook (same entry, files, exclude, types), with the tmplstudio of this test
    run instead of a fresh virtualenv from PyPI."""
    [hook] = [h for h in yaml.safe_load((REPO / ".pre-commit-hooks.yaml").read_text(encoding="utf-8"))
              if h["id"] == "tmplstudio-validate"]
    script = Path(sys.executable).with_name("tmplstudio")
    assert script.exists(), "tmplstudio's console script is installed beside the test's python"
    local = {**{k: hook[k] for k in ("id", "name", "files", "exclude", "types", "require_serial")},
             "entry": hook["entry"].replace("tmplstudio", str(script), 1), "language": "system"}
    repo = nested_repo(tmp_path / "repo")
    write(repo / ".pre-commit-config.yaml", yaml.safe_dump({"repos": [{"repo": "local", "hooks": [local]}]}))
    _git(repo, "init", "-q")
    _git(repo, "add", "-A")
    env = {**os.environ, "PRE_COMMIT_HOME": str(tmp_path / "cache"), "NO_COLOR": "1"}
    pre_commit = [sys.executable, "-m", "pre_commit", "run", "--all-files", "--color", "never"]
    r = subprocess.run(pre_commit, cwd=repo, capture_output=True, text=True, env=env, timeout=300)
    assert r.returncode == 1, r.stdout + r.stderr
    assert "Failed" in r.stdout and "Passed" not in r.stdout
    assert "messaging/templates/notice.j2:1:9 error team-word" in r.stdout
    # Fixed, the same run passes.
    for folder in ("messaging", "billing"):
        write(repo / folder / "templates" / "notice.j2", "【某银行】您好，请按时还款。\n")
    _git(repo, "add", "-A")
    r = subprocess.run(pre_commit, cwd=repo, capture_output=True, text=True, env=env, timeout=300)
    assert r.returncode == 0 and "Passed" in r.stdout, r.stdout + r.stderr


@pytest.mark.parametrize("where", ["root", "inside"])
def test_sarif_uris_are_relative_to_the_repository_root(tmp_path, where):
    repo = nested_repo(tmp_path)
    _git(repo, "init", "-q")
    cwd, target = (repo, "messaging/templates") if where == "root" else (repo / "messaging", "templates")
    doc = json.loads(tmplstudio("validate", "--format", "sarif", target, cwd=cwd).stdout)
    run = doc["runs"][0]
    [uri] = {r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] for r in run["results"]}
    assert uri == "messaging/templates/notice.j2"
    assert "originalUriBaseIds" not in run  # plain repository-relative URIs, as code scanning reads them
