"""`tmplstudio policy test`: run every rule's examples, like `vale test`, prh specs or Semgrep's ruleid/ok.

Each example is evaluated as a whole template under the pack's defaults (its first locale,
jurisdiction, channel and provider) merged with the example's own front matter, with only
that pack loaded. A ``hit`` example passes when the rule fires (at the example's ``severity``,
when it names one); an ``ok`` example passes when it does not.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field

import tomli_w

from tmplstudio.policy.engine import Evaluation, evaluate
from tmplstudio.policy.model import Example, Pack, Rule, Severity

_LOCALE_FOR = {"zh": "zh-CN", "en": "en-US"}


@dataclass
class ExampleResult:
    pack: Pack
    rule: Rule
    example: Example
    expect_hit: bool
    evaluation: Evaluation

    @property
    def rule_findings(self):
        return [f for f in self.evaluation.findings if f.rule == self.rule.id and f.pack == self.rule.pack_id
                and not f.suppressed and f.set_aside is None]

    @property
    def severity(self) -> Severity | None:
        """The worst severity the rule reported on the example (None: it did not fire)."""
        return max((f.severity for f in self.rule_findings), key=lambda s: s.rank, default=None)

    @property
    def passed(self) -> bool:
        if not self.expect_hit:
            return not self.rule_findings
        return self.severity is not None and self.example.severity in (None, self.severity)


@dataclass
class PackResult:
    pack: Pack
    results: list[ExampleResult] = field(default_factory=list)
    rules_without_examples: list[Rule] = field(default_factory=list)

    @property
    def failures(self) -> list[ExampleResult]:
        return [r for r in self.results if not r.passed]


def example_meta(pack: Pack, example: Example) -> dict:
    meta: dict = {}
    if pack.locales:
        loc = pack.locales[0]
        meta["locale"] = _LOCALE_FOR.get(loc, loc)
    if pack.jurisdictions:
        meta["jurisdiction"] = [pack.jurisdictions[0]]
    if pack.channels:
        meta["channel"] = pack.channels[0]
    if pack.providers:
        meta["providers"] = [pack.providers[0]]
    if pack.categories:
        meta["category"] = pack.categories[0]
    meta.update(example.meta)
    return meta


def example_source(pack: Pack, example: Example) -> str:
    meta = example_meta(pack, example)
    return f"+++\n{tomli_w.dumps(meta)}+++\n{example.text}"


def run_pack(pack: Pack) -> PackResult:
    """Each rule is tested alone (its examples must not depend on the pack's other rules),
    under the pack's applicability."""
    result = PackResult(pack)
    for rule in pack.rules:
        alone = dataclasses.replace(pack, rules=(rule,))
        cache: dict = {}  # one phrase automaton per rule, shared by its examples
        if not rule.hit_examples and not rule.ok_examples:
            result.rules_without_examples.append(rule)
        for expect_hit, examples in ((True, rule.hit_examples), (False, rule.ok_examples)):
            for example in examples:
                source = example_source(pack, example)
                ev = evaluate(source, f"<{pack.id}/{rule.label} example>", [alone], ruleset_cache=cache)
                result.results.append(ExampleResult(pack, rule, example, expect_hit, ev))
    return result
