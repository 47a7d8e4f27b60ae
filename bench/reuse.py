"""What each memo of tmplstudio/reuse.py is worth to a keystroke.

Usage: python bench/reuse.py [--rounds 5] [--keys 40]

Two workloads: typing (``--keys`` characters into the body of bench/engine.py's template and of
each bundled template, evaluating after every key as the studio does) and validating (300
generated templates, each new, as `tmplstudio validate` sees them). Each runs with every memo
on, with all off, and with each memo switched off alone (or the groups given with --off); the
configurations run interleaved,
``--rounds`` times, in one process (this machine's speed drifts). Prints the median time with a
memo off over the median with everything on: a memo is worth keeping when that ratio is >= 1.10
for a keystroke, or for a template in validate (docs/performance.md, "Reuse").
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "bench"))

from engine import TEMPLATE, generate_templates  # noqa: E402


def typing_runs(project, texts: list[tuple[str, str]], keys: int) -> list[float]:
    """Milliseconds per keystroke: type into the middle of each body, one character at a time."""
    times: list[float] = []
    for path, text in texts:
        body = text.index("+++", 3) + 4
        at = body + (len(text) - body) // 2
        project.evaluate(text, path)
        for k in range(keys):
            text = text[:at] + "好" + text[at:]
            at += 1
            t0 = time.perf_counter()
            project.evaluate(text, path)
            times.append((time.perf_counter() - t0) * 1000)
    return times


def validate_runs(project, texts: list[tuple[str, str]]) -> list[float]:
    """Milliseconds per template, each evaluated once."""
    times = []
    for path, text in texts:
        t0 = time.perf_counter()
        project.evaluate(text, path)
        times.append((time.perf_counter() - t0) * 1000)
    return times


@contextmanager
def _config(reuse, off):
    """Everything off (None), everything on (()), or the named memos off; from an empty start."""
    if off is None or off:
        with reuse.off(*(off or ())):
            yield
        return
    reuse.clear()
    yield


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--keys", type=int, default=40)
    parser.add_argument("--off", action="append", default=[], metavar="NAME[,NAME...]",
                        help="measure only these configurations (memos switched off together), besides all on and all off")
    args = parser.parse_args(argv)

    from tmplstudio.project import Project, keep_out_of_gc
    from tmplstudio.reuse import REUSE

    project = Project.discover(ROOT)
    keep_out_of_gc()
    texts = [("bench.j2", TEMPLATE)] + [(str(p), p.read_text(encoding="utf-8")) for p in project.template_paths()]
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        generate_templates(Path(tmp), 300)
        batch = [(str(p), p.read_text(encoding="utf-8")) for p in sorted(Path(tmp).glob("*.j2"))]
    typing_runs(project, texts, 2)  # loads the dictionary, registers every memo
    names = REUSE.names()
    if args.off:
        chosen = [(f"{group} off", tuple(group.split(","))) for group in args.off]
    else:
        chosen = [(f"{n} off", (n,)) for n in names]
    configs = [("everything on", ())] + chosen + [("everything off", None)]
    typing: dict[str, list[float]] = {label: [] for label, _ in configs}
    validating: dict[str, list[float]] = {label: [] for label, _ in configs}
    for _round in range(args.rounds):
        for label, off in configs:
            with _config(REUSE, off):
                typing_runs(project, texts, 1)  # what a session has remembered by the time it types
                typing[label].append(statistics.median(typing_runs(project, texts, args.keys)))
            with _config(REUSE, off):
                validating[label].append(statistics.median(validate_runs(project, batch)))
    print(f"typing: median per key over {len(texts)} templates x {args.keys} keys; validating: median per template "
          f"over {len(batch)} new templates; {args.rounds} interleaved rounds (min-max of the round medians)")
    print(f"{'configuration':36} {'key ms':>7} {'min-max':>13} {'ratio':>6} {'tmpl ms':>8} {'min-max':>13} {'ratio':>6}")
    key_base = statistics.median(typing["everything on"])
    val_base = statistics.median(validating["everything on"])
    for label, _off in configs:
        k, v = typing[label], validating[label]
        print(f"{label:36} {statistics.median(k):7.3f} {min(k):6.2f}-{max(k):<6.2f} {statistics.median(k) / key_base:6.2f}"
              f" {statistics.median(v):8.3f} {min(v):6.2f}-{max(v):<6.2f} {statistics.median(v) / val_base:6.2f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
