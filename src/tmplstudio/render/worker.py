"""The render worker: a separate process that renders templates and nothing else.

Started by ``render/pool.py`` as ``python -P -m tmplstudio.render.worker``: a fresh interpreter
(not a fork of the studio, whose threads may hold locks), with only Jinja and the sandbox
loaded. Whatever a template does here — a segfault in C code, a loop inside one C call that no
step count can see, an allocation of gigabytes — it costs this process, which the pool replaces;
the CLI or the studio that asked gets a ``render-limit`` finding.

Limits set on itself before the first job (``resource.setrlimit``):

* address space: what the interpreter uses after start-up plus ``MEMORY_HEADROOM`` (a
  ``MemoryError`` inside the render, or the process dies);
* CPU time: ``CPU_SECONDS`` more than it has used so far, set again before each job (SIGXCPU);
* no core files.

And so that a rendering depends on nothing but its inputs: the time zone is UTC and the
locale C whatever the machine says, hashing is not randomised (set iteration order), and
``random`` is seeded before each rendering.

Renders run on a thread with a large stack (``STACK_BYTES``): hashing a deeply nested tuple
recurses in C without a guard; the step budget bounds how deep a template can nest a value and
this stack is far deeper than that.

Protocol, over stdin/stdout, each message a 4-byte big-endian length and a body: the parent
sends pickles (trusted, and sample dates need more than JSON), the worker answers in JSON
(the parent never unpickles what a process running untrusted templates wrote).
"""

from __future__ import annotations

import json
import os
import pickle
import random
import struct
import sys
import threading
from typing import Any

MEMORY_HEADROOM = 512 * 1024 * 1024
CPU_SECONDS = 5
STACK_BYTES = 256 * 1024 * 1024
_HEADER = struct.Struct(">I")


def _read_exact(fd: int, n: int) -> bytes | None:
    chunks = []
    while n:
        data = os.read(fd, n)
        if not data:
            return None
        chunks.append(data)
        n -= len(data)
    return b"".join(chunks)


class _Channel:
    def __init__(self, rfd: int, wfd: int):
        self.rfd, self.wfd = rfd, wfd

    def receive(self) -> Any:
        head = _read_exact(self.rfd, _HEADER.size)
        if head is None:
            return None
        body = _read_exact(self.rfd, _HEADER.unpack(head)[0])
        return None if body is None else pickle.loads(body)

    def send(self, message: dict) -> None:
        body = json.dumps(message, ensure_ascii=True).encode("ascii")
        data = _HEADER.pack(len(body)) + body
        while data:
            data = data[os.write(self.wfd, data):]


def _limit_cpu() -> None:
    """Allow CPU_SECONDS more than used so far (RLIMIT_CPU counts the process's whole life)."""
    try:
        import resource

        used = resource.getrusage(resource.RUSAGE_SELF)
        soft = int(used.ru_utime + used.ru_stime) + 1 + CPU_SECONDS
        _, hard = resource.getrlimit(resource.RLIMIT_CPU)
        if hard != resource.RLIM_INFINITY:
            soft = min(soft, hard)
        resource.setrlimit(resource.RLIMIT_CPU, (soft, hard))
    except (ImportError, ValueError, OSError):
        pass  # no resource module (Windows): the pool's wall-clock kill still applies


def _limit_memory() -> None:
    try:
        import resource

        with open("/proc/self/statm", "rb") as f:
            pages = int(f.read().split()[0])
        used = pages * os.sysconf("SC_PAGE_SIZE")
        resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
        _, hard = resource.getrlimit(resource.RLIMIT_AS)
        soft = used + MEMORY_HEADROOM
        if hard != resource.RLIM_INFINITY:
            soft = min(soft, hard)
        resource.setrlimit(resource.RLIMIT_AS, (soft, hard))
    except (ImportError, ValueError, OSError):
        pass


def _render_batch(channel: _Channel, job: dict) -> None:
    from tmplstudio.render import blank, sandbox, sourcemap

    def remote_loader(name: str, including: str):
        channel.send({"op": "partial", "name": name, "including": including})
        reply = channel.receive()
        found = reply.get("found") if isinstance(reply, dict) else None
        return tuple(found) if found else None

    # The parent's setting, not the one this process started with (the studio's tests change it).
    os.environ[sandbox.BUDGETS_ENV] = "on" if job.get("budgets", True) else "off"
    budget = sandbox.Budget(job["steps"], job["output"])
    with sandbox.partial_loader(remote_loader, job["including"], budget):
        scan = sourcemap.scan(job["body"], job["base"])
        try:
            compiled = sourcemap.compile_traced(scan)
        except Exception as exc:  # noqa: BLE001 - any compile failure is a finding
            channel.send({"op": "done", "compile_error": list(sandbox.describe_error(exc))})
            return
        subject = job.get("subject")
        for index, values in job["samples"]:
            values = blank.expand(values)
            out: dict[str, Any] = {"op": "sample", "index": index}
            random.seed(0)
            try:
                template_obj, traceable = compiled
                out["raw"] = sandbox.render_chunks(template_obj, {**values, **sourcemap.data_values(scan, traceable)})
                out["traceable"] = bool(traceable)
            except Exception as exc:  # noqa: BLE001 - sandboxed template code may raise anything
                out["error"] = list(sandbox.describe_error(exc))
            cost = sandbox.last_cost()
            out["steps"] = out["body_steps"] = cost.steps
            out["output"] = cost.output
            if subject is not None and "raw" in out:
                random.seed(0)
                try:
                    out["subject"] = sourcemap.render_plain(subject, values)
                except Exception as exc:  # noqa: BLE001
                    out["subject_error"] = list(sandbox.describe_error(exc))
                cost = sandbox.last_cost()
                out["steps"] += cost.steps
                out["output"] += cost.output
            channel.send(out)
    channel.send({"op": "done"})


def _serve(channel: _Channel) -> None:
    import traceback

    from tmplstudio.render import blank, sandbox, sourcemap  # noqa: F401 - loaded before the limits are set

    sandbox.environment()
    _limit_memory()
    while True:
        job = channel.receive()
        if job is None:
            return  # the parent closed the pipe (it exited): so do we
        _limit_cpu()
        try:
            _render_batch(channel, job)
        except Exception:  # noqa: BLE001 - a bug here must reach the parent as a message, not a hang
            channel.send({"op": "done", "internal_error": traceback.format_exc(limit=5)})


def main() -> None:
    os.environ["TZ"] = "UTC"
    try:
        import time

        time.tzset()
    except AttributeError:
        pass
    try:
        import locale

        locale.setlocale(locale.LC_ALL, "C")
    except Exception:  # noqa: BLE001 - keep the interpreter's default
        pass
    channel = _Channel(sys.stdin.fileno(), sys.stdout.fileno())
    # Nothing else may write to the protocol's stream: print() in a bug would corrupt it.
    sys.stdout = open(os.devnull, "w")  # noqa: SIM115 - for the life of the process
    threading.stack_size(STACK_BYTES)
    thread = threading.Thread(target=_serve, args=(channel,), name="tmplstudio-render")
    thread.start()
    thread.join()


if __name__ == "__main__":
    main()
