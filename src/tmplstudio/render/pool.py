"""Rendering samples in worker processes (``render/worker.py``), so that no template can crash,
hang or exhaust the process that asked: the CLI, the studio, the language server.

* A small pool: a worker is started when a project loads (``prestart``, so its ~60 ms start
  overlaps loading the packs) and more on demand, up to ``MAX_WORKERS``, when all are busy (the
  studio's editor, its badge scan and its approvals scan each get one, so typing never waits
  on another template). Idle workers are kept; a worker that died is replaced by the next job.
* A sample that a worker dies on (a signal, the CPU limit) or that runs past
  ``WALL_SECONDS`` of wall-clock time (the last resort: the worker is killed) gets a
  ``render-limit`` finding that names the template and says which limit stopped it; the
  template's later samples are not rendered ("the worker stopped on sample …").
* A sample whose rendering was remembered (sourcemap's trace: only literal text changed) is
  rebuilt here without running Jinja — pure string assembly, which needs no worker; that is
  the usual keystroke. Its steps and output are charged to the evaluation's budget exactly as
  the rendering was, so the same text gives the same findings however it was reached.
"""

from __future__ import annotations

import atexit
import os
import pickle
import select
import signal
import struct
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

from tmplstudio.render import sandbox, sourcemap

MAX_WORKERS = 4
WALL_SECONDS = 30.0   # per job; far above any rendering the step budget allows, even on a loaded machine
RULE = "render-limit"
_HEADER = struct.Struct(">I")

Loader = Callable[[str, str], "tuple[str, str] | None"]


@dataclass
class SampleResult:
    text: str | None = None
    origins: list = field(default_factory=list)
    error: tuple[str, str] | None = None          # (rule id, message)
    subject: str | None = None
    subject_error: tuple[str, str] | None = None


class WorkerGone(Exception):
    """The worker died or was killed; ``str()`` says why, for a person."""


def _signal_name(number: int) -> str:
    try:
        return signal.Signals(number).name
    except ValueError:
        return f"signal {number}"


class Worker:
    def __init__(self) -> None:
        env = dict(os.environ)
        env.update({
            "TZ": "UTC", "LC_ALL": "C", "PYTHONHASHSEED": "0",
            # One malloc arena: glibc reserves 64 MB of address space per thread arena, which the
            # address-space limit would count against the template.
            "MALLOC_ARENA_MAX": "1",
            "PYTHONPATH": os.pathsep.join([str(Path(__file__).resolve().parents[2]), env.get("PYTHONPATH", "")]).rstrip(os.pathsep),
        })
        # -P: the working directory (a repository full of other people's files) is not on sys.path.
        self.proc = subprocess.Popen(
            [sys.executable, "-P", "-m", "tmplstudio.render.worker"],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
            env=env, close_fds=True, start_new_session=True,
        )
        self.rfd = self.proc.stdout.fileno()
        self.buffer = b""
        self.jobs = 0

    @property
    def pid(self) -> int:
        return self.proc.pid

    def alive(self) -> bool:
        return self.proc.poll() is None

    def send(self, message: dict) -> None:
        body = pickle.dumps(message, protocol=pickle.HIGHEST_PROTOCOL)
        try:
            self.proc.stdin.write(_HEADER.pack(len(body)) + body)
            self.proc.stdin.flush()
        except (BrokenPipeError, OSError, ValueError):
            raise WorkerGone(self._why_gone()) from None

    def receive(self, deadline: float) -> dict:
        while True:
            if len(self.buffer) >= _HEADER.size:
                n = _HEADER.unpack(self.buffer[:_HEADER.size])[0]
                if len(self.buffer) >= _HEADER.size + n:
                    import json

                    body = self.buffer[_HEADER.size:_HEADER.size + n]
                    self.buffer = self.buffer[_HEADER.size + n:]
                    return json.loads(body)
            left = deadline - time.monotonic()
            if left <= 0:
                self.kill()
                raise WorkerGone(f"did not finish within {WALL_SECONDS:.0f} s of wall-clock time and its render worker "
                                 "was killed (the last-resort limit; it depends on how loaded the machine is)")
            try:
                ready, _, _ = select.select([self.rfd], [], [], min(left, 1.0))
            except (OSError, ValueError):
                raise WorkerGone(self._why_gone()) from None
            if not ready:
                continue
            try:
                data = os.read(self.rfd, 1 << 16)
            except OSError:
                data = b""
            if not data:
                raise WorkerGone(self._why_gone())
            self.buffer += data

    def _why_gone(self) -> str:
        try:
            code = self.proc.wait(timeout=2)
        except subprocess.TimeoutExpired:
            self.kill()
            code = self.proc.returncode
        if code is not None and code < 0:
            sig = -code
            if sig == getattr(signal, "SIGXCPU", -1):
                return (f"used more than {_worker_cpu_seconds()} s of CPU time in its render worker, which was stopped "
                        "(work inside a single C call, which the sandbox's step count cannot see)")
            if sig == signal.SIGKILL and getattr(self, "_killed", False):
                return "was stopped: its render worker was shut down"
            return f"crashed its render worker ({_signal_name(sig)}); it was not rendered"
        return f"stopped its render worker (exit code {code}); it was not rendered"

    def kill(self) -> None:
        self._killed = True
        try:
            self.proc.kill()
        except OSError:
            pass
        try:
            self.proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            pass

    def close(self) -> None:
        for stream in (self.proc.stdin, self.proc.stdout):
            try:
                stream.close()
            except OSError:
                pass


def _worker_cpu_seconds() -> int:
    from tmplstudio.render.worker import CPU_SECONDS

    return CPU_SECONDS


class Pool:
    def __init__(self, size: int = MAX_WORKERS) -> None:
        self.size = size
        self.lock = threading.Condition()
        self.idle: list[Worker] = []
        self.busy = 0
        self.started = 0       # workers started in this process (tests: replaced after a crash)
        self.jobs = 0          # jobs sent to workers (bench/keystroke.py: how many keystrokes needed one)
        self.closed = False

    def prestart(self) -> None:
        """Start one worker now, if none is running, without waiting for it to be ready."""
        with self.lock:
            if not self.idle and not self.busy and not self.closed:
                self.idle.append(self._new())

    def _new(self) -> Worker:
        self.started += 1
        return Worker()

    def acquire(self) -> Worker:
        with self.lock:
            while True:
                while self.idle:
                    worker = self.idle.pop()
                    if worker.alive():
                        self.busy += 1
                        return worker
                    worker.close()
                if self.busy < self.size:
                    self.busy += 1
                    break
                self.lock.wait()
        try:
            return self._new()
        except BaseException:
            with self.lock:
                self.busy -= 1
                self.lock.notify()
            raise

    def release(self, worker: Worker, healthy: bool) -> None:
        with self.lock:
            self.busy -= 1
            if healthy and worker.alive() and not self.closed:
                self.idle.append(worker)
            else:
                worker.close()
            self.lock.notify()

    def shutdown(self) -> None:
        """Kill every worker (idle or busy): a caller waiting on one gets a finding at once.
        The pool starts new workers if asked again."""
        with self.lock:
            idle, self.idle = self.idle, []
            busy = list(_RUNNING)
        for worker in idle + busy:
            worker.kill()
            worker.close()

    def forget(self) -> None:
        """In a forked child: the workers belong to the parent; close this copy's pipes only."""
        self.lock = threading.Condition()
        for worker in self.idle:
            worker.close()
        self.idle = []
        self.busy = 0
        _RUNNING.clear()


POOL = Pool()
_RUNNING: set[Worker] = set()   # workers in the middle of a job (shutdown kills them too)


def _at_exit() -> None:
    POOL.closed = True
    POOL.shutdown()


atexit.register(_at_exit)
if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=POOL.forget)


def prestart() -> None:
    POOL.prestart()


def shutdown() -> None:
    POOL.shutdown()


# ------------------------------------------------------------------ rendering a template's samples

def render_samples(scan: sourcemap.Scan, samples: dict[str, dict[str, Any]], subject: str | None,
                   loader: Loader | None, including: str, label: str) -> dict[str, SampleResult]:
    """Each sample's rendering (text and per-character origins) or error, in sample order.
    ``label`` names the template in render-limit findings."""
    results: dict[str, SampleResult] = {}
    names = list(samples)
    budget = sandbox.evaluation_budget() or sandbox.Budget()
    k = 0
    while k < len(names):
        if subject is None:
            rebuilt = sourcemap.replay(scan, samples[names[k]])
            if rebuilt is not None:
                results[names[k]] = SampleResult(*rebuilt)
                k += 1
                continue
        # A run of samples that need Jinja goes to a worker in one job.
        run = [k]
        while run[-1] + 1 < len(names) and (subject is not None or not sourcemap.replayable_now(scan, samples[names[run[-1] + 1]])):
            run.append(run[-1] + 1)
        stop = _render_run(scan, samples, names, run, subject, loader, including, label, budget, results)
        if stop is not None:
            for name in names:
                results.setdefault(name, SampleResult(error=(RULE, stop)))
            return results
        k = run[-1] + 1
    return results


def _render_run(scan, samples, names, run, subject, loader, including, label, budget, results) -> str | None:
    """Render samples ``run`` (indices into ``names``) in one worker job; a message when the
    worker stopped (every sample of the run not yet rendered then has a finding)."""
    job = {"body": scan.body, "base": scan.base, "including": including, "subject": subject,
           "steps": budget.steps, "output": budget.output, "budgets": sandbox.budgets_on(),
           "samples": [(i, samples[names[i]]) for i in run]}
    try:
        worker = POOL.acquire()
    except OSError as exc:  # no process could be started (out of PIDs, a broken interpreter path)
        results[names[run[0]]] = SampleResult(error=(RULE, f"rendering {label} needs a render worker, and none could "
                                                           f"be started: {exc.strerror or exc}"))
        return f"not rendered: no render worker could be started for sample '{names[run[0]]}'"
    POOL.jobs += 1
    healthy = False
    current = run[0]
    with POOL.lock:
        _RUNNING.add(worker)
    try:
        try:
            worker.send(job)
        except WorkerGone:  # it died while idle (killed from outside): not this template's doing
            with POOL.lock:
                _RUNNING.discard(worker)
            POOL.release(worker, False)
            worker = POOL.acquire()
            with POOL.lock:
                _RUNNING.add(worker)
            worker.send(job)
        deadline = time.monotonic() + WALL_SECONDS
        while True:
            msg = worker.receive(deadline)
            op = msg.get("op")
            if op == "partial":
                started = time.monotonic()
                found = None
                if loader is not None:
                    try:
                        found = loader(str(msg.get("name")), str(msg.get("including") or ""))
                    except Exception:  # noqa: BLE001 - an unreadable partial is a missing one
                        found = None
                worker.send({"found": list(found) if found else None})
                deadline += time.monotonic() - started  # the worker waited on us, not on the template
            elif op == "sample":
                index = int(msg["index"])
                name = names[index]
                budget.steps -= int(msg.get("steps", 0))
                budget.output -= int(msg.get("output", 0))
                results[name] = _sample_result(scan, samples[name], msg)
                current = index + 1
            elif op == "done":
                if msg.get("compile_error"):
                    rule_id, message = msg["compile_error"]
                    for i in run:
                        results[names[i]] = SampleResult(error=(str(rule_id), str(message)))
                elif msg.get("internal_error"):
                    for i in run:
                        if names[i] not in results:
                            results[names[i]] = SampleResult(error=("render-error", "internal error in the render worker: "
                                                                    + str(msg["internal_error"]).strip().splitlines()[-1]))
                healthy = True
                return None
    except WorkerGone as gone:
        current = min(current, run[-1])
        results[names[current]] = SampleResult(error=(RULE, f"rendering {label} {gone}"))
        return f"not rendered: the render worker stopped on sample '{names[current]}'"
    finally:
        with POOL.lock:
            _RUNNING.discard(worker)
        POOL.release(worker, healthy)


def _sample_result(scan: sourcemap.Scan, values: dict[str, Any], msg: dict) -> SampleResult:
    if "error" in msg:
        rule_id, message = msg["error"]
        return SampleResult(error=(str(rule_id), str(message)))
    text, origins = sourcemap.remember(scan, values, str(msg["raw"]), bool(msg.get("traceable")),
                                       int(msg.get("body_steps", 0)))
    out = SampleResult(text, origins)
    if "subject" in msg:
        out.subject = str(msg["subject"])
    elif "subject_error" in msg:
        rule_id, message = msg["subject_error"]
        out.subject_error = (str(rule_id), str(message))
    return out
