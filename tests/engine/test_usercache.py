"""The per-user cache: loaded packs and jieba's words come back exactly, never stale."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

import tmplstudio.project as project_module
from tests.ci.cikit import make_project
from tmplstudio.project import Project

PACK = """[pack]
id = "house"
title = "House rules"
version = "1"
locales = ["zh"]

[[rules]]
id = "no-visit"
kind = "phrases"
severity = "error"
message = "No visits."
explanation = "Collectors may not threaten visits."
source = ["house policy"]
phrases = ["{phrase}"]
[rules.examples]
hit = ["我们将{phrase}", "明天{phrase}", "{phrase}处理", "准备{phrase}"]
ok = ["请还款", "您好", "谢谢"]
"""


@pytest.fixture()
def cache(tmp_path, monkeypatch):
    folder = tmp_path / "cache"
    monkeypatch.setenv("TMPLSTUDIO_CACHE_DIR", str(folder))
    return folder


def _project(root: Path, phrase: str = "上门") -> Path:
    root.mkdir(parents=True, exist_ok=True)
    return make_project(root, PACK.replace("{phrase}", phrase))


def _count_loads(monkeypatch) -> list:
    calls = []
    real = project_module.load_pack

    def counting(path, bundled=False):
        calls.append(path)
        return real(path, bundled=bundled)

    monkeypatch.setattr(project_module, "load_pack", counting)
    return calls


def _hits(project: Project, text: str) -> list[str]:
    ev = project.evaluate(f'+++\nlocale = "zh-CN"\n+++\n{text}\n', "t.j2")
    return [f.rule for f in ev.findings if f.rule == "no-visit"]


def test_second_start_loads_packs_from_the_cache(tmp_path, cache, monkeypatch):
    root = _project(tmp_path / "p")
    calls = _count_loads(monkeypatch)
    first = Project.discover(root)
    assert len(calls) == 1 and list((cache / "packs").glob("*.pickle"))
    second = Project.discover(root)
    assert len(calls) == 1, "the second start must not parse the pack again"
    assert [r.id for p in second.packs for r in p.rules] == [r.id for p in first.packs for r in p.rules]
    assert _hits(second, "我们将上门") == ["no-visit"] and _hits(second, "线上门户") == []


def test_an_edited_pack_is_never_served_stale(tmp_path, cache, monkeypatch):
    root = _project(tmp_path / "p", "上门")
    assert _hits(Project.discover(root), "我们将上门") == ["no-visit"]
    _project(root, "曝光")
    project = Project.discover(root)
    assert _hits(project, "我们将上门") == [] and _hits(project, "我们将曝光") == ["no-visit"]


def test_an_entry_built_by_other_code_is_never_served(tmp_path, cache, monkeypatch):
    from tmplstudio import usercache

    root = _project(tmp_path / "p")
    calls = _count_loads(monkeypatch)
    Project.discover(root)
    monkeypatch.setattr(usercache, "code_digest", lambda: "other code")
    Project.discover(root)
    assert len(calls) == 2, "packs cached by other code must be loaded again"


def test_the_code_digest_covers_every_module_of_the_package(tmp_path):
    """Not a hand-kept list of 'builder' modules: code moved into a new module changes it too."""
    import shutil

    from tmplstudio import usercache

    tree = tmp_path / "pkg"
    shutil.copytree(Path(usercache.__file__).parent, tree, ignore=shutil.ignore_patterns("__pycache__", "_bundled*"))
    before = usercache.tree_digest(tree, "1")
    (tree / "policy" / "kinds_moved.py").write_text("X = 1\n", encoding="utf-8")
    added = usercache.tree_digest(tree, "1")
    (tree / "text" / "normalize.py").write_text((tree / "text" / "normalize.py").read_text(encoding="utf-8") + "#\n", encoding="utf-8")
    edited = usercache.tree_digest(tree, "1")
    assert len({before, added, edited, usercache.tree_digest(tree, "2")}) == 4


def test_config_overrides_are_part_of_the_key(tmp_path, cache):
    root = _project(tmp_path / "p")
    assert _hits(Project.discover(root), "我们将上门") == ["no-visit"]
    (root / "tmplstudio.toml").write_text('policies = ["policies"]\nbundled = false\n[rules]\nno-visit = { severity = "off", reason = "not for this test" }\n',
                                          encoding="utf-8")
    assert _hits(Project.discover(root), "我们将上门") == []


def test_a_corrupt_or_unwritable_cache_only_costs_time(tmp_path, cache, monkeypatch):
    root = _project(tmp_path / "p")
    Project.discover(root)
    for entry in (cache / "packs").glob("*.pickle"):
        entry.write_bytes(b"\x80\x05not a pickle")
    assert _hits(Project.discover(root), "我们将上门") == ["no-visit"]
    blocked = tmp_path / "blocked"
    blocked.write_text("a file where the cache folder should be", encoding="utf-8")
    monkeypatch.setenv("TMPLSTUDIO_CACHE_DIR", str(blocked))
    assert _hits(Project.discover(root), "我们将上门") == ["no-visit"]


def test_no_cache_writes_nothing(tmp_path, cache, monkeypatch):
    monkeypatch.setenv("TMPLSTUDIO_NO_CACHE", "1")
    calls = _count_loads(monkeypatch)
    root = _project(tmp_path / "p")
    Project.discover(root)
    Project.discover(root)
    assert len(calls) == 2 and not cache.exists()


def test_known_sentences_never_load_the_jieba_dictionary(tmp_path):
    """A second run over the same sentences takes their words from the cache: with the
    dictionary made unloadable it still finds 上门 and still refuses it inside 线上门户."""
    env = {**os.environ, "TMPLSTUDIO_CACHE_DIR": str(tmp_path / "cache")}
    env.pop("TMPLSTUDIO_NO_CACHE", None)
    script = """
import sys
from tmplstudio.text import segment
if sys.argv[1] == "blocked":
    def _no_dictionary():
        raise RuntimeError("the jieba dictionary was loaded")
    segment._get = _no_dictionary
from tmplstudio.project import Project
p = Project.discover(sys.argv[2])
ev = p.evaluate('+++\\nlocale = "zh-CN"\\nsender_role = "creditor"\\n+++\\n【某银行】请登录线上门户还款，否则我们将上门催收。\\n', "t.j2")
print(sorted({f.text for f in ev.findings if f.rule == "visit-threat"}))
"""
    root = Path(__file__).resolve().parents[2]
    first = subprocess.run([sys.executable, "-c", script, "free", str(root)], env=env, capture_output=True, text=True)
    assert first.returncode == 0, first.stderr
    second = subprocess.run([sys.executable, "-c", script, "blocked", str(root)], env=env, capture_output=True, text=True)
    assert second.returncode == 0, second.stderr
    assert first.stdout == second.stdout and "上门" in first.stdout and "线上门户" not in first.stdout
