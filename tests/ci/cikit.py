"""Shared helpers for the CI-integration tests: a subprocess runner and a small project."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
FIXTURES = REPO / "tests" / "fixtures"
GOLDEN = Path(__file__).resolve().parent / "golden"

DEMO_PACK = textwrap.dedent("""
    [pack]
    id = "demo"
    title = "Demo"
    version = "1"
    sources = ["Demo style guide"]

    [[rules]]
    id = "visit-threat"
    kind = "phrases"
    severity = "error"
    message = "Announces a home visit."
    explanation = "Announcing a visit to the home is intimidation."
    source = ["刑法 293-1", "Demo style guide §3"]
    phrases = ["上门催收", "arrest*"]
    suggestion = "Invite the customer to call instead."
    [rules.examples]
    hit = ["我们将上门催收"]
    ok = ["线上门户"]

    [[rules]]
    id = "tone"
    kind = "phrases"
    severity = "warning"
    message = "Harsh tone."
    explanation = "Urgency words put pressure on the customer."
    source = ["Demo style guide §4"]
    phrases = ["立即"]
    [rules.examples]
    hit = ["请立即还款"]
    ok = ["请按时还款"]
""")


def tmplstudio(*args: str, cwd: Path, env: dict | None = None, timeout: int = 120) -> subprocess.CompletedProcess:
    full_env = {**os.environ, "NO_COLOR": "1", **(env or {})}
    return subprocess.run([sys.executable, "-m", "tmplstudio", *args], cwd=cwd, capture_output=True, text=True,
                          env=full_env, timeout=timeout)


def make_project(root: Path, pack: str = DEMO_PACK) -> Path:
    (root / "policies").mkdir(exist_ok=True)
    (root / "policies" / "demo.toml").write_text(pack, encoding="utf-8")
    (root / "tmplstudio.toml").write_text('policies = ["policies"]\nbundled = false\n', encoding="utf-8")
    (root / "templates").mkdir(exist_ok=True)
    return root


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path
