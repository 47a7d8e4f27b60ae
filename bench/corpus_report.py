"""Measure the bundled policy packs against the labeled corpus in tests/corpus/.

    python bench/corpus_report.py            # Markdown table (for docs/policies.md)
    python bench/corpus_report.py --misses   # also list every missed label and false positive
    python bench/corpus_report.py --corpus blind2   # issue 13's corpus, with a table per family

The corpus (tests/corpus/zh.toml, tests/corpus/en.toml) is a list of messages, each a template
body with the front matter it needs (`meta`) and the rule ids it must trigger (`expect`, empty
for a compliant message). Each message is turned into a template source (TOML front matter
between `+++` lines, then the body) and evaluated with the project's packs, exactly as
`tmplstudio validate` would.

* Recall of rule R: of the messages labeled R, the share where R fired (unsuppressed, any severity).
* Overall recall: over all (message, label) pairs.
* False-positive rate: the share of compliant messages with any unsuppressed error or warning.

tests/test_corpus.py imports this module and asserts the targets below.

tests/corpus/blind2/ (issue 13) adds to each message a `family` (the mechanism it measures), and
optionally a complete `template` instead of `text`, `expect_info` and `expect_count`. There a label
counts as detected only when the rule is reported at error or warning, because issue 13 makes the
engine report set-aside hits (a negated phrase, a word inside a sample value) at info; an
`expect_info` rule must be reported at info; `expect_count` is the exact number of error/warning
findings of a rule. The clean rate there leaves out family free-text, whose expected warning has no
rule id (see that corpus's header).
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
BLIND2_DIR = CORPUS_DIR / "blind2"  # issue 13: assembled messages, evasions, negation, context; written blind
CORPORA = {"main": CORPUS_DIR, "blind": BLIND_DIR, "blind2": BLIND2_DIR}
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

FAMILIES = (  # tests/corpus/blind2: the mechanism a message measures (issue 13)
    "assembled", "homophone-pinyin", "blank-mark", "split-char", "confusable", "markup-bidi",
    "variant-char", "negation", "negated-required", "attorney-advice", "sample-value",
    "latin-boundary", "free-text", "paraphrase", "one-finding", "plain-real", "clean",
)
UNSCORED_CLEAN = {"free-text"}  # a warning is expected there, but no rule id names it
BLOCKING = ("error", "warning")


@dataclass
class Message:
    id: str
    lang: str
    text: str
    meta: dict
    expect: list[str]
    note: str = ""
    family: str = ""
    template: str | None = None      # a complete template file, used as is instead of text + meta
    expect_info: list[str] = field(default_factory=list)
    expect_count: dict[str, int] = field(default_factory=dict)
    cite: str = ""                   # where an adapted real text comes from ("original" otherwise)
    strict: bool = False             # labels must be reported at error or warning (blind2)

    @property
    def compliant(self) -> bool:
        return not self.expect

    @property
    def scored_clean(self) -> bool:
        """Counts towards the false-positive (clean) rate."""
        return self.compliant and self.family not in UNSCORED_CLEAN

    @property
    def body(self) -> str:
        """The message text as written (a template's body after its front matter)."""
        return self.text if self.template is None else self.template.split("+++\n", 2)[-1]

    def source(self) -> str:
        """The template file for this message: front matter (with the default locale) + body."""
        if self.template is not None:
            return self.template
        meta = {"locale": LOCALES[self.lang], **self.meta}
        return "+++\n" + tomli_w.dumps(meta) + "+++\n" + self.text


@dataclass
class Outcome:
    message: Message
    fired: set[str]                  # unsuppressed rule ids, any severity
    blocking: list[tuple[str, str, str]]  # unsuppressed (rule, severity, text) at error/warning
    info: set[str] = field(default_factory=set)  # unsuppressed rule ids reported at info

    def detects(self, rule: str) -> bool:
        if self.message.strict:
            return any(r == rule for r, _, _ in self.blocking)
        return rule in self.fired

    @property
    def missed(self) -> list[str]:
        return [r for r in self.message.expect if not self.detects(r)]

    @property
    def info_missed(self) -> list[str]:
        return [r for r in self.message.expect_info if r not in self.info]

    @property
    def counts_wrong(self) -> dict[str, tuple[int, int]]:
        """rule -> (expected, reported) for each expect_count that does not hold."""
        got = {r: sum(1 for b in self.blocking if b[0] == r) for r in self.message.expect_count}
        return {r: (n, got[r]) for r, n in self.message.expect_count.items() if got[r] != n}


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
                row["detected"] += o.detects(r)
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
        return [o for o in self.outcomes if o.message.scored_clean]

    @property
    def false_positives(self) -> list[Outcome]:
        return [o for o in self.compliant if o.blocking]

    @property
    def fpr(self) -> float:
        return len(self.false_positives) / len(self.compliant) if self.compliant else 0.0

    def count(self, lang: str | None = None, compliant: bool | None = None) -> int:
        return sum(
            1 for o in self.outcomes
            if (lang is None or o.message.lang == lang)
            and (compliant is None or (o.message.scored_clean if compliant else not o.message.compliant))
        )

    def families(self) -> dict[str, dict[str, int]]:
        """Per family (blind2): cases per language, labels detected, clean cases passed, info and
        count expectations met."""
        keys = ("zh", "en", "labeled", "detected", "clean", "passed", "info", "info_met", "count", "count_met")
        table: dict[str, dict[str, int]] = {}
        for o in self.outcomes:
            m = o.message
            if not m.family:
                continue
            row = table.setdefault(m.family, dict.fromkeys(keys, 0))
            row[m.lang] += 1
            row["labeled"] += len(m.expect)
            row["detected"] += len(m.expect) - len(o.missed)
            if m.scored_clean:
                row["clean"] += 1
                row["passed"] += not o.blocking
            row["info"] += len(m.expect_info)
            row["info_met"] += len(m.expect_info) - len(o.info_missed)
            row["count"] += len(m.expect_count)
            row["count_met"] += len(m.expect_count) - len(o.counts_wrong)
        order = [f for f in FAMILIES if f in table] + sorted(set(table) - set(FAMILIES))
        return {f: table[f] for f in order}

    @property
    def unscored(self) -> list[Outcome]:
        """Compliant messages left out of the clean rate (family free-text)."""
        return [o for o in self.outcomes if o.message.compliant and not o.message.scored_clean]

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
                id=entry["id"], lang=lang, text=entry.get("text", ""), meta=dict(entry.get("meta", {})),
                expect=list(entry["expect"]), note=entry.get("note", ""),
                family=entry.get("family", ""), template=entry.get("template"),
                expect_info=list(entry.get("expect_info", [])), expect_count=dict(entry.get("expect_count", {})),
                cite=entry.get("source", ""), strict="family" in entry,
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
            fired={f.rule for f in active if f.set_aside is None},  # a set-aside hit does not count
            blocking=[(f.rule, f.severity.value, f.text) for f in active if f.severity.value in BLOCKING],
            info={f.rule for f in active if f.severity.value == "info"},
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


def _ratio(n: int, d: int) -> str:
    return f"{n}/{d} = {_pct(n / d)}" if d else "-"


def family_markdown(report: Report) -> str:
    """The per-family table (blind2); empty for corpora without families."""
    families = report.families()
    if not families:
        return ""
    lines = [
        "",
        "",
        "| Family | zh | en | Recall (labels) | Clean rate | Info reported | One finding |",
        "|---|---:|---:|---:|---:|---:|---:|",
    ]
    for family, row in families.items():
        lines.append(f"| {family} | {row['zh']} | {row['en']} | {_ratio(row['detected'], row['labeled'])} | "
                     f"{_ratio(row['passed'], row['clean'])} | {_ratio(row['info_met'], row['info'])} | "
                     f"{_ratio(row['count_met'], row['count'])} |")
    total = {k: sum(r[k] for r in families.values()) for k in next(iter(families.values()))}
    lines.append(f"| **All** | **{total['zh']}** | **{total['en']}** | **{_ratio(total['detected'], total['labeled'])}** | "
                 f"**{_ratio(total['passed'], total['clean'])}** | **{_ratio(total['info_met'], total['info'])}** | "
                 f"**{_ratio(total['count_met'], total['count'])}** |")
    if report.unscored:
        warned = sum(1 for o in report.unscored if o.blocking)
        lines += ["", f"Not in the clean rate: {len(report.unscored)} free-text messages, {warned} of them with "
                      "an error or warning (issue 13 expects a warning there, under no rule id)."]
    return "\n".join(lines)


def family_plain(report: Report) -> str:
    families = report.families()
    if not families:
        return ""
    width = max(len(f) for f in families)
    lines = ["", "", f"{'family':<{width}}  {'zh':>3} {'en':>3}  {'recall':<16}  {'clean':<16}  {'info':<12}  {'count':<12}"]
    for family, row in families.items():
        lines.append(f"{family:<{width}}  {row['zh']:>3} {row['en']:>3}  {_ratio(row['detected'], row['labeled']):<16}  "
                     f"{_ratio(row['passed'], row['clean']):<16}  {_ratio(row['info_met'], row['info']):<12}  "
                     f"{_ratio(row['count_met'], row['count']):<12}")
    if report.unscored:
        warned = sum(1 for o in report.unscored if o.blocking)
        lines.append(f"free-text (not in the clean rate): {warned}/{len(report.unscored)} with an error or warning")
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
            lines.append(f"MISS {o.message.id}: expected {', '.join(o.missed)}; fired {got}\n      {o.message.body[:120]!r}")
        if o.info_missed:
            lines.append(f"INFO {o.message.id}: expected at info {', '.join(o.info_missed)}; "
                         f"info {', '.join(sorted(o.info)) or 'nothing'}\n      {o.message.body[:120]!r}")
        for rule, (want, got_n) in o.counts_wrong.items():
            lines.append(f"COUNT {o.message.id}: {rule} expected {want} finding(s), reported {got_n}\n      {o.message.body[:120]!r}")
    for o in report.false_positives:
        found = "; ".join(f"{rule} ({sev}) {text!r}" for rule, sev, text in o.blocking)
        lines.append(f"FP   {o.message.id}: {found}\n      {o.message.body[:120]!r}")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--misses", action="store_true", help="list missed labels and false positives")
    parser.add_argument("--plain", action="store_true", help="plain-text table instead of Markdown")
    parser.add_argument("--blind", action="store_true",
                        help="the blind corpus (tests/corpus/blind/), written without seeing the packs")
    parser.add_argument("--corpus", choices=sorted(CORPORA), default=None,
                        help="which corpus: main (tests/corpus, the default), blind, or blind2 (issue 13)")
    args = parser.parse_args(argv)
    corpus = args.corpus or ("blind" if args.blind else "main")
    report = evaluate_corpus(None if corpus == "main" else load_corpus(CORPORA[corpus]))
    print(plain(report) + family_plain(report) if args.plain else markdown(report) + family_markdown(report))
    if args.misses:
        print()
        print(misses(report) or "no misses, no false positives")
    return 0


if __name__ == "__main__":
    sys.exit(main())
