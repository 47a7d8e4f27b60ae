"""Engine speed and memory, as reported in docs/performance.md.

Usage: python bench/engine.py [--quick]

1. one evaluation of a ~300-character Chinese template (3 samples) against every bundled pack:
   median and p99 over 500 runs, each run on a fresh edit of the text (as when typing);
2. `tmplstudio validate` over 2,000 generated templates (wall time; default --jobs, which is
   every core from 200 templates on, and --jobs 1);
3. cold `tmplstudio validate templates/` (wall median of 7 fresh processes, with the per-user
   cache of loaded packs and jieba words filled by an earlier run as on any machine that has
   run tmplstudio before; and the very first run, with an empty cache);
4. peak memory (max RSS of any process) of the 2,000-template run;
5. `engine/limit ratio`: the engine on 1,000 all-new templates over one Aho-Corasick scan of the
   same phrases plus jieba's cut of the same bodies (5 rounds, median);
6. `cold validate ratio`: cold `tmplstudio validate templates/` over `python -c "import jinja2"`
   (interleaved, median of 7).
"""

from __future__ import annotations

import os
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

TEMPLATE = """+++
id = "bench-zh"
locale = "zh-CN"
channel = "sms"
sender_role = "creditor"

[samples.a]
name = "张三"
amount = "1,280.00"
due_date = "6月15日"
card_no = "6222021234567890123"
days = 3

[samples.b]
name = "欧阳娜娜"
amount = "12,345.67"
due_date = "12月31日"
card_no = "6222021234567890123"
days = 45

[samples.c]
name = "李四"
amount = "99.00"
due_date = "1月1日"
card_no = "6222021234567890123"
days = 90
+++
【某某消费金融】尊敬的{{ name }}，您尾号{{ card_no | mask }}的账户本期应还{{ amount }}元，最后还款日为{{ due_date }}。{% if days > 30 %}您的账户已逾期{{ days }}天，逾期信息将依法报送金融信用信息基础数据库，请尽快处理。{% else %}如已还款请忽略本短信。{% endif %}您可通过某某金融官方APP或网银还款，也可前往就近营业网点办理。如对账单有疑问或需要协商还款方案，请致电客服热线95xxx，我们将竭诚为您服务。谨防诈骗，本司不会要求您向个人账户转账。
"""


def bench_evaluate(runs: int) -> tuple[float, float, int]:
    from tmplstudio.project import Project, keep_out_of_gc

    project = Project.discover(ROOT)
    keep_out_of_gc()  # as the CLI and the studio do once the packs are loaded
    body_len = len(TEMPLATE.split("+++\n", 2)[2])
    project.evaluate(TEMPLATE, "bench.j2")  # warm: dictionary load, automaton build
    times = []
    for i in range(runs):
        # A different text every run, as typing produces: caches keyed on the text cannot help.
        text = TEMPLATE.replace("竭诚", "竭诚" + "好" * (i % 7) + str(i))
        t0 = time.perf_counter()
        project.evaluate(text, "bench.j2")
        times.append((time.perf_counter() - t0) * 1000)
    times.sort()
    return statistics.median(times), times[int(len(times) * 0.99) - 1], body_len


def bench_paths(runs: int) -> tuple[float, float, float]:
    """Median evaluation time with path analysis: over the bundled templates (each edited like
    typing), and on a template with 40 branches (20 if/elif blocks)."""
    from tmplstudio.project import Project

    project = Project.discover(ROOT)
    bundled = [(p, p.read_text(encoding="utf-8")) for p in project.template_paths()]
    times = []
    for path, text in bundled:
        project.evaluate(text, path)
        for i in range(max(runs // len(bundled), 5)):
            edited = text.rstrip("\n") + "好" * (i % 5 + 1) + "\n"
            t0 = time.perf_counter()
            project.evaluate(edited, path)
            times.append((time.perf_counter() - t0) * 1000)
    forty_body = "【某某银行】尊敬的{{ name }}，" + "".join(
        f"{{% if d > {i} %}}您已逾期{i}天。{{% elif d > {i + 100} %}}请尽快还款。{{% endif %}}" for i in range(20)) + "详询95xxx。"
    forty = f'+++\n[samples.a]\nname = "张三"\nd = 5\n+++\n{forty_body}\n'
    project.evaluate(forty, ROOT / "templates" / "forty.j2")
    forty_times = []
    for i in range(runs):
        t0 = time.perf_counter()
        project.evaluate(forty.replace("详询", "详询" + "好" * (i % 7)), ROOT / "templates" / "forty.j2")
        forty_times.append((time.perf_counter() - t0) * 1000)
    times.sort()
    forty_times.sort()
    return statistics.median(times), times[int(len(times) * 0.95) - 1], statistics.median(forty_times)


def bench_limit(n: int, rounds: int = 5) -> tuple[list[float], float, float]:
    """The engine on all-new templates against what any checker of this kind must at least do:
    one Aho-Corasick scan of the same phrases plus jieba's word cut of the same text. Returns the
    per-round ratios (engine over limit) and the median per-template microseconds of each."""
    import ahocorasick
    import rjieba

    from tmplstudio.project import Project, keep_out_of_gc
    from tmplstudio.template.source import parse_template

    project = Project.discover(ROOT)
    keep_out_of_gc()
    with tempfile.TemporaryDirectory() as tmp:
        generate_templates(Path(tmp), n)
        sources = [(str(p), p.read_text(encoding="utf-8")) for p in sorted(Path(tmp).glob("*.j2"))]
    project.evaluate(sources[0][1], sources[0][0])
    ruleset = next(iter(project._ruleset_cache.values()))
    automaton = ahocorasick.Automaton()
    for family in ruleset.index._owners.values():
        for phrase in family:
            automaton.add_word(phrase, phrase)
    automaton.make_automaton()
    ratios, engine_us, limit_us = [], [], []
    for r in range(rounds):
        # Every round's texts are new to the engine: nothing remembered can answer for them.
        batch = [(path, text.replace("尊敬的客户", f"尊敬的客户{r}-{k}")) for k, (path, text) in enumerate(sources)]
        bodies = [parse_template(text, path).body for path, text in batch]
        t0 = time.perf_counter()
        for path, text in batch:
            project.evaluate(text, path)
        engine = time.perf_counter() - t0
        t0 = time.perf_counter()
        for body in bodies:
            for _ in automaton.iter(body.lower()):
                pass
            rjieba.tokenize(body)
        limit = time.perf_counter() - t0
        ratios.append(engine / limit)
        engine_us.append(engine / len(batch) * 1e6)
        limit_us.append(limit / len(batch) * 1e6)
    return ratios, statistics.median(engine_us), statistics.median(limit_us)


def bench_cold_ratio(rounds: int) -> list[float]:
    """Cold `tmplstudio validate templates/` over `python -c "import jinja2"`, interleaved."""
    exe = shutil.which("tmplstudio")
    base = [exe] if exe else [sys.executable, "-m", "tmplstudio"]
    run_timed([*base, "validate", "templates/"], ROOT)  # the per-user cache filled, as on any used machine
    ratios = []
    for _ in range(rounds):
        floor, _rss = run_timed([sys.executable, "-c", "import jinja2"], ROOT)
        cold, _rss = run_timed([*base, "validate", "templates/"], ROOT)
        ratios.append(cold / floor)
    return ratios


def generate_templates(folder: Path, n: int) -> None:
    rng = random.Random(7)
    parts = ["您本期账单应还{{ amount }}元", "最后还款日为{{ due_date }}", "请通过官方APP还款", "详询95xxx", "如已还款请忽略",
             "逾期将影响您的信用记录", "感谢您的信赖", "线上门户已开通", "我们将安排人员上门催收", "请勿向个人账户转账"]
    for i in range(n):
        body = "，".join(rng.sample(parts, 5))
        (folder / f"t{i:04d}.j2").write_text(
            f'+++\nid = "t{i}"\n[samples.a]\namount = "{i}.00"\ndue_date = "6月{i % 28 + 1}日"\n+++\n【某某银行】尊敬的客户，{body}。\n',
            encoding="utf-8")


def run_timed(cmd: list[str], cwd: Path, env: dict[str, str] | None = None) -> tuple[float, int]:
    """Wall seconds and the largest max RSS in MB of this command's process or its workers,
    measured by a small wrapper process so earlier commands of this script do not count."""
    probe = ("import resource, subprocess, sys, time; t = time.perf_counter(); subprocess.run(sys.argv[1:], "
             "stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL); "
             "print(time.perf_counter() - t, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)")
    out = subprocess.run([sys.executable, "-c", probe, *cmd], cwd=cwd, capture_output=True, text=True,
                         env={**os.environ, **(env or {})})
    wall, rss = out.stdout.split()
    return float(wall), int(rss) // 1024


def main() -> None:
    quick = "--quick" in sys.argv
    exe = shutil.which("tmplstudio") or sys.executable
    base = [exe] if exe.endswith("tmplstudio") else [sys.executable, "-m", "tmplstudio"]
    median, p99, body_len = bench_evaluate(100 if quick else 500)
    print(f"evaluate: {body_len}-char Chinese body, 3 samples, all bundled packs: median {median:.2f} ms, p99 {p99:.2f} ms")
    b_median, b_p95, forty = bench_paths(100 if quick else 300)
    print(f"evaluate with path analysis: bundled templates median {b_median:.2f} ms (p95 {b_p95:.2f} ms); "
          f"40-branch template median {forty:.2f} ms")

    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp) / "templates"
        folder.mkdir()
        n = 200 if quick else 2000
        generate_templates(folder, n)
        run_timed([*base, "validate", str(folder)], ROOT)  # fills the per-user cache, as any earlier run would
        wall, rss = run_timed([*base, "validate", str(folder)], ROOT)
        wall1, rss1 = run_timed([*base, "validate", str(folder), "--jobs", "1"], ROOT)
        print(f"validate {n} generated templates: {wall:.2f} s wall (default --jobs: {os.cpu_count()} processes), "
              f"{wall1:.2f} s with --jobs 1; peak RSS {max(rss, rss1)} MB")

    with tempfile.TemporaryDirectory() as empty:
        first, _rss = run_timed([*base, "validate", "templates/"], ROOT, {"TMPLSTUDIO_CACHE_DIR": empty})
    colds = []
    for _ in range(3 if quick else 7):
        wall, rss_cold = run_timed([*base, "validate", "templates/"], ROOT)
        colds.append(wall)
    print(f"cold `tmplstudio validate templates/` ({len(list((ROOT / 'templates').glob('*.j2')))} templates): "
          f"median {statistics.median(colds):.2f} s wall (min {min(colds):.2f}, max {max(colds):.2f}); "
          f"first run ever (empty per-user cache) {first:.2f} s")
    ratios, engine_us, limit_us = bench_limit(200 if quick else 1000)
    print(f"engine on new templates: {engine_us:.0f} us each; Aho-Corasick scan of the same phrases + jieba cut: "
          f"{limit_us:.0f} us (rounds: {', '.join(f'{x:.1f}' for x in ratios)})")
    print(f"engine/limit ratio: {statistics.median(ratios):.1f}")
    cold = bench_cold_ratio(3 if quick else 7)
    print(f"cold validate rounds over `python -c 'import jinja2'`: {', '.join(f'{x:.2f}' for x in cold)}")
    print(f"cold validate ratio: {statistics.median(cold):.2f}")
    print(f"machine: {os.cpu_count()} cores, Python {sys.version.split()[0]}")


if __name__ == "__main__":
    main()
