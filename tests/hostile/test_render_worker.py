"""Templates that crash, hang or bomb the renderer cost a worker process, never the command
(issue 14, section 2), and the same input gives the same findings on any machine.

The payloads are the issue's: a tuple nested ~300,000 deep then `x in {}` (it was a SIGSEGV,
exit 139), `[[l]*99999]*99999 == [[m]*99999]*99999` (one C call: validate never ended),
`(0).to_bytes(10**9, 'big')` and `tojson(indent=50000000)` (1-2 GB). With the sandbox's step
and size checks they are refused deterministically; with the checks switched off
(TMPLSTUDIO_RENDER_BUDGETS=off) the worker's OS limits catch them, which is what would happen
to a payload the checks do not know.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

HANG_GUARD = 120

PACK = """\
[pack]
id = "t"
title = "t"
version = "1"
[[rules]]
id = "visit-threat"
kind = "phrases"
severity = "error"
message = "m"
phrases = ["上门催收"]
"""

SAMPLE = "+++\n[samples.a]\nl = 1\nm = 1\nname = \"张三\"\n+++\n"
PAYLOADS = {
    "nested-tuple": "{% set ns = namespace(t=()) %}{% for i in range(300) %}{% for j in range(1000) %}"
                    "{% set ns.t = (ns.t,) %}{% endfor %}{% endfor %}{{ ns.t in {} }}",
    "c-loop": "{{ [[l]*99999]*99999 == [[m]*99999]*99999 }}",
    "to-bytes": "{{ (0).to_bytes(10**9, 'big')|length }}",
    "tojson-indent": "{{ {'a': [1, 2]}|tojson(indent=50000000)|length }}",
}
GOOD = SAMPLE + "您好{{ name }}，请按时还款。\n"


def make_project(root: Path, templates: dict[str, str]) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    (root / "tmplstudio.toml").write_text('policies = ["packs"]\nbundled = false\n', encoding="utf-8")
    (root / "packs").mkdir(exist_ok=True)
    (root / "packs" / "t.toml").write_text(PACK, encoding="utf-8")
    (root / "templates").mkdir(exist_ok=True)
    for name, text in templates.items():
        (root / "templates" / name).write_text(text, encoding="utf-8")
    return root


def cli(root: Path, *args: str, env: dict | None = None, timeout: float = HANG_GUARD) -> subprocess.CompletedProcess:
    p = subprocess.Popen([sys.executable, "-m", "tmplstudio", *args], cwd=root, stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE, text=True, env={**os.environ, **(env or {})}, start_new_session=True)
    try:
        out, err = p.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(p.pid, signal.SIGKILL)
        p.communicate()
        pytest.fail(f"tmplstudio {' '.join(args)} did not finish within {timeout} s")
    return subprocess.CompletedProcess(p.args, p.returncode, out, err)


def findings(r: subprocess.CompletedProcess) -> dict[str, list[dict]]:
    doc = json.loads(r.stdout)
    return {Path(t["path"]).name: t["findings"] for t in doc["templates"]}


def no_traceback(r) -> None:
    assert "Traceback" not in r.stderr and "Traceback" not in r.stdout, r.stderr


@pytest.mark.parametrize("name", sorted(PAYLOADS))
def test_each_payload_is_a_sandbox_finding_and_the_command_finishes(tmp_path, name):
    root = make_project(tmp_path / "p", {f"{name}.j2": SAMPLE + PAYLOADS[name], "good.j2": GOOD})
    start = time.perf_counter()
    r = cli(root, "validate", "--format", "json")
    assert time.perf_counter() - start < 30
    assert r.returncode == 1, r.stderr  # findings, not a crash (139) or a traceback (2)
    no_traceback(r)
    found = findings(r)
    [f] = [f for f in found[f"{name}.j2"] if f["rule"] == "sandbox"]
    assert f["sample"] == "a"
    assert not found["good.j2"]  # the template after it is checked as usual


def test_the_payloads_are_findings_with_jobs_2(tmp_path):
    """`--jobs 2` forks evaluators: each has its own render workers."""
    templates = {f"good{i:02}.j2": GOOD for i in range(40)}
    templates.update({f"{name}.j2": SAMPLE + body for name, body in PAYLOADS.items()})
    root = make_project(tmp_path / "p", templates)
    r = cli(root, "validate", "--jobs", "2", "--format", "json")
    assert r.returncode == 1, r.stderr
    no_traceback(r)
    found = findings(r)
    for name in PAYLOADS:
        assert [f["rule"] for f in found[f"{name}.j2"]] == ["sandbox"], name
    assert all(not found[f"good{i:02}.j2"] for i in range(40))


# ---------------------------------------------------------------- the worker's OS limits

def _workers_of(pid: int) -> list[int]:
    out = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            cmdline = (entry / "cmdline").read_bytes()
        except OSError:
            continue
        if int(stat[1]) == pid and b"tmplstudio.render.worker" in cmdline:
            out.append(int(entry.name))
    return out


def _cpu_seconds(pid: int) -> float:
    stat = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(stat[11]) + int(stat[12])) / os.sysconf("SC_CLK_TCK")


def test_a_worker_that_crashes_is_a_render_limit_finding_and_is_replaced(tmp_path):
    """A segfault inside a render (here a real SIGSEGV, sent while the worker is busy in a C
    loop) costs that worker: the template gets a render-limit finding naming it, and the next
    template is rendered by a new worker."""
    root = make_project(tmp_path / "p", {"a-crash.j2": SAMPLE + PAYLOADS["c-loop"], "b-good.j2": GOOD})
    env = {**os.environ, "TMPLSTUDIO_RENDER_BUDGETS": "off"}
    p = subprocess.Popen([sys.executable, "-m", "tmplstudio", "validate", "--format", "json"], cwd=root,
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env, start_new_session=True)
    try:
        deadline = time.monotonic() + 60
        busy = None
        while busy is None and time.monotonic() < deadline:
            for pid in _workers_of(p.pid):
                try:
                    if _cpu_seconds(pid) > 0.3:
                        busy = pid
                except OSError:
                    pass
            time.sleep(0.05)
        assert busy is not None, "no render worker ever got busy with the C loop"
        os.kill(busy, signal.SIGSEGV)
        out, err = p.communicate(timeout=HANG_GUARD)
    finally:
        if p.poll() is None:
            os.killpg(p.pid, signal.SIGKILL)
    r = subprocess.CompletedProcess(p.args, p.returncode, out, err)
    assert r.returncode == 1, r.stderr
    no_traceback(r)
    found = findings(r)
    [f] = found["a-crash.j2"]
    assert f["rule"] == "render-limit" and f["severity"] == "error"
    assert "rendering a-crash.j2 crashed its render worker (SIGSEGV)" in f["message"]
    assert not found["b-good.j2"]


def test_the_cpu_limit_stops_a_loop_inside_one_c_call(tmp_path):
    """With the step checks off, `[[l]*99999]*99999 == ...` compares 10^10 items in C; the
    worker's RLIMIT_CPU stops it and the finding says which limit fired."""
    root = make_project(tmp_path / "p", {"loop.j2": SAMPLE + PAYLOADS["c-loop"], "good.j2": GOOD})
    start = time.perf_counter()
    r = cli(root, "validate", "--format", "json", env={"TMPLSTUDIO_RENDER_BUDGETS": "off"})
    assert time.perf_counter() - start < 60
    assert r.returncode == 1, r.stderr
    found = findings(r)
    [f] = found["loop.j2"]
    assert f["rule"] == "render-limit"
    assert "rendering loop.j2 used more than 5 s of CPU time in its render worker" in f["message"]
    assert not found["good.j2"]


@pytest.mark.parametrize("name", ["to-bytes", "tojson-indent"])
def test_a_memory_bomb_hits_the_workers_address_space_limit(tmp_path, name):
    root = make_project(tmp_path / "p", {f"{name}.j2": SAMPLE + PAYLOADS[name], "good.j2": GOOD})
    r = cli(root, "validate", "--format", "json", env={"TMPLSTUDIO_RENDER_BUDGETS": "off"})
    assert r.returncode == 1, r.stderr
    no_traceback(r)
    found = findings(r)
    [f] = found[f"{name}.j2"]
    assert "ran out of memory" in f["message"] or f["rule"] == "render-limit", f
    assert not found["good.j2"]


def test_nested_tuple_hashing_does_not_crash_even_without_the_checks(tmp_path):
    """Renders run on a thread with a 256 MB stack: hashing the deepest value a template can
    build (the loop bounds it) fits, so the issue's segfault is gone even with the checks off."""
    root = make_project(tmp_path / "p", {"nested.j2": SAMPLE + PAYLOADS["nested-tuple"]})
    r = cli(root, "render", "templates/nested.j2", env={"TMPLSTUDIO_RENDER_BUDGETS": "off"})
    assert r.returncode == 0, r.stdout + r.stderr
    assert "False" in r.stdout


def test_workers_limit_themselves_and_see_no_time_zone():
    from tmplstudio.render import pool

    pool.prestart()
    worker = pool.POOL.acquire()
    try:
        deadline = time.monotonic() + 10
        limits = ""
        while time.monotonic() < deadline:  # the limits are set once the worker has started up
            limits = Path(f"/proc/{worker.pid}/limits").read_text()
            if "unlimited" not in next(line for line in limits.splitlines() if line.startswith("Max address space")):
                break
            time.sleep(0.05)
        rows = {line[:26].strip(): line[26:].split() for line in limits.splitlines()[1:]}
        assert rows["Max address space"][0] != "unlimited"
        assert rows["Max core file size"][0] == "0"
        environ = Path(f"/proc/{worker.pid}/environ").read_bytes().split(b"\0")
        assert b"TZ=UTC" in environ and b"PYTHONHASHSEED=0" in environ and b"LC_ALL=C" in environ
    finally:
        pool.POOL.release(worker, True)


# ---------------------------------------------------------------- the same input, the same findings

# Each sample loops ~15,000 times (a step each): the evaluation's 100,000 steps run out at the 7th.
NEAR_LIMIT = ("+++\n" + "".join(f"[samples.s{i}]\nn = {i}\n" for i in range(8)) + "+++\n"
              "{% for i in range(15000 + n) %}{% endfor %}您好，第{{ n }}条。\n")


def test_renders_near_the_limit_give_identical_findings_on_twelve_runs_under_load(tmp_path):
    """Renders near the old time limit gave 1 to 11 errors over 12 identical runs. Counted steps
    fall at the same place however busy the machine is: here both cores are kept busy by
    another process while the same file is checked 12 times."""
    root = make_project(tmp_path / "p", {"near.j2": NEAR_LIMIT})
    hog = subprocess.Popen([sys.executable, "-c", "import multiprocessing as m\n"
                            "def spin():\n    while True: pass\n"
                            "ps = [m.Process(target=spin, daemon=True) for _ in range(2)]\n"
                            "[p.start() for p in ps]\n[p.join() for p in ps]\n"], start_new_session=True)
    try:
        reports = []
        for _ in range(12):
            r = cli(root, "validate", "--format", "json")
            assert r.returncode == 1, r.stderr
            reports.append([(f["rule"], f["sample"], f["message"]) for f in findings(r)["near.j2"]])
    finally:
        os.killpg(hog.pid, signal.SIGKILL)
        hog.wait()
    assert all(rep == reports[0] for rep in reports), reports
    # Some samples fit the evaluation's budget and the rest are stopped, every time the same ones.
    stopped = [s for rule, s, _m in reports[0] if rule == "sandbox"]
    assert 0 < len(stopped) < 8, reports[0]


def test_replayed_renderings_charge_their_steps_so_typing_gives_the_cold_findings(tmp_path):
    """While only literal text changes, renderings are rebuilt from memory without a worker; they
    charge the steps their rendering cost, so a warm evaluation equals a cold one."""
    from tmplstudio.project import Project
    from tmplstudio.render import pool
    from tmplstudio.reuse import REUSE

    body = "{% for i in range(15000 + n) %}{% endfor %}您好{% if n > 3 %}，请还款{% endif %}。\n"
    source = "+++\n" + "".join(f"[samples.s{i}]\nn = {i}\n" for i in range(8)) + "+++\n" + body
    root = make_project(tmp_path / "p", {})
    path = root / "templates" / "t.j2"

    def report(ev):
        return [(f.rule, f.sample, f.message) for f in ev.findings]

    previous = source
    for typed in ("上", "上门", "上门催", "上门催收"):
        project = Project.discover(root)
        project.evaluate(previous, path)  # renders, and remembers the renderings that fit
        jobs = pool.POOL.jobs
        text = source.replace("您好", "您好" + typed)
        warm = report(project.evaluate(text, path))
        assert pool.POOL.jobs <= jobs + 1, "more than the stopped samples' one job"
        REUSE.clear()
        cold = report(Project.discover(root).evaluate(text, path))
        assert warm == cold
        previous = text
    assert any(rule == "visit-threat" for rule, _s, _m in warm)
    assert any(rule == "sandbox" for rule, _s, _m in warm)


def test_typing_literal_text_needs_no_worker(tmp_path):
    """The fast path kept in the process is the replay: pure string assembly from a remembered
    rendering, no Jinja, so it cannot run a template's code."""
    from tmplstudio.project import Project
    from tmplstudio.render import pool

    source = "+++\n[samples.a]\nn = 1\n[samples.b]\nn = 5\n+++\n您好{% if n > 3 %}，请还款{% endif %}，第{{ n }}期。\n"
    root = make_project(tmp_path / "p", {})
    path = root / "templates" / "t.j2"
    project = Project.discover(root)
    project.evaluate(source, path)
    jobs = pool.POOL.jobs
    phrase = "我们将上门催收"
    for k in range(1, len(phrase) + 1):  # typed one character at a time
        ev = project.evaluate(source.replace("您好", "您好" + phrase[:k], 1), path)
    assert pool.POOL.jobs == jobs
    assert ev.renders["b"].text.startswith("您好我们将上门催收")
    assert "visit-threat" in {f.rule for f in ev.findings}


def test_the_wall_clock_kill_is_the_last_resort_and_says_so(monkeypatch):
    """Only when neither the steps nor the CPU limit stop a worker (here the wall-clock limit is
    set below the CPU limit) does the pool kill it by the clock, and the finding says that this
    limit depends on the machine's load. The next rendering gets a new worker."""
    from tmplstudio.policy.engine import evaluate
    from tmplstudio.render import pool

    monkeypatch.setenv("TMPLSTUDIO_RENDER_BUDGETS", "off")
    monkeypatch.setattr(pool, "WALL_SECONDS", 2.0)
    started = pool.POOL.started
    ev = evaluate(SAMPLE + PAYLOADS["c-loop"], "loop.j2", [])
    [f] = [f for f in ev.findings if f.rule == "render-limit"]
    assert ("rendering loop.j2 did not finish within 2 s of wall-clock time and its render worker was killed "
            "(the last-resort limit; it depends on how loaded the machine is)") in f.message
    monkeypatch.delenv("TMPLSTUDIO_RENDER_BUDGETS")
    ev = evaluate(GOOD, "good.j2", [])
    assert ev.renders["a"].text == "您好张三，请按时还款。"
    assert pool.POOL.started > started  # the killed worker was replaced
