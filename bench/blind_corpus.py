#!/usr/bin/env python3
"""Measure the bundled policy packs on the blind held-out corpus.

The corpus in tests/corpus/blind/ was written from the regulations and the rule
taxonomy only (docs + ../shared/reference/domain-rules.md), without reading the
packs, their tests or the other corpora, so these numbers show how the packs
generalise to wording they were not tuned on.

Usage:
    python3 bench/blind_corpus.py            # per-rule table, overall recall, FPR
    python3 bench/blind_corpus.py --misses   # also list every miss and false positive

Recall for a rule = labelled messages where that rule fired (error, warning or
info, not suppressed) / labelled messages.  A false positive is a compliant
message (expect = []) with any unsuppressed error or warning.
"""
from __future__ import annotations

import argparse
import sys
import tomllib
from collections import defaultdict
from pathlib import Path

import tomli_w

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))

from tmplstudio.project import Project  # noqa: E402

CORPUS = ROOT / "tests" / "corpus" / "blind"
LANGS = ("zh", "en")
RULES = [
    "threat-violence", "threat-intimidation", "abusive-language", "impersonate-authority",
    "fake-legal-process", "threat-arrest-criminal", "misleading-consequences",
    "third-party-disclosure", "public-shaming", "visit-threat", "attorney-implication",
    "time-barred-litigation-threat", "unofficial-payment-channel", "coerced-borrowing",
    "sender-identity-required", "debt-collector-disclosure-required", "opt-out-required",
    "contact-channel-required", "pii-masking-required", "template-variable-structure",
    "send-window", "sms-length-encoding", "provider-format", "platform-restricted-topic",
]


def source_of(msg: dict) -> str:
    meta = msg.get("meta") or {}
    if not meta:
        return msg["text"]
    return "+++\n" + tomli_w.dumps(meta) + "+++\n" + msg["text"]


def load() -> list[tuple[str, dict]]:
    out = []
    for lang in LANGS:
        data = tomllib.loads((CORPUS / f"{lang}.toml").read_text(encoding="utf-8"))
        out += [(lang, m) for m in data["message"]]
    return out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--misses", action="store_true", help="list every miss and false positive")
    args = ap.parse_args()

    project = Project.discover(ROOT)
    hits = defaultdict(lambda: {l: 0 for l in LANGS})
    totals = defaultdict(lambda: {l: 0 for l in LANGS})
    misses: list[tuple[str, str, str, dict, list]] = []
    fps: list[tuple[str, dict, list]] = []
    compliant = {l: 0 for l in LANGS}
    fp_count = {l: 0 for l in LANGS}

    for lang, msg in load():
        ev = project.evaluate(source_of(msg), "msg.j2")
        live = [f for f in ev.findings if not f.suppressed]
        fired = {f.rule for f in live if f.severity.value in ("error", "warning", "info")}
        blocking = [f for f in live if f.severity.value in ("error", "warning")]
        expect = msg.get("expect", [])
        if not expect:
            compliant[lang] += 1
            if blocking:
                fp_count[lang] += 1
                fps.append((lang, msg, blocking))
            continue
        for rule in expect:
            totals[rule][lang] += 1
            if rule in fired:
                hits[rule][lang] += 1
            else:
                misses.append((rule, lang, msg["id"], msg, sorted(fired)))

    def pct(a: int, b: int) -> str:
        return f"{100 * a / b:.0f}%" if b else "–"

    print("| rule | zh hit/total | en hit/total | recall |")
    print("|---|---|---|---|")
    th = tt = 0
    for rule in RULES + sorted(set(totals) - set(RULES)):
        z = f"{hits[rule]['zh']}/{totals[rule]['zh']}" if totals[rule]["zh"] else "–"
        e = f"{hits[rule]['en']}/{totals[rule]['en']}" if totals[rule]["en"] else "–"
        h, t = sum(hits[rule].values()), sum(totals[rule].values())
        th += h
        tt += t
        print(f"| `{rule}` | {z} | {e} | {pct(h, t)} |")
    print()
    lang_h = {l: sum(hits[r][l] for r in totals) for l in LANGS}
    lang_t = {l: sum(totals[r][l] for r in totals) for l in LANGS}
    print(f"Overall recall: {th}/{tt} = {pct(th, tt)}  "
          f"(zh {lang_h['zh']}/{lang_t['zh']} = {pct(lang_h['zh'], lang_t['zh'])}, "
          f"en {lang_h['en']}/{lang_t['en']} = {pct(lang_h['en'], lang_t['en'])})")
    fc, cc = sum(fp_count.values()), sum(compliant.values())
    print(f"False-positive rate: {fc}/{cc} = {pct(fc, cc)}  "
          f"(zh {fp_count['zh']}/{compliant['zh']}, en {fp_count['en']}/{compliant['en']})")

    if args.misses:
        print("\n## Misses (labelled rule did not fire)\n")
        for rule, lang, mid, msg, fired in sorted(misses, key=lambda x: (x[0], x[2])):
            print(f"- `{rule}` {mid} {msg.get('meta') or ''}: {msg['text']!r}  (fired: {', '.join(fired) or 'nothing'})")
        print("\n## False positives (compliant message with an error or warning)\n")
        for lang, msg, found in fps:
            desc = "; ".join(f"{f.rule}/{f.severity.value}: {f.message}" for f in found)
            print(f"- {msg['id']} {msg.get('meta') or ''}: {msg['text']!r}\n    -> {desc}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
