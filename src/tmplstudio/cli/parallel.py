"""Evaluating many templates for `validate`: in this process or in N worker processes.

The report writers need, per template, only its metadata and source, its findings and its
packs, so each evaluation is reduced to a :class:`SlimEvaluation` as soon as it is made: a
run over 10,000 templates keeps kilobytes per template instead of every rendering, unit and
offset map (memory stays bounded), and worker processes send back small, picklable results.

With ``jobs > 1`` the files are split into chunks evaluated by a process pool; results come
back in file order and the packs are the parent's own objects (looked up by id), so every
output format is byte-for-byte the same as with one process.
"""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tmplstudio.errors import InputError

CHUNK = 32  # templates per task: large enough to amortise pickling, small enough to balance
# Below this many templates starting worker processes costs more than it saves (a template
# takes ~1-2 ms, forking and collecting ~0.1 s).
AUTO_JOBS_FROM = 200


def auto_jobs(n_templates: int) -> int:
    """The default for --jobs: every core for a large run, like Semgrep and Ruff; one process
    for a small one (and under CI runners that report one core)."""
    return (os.cpu_count() or 1) if n_templates >= AUTO_JOBS_FROM else 1


@dataclass
class SlimTemplate:
    path: str
    source: str
    meta: Any


@dataclass
class SlimEvaluation:
    """What the report writers read from an Evaluation (same attribute names)."""

    template: SlimTemplate
    findings: list
    packs: list = field(default_factory=list)
    pack_ids: tuple[str, ...] = ()
    pid: int = 0  # the process that evaluated it (tests check both cores were used)
    narrowings: list = field(default_factory=list)
    file_suppressions: list = field(default_factory=list)

    def count(self, severity) -> int:
        return sum(1 for f in self.findings if f.severity == severity and not f.suppressed)

    def worst(self):
        active = [f.severity for f in self.findings if not f.suppressed]
        return max(active, key=lambda s: s.rank) if active else None


def slim(evaluation) -> SlimEvaluation:
    t = evaluation.template
    ids = tuple(p.id for p in evaluation.packs)
    return SlimEvaluation(SlimTemplate(t.path, t.source, t.meta), list(evaluation.findings), list(evaluation.packs), ids,
                          os.getpid(), list(evaluation.narrowings), list(evaluation.file_suppressions))


def _evaluate_one(project, path: Path) -> tuple[str, Any, Any]:
    from tmplstudio.cli.common import display
    from tmplstudio.template.source import read_template_file

    try:
        source = read_template_file(path)
    except InputError as exc:
        return ("error", (exc.message, display(path), exc.line, exc.column), None)
    return ("ok", display(path), slim(project.evaluate(source, path)))


# ------------------------------------------------------------------ worker processes

_WORKER_PROJECT = None


def _init_worker(cwd: str, policies: list[str], no_bundled: bool, config: str | None) -> None:
    global _WORKER_PROJECT
    os.chdir(cwd)
    if _WORKER_PROJECT is None:  # spawned (not forked from the parent that loaded it)
        from tmplstudio.cli.common import project

        _WORKER_PROJECT = project(policies, no_bundled, config)


def _evaluate_chunk(paths: list[str]) -> list[tuple[str, Any, Any]]:
    out = []
    for p in paths:
        kind, a, ev = _evaluate_one(_WORKER_PROJECT, Path(p))
        if ev is not None:
            ev.packs = []  # the parent substitutes its own Pack objects (no need to pickle them)
        out.append((kind, a, ev))
    return out


def _context():
    import multiprocessing  # here, not at the top: a one-process run never pays for importing it

    methods = multiprocessing.get_all_start_methods()
    # fork shares the loaded packs and jieba's dictionary with the workers copy-on-write.
    return multiprocessing.get_context("fork" if "fork" in methods and sys.platform != "darwin" else "spawn")


def evaluate_files(project, files: list[Path], report, jobs: int = 1, policies: list[str] | None = None,
                   no_bundled: bool = False, chunk: int = CHUNK) -> None:
    """Evaluate ``files`` into ``report`` (evaluations and input errors, in file order)."""
    if jobs <= 1 or len(files) <= chunk:
        for path in files:
            _collect(report, _evaluate_one(project, path), None)
        return
    global _WORKER_PROJECT
    by_id = {p.id: p for p in project.packs}
    # Warm the shared state (jieba's dictionary, the rule automata) once, before forking.
    project.evaluate('+++\nlocale = "zh-CN"\n+++\n上门', Path(files[0]).with_name("_warmup.j2"))
    _WORKER_PROJECT = project
    chunks = [[str(p) for p in files[i:i + chunk]] for i in range(0, len(files), chunk)]
    from concurrent.futures import ProcessPoolExecutor

    try:
        with ProcessPoolExecutor(max_workers=jobs, mp_context=_context(), initializer=_init_worker,
                                 initargs=(os.getcwd(), list(policies or []), no_bundled,
                                           str(project.config.path) if project.config.path else None)) as pool:
            for results in pool.map(_evaluate_chunk, chunks):
                for item in results:
                    _collect(report, item, by_id)
    finally:
        _WORKER_PROJECT = None


def _collect(report, item: tuple[str, Any, Any], by_id: dict | None) -> None:
    kind, a, ev = item
    if kind == "error":
        message, path, line, column = a
        report.input_errors.append(InputError(message, path, line, column))
        return
    if by_id is not None:
        ev.packs = [by_id[i] for i in ev.pack_ids if i in by_id]
    report.evaluations.append((a, ev))


def positive_jobs(value: str) -> int:
    """argparse type for --jobs: a whole number >= 1, or 0/auto for every core."""
    if value in ("0", "auto"):
        return os.cpu_count() or 1
    try:
        n = int(value)
    except ValueError:
        raise _argparse_error(f"--jobs wants a number, not {value!r}") from None
    if n < 1:
        raise _argparse_error("--jobs must be at least 1 (or 0/auto for every core)")
    return n


def _argparse_error(message: str):
    import argparse

    return argparse.ArgumentTypeError(message)
