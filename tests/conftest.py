"""Shared by every test: the studio's crash-recovery copies go to a per-test folder, never to
the user's real state folder (tmplstudio.tui.recovery reads TMPLSTUDIO_STATE_DIR)."""

from __future__ import annotations

import pytest


@pytest.fixture(autouse=True)
def _isolated_state_dir(tmp_path_factory, monkeypatch):
    monkeypatch.setenv("TMPLSTUDIO_STATE_DIR", str(tmp_path_factory.mktemp("state")))
