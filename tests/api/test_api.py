"""The Python API beyond the doc's examples: literal messages, positions, lazy import."""

from __future__ import annotations

import subprocess
import sys

import pytest

import tmplstudio
from tmplstudio import check, check_message
from tmplstudio.errors import InputError


def test_jinja_in_a_rendered_message_is_never_run():
    text = "您好 {{ ''.__class__ }} {% for i in range(10**9) %}x{% endfor %} {% endraw %} 我们将上门催收"
    result = check_message(text)
    visits = [f for f in result.findings if f.rule == "visit-threat"]
    assert [text[f.start:f.end] for f in visits] == ["上门催收"]
    assert all(f.rule != "render-error" and f.rule != "sandbox" for f in result.findings)


def test_positions_count_lines_and_columns_of_the_message():
    result = check_message("第一行\n我们将上门催收")
    [visit] = [f for f in result.findings if f.rule == "visit-threat"]
    assert (visit.line, visit.column, visit.end_line, visit.end_column) == (2, 4, 2, 8)
    assert (visit.start, visit.end) == (7, 11)


def test_metadata_selects_the_packs():
    us = check_message("Please pay your balance today.", locale="en-US", jurisdiction=["US"])
    zh = check_message("Please pay your balance today.", locale="zh-CN")
    assert {f.pack for f in us.findings} == {"en-collections"}
    assert {f.pack for f in zh.findings} == {"zh-collections"}
    assert "debt-collector-disclosure-required" in {f.rule for f in us.errors}  # FDCPA's mini-Miranda, US only


def test_unreadable_file_raises_input_error(tmp_path):
    bad = tmp_path / "bad.j2"
    bad.write_bytes("您好".encode("gbk"))
    with pytest.raises(InputError, match="UTF-8"):
        check(bad)


def test_import_tmplstudio_loads_no_engine():
    code = "import sys, tmplstudio; print('tmplstudio.policy.engine' in sys.modules); tmplstudio.check; print('tmplstudio.policy.engine' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.split()
    assert out == ["False", "True"]
    with pytest.raises(AttributeError):
        tmplstudio.nonexistent  # noqa: B018
