"""The real studio (`tmplstudio edit` in tmux) with the issue's crash and hang payloads in its
templates folder: it draws its first screen, takes typing, and quits on ctrl+q at once, while a
render worker is still busy with the C loop (issue 14, section 2: it used to hang for good)."""

from __future__ import annotations

import os
import time
from pathlib import Path

from test_crash_recovery import Tmux, _wait_dead

PACK = '[pack]\nid = "t"\ntitle = "t"\nversion = "1"\n[[rules]]\nid = "visit-threat"\nkind = "phrases"\n' \
       'severity = "error"\nmessage = "m"\nphrases = ["上门催收"]\n'
SAMPLE = "+++\n[samples.a]\nl = 1\nm = 1\n+++\n"
PAYLOADS = {
    "a-nested-tuple": "{% set ns = namespace(t=()) %}{% for i in range(300) %}{% for j in range(1000) %}"
                      "{% set ns.t = (ns.t,) %}{% endfor %}{% endfor %}{{ ns.t in {} }}",
    "b-c-loop": "{{ [[l]*99999]*99999 == [[m]*99999]*99999 }}",
    "c-to-bytes": "{{ (0).to_bytes(10**9, 'big')|length }}",
}


def _busy_workers(studio_pid: int) -> list[int]:
    out = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text().rsplit(")", 1)[1].split()
                if int(stat[1]) == studio_pid and b"tmplstudio.render.worker" in (entry / "cmdline").read_bytes():
                    if (int(stat[11]) + int(stat[12])) / os.sysconf("SC_CLK_TCK") > 0.5:
                        out.append(int(entry.name))
            except OSError:
                continue
    return out


def test_studio_draws_takes_typing_and_quits_with_hostile_templates_beside(tmp_path):
    root = tmp_path / "project"
    (root / "packs").mkdir(parents=True)
    (root / "packs" / "t.toml").write_text(PACK, encoding="utf-8")
    (root / "tmplstudio.toml").write_text('policies = ["packs"]\nbundled = false\n', encoding="utf-8")
    (root / "templates").mkdir()
    for name, body in PAYLOADS.items():
        (root / "templates" / f"{name}.j2").write_text(SAMPLE + body, encoding="utf-8")
    (root / "templates" / "z-normal.j2").write_text("+++\nlocale = \"zh-CN\"\n+++\n您好，请按时还款。\n", encoding="utf-8")
    env = {"TERM": "xterm-256color", "PYTHONDONTWRITEBYTECODE": "1", "HOME": os.environ.get("HOME", str(tmp_path)),
           "TMPLSTUDIO_STATE_DIR": str(tmp_path / "state"), "TMPLSTUDIO_RENDER_BUDGETS": "off"}
    session = Tmux(root, env)
    try:
        started = time.monotonic()
        session.start("edit", "templates/z-normal.j2")
        session.wait_for("Ln ", timeout=20)  # the status bar: the first screen is up
        assert time.monotonic() - started < 20
        session.keys("TYPED", literal=True)
        session.wait_for("TYPED", timeout=10)
        pid = session.pid()
        deadline = time.monotonic() + 30
        while not _busy_workers(pid) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert _busy_workers(pid), "the C loop never reached a render worker"
        session.keys("C-s")
        path = root / "templates" / "z-normal.j2"
        deadline = time.monotonic() + 10
        while "TYPED" not in path.read_text(encoding="utf-8") and time.monotonic() < deadline:
            time.sleep(0.1)
        assert "TYPED" in path.read_text(encoding="utf-8")  # saved: ctrl+q asks nothing
        session.keys("C-q")
        quit_at = time.monotonic()
        _wait_dead(pid, timeout=10)
        assert time.monotonic() - quit_at < 10
    finally:
        session.kill_session()
