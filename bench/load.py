"""Load: `tmplstudio validate` over many generated templates, one process and N processes.

Usage: python bench/load.py [N_TEMPLATES] [--jobs 1,2]   (default 10000, jobs 1 and 2)

For each --jobs value: wall time, CPU time (all processes; CPU/wall shows how many cores
were busy) and peak RSS (the largest single process: the parent or a
worker, from RUSAGE_CHILDREN after the run; each run is a fresh `python -m tmplstudio`
wrapped in its own measuring process, so runs do not see each other's peaks). The JSON
reports of all runs must be byte-identical; the script exits 1 if they are not.
Reported in docs/performance.md ("Load: 10,000 templates").
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent
sys.path.insert(0, str(ROOT))

from engine import generate_templates  # noqa: E402  (the same generator as bench/engine.py)

MEASURE = r"""
import resource, subprocess, sys, time
t0 = time.perf_counter()
with open(sys.argv[1], "wb") as out:
    rc = subprocess.run(sys.argv[2:], stdout=out, stderr=subprocess.DEVNULL).returncode
wall = time.perf_counter() - t0
ru = resource.getrusage(resource.RUSAGE_CHILDREN)
print(rc, wall, ru.ru_maxrss, ru.ru_utime + ru.ru_stime)
"""


def run(folder: Path, jobs: int, out: Path) -> tuple[int, float, int, float]:
    cmd = [sys.executable, "-c", MEASURE, str(out), sys.executable, "-m", "tmplstudio", "validate", "templates",
           "--format", "json", "--jobs", str(jobs)]
    res = subprocess.run(cmd, cwd=folder, capture_output=True, text=True, check=True)
    rc, wall, rss_kb, cpu = res.stdout.split()
    return int(rc), float(wall), int(rss_kb) // 1024, float(cpu)


def main() -> int:
    args = [a for a in sys.argv[1:] if not a.startswith("--")]
    n = int(args[0]) if args else 10_000
    jobs_list = [1, 2]
    if "--jobs" in sys.argv:
        jobs_list = [int(j) for j in sys.argv[sys.argv.index("--jobs") + 1].split(",")]
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        (folder / "templates").mkdir()
        t0 = time.perf_counter()
        generate_templates(folder / "templates", n)
        print(f"generated {n:,} templates in {time.perf_counter() - t0:.1f} s")
        digests = set()
        for jobs in jobs_list:
            out = folder / f"report-{jobs}.json"
            rc, wall, rss, cpu = run(folder, jobs, out)
            digest = hashlib.sha256(out.read_bytes()).hexdigest()[:16]
            digests.add(digest)
            print(f"validate {n:,} templates --jobs {jobs}: {wall:.1f} s wall, {cpu:.1f} s CPU ({cpu / wall:.2f} cores busy), "
                  f"peak RSS {rss} MB (largest process), "
                  f"exit {rc}, report sha256 {digest} ({out.stat().st_size / 1e6:.1f} MB)")
        print(f"machine: {os.cpu_count()} cores, Python {sys.version.split()[0]}")
        if len(digests) != 1:
            print("REPORTS DIFFER between --jobs values")
            return 1
        print("reports identical across --jobs values")
    return 0


if __name__ == "__main__":
    sys.exit(main())
