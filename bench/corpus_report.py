"""Measure the bundled policy packs against the labeled corpus in tests/corpus/.

    python bench/corpus_report.py            # Markdown table (for docs/policies.md)
    python bench/corpus_report.py --misses   # also list every missed label and false positive

The corpus (tests/corpus/zh.toml, tests/corpus/en.toml) is a list of messages, each a template
body with the front matter it needs (`meta`) and the rule ids it must trigger (`expect`, empty
for a compliant message). Each message is turned into a template source (TOML front matter
between `+++` lines, then the body) and evaluated with the project's packs, exactly as
`tmplstudio validate` would.

* Recall of rule R: of the messages labeled R, the share where R fired (unsuppressed, any severity).
* Overall recall: over all (message, label) pairs.
* False-positive rate: the share of compliant messages with any unsuppressed error or warning.

tests/test_corpus.py imports this module and asserts the targets below.
"""

from __future__ import annotations

import argparse
import sys
import time
import tomllib
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

import tomli_w

ROOT = Path(__file__).resolve().parents[1]
CORPUS_DIR = ROOT / "tests" / "corpus"
BLIND_DIR = CORPUS_DIR / "blind"  # written from the regulations only, never from the packs
LOCALES = {"zh": "zh-CN", "en": "en-US"}  # corpus file stem -> default locale

TARGET_OVERALL_RECALL = 0.95
TARGET_RULE_RECALL = 0.85
TARGET_FPR = 0.03

RULE_IDS = (
    "threat-violence", "threat-intimidation", "abusive-language", "impersonate-authority",
    "fake-legal-process", "threat-arrest-criminal", "misleading-consequences",
    "third-party-disclosure", "public-shaming", "visit-threat", "attorney-implication",
    "time-barred-litigation-threat", "unofficial-payment-channel", "coerced-borrowing",
    "sender-identity-required", "debt-collector-disclosure-required", "opt-out-required",
    "contact-channel-required", "pii-masking-required", "template-variable-structure",
    "send-window", "sms-length-encoding", "provider-format", "platform-restricted-topic",
)


@dataclass
class Message:
    id: str
    lang: str
    text: str
    meta: dict
    expect: list[str]
    note: str = ""

    @property
    def compliant(self) -> bool:
        return not self.expect

    def source(self) -> str:
        """The template file for this message: front matter (with the default locale) + body."""
        meta = {"locale": LOCALES[self.lang], **self.meta}
        return "+++\n" + tomli_w.dumps(meta) + "+++\n" + self.text


@dataclass
class Outcome:
    message: Message
    fired: set[str]                  # unsuppressed rule ids, any severity
    blocking: list[tuple[str, str, str]]  # unsuppressed (rule, severity, text) at error/warning

    @property
    def missed(self) -> list[str]:
        return [r for r in self.message.expect if r not in self.fired]


@dataclass
class Report:
    outcomes: list[Outcome]
    seconds: float
    rules: dict[str, dict[str, int]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        table: dict[str, dict[str, int]] = defaultdict(lambda: {"zh": 0, "en": 0, "labeled": 0, "detected": 0})
        for o in self.outcomes:
            for r in o.message.expect:
                row = table[r]
                row[o.message.lang] += 1
                row["labeled"] += 1
                row["detected"] += r in o.fired
        self.rules = dict(table)

    def recall(self, rule: str) -> float:
        row = self.rules[rule]
        return row["detected"] / row["labeled"] if row["labeled"] else 0.0

    @property
    def labeled(self) -> int:
        return sum(r["labeled"] for r in self.rules.values())

    @property
    def detected(self) -> int:
        return sum(r["detected"] for r in self.rules.values())

    @property
    def overall_recall(self) -> float:
        return self.detected / self.labeled if self.labeled else 0.0

    @property
    def compliant(self) -> list[Outcome]:
        return [o for o in self.outcomes if o.message.compliant]

    @property
    def false_positives(self) -> list[Outcome]:
        return [o for o in self.compliant if o.blocking]

    @property
    def fpr(self) -> float:
        return len(self.false_positives) / len(self.compliant) if self.compliant else 0.0

    def count(self, lang: str | None = None, compliant: bool | None = None) -> int:
        return sum(
            1 for o in self.outcomes
            if (lang is None or o.message.lang == lang) and (compliant is None or o.message.compliant == compliant)
        )

    def failures(self) -> list[str]:
        """Which targets are missed (empty when all are met)."""
        out = []
        if self.overall_recall < TARGET_OVERALL_RECALL:
            out.append(f"overall recall {self.overall_recall:.1%} < {TARGET_OVERALL_RECALL:.0%}")
        for rule in sorted(self.rules):
            if self.recall(rule) < TARGET_RULE_RECALL:
                out.append(f"{rule}: recall {self.recall(rule):.1%} < {TARGET_RULE_RECALL:.0%}")
        if self.fpr > TARGET_FPR:
            out.append(f"false-positive rate {self.fpr:.1%} > {TARGET_FPR:.0%}")
        return out


def load_corpus(folder: Path = CORPUS_DIR) -> list[Message]:
    messages: list[Message] = []
    for lang in LOCALES:
        path = folder / f"{lang}.toml"
        with path.open("rb") as fh:
            data = tomllib.load(fh)
        for entry in data["message"]:
            messages.append(Message(
                id=entry["id"], lang=lang, text=entry["text"], meta=dict(entry.get("meta", {})),
                expect=list(entry["expect"]), note=entry.get("note", ""),
            ))
    return messages


def evaluate_corpus(messages: list[Message] | None = None, project=None) -> Report:
    from tmplstudio.project import Project

    messages = load_corpus() if messages is None else messages
    project = project or Project.discover(ROOT)
    outcomes = []
    start = time.perf_counter()
    for m in messages:
        # A virtual path next to the corpus; the file is never written.
        evaluation = project.evaluate(m.source(), CORPUS_DIR / f"{m.id}.j2")
        active = [f for f in evaluation.findings if not f.suppressed]
        outcomes.append(Outcome(
            message=m,
            fired={f.rule for f in active},
            blocking=[(f.rule, f.severity.value, f.text) for f in active if f.severity.value in ("error", "warning")],
        ))
    return Report(outcomes, time.perf_counter() - start)


def _pct(x: float) -> str:
    return f"{x:.1%}"


def markdown(report: Report) -> str:
    lines = [
        f"Corpus: {len(report.outcomes)} messages "
        f"({report.count('zh')} Chinese, {report.count('en')} English; "
        f"{report.count(compliant=True)} compliant, {report.count(compliant=False)} violating).",
        "",
        "| Rule | zh | en | Labeled | Detected | Recall |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    order = [r for r in RULE_IDS if r in report.rules] + sorted(set(report.rules) - set(RULE_IDS))
    for rule in order:
        row = report.rules[rule]
        lines.append(f"| `{rule}` | {row['zh']} | {row['en']} | {row['labeled']} | {row['detected']} | {_pct(report.recall(rule))} |")
    lines.append(f"| **All labels** | | | **{report.labeled}** | **{report.detected}** | **{_pct(report.overall_recall)}** |")
    lines += [
        "",
        "| Compliant messages | zh | en | Total |",
        "|---|---:|---:|---:|",
        "| Messages | {} | {} | {} |".format(
            report.count("zh", True), report.count("en", True), report.count(compliant=True)),
        "| With an error or warning | {} | {} | {} |".format(
            sum(o.message.lang == "zh" for o in report.false_positives),
            sum(o.message.lang == "en" for o in report.false_positives),
            len(report.false_positives)),
        f"| **False-positive rate** | | | **{_pct(report.fpr)}** |",
        "",
        f"Targets: overall recall >= {TARGET_OVERALL_RECALL:.0%}, every rule >= {TARGET_RULE_RECALL:.0%}, "
        f"false-positive rate <= {TARGET_FPR:.0%}.",
    ]
    return "\n".join(lines)


def plain(report: Report) -> str:
    width = max(len(r) for r in report.rules) if report.rules else 10
    lines = [f"{'rule':<{width}}  {'zh':>3} {'en':>3} {'det':>4}/{'lab':<4} recall"]
    for rule in [r for r in RULE_IDS if r in report.rules] + sorted(set(report.rules) - set(RULE_IDS)):
        row = report.rules[rule]
        flag = "" if report.recall(rule) >= TARGET_RULE_RECALL else "  <-- below target"
        lines.append(f"{rule:<{width}}  {row['zh']:>3} {row['en']:>3} {row['detected']:>4}/{row['labeled']:<4} {_pct(report.recall(rule)):>6}{flag}")
    lines.append(f"{'overall':<{width}}  {'':>3} {'':>3} {report.detected:>4}/{report.labeled:<4} {_pct(report.overall_recall):>6}")
    lines.append(f"false positives: {len(report.false_positives)}/{len(report.compliant)} compliant = {_pct(report.fpr)}")
    lines.append(f"evaluated {len(report.outcomes)} messages in {report.seconds:.2f} s")
    return "\n".join(lines)


def misses(report: Report) -> str:
    lines = []
    for o in report.outcomes:
        if o.missed:
            got = ", ".join(sorted(o.fired)) or "nothing"
            lines.append(f"MISS {o.message.id}: expected {', '.join(o.missed)}; fired {got}\n      {o.message.text[:120]!r}")
    for o in report.false_positives:
        found = "; ".join(f"{rule} ({sev}) {text!r}" for rule, sev, text in o.blocking)
        lines.append(f"FP   {o.message.id}: {found}\n      {o.message.text[:120]!r}")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--misses", action="store_true", help="list missed labels and false positives")
    parser.add_argument("--plain", action="store_true", help="plain-text table instead of Markdown")
    parser.add_argument("--blind", action="store_true",
                        help="the blind corpus (tests/corpus/blind/), written without seeing the packs")
    args = parser.parse_args(argv)
    report = evaluate_corpus(load_corpus(BLIND_DIR) if args.blind else None)
    print(plain(report) if args.plain else markdown(report))
    if args.misses:
        print()
        print(misses(report) or "no misses, no false positives")
    return 0


if __name__ == "__main__":
    sys.exit(main())
