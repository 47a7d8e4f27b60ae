"""Language server latency: first diagnostics cold, and per change warm (reported, not asserted).

`tmplstudio lsp` is started as an editor starts it (a subprocess on stdio) and driven by
pytest-lsp's client, which is pygls's:

* cold: from starting the process to the first publishDiagnostics for an opened template
  (Python start, imports, pack loading, the first evaluation); once with an empty per-user
  cache (a first-ever start) and once with it filled (every later start). Issue 17's target:
  <= 1 s.
* open: from didOpen to its diagnostics, in a server that has just initialised.
* warm: from one didChange (typing one character into a ~300-character Chinese template, all
  bundled packs) to its diagnostics, with --debounce 0 so the debounce's wait is not counted.
  Target: <= 20 ms per change.

Run:  python bench/lsp.py [--changes 100] [--json]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

from lsprotocol import types
from pytest_lsp import client_capabilities, make_test_lsp_client

TEMPLATE = ('+++\nid = "bench"\nlocale = "zh-CN"\n[samples.a]\nname = "张三"\namount = "1,200.00"\n+++\n'
            "【某银行】{{ name }}您好，您在本行的信用卡账单已逾期，当前欠款{{ amount }}元。"
            "请您于三日内通过手机银行或官方客服热线办理还款，以免影响您的个人征信记录。"
            "如已还款请忽略本短信，如有疑问请致电官方客服，我们将竭诚为您服务。"
            "温馨提示：请勿轻信陌生来电，谨防诈骗。回复T退订。\n") * 2
PHRASE = "我们将上门催收"
PUBLISH = types.TEXT_DOCUMENT_PUBLISH_DIAGNOSTICS


async def session(cache: str, changes: int) -> dict:
    folder = Path(tempfile.mkdtemp())
    path = folder / "bench.j2"
    path.write_text(TEMPLATE, encoding="utf-8")
    uri = path.as_uri()
    env = {**os.environ, "TMPLSTUDIO_CACHE_DIR": cache}
    client = make_test_lsp_client()
    t0 = time.perf_counter()
    await client.start_io(sys.executable, "-m", "tmplstudio", "lsp", "--debounce", "0", env=env, cwd=str(folder))
    await client.initialize_session(types.InitializeParams(capabilities=client_capabilities("visual-studio-code"),
                                                           root_uri=folder.as_uri()))
    waiting = client.wait_for_notification(PUBLISH)
    client.text_document_did_open(types.DidOpenTextDocumentParams(text_document=types.TextDocumentItem(
        uri=uri, language_id="jinja", version=1, text=TEMPLATE)))
    await asyncio.wait_for(waiting, 60)
    cold = time.perf_counter() - t0

    other = folder / "other.j2"
    other.write_text(TEMPLATE, encoding="utf-8")
    waiting = client.wait_for_notification(PUBLISH)
    t1 = time.perf_counter()
    client.text_document_did_open(types.DidOpenTextDocumentParams(text_document=types.TextDocumentItem(
        uri=other.as_uri(), language_id="jinja", version=1, text=TEMPLATE)))
    await asyncio.wait_for(waiting, 60)
    opened = time.perf_counter() - t1

    line = TEMPLATE.count("\n", 0, TEMPLATE.index("【")) + 0
    times = []
    version = 1
    for i in range(changes):
        k = i % (2 * len(PHRASE))
        if k < len(PHRASE):  # type the phrase one character at a time, then delete it
            change = types.TextDocumentContentChangePartial(range=types.Range(types.Position(line, k), types.Position(line, k)),
                                                            text=PHRASE[k])
        else:
            j = 2 * len(PHRASE) - k - 1
            change = types.TextDocumentContentChangePartial(range=types.Range(types.Position(line, j), types.Position(line, j + 1)),
                                                            text="")
        version += 1
        waiting = client.wait_for_notification(PUBLISH)
        t = time.perf_counter()
        client.text_document_did_change(types.DidChangeTextDocumentParams(
            text_document=types.VersionedTextDocumentIdentifier(uri=uri, version=version), content_changes=[change]))
        await asyncio.wait_for(waiting, 60)
        times.append((time.perf_counter() - t) * 1000)
    await client.shutdown_session()
    warm = sorted(times[10:]) or sorted(times)  # the first ten changes warm the caches
    return {"cold_s": cold, "open_ms": opened * 1000, "change_median_ms": statistics.median(warm),
            "change_p95_ms": warm[int(0.95 * (len(warm) - 1))], "changes": len(warm)}


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--changes", type=int, default=100)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    cache = tempfile.mkdtemp()
    first = await session(cache, args.changes)   # empty per-user cache: a first-ever start
    later = await session(cache, args.changes)   # the cache the first run filled
    result = {"first_ever": first, "cached": later}
    if args.json:
        print(json.dumps(result, indent=2))
        return
    for name, r in result.items():
        print(f"{name:10} cold start to first diagnostics {r['cold_s'] * 1000:7.0f} ms · open {r['open_ms']:5.1f} ms · "
              f"per change median {r['change_median_ms']:5.1f} ms, p95 {r['change_p95_ms']:5.1f} ms ({r['changes']} changes)")


if __name__ == "__main__":
    asyncio.run(main())
