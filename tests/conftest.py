"""Shared by every test: the studio's crash-recovery copies go to a per-test folder, never to
the user's real state folder (tmplstudio.tui.recovery reads TMPLSTUDIO_STATE_DIR), and the
per-user cache (loaded packs, jieba's words) goes to one folder for the whole session, so the
suite runs against cached packs after the first load, as users do (TMPLSTUDIO_CACHE_DIR)."""

from __future__ import annotations

import os

import pytest


@pytest.fixture(scope="session", autouse=True)
def _session_cache_dir(tmp_path_factory):
    previous = os.environ.get("TMPLSTUDIO_CACHE_DIR")
    os.environ["TMPLSTUDIO_CACHE_DIR"] = str(tmp_path_factory.mktemp("cache"))
    yield
    if previous is None:
        os.environ.pop("TMPLSTUDIO_CACHE_DIR", None)
    else:
        os.environ["TMPLSTUDIO_CACHE_DIR"] = previous


@pytest.fixture(autouse=True)
def _isolated_state_dir(tmp_path_factory, monkeypatch):
    monkeypatch.setenv("TMPLSTUDIO_STATE_DIR", str(tmp_path_factory.mktemp("state")))
