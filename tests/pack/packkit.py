"""Helpers for the approval/export tests: a tiny project with its own pack (no bundled packs),
so results do not depend on the wording of the bundled packs."""

from __future__ import annotations

import datetime as dt
import os
import subprocess
import sys
from pathlib import Path

import pytest

PACK = """\
[pack]
id = "test-pack"
title = "Test pack"
version = "1.0.0"
locales = ["zh"]

[[rules]]
id = "visit-threat"
kind = "phrases"
severity = "warning"
message = "Announces a home or workplace visit."
explanation = "Announcing a visit pressures the debtor."
source = ["Test source 1"]
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

FRONT = """\
+++
id = "{id}"
locale = "zh-CN"
channel = "sms"

[samples.short]
name = "张三"
amount = "100"
card_no = "6222021234567890123"

[samples.long]
name = "欧阳娜娜"
amount = "12,800.00"
card_no = "6222029876543210"
+++
"""

NOTICE_BODY = "【示例银行】{{ name }}您好，您尾号{{ card_no | mask }}的账户{{ amount }}元待确认，请及时查看。\n"


def template(template_id: str, body: str) -> str:
    return FRONT.format(id=template_id) + body


FIXED_TIME = dt.datetime(2026, 1, 2, 3, 4, 5, tzinfo=dt.timezone.utc)


def make_project(root: Path) -> Path:
    (root / "tmplstudio.toml").write_text(
        'templates = "templates"\npolicies = ["packs"]\nbundled = false\nlocale = "zh-CN"\n', encoding="utf-8")
    (root / "packs").mkdir()
    (root / "packs" / "test.toml").write_text(PACK, encoding="utf-8")
    (root / "templates").mkdir()
    write(root, "notice", NOTICE_BODY)
    return root


REPO_POLICIES = Path(__file__).resolve().parents[2] / "policies"
PROVIDER_PACKS = ("aliyun", "tencent", "twilio")


def use_bundled(root: Path, *names: str) -> None:
    """Copy these bundled packs (by file name) beside the test pack: the provider targets check
    templates with their provider pack."""
    for name in names:
        (root / "packs" / f"{name}.toml").write_bytes((REPO_POLICIES / f"{name}.toml").read_bytes())


ENGLISH_PACK = """\
[pack]
id = "test-pack-en"
title = "Test pack (English)"
version = "1.0.0"
locales = ["en"]

[[rules]]
id = "guaranteed-return-en"
kind = "phrases"
severity = "error"
message = "Promises a guaranteed return."
phrases = ["guaranteed return"]
"""


def add_english_pack(root: Path) -> None:
    """A pack for English templates: without one, an en-US template is not covered by any
    pack, which is an error finding (issue 14: a locale no pack checks is not silence)."""
    (root / "packs" / "test-pack-en.toml").write_text(ENGLISH_PACK, encoding="utf-8")


def write(root: Path, name: str, body: str, template_id: str | None = None) -> Path:
    path = root / "templates" / f"{name}.j2"
    path.write_text(template(template_id or name, body), encoding="utf-8")
    return path


def cli(root: Path, *args: str, env: dict | None = None) -> subprocess.CompletedProcess:
    full_env = {**os.environ, **(env or {})}
    return subprocess.run([sys.executable, "-m", "tmplstudio", *args], cwd=root, capture_output=True, text=True,
                          env=full_env, timeout=120)


def rezip(src: Path, dst: Path, change) -> None:
    """Copy the zip ``src`` to ``dst`` after ``change(files)`` edits its {name: bytes} in place."""
    import io
    import zipfile

    with zipfile.ZipFile(src) as zf:
        files = {n: zf.read(n) for n in zf.namelist()}
    change(files)
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        for name, data in files.items():
            zf.writestr(name, data)
    dst.write_bytes(buf.getvalue())


def load(root: Path):
    from tmplstudio.project import Project

    return Project.discover(root)


@pytest.fixture
def proj_dir(tmp_path: Path, monkeypatch) -> Path:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("SOURCE_DATE_EPOCH", raising=False)
    return make_project(tmp_path)


def approve(root: Path, *names: str, by: str = "Li Wei", note: str = "", accept_warnings: bool = False,
            fixed_time: bool = True, key: Path | None = None):
    """Approve templates through the library (as the CLI does), at a fixed time for golden files;
    unsigned as ``by``, or signed with ``key``."""
    from tmplstudio.pack import approval as approval_mod
    from tmplstudio.pack import ledger as ledger_mod

    project = load(root)
    checks = [approval_mod.check(project, root / "templates" / f"{n}.j2") for n in names]
    for c in checks:
        assert approval_mod.refusal(c, accept_warnings) is None, (c.rel, [f.rule for f in c.errors + c.warnings])
    original = ledger_mod.utc_now
    if fixed_time:
        ledger_mod.utc_now = lambda: FIXED_TIME
    try:
        who = approval_mod.Identity(key=key) if key is not None else approval_mod.Identity(name=by)
        outcome = approval_mod.approve(project, checks, who, note)
        assert not outcome.refused, outcome.refused
        return outcome.ledger
    finally:
        ledger_mod.utc_now = original
