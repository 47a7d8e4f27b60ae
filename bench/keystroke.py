"""Keystroke latency of the studio: from the key event to the findings panel and highlights updated.

Setup (issue 4): a 300-character Chinese template, all bundled packs, 3 samples; 200 edits
(typing a forbidden phrase character by character, then deleting it, so the set of findings
changes while typing), after 20 warm-up edits. The app runs headless (`App.run_test`), which
still composes and renders every frame; only the terminal write is skipped.

Each key is injected the way the terminal driver does it (a `Key` event posted to the app), so
Pilot's own idle waits are not measured. Three clocks per edit:

* key -> panels: the app's evaluated-handler has finished (editor spans set, findings, preview,
  variables and status updated). This is the issue's figure: target median <= 10 ms, p95 <= 25 ms.
* key -> Changed handler: the framework's part (key dispatch, the TextArea edit, its tree-sitter
  re-highlight) until our handler starts;
* key -> engine done: until `Project.evaluate` returned (inside the TextArea's own Changed handler);
* engine alone: `Project.evaluate` on the same texts outside the app, for comparison.
* key -> paint: the editor's next `render_lines` call after the edit (Textual caps frames at 60 fps).

Renderings run in worker processes (render/pool.py); a keystroke in literal text is rebuilt
from the remembered rendering without one. Also measured (issue 14, budget <= 1 ms median):

* worker jobs during the typing run: how many keystrokes needed a worker at all;
* IPC per rendering: the bench template's 3 samples rendered by a worker (new values each time,
  so nothing is replayed) against the same renderings made in this process; the difference is
  what the process boundary costs a keystroke that changes a tag or a sample value;
* worker start: from starting the process to its first rendering.

Run:  python bench/keystroke.py [--edits 200] [--json]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

from textual import events  # noqa: E402

from tmplstudio.project import Project  # noqa: E402
from tmplstudio.tui.app import StudioApp  # noqa: E402
from tmplstudio.tui.widgets.editor import TemplateEditor  # noqa: E402

TEMPLATE = """\
+++
id = "bench-overdue"
locale = "zh-CN"
channel = "sms"

[samples.a]
name = "张三"
amount = "5,430.00"
days = 30

[samples.b]
name = "欧阳娜娜"
amount = "12,800.00"
days = 45

[samples.c]
name = "李明"
amount = "980.00"
days = 31
+++
【安和消费金融】{{ name }}您好，您的借款已逾期{{ days }}天，应还{{ amount }}元。\
{% if days > 30 %}逾期信息将依法报送征信系统，{% endif %}请尽快通过官方App还款，如有疑问请致电400-820-5566。
"""

PHRASE = "上门催收"


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    k = max(0, min(len(ordered) - 1, round(q / 100 * (len(ordered) - 1))))
    return ordered[k]


class BenchApp(StudioApp):
    """StudioApp plus clocks; the studio's own handlers run unchanged."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.done = asyncio.Event()
        self.t_panels = 0.0
        self.t_engine = 0.0
        self.t_handler = 0.0

    def show_evaluation(self, event: TemplateEditor.Evaluated) -> None:
        super().show_evaluation(event)
        self.t_panels = time.perf_counter()
        self.done.set()


def measure_ipc(runs: int) -> dict:
    """The bench template's samples rendered by a worker and in this process (see the docstring)."""
    from tmplstudio.render import pool, sourcemap
    from tmplstudio.template.source import parse_template

    template = parse_template(TEMPLATE, "bench.j2")
    scan = sourcemap.scan(template.body, template.body_start)
    compiled = sourcemap.compile_traced(scan)
    in_process: list[float] = []
    worker: list[float] = []
    for i in range(runs + 10):
        samples = {name: {**values, "days": 1000 + i} for name, values in template.meta.samples.items()}
        t = time.perf_counter()
        for values in samples.values():
            sourcemap.render_traced(scan, compiled, values)
        t_in = time.perf_counter() - t
        samples = {name: {**values, "days": 100_000 + i} for name, values in samples.items()}
        t = time.perf_counter()
        pool.render_samples(scan, samples, None, None, "bench.j2", "bench.j2")
        t_worker = time.perf_counter() - t
        if i >= 10:  # the worker compiles the skeleton on its first job
            in_process.append(t_in * 1000)
            worker.append(t_worker * 1000)
    starts: list[float] = []
    for k in range(5):
        pool.shutdown()
        t = time.perf_counter()
        pool.render_samples(scan, {"a": {**template.meta.samples["a"], "days": -1 - k}}, None, None, "bench.j2", "bench.j2")
        starts.append((time.perf_counter() - t) * 1000)
    return {
        "renderings_per_job": len(template.meta.samples),
        "in_process_ms": round(statistics.median(in_process), 3),
        "worker_ms": round(statistics.median(worker), 3),
        "ipc_ms": round(statistics.median(w - i for w, i in zip(worker, in_process)), 3),
        "ipc_p95_ms": round(percentile([w - i for w, i in zip(worker, in_process)], 95), 3),
        "worker_start_ms": round(statistics.median(starts), 1),
    }


def make_template(copies: int) -> str:
    """The bench template; ``copies`` > 1 repeats its body line to make a large document."""
    head, body = TEMPLATE.rsplit("+++\n", 1)
    return head + "+++\n" + body * copies


async def run(edits: int, warmup: int, copies: int = 1) -> dict:
    template = make_template(copies)
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        (folder / "templates").mkdir()
        path = folder / "templates" / "bench.j2"
        path.write_text(template, encoding="utf-8")
        project = Project.discover(folder)  # no config: the bundled packs
        alone = []
        for i in range(edits + warmup):  # the engine by itself, for comparison
            text = template.replace("请尽快", PHRASE[: i % (len(PHRASE) + 1)] + "请尽快", 1)
            t = time.perf_counter()
            project.evaluate(text, path)
            if i >= warmup:
                alone.append((time.perf_counter() - t) * 1000)
        app = BenchApp(project, path, cwd=folder)
        from tmplstudio.render import pool

        jobs_before = pool.POOL.jobs

        paint_times: list[float] = []
        original_render_lines = TemplateEditor.render_lines

        def render_lines(self, crop):  # type: ignore[no-untyped-def]
            result = original_render_lines(self, crop)
            paint_times.append(time.perf_counter())
            return result

        TemplateEditor.render_lines = render_lines  # type: ignore[method-assign]
        original_evaluate = app.evaluate

        def timed_evaluate(source, p):  # type: ignore[no-untyped-def]
            app.t_handler = time.perf_counter()
            result = original_evaluate(source, p)
            app.t_engine = time.perf_counter()
            return result

        app.evaluate = timed_evaluate  # type: ignore[method-assign]

        panels: list[float] = []
        handler: list[float] = []
        modes: dict[str, int] = {}
        engine: list[float] = []
        paints: list[float] = []
        stale = 0
        async with app.run_test(size=(120, 36)) as pilot:
            await pilot.pause()
            await app.workers.wait_for_complete()
            editor = app.editor
            editor.cursor_blink = False
            editor.focus()
            row = 22  # the first body line
            editor.move_cursor((row, 40))  # inside the body, before the {% if %} block
            await pilot.pause()
            source_chars = len(editor.text)
            keys = []
            while len(keys) < edits + warmup:
                keys += [(ch, ch) for ch in PHRASE] + [("backspace", None)] * len(PHRASE)
            keys = keys[: edits + warmup]
            finding_counts = set()
            for i, (key, char) in enumerate(keys):
                app.done.clear()
                paint_times.clear()
                t0 = time.perf_counter()
                app.post_message(events.Key(key, char))
                await asyncio.wait_for(app.done.wait(), 5)
                version = editor.version
                # Let the frame after the edit happen, to measure paint.
                deadline = time.perf_counter() + 0.2
                while not [t for t in paint_times if t > app.t_panels] and time.perf_counter() < deadline:
                    await asyncio.sleep(0.0005)
                if editor.evaluation is None or app.findings_panel.findings is None or version != editor.version:
                    stale += 1
                finding_counts.add(len(app.findings_panel.findings))
                if i >= warmup:
                    modes[editor.last_mode] = modes.get(editor.last_mode, 0) + 1
                    panels.append((app.t_panels - t0) * 1000)
                    engine.append((app.t_engine - t0) * 1000)
                    handler.append((app.t_handler - t0) * 1000)
                    after = [t for t in paint_times if t > t0]
                    if after:
                        paints.append((after[0] - t0) * 1000)
                await asyncio.sleep(0.02)  # a fast typist: ~50 keys/s
        TemplateEditor.render_lines = original_render_lines  # type: ignore[method-assign]
        worker_jobs = pool.POOL.jobs - jobs_before

    def summary(values: list[float]) -> dict:
        return {
            "n": len(values),
            "median_ms": round(statistics.median(values), 2),
            "p95_ms": round(percentile(values, 95), 2),
            "max_ms": round(max(values), 2),
        }

    return {
        "template_chars": len(template),
        "evaluation_mode": modes,  # edits evaluated in the Changed handler ("sync") or a thread
        "source_chars_at_start": source_chars,
        "packs": [p.id for p in project.packs],
        "samples": 3,
        "edits": len(panels),
        "distinct_finding_counts": sorted(finding_counts),
        "stale_results": stale,
        "engine_alone": summary(alone),
        "key_to_changed_handler": summary(handler),
        "key_to_engine_done": summary(engine),
        "key_to_panels_updated": summary(panels),
        "key_to_editor_paint": summary(paints) if paints else None,
        "worker_jobs_while_typing": worker_jobs,
        "ipc": measure_ipc(200),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--edits", type=int, default=200)
    parser.add_argument("--warmup", type=int, default=20)
    parser.add_argument("--copies", type=int, default=1, help="repeat the body line N times (large-document check)")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    result = asyncio.run(run(args.edits, args.warmup, args.copies))
    if args.json:
        print(json.dumps(result, indent=2, ensure_ascii=False))
        return 0
    print(f"template: {result['template_chars']} chars, packs: {', '.join(result['packs'])}, 3 samples")
    print("evaluated: " + ", ".join(f"{n} edits {'in the Changed handler' if m == 'sync' else 'in a thread'}" for m, n in result["evaluation_mode"].items()))
    print(f"edits: {result['edits']} (finding counts seen: {result['distinct_finding_counts']}, stale: {result['stale_results']})")
    for label, key in (
        ("engine alone          ", "engine_alone"),
        ("key -> Changed handler", "key_to_changed_handler"),
        ("key -> engine done    ", "key_to_engine_done"),
        ("key -> panels updated ", "key_to_panels_updated"),
        ("key -> editor paint   ", "key_to_editor_paint"),
    ):
        s = result[key]
        if s:
            print(f"{label}: median {s['median_ms']:.2f} ms  p95 {s['p95_ms']:.2f} ms  max {s['max_ms']:.2f} ms")
    ipc = result["ipc"]
    print(f"worker jobs while typing {result['edits'] + args.warmup} keys: {result['worker_jobs_while_typing']}")
    print(f"IPC per worker job ({ipc['renderings_per_job']} renderings): median {ipc['ipc_ms']:.3f} ms, p95 {ipc['ipc_p95_ms']:.3f} ms "
          f"(worker {ipc['worker_ms']:.3f} ms, in process {ipc['in_process_ms']:.3f} ms; budget <= 1 ms median: "
          f"{'met' if ipc['ipc_ms'] <= 1 else 'NOT met'}); worker start {ipc['worker_start_ms']:.1f} ms")
    if args.copies == 1:
        panels = result["key_to_panels_updated"]
        ok = panels["median_ms"] <= 10 and panels["p95_ms"] <= 25
        print(f"target (median <= 10 ms, p95 <= 25 ms): {'met' if ok else 'NOT met'}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
