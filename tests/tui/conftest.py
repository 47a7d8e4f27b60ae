"""Fixtures for the studio's tests: a small project with its own pack, so the tests do not
depend on the wording of the bundled packs."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[2] / "src"
if str(SRC) not in sys.path:  # running from a checkout without `pip install -e .`
    sys.path.insert(0, str(SRC))

PACK = """\
[pack]
id = "test-pack"
title = "Test pack"
version = "1.0.0"
description = "Rules for the studio's tests."
locales = ["zh"]

[[rules]]
id = "visit-threat"
kind = "phrases"
severity = "warning"
message = "Announces a home or workplace visit."
explanation = "Announcing a visit pressures the debtor."
source = ["Test source 1"]
suggestion = "Invite the customer to contact you instead."
fix = { replace = "联系" }
phrases = ["上门催收"]

[rules.examples]
hit = ["我们将上门催收。"]
ok = ["请联系我们。"]

[[rules]]
id = "guaranteed-return"
kind = "phrases"
severity = "error"
message = "Promises a guaranteed return."
explanation = "Guaranteed returns are forbidden."
source = ["Test source 2"]
phrases = ["保证收益"]

[rules.examples]
hit = ["本产品保证收益。"]
ok = ["本产品有风险。"]
"""

NOTICE = """\
+++
id = "notice"
locale = "zh-CN"
channel = "sms"

[samples.short]
name = "张三"
amount = "100"

[samples.long]
name = "欧阳娜娜欧阳娜娜欧阳娜娜欧阳娜娜欧阳娜娜欧阳娜娜欧阳娜娜欧阳娜娜欧阳娜娜欧阳娜娜"
amount = "12,800.00"
+++
【示例银行】{{ name }}您好，您的账单{{ amount }}元已到期，请及时还款。
"""

BODY_LINE = 13  # 0-based row of the body line in NOTICE


@pytest.fixture
def project_dir(tmp_path: Path) -> Path:
    (tmp_path / "tmplstudio.toml").write_text(
        'templates = "templates"\npolicies = ["packs"]\nbundled = false\nlocale = "zh-CN"\n', encoding="utf-8"
    )
    (tmp_path / "packs").mkdir()
    (tmp_path / "packs" / "test.toml").write_text(PACK, encoding="utf-8")
    (tmp_path / "templates").mkdir()
    (tmp_path / "templates" / "notice.j2").write_text(NOTICE, encoding="utf-8")
    return tmp_path


def make_app(folder: Path, path: Path | None = None, *, discover: bool = True):
    from tmplstudio.project import Project
    from tmplstudio.tui.app import StudioApp

    project = Project.discover(folder) if discover else None
    return StudioApp(project, path, cwd=folder)


@pytest.fixture
def notice_app(project_dir: Path):
    return make_app(project_dir, project_dir / "templates" / "notice.j2")


@pytest.fixture(autouse=True)
def synchronous_evaluation(monkeypatch):
    """Keep evaluation inside the Changed handler even on a loaded CI machine.

    The editor moves evaluation to a thread when one took longer than SYNC_BUDGET; a slow first
    evaluation (cold caches, a busy machine) would make `await pilot.pause()` return before the
    results arrive. test_stale_results_are_never_shown exercises the thread path on purpose.
    """
    from tmplstudio.tui.widgets import editor

    monkeypatch.setattr(editor, "SYNC_BUDGET", 1e9)
