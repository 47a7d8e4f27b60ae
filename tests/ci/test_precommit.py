"""The `tmplstudio-validate` pre-commit hook, end to end.

`pre-commit try-repo` installs the hook's repository into a fresh virtualenv from PyPI, which a
test cannot count on (CI may be offline; the install takes about 45 s). docs/ci.md records the
real `pre-commit try-repo` runs. This test does what pre-commit does, with the hook's own
definition read from .pre-commit-hooks.yaml: it lists the files of a real git repository (all
files, and the staged ones), keeps those that `files` matches and `exclude` does not, and runs
`entry` with them as arguments from the repository root -- the same command line pre-commit runs.
"""

from __future__ import annotations

import re
import shlex
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from tests.ci.cikit import REPO, make_project, write


def hook() -> dict:
    hooks = yaml.safe_load((REPO / ".pre-commit-hooks.yaml").read_text(encoding="utf-8"))
    [h] = [h for h in hooks if h["id"] == "tmplstudio-validate"]
    return h


def git(repo: Path, *args: str) -> str:
    return subprocess.run(["git", *args], cwd=repo, check=True, capture_output=True, text=True,
                          env={"GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@example.com", "GIT_COMMITTER_NAME": "t",
                               "GIT_COMMITTER_EMAIL": "t@example.com", "HOME": str(repo), "PATH": "/usr/bin:/bin"}).stdout


def selected(h: dict, names: list[str], repo: Path) -> list[str]:
    """pre-commit's filter: `files` and `exclude` are Python regexes searched in the repo-relative path; `types: [file]`."""
    inc, exc = re.compile(h.get("files", "")), re.compile(h.get("exclude", "^$"))
    return [n for n in names if inc.search(n) and not exc.search(n) and (repo / n).is_file()]


def run_hook(h: dict, files: list[str], repo: Path) -> subprocess.CompletedProcess:
    entry = shlex.split(h["entry"])
    assert entry[0] == "tmplstudio"
    script = Path(sys.executable).with_name("tmplstudio")  # the console script pre-commit's venv would have
    command = ([str(script)] if script.exists() else [sys.executable, "-m", "tmplstudio"]) + entry[1:] + h.get("args", []) + files
    return subprocess.run(command, cwd=repo, capture_output=True, text=True, timeout=120, env={"NO_COLOR": "1", "PATH": "/usr/bin:/bin"})


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    root = make_project(tmp_path)
    write(root / "templates" / "ok.j2", "【某银行】您好，请按时还款。\n")
    write(root / "templates" / "sub" / "bad.j2", "您好\n我们将上门催收\n")
    write(root / "templates" / "_partials" / "threat.j2", "我们将上门催收\n")   # partials: never passed to the hook
    write(root / "templates" / "_footer.j2", "我们将上门催收\n")
    write(root / "README.md", "我们将上门催收\n")                              # not a template
    git(root, "init", "-q")
    git(root, "add", "-A")
    return root


def test_hook_definition():
    h = hook()
    assert h["language"] == "python" and h["entry"] == "tmplstudio validate"
    names = ["templates/a.j2", "a.j2", "templates/_b.j2", "templates/_partials/c.j2", "_x/d.j2", "a.j2.bak", "README.md",
             "templates/my_file.j2"]
    inc, exc = re.compile(h["files"]), re.compile(h["exclude"])
    assert [n for n in names if inc.search(n) and not exc.search(n)] == ["templates/a.j2", "a.j2", "templates/my_file.j2"]


def test_all_files_run_checks_templates_only_and_fails_on_a_finding(repo):
    h = hook()
    files = selected(h, git(repo, "ls-files").split(), repo)
    assert files == ["templates/ok.j2", "templates/sub/bad.j2"]
    r = run_hook(h, files, repo)
    assert r.returncode == 1
    assert "templates/sub/bad.j2:2:4 error visit-threat" in r.stdout
    assert "_partials" not in r.stdout and "_footer" not in r.stdout and "README" not in r.stdout
    assert "2 templates checked: 1 error" in r.stdout


def test_commit_with_fixed_template_passes(repo):
    h = hook()
    git(repo, "commit", "-qm", "start")
    write(repo / "templates" / "sub" / "bad.j2", "【某银行】您好，请按时还款。\n")
    write(repo / "templates" / "_partials" / "threat.j2", "我们还是要上门催收\n")  # staged too, but a partial
    git(repo, "add", "-A")
    staged = git(repo, "diff", "--cached", "--name-only").split()
    assert sorted(staged) == ["templates/_partials/threat.j2", "templates/sub/bad.j2"]
    files = selected(h, staged, repo)
    assert files == ["templates/sub/bad.j2"]
    r = run_hook(h, files, repo)
    assert r.returncode == 0, r.stdout + r.stderr
    assert "1 template checked: 0 errors" in r.stdout
