"""`tmplstudio policy lint`: find every problem in policy packs, not only the first.

The format's problems come from the schema (``schema.py``), which finds them all; loading
refuses a pack with any of them. Lint prints them, plus problems that load fine but make a rule
silently useless -- the failure mode Vale users keep reporting (rules that can never match
report "clean"):

error   toml            not UTF-8, or not valid TOML
error   invalid         a wrong type, missing field or bad value
error   unknown-key     a key the format does not have (with "did you mean")
error   unknown-kind    a rule kind that does not exist
error   duplicate-id    two rules with the same id in one pack (unless each has its own `variant`)
error   duplicate-pack  two linted files with the same pack id
error   regex           an invalid or runaway-prone regular expression (patterns.pattern_problem)
error   never-matches   a phrase that is empty after normalisation, or a pattern (matched on
                        normalised text) with a character normalisation always replaces:
                        Traditional 門, full-width Ａ, zero-width characters, Cyrillic а
error   shadowed        a phrase that is also in the rule's own `allow` list, so every hit is allowed
error   example-fails   a hit example the rule does not fire on (or not at the example's severity),
                        or an ok example it fires on
warning redundant-phrase  two entries of one list that are the same after normalisation (上門 / 上门)
warning invisible       a phrase with zero-width or format characters (removed before matching,
                        so they change nothing, and nobody reviewing the pack can see them)
warning literal-star    a `*` inside a phrase that normalisation folds away (上*门 matches only
                        上门: only a trailing `*` is a wildcard; `f**k` stays literal and is fine)
warning shared-id       a rule id another linted pack also uses (not two bundled packs, which share ids
                        on purpose): a suppression or `[rules]` entry naming the bare id affects both
warning no-examples     a rule without `hit` or without `ok` examples
warning no-source       a rule without `source`
warning incomplete-source  a source without the article it rests on or the date it was verified

Upper case and Traditional characters in *phrases* are not problems: phrases go through the
same normalisation as the text, so `Reply STOP` and `上門` match exactly like `reply stop`
and `上门`.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from pathlib import Path

from tmplstudio.policy import patterns, schema
from tmplstudio.policy.kinds import KINDS
from tmplstudio.policy.model import Pack, Rule
from tmplstudio.policy.schema import ERROR, WARNING, Lines, Problem
from tmplstudio.text.normalize import fold_char, is_invisible, normalize_phrase


@dataclass
class PackLint:
    path: str
    pack_id: str | None = None
    problems: list[Problem] = field(default_factory=list)
    rules: tuple[tuple[str, int | None], ...] = ()   # (rule id, line), for ids shared between packs

    @property
    def errors(self) -> int:
        return sum(1 for p in self.problems if p.level == ERROR)

    @property
    def warnings(self) -> int:
        return sum(1 for p in self.problems if p.level == WARNING)


def _show(text: str) -> str:
    """A phrase as a reader can see it: invisible characters spelled out."""
    out = "".join(f"\\u{ord(c):04x}" if is_invisible(c) else c for c in text)
    return f"'{out}'"


def lint_file(path: Path) -> PackLint:
    parsed = schema.parse_file(Path(path))
    result = PackLint(str(path), parsed.pack.id if parsed.pack else None, list(parsed.problems))
    pack, lines = parsed.pack, parsed.lines
    if pack is None or lines is None:
        return result
    result.rules = tuple((r.id, r.line) for r in pack.rules)

    def problem(where: tuple[int | None, int | None], level: str, code: str, message: str) -> None:
        result.problems.append(Problem(str(path), where[0], level, code, message, where[1]))

    for src in pack.sources:
        _check_source(src, "[pack]", lines.pack_key("sources"), problem)
    for rule, index in zip(pack.rules, parsed.indices):
        where = f"rule '{rule.id}' ({rule.variant})" if rule.variant else f"rule '{rule.id}'"
        _check_phrases(rule, index, where, lines, problem)
        _check_pattern_literals(rule, index, where, lines, problem)
        if not rule.hit_examples:
            problem(lines.key(index, "examples"), WARNING, "no-examples", f"{where}: no 'hit' example; add [rules.examples] hit = [...] so `policy test` proves the rule fires")
        if not rule.ok_examples:
            problem(lines.key(index, "examples"), WARNING, "no-examples", f"{where}: no 'ok' example; add [rules.examples] ok = [...] so `policy test` proves it does not fire on fine text")
        if not rule.source:
            problem((rule.line, None), WARNING, "no-source", f"{where}: no 'source'; name the law, regulation or platform rule it enforces")
        for src in rule.source:
            _check_source(src, where, lines.value(index, src.article or src.title, lines.key(index, "source")), problem)
    if pack.rules:
        _check_examples(pack, parsed, problem)
    result.problems.sort(key=lambda p: (p.line or 0, p.level != ERROR, p.code))
    return result


def _check_source(src, where: str, at: tuple[int | None, int | None], problem) -> None:
    if src.missing:
        missing = " and no ".join({"article": "article", "verified": "verification date ('verified')"}[k] for k in src.missing)
        problem(at, WARNING, "incomplete-source", f"{where}: source {src.title!r} has no {missing}; "
                "write it as { title, article, date, url, verified = \"YYYY-MM-DD\" } so a reader can find the provision")


def _norm(phrase: str) -> str:
    return normalize_phrase(phrase.rstrip("*")).strip()


def _check_phrases(rule: Rule, index: int, where: str, lines: Lines, problem) -> None:
    lists: dict[str, list[str]] = {}
    for entry in KINDS[rule.kind].phrases(rule):
        if not entry.derived:
            lists.setdefault(entry.list, []).append(entry.phrase)
    for k, esc in enumerate(rule.escalate):
        lists[f"escalate[{k}].near"] = list(esc.near)
    default_line = (rule.line, None)
    for name, items in lists.items():
        seen: dict[str, str] = {}
        for phrase in items:
            at = lines.value(index, phrase, default_line)
            norm = _norm(phrase)
            if not norm:
                problem(at, ERROR, "never-matches", f"{where}: {name} entry {_show(phrase)} is empty after normalisation "
                        "(only invisible characters, spaces or separators), so it can never match")
                continue
            if any(is_invisible(c) for c in phrase):
                problem(at, WARNING, "invisible", f"{where}: {name} entry {_show(phrase)} contains invisible characters; "
                        f"they are removed before matching (it matches as '{norm}'), so write '{norm}'")
            if "*" in phrase.rstrip("*") and "*" not in norm:
                # `f**k` stays literal (a censored spelling, matched as written); `上*门` does not: the
                # star is a separator between Chinese characters and is folded away.
                problem(at, WARNING, "literal-star", f"{where}: {name} entry {_show(phrase)}: only a trailing * is a wildcard; "
                        f"this * is a separator that normalisation removes, so the entry matches only '{norm}'")
            key = norm + ("*" if phrase.endswith("*") else "")
            if key in seen:
                if seen[key] == phrase:
                    same = "is listed twice"
                else:
                    same = f"matches exactly what {_show(seen[key])} matches (both normalise to '{norm}')"
                problem(at, WARNING, "redundant-phrase", f"{where}: {name} entry {_show(phrase)} {same}; keep one")
            else:
                seen[key] = phrase
    entries = [e for e in KINDS[rule.kind].phrases(rule) if not e.derived]
    allow = {_norm(e.phrase): e.phrase for e in entries if e.role == "allow"}
    for e in entries:
        if not e.reports or e.phrase.endswith("*"):
            continue  # `arrest*` with allow `arrest`: only the bare word is allowed, its endings still hit
        norm = _norm(e.phrase)
        if norm and norm in allow:
            problem(lines.value(index, e.phrase, default_line), ERROR, "shadowed",
                    f"{where}: {e.list} entry {_show(e.phrase)} is also in 'allow' ({_show(allow[norm])}): every hit lies inside an "
                    "allowed context, so it never fires; remove one of them")


def _check_pattern_literals(rule: Rule, index: int, where: str, lines: Lines, problem) -> None:
    for pattern, original in KINDS[rule.kind].patterns(rule):
        if original:
            continue
        changed = []
        for ch in patterns.literals(pattern):
            folded = fold_char(ch)
            if folded != ch.lower() and folded != ch.casefold() and ch not in changed:
                changed.append(ch)
        if not changed:
            continue
        shown = ", ".join(f"{_show(c)} → {_show(fold_char(c)) if fold_char(c) else 'removed'}" for c in changed)
        problem(lines.value(index, pattern, lines.key(index, "patterns")), ERROR, "never-matches",
                f"{where}: pattern {pattern!r} is matched on normalised text, where these characters never occur ({shown}); "
                "write the normalised form, or set match_on = \"original\" to match the text as written")


def _check_examples(pack: Pack, parsed: schema.Parsed, problem) -> None:
    from tmplstudio.policy.selftest import run_pack

    lines = parsed.lines
    index_of = {(r.id, r.variant): i for r, i in zip(pack.rules, parsed.indices)}
    enabled = replace(pack, rules=tuple(r for r in pack.rules if r.enabled))
    result = run_pack(enabled)
    for r in result.failures:
        index = index_of.get((r.rule.id, r.rule.variant), 0)
        at = lines.value(index, r.example.text, (r.example.line or r.rule.line, None))
        text = r.example.text if len(r.example.text) <= 60 else r.example.text[:57] + "..."
        if r.expect_hit and r.severity is not None:
            problem(at, ERROR, "example-fails", f"rule '{r.rule.label}': hit example {text!r} is reported as "
                    f"{r.severity.value}, not {r.example.severity.value}")
        elif r.expect_hit:
            others = sorted({f.rule for f in r.evaluation.findings if not f.suppressed and f.pack == pack.id})
            also = f" (rules of this pack that did fire: {', '.join(others)})" if others else ""
            problem(at, ERROR, "example-fails", f"rule '{r.rule.label}': hit example {text!r} does not trigger the rule{also}")
        else:
            problem(at, ERROR, "example-fails", f"rule '{r.rule.label}': ok example {text!r} triggers the rule "
                    f"on {', '.join(repr(f.text) for f in r.rule_findings)}")


def lint_paths(paths: list[Path]) -> list[PackLint]:
    results = [lint_file(p) for p in paths]
    first: dict[str, str] = {}
    for res in results:
        if res.pack_id is None:
            continue
        if res.pack_id in first:
            line, col = Lines(Path(res.path).read_text(encoding="utf-8-sig")).pack_key("id")
            res.problems.insert(0, Problem(res.path, line, ERROR, "duplicate-pack", f"pack id '{res.pack_id}' is also used by {first[res.pack_id]}", col))
        else:
            first[res.pack_id] = res.path
    _shared_ids(results)
    return results


def _shared_ids(results: list[PackLint]) -> None:
    """The same rule id in two packs: reported, as a bare id in a suppression or the config
    then reaches both (bundled packs share ids on purpose: one rule, enforced per provider)."""
    from tmplstudio.project import bundled_pack_dir

    bundled = bundled_pack_dir().resolve()
    owners: dict[str, tuple[str, str, bool]] = {}   # rule id -> (pack id, path, bundled) that uses it first
    for res in results:
        if res.pack_id is None:
            continue
        is_bundled = Path(res.path).resolve().is_relative_to(bundled)
        for rule_id, line in res.rules:
            other = owners.get(rule_id)
            if other is None:
                owners[rule_id] = (res.pack_id, res.path, is_bundled)
                continue
            if other[0] == res.pack_id or (is_bundled and other[2]):
                continue
            res.problems.append(Problem(res.path, line, WARNING, "shared-id",
                                        f"rule '{rule_id}' is also a rule of pack '{other[0]}' ({other[1]}): a suppression "
                                        f"or [rules] entry naming '{rule_id}' affects both; name one as '{res.pack_id}/{rule_id}'"))
