"""Helpers for engine tests: build packs from inline TOML and evaluate template text."""

from __future__ import annotations

import textwrap
import tomllib
from pathlib import Path

import pytest

from tmplstudio.policy.engine import evaluate
from tmplstudio.policy.loader import build_pack


def make_pack(toml_text: str, pack_id: str = "test"):
    text = f'[pack]\nid = "{pack_id}"\ntitle = "t"\nversion = "1"\n' + textwrap.dedent(toml_text)
    return build_pack(tomllib.loads(text), Path(f"{pack_id}.toml"), text)


def run(pack_toml: str, source: str, **kw):
    return evaluate(source, "t.j2", [make_pack(pack_toml)], **kw)


def rules_fired(ev, include_suppressed: bool = False) -> list[str]:
    return [f.rule for f in ev.findings if include_suppressed or not f.suppressed]


@pytest.fixture
def pack():
    return make_pack
