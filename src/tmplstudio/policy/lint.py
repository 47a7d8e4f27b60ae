"""`tmplstudio policy lint`: find every problem in policy packs, not only the first.

The loader stops at the first problem of a pack (a pack that cannot load must never be used);
lint reads the raw TOML and reports them all, plus problems that load fine but make a rule
silently useless -- the failure mode Vale users keep reporting (rules that can never match
report "clean"):

error   toml            not UTF-8, or not valid TOML
error   invalid         anything the loader rejects (wrong type, missing field, bad value)
error   unknown-key     a key the format does not have (with "did you mean")
error   unknown-kind    a rule kind that does not exist
error   duplicate-id    two rules with the same id in one pack (unless each has its own `variant`)
error   duplicate-pack  two linted files with the same pack id
error   regex           an invalid or runaway-prone regular expression (loader.pattern_problem)
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
warning no-examples     a rule without `hit` or without `ok` examples
warning no-source       a rule without `source`
warning incomplete-source  a source without the article it rests on or the date it was verified

Upper case and Traditional characters in *phrases* are not problems: phrases go through the
same normalisation as the text, so `Reply STOP` and `上門` match exactly like `reply stop`
and `上门`.
"""

from __future__ import annotations

import copy
import re
import tomllib
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from tmplstudio.errors import InputError
from tmplstudio.policy import loader, sources
from tmplstudio.policy.model import RULE_KINDS, Pack, Rule
from tmplstudio.template.meta import did_you_mean
from tmplstudio.text.normalize import fold_char, is_invisible, normalize_phrase

ERROR, WARNING = "error", "warning"
FIX_KEYS = ("replace", "replacements", "prepend", "append")
ESCALATE_KEYS = ("severity", "when", "near", "within")
EXAMPLE_KEYS = ("hit", "ok")
EXAMPLE_ITEM_KEYS = ("text", "meta", "severity")
LIMIT_KEYS = ("segments", "chars", "severity")
ALL_RULE_KEYS = tuple(dict.fromkeys(loader.RULE_COMMON + tuple(k for keys in loader.KIND_KEYS.values() for k in keys)))
PHRASE_LISTS = ("phrases", "allow", "not_after", "not_before", "any")


@dataclass(frozen=True)
class Problem:
    path: str
    line: int | None
    level: str
    code: str
    message: str

    def __str__(self) -> str:
        return f"{self.path}:{self.line or 1}: {self.level} {self.code} {self.message}"


@dataclass
class PackLint:
    path: str
    pack_id: str | None = None
    problems: list[Problem] = field(default_factory=list)

    @property
    def errors(self) -> int:
        return sum(1 for p in self.problems if p.level == ERROR)

    @property
    def warnings(self) -> int:
        return sum(1 for p in self.problems if p.level == WARNING)


class _Lines:
    """Line numbers in the raw pack text (tomllib keeps none)."""

    def __init__(self, text: str):
        self.text = text
        self.lines = text.split("\n")
        self.rules = loader._RuleLines(text)
        self.pack_line = next((n for n, l in enumerate(self.lines, 1) if re.match(r"\s*\[\s*pack\s*\]", l)), None)

    def block(self, index: int) -> tuple[int, int]:
        start = self.rules.rule(index) or 1
        nxt = self.rules.rule(index + 1)
        return start, (nxt - 1 if nxt else len(self.lines))

    def pack_key(self, key: str) -> int | None:
        if self.pack_line is None:
            return None
        for n in range(self.pack_line, len(self.lines) + 1):
            line = self.lines[n - 1]
            if n > self.pack_line and re.match(r"\s*\[", line):
                break
            if re.match(rf"\s*{re.escape(key)}\s*=", line):
                return n
        return self.pack_line

    def top_key(self, key: str) -> int | None:
        for n, line in enumerate(self.lines, 1):
            if re.match(rf"\s*(\[\[?\s*)?{re.escape(key)}\b", line):
                return n
        return None

    def key(self, index: int, key: str) -> int | None:
        """The line of ``key`` (or ``a.b``, or ``[rules.a]``) inside rule ``index``."""
        start, end = self.block(index)
        last = key.split(".")[-1]
        for n in range(start, end + 1):
            line = self.lines[n - 1]
            if re.match(rf"\s*(\[\[?\s*rules\.)?{re.escape(key)}\b", line) or re.match(rf"\s*{re.escape(last)}\s*=", line):
                return n
        for n in range(start, end + 1):  # inline tables: fix = { replce = "..." }
            if re.search(rf"[{{,]\s*{re.escape(last)}\s*=", self.lines[n - 1]):
                return n
        return start

    def value(self, index: int, text: str, default: int | None) -> int | None:
        """The line where a string value (a phrase, a pattern, an example) is written in rule ``index``."""
        start, end = self.block(index)
        needle = text.split("\n")[0]
        candidates = [needle, needle.replace("\\", "\\\\").replace('"', '\\"')]
        cut = re.split(r"[\\\"'\u0000-\u001f\u007f-\u009f\u200b-\u200f\u2060-\u2064\ufeff]", needle)[0]
        if len(cut) >= 2:
            candidates.append(cut)
        for cand in candidates:
            if not cand:
                continue
            for n in range(start, end + 1):
                if cand in self.lines[n - 1]:
                    return n
        return default


def _str_list(value: Any) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, list):
        return [v for v in value if isinstance(v, str)]
    return []


def _show(text: str) -> str:
    """A phrase as a reader can see it: invisible characters spelled out."""
    out = "".join(f"\\u{ord(c):04x}" if is_invisible(c) else c for c in text)
    return f"'{out}'"


def _pattern_literals(pattern: str) -> list[str]:
    """Literal characters of a regex outside character classes, escapes, group syntax and {m,n}."""
    out: list[str] = []
    i, n = 0, len(pattern)
    in_class = False
    while i < n:
        ch = pattern[i]
        if ch == "\\":
            i += 2
            continue
        if in_class:
            if ch == "]":
                in_class = False
        elif ch == "[":
            in_class = True
            if pattern[i + 1:i + 2] == "^":
                i += 1
            if pattern[i + 1:i + 2] == "]":
                i += 1
        elif ch == "(" and pattern[i + 1:i + 2] == "?":
            m = re.match(r"\(\?(?:P?<[A-Za-z_]\w*>|P=\w+\)|[:=!]|<[=!]|[aiLmsux-]+[:)]|#[^)]*\))", pattern[i:])
            i += len(m.group(0)) if m else 2
            continue
        elif ch == "{":
            m = re.match(r"\{\d*(,\d*)?\}", pattern[i:])
            if m:
                i += len(m.group(0))
                continue
            out.append(ch)
        elif ch not in "().*+?|^$":
            out.append(ch)
        i += 1
    return out


def lint_file(path: Path) -> PackLint:
    path = Path(path)
    result = PackLint(str(path))
    add = result.problems.append

    def problem(line: int | None, level: str, code: str, message: str) -> None:
        add(Problem(str(path), line, level, code, message))

    try:
        text = path.read_bytes().decode("utf-8-sig")
    except OSError as exc:
        problem(None, ERROR, "toml", f"cannot read the pack: {exc.strerror or exc}")
        return result
    except UnicodeDecodeError:
        problem(None, ERROR, "toml", "not valid UTF-8 text")
        return result
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        m = loader._TOML_POS.search(str(exc))
        problem(int(m.group(1)) if m else None, ERROR, "toml", f"not valid TOML: {loader._TOML_POS.sub('', str(exc)).strip()}")
        return result
    lines = _Lines(text)

    for key in data:
        if key not in ("pack", "rules"):
            problem(lines.top_key(key), ERROR, "unknown-key", f"unknown top-level key '{key}'{did_you_mean(key, ['pack', 'rules'])}; a pack has [pack] and [[rules]]")
    header = data.get("pack")
    base_pack: Pack | None = None
    if not isinstance(header, dict):
        problem(None, ERROR, "invalid", "missing [pack] table (id, title, version, ...)")
    else:
        clean_header = {}
        for key, value in header.items():
            if key in loader.PACK_KEYS:
                clean_header[key] = value
            else:
                problem(lines.pack_key(key), ERROR, "unknown-key", f"unknown key '{key}' in [pack]{did_you_mean(key, loader.PACK_KEYS)}")
        try:
            base_pack = loader.build_pack({"pack": clean_header, "rules": []}, path, text)
            result.pack_id = base_pack.id
            for src in base_pack.sources:
                _check_source(src, "[pack]", lines.pack_key("sources"), problem)
        except InputError as exc:
            problem(exc.line or lines.pack_line, ERROR, "invalid", exc.message)
    pack_id = base_pack.id if base_pack else (header.get("id") if isinstance(header, dict) and isinstance(header.get("id"), str) else "?")

    raw_rules = data.get("rules", [])
    if not isinstance(raw_rules, list):
        problem(lines.top_key("rules"), ERROR, "invalid", "'rules' must be an array of tables: [[rules]]")
        raw_rules = []
    good: list[Rule] = []
    seen: dict[str, list[tuple[object, int | None]]] = {}
    for index, raw in enumerate(raw_rules):
        rule = _lint_rule(raw, index, pack_id, path, lines, problem)
        rid = raw.get("id") if isinstance(raw, dict) else None
        if isinstance(rid, str):
            line = lines.rules.rule(index)
            variant = raw.get("variant")
            earlier = seen.setdefault(rid, [])
            # Entries may share an id when each names a distinct `variant` (docs/policy-format.md).
            clash = [ln for v, ln in earlier if v is None or variant is None or v == variant]
            if clash:
                problem(line, ERROR, "duplicate-id", f"rule id '{rid}' is used twice in this pack (first at line {clash[0] or '?'}); "
                        "give each entry a distinct `variant`, or suppressions and config overrides could not tell them apart")
            earlier.append((variant, line))
        if rule is not None:
            good.append(rule)
    if base_pack is not None and good:
        _check_examples(replace(base_pack, rules=tuple(good)), raw_rules, lines, problem)
    result.problems.sort(key=lambda p: (p.line or 0, p.level != ERROR, p.code))
    return result


def _lint_rule(raw: Any, index: int, pack_id: str, path: Path, lines: _Lines, problem) -> Rule | None:
    line = lines.rules.rule(index)
    if not isinstance(raw, dict):
        problem(line, ERROR, "invalid", "each [[rules]] entry must be a table")
        return None
    rid = raw.get("id")
    where = f"rule '{rid}'" if isinstance(rid, str) else f"rule #{index + 1}"
    if isinstance(rid, str) and isinstance(raw.get("variant"), str):
        where = f"rule '{rid}' ({raw['variant']})"
    kind = raw.get("kind")
    known_kind = kind in RULE_KINDS
    if not known_kind:
        problem(lines.key(index, "kind"), ERROR, "unknown-kind",
                f"{where}: unknown kind {kind!r}{did_you_mean(str(kind), RULE_KINDS)}; kinds: {', '.join(RULE_KINDS)}")
    allowed = loader.RULE_COMMON + loader.KIND_KEYS[kind] if known_kind else ALL_RULE_KEYS
    clean = copy.deepcopy(raw)
    blocked = False  # a problem this function reported that the loader would report again
    for key in list(raw):
        if key not in allowed:
            hint = did_you_mean(key, allowed)
            if not hint and known_kind and key in ALL_RULE_KEYS:
                hint = f" (kinds that take it: {', '.join(k for k, keys in loader.KIND_KEYS.items() if key in keys)})"
            problem(lines.key(index, key), ERROR, "unknown-key", f"{where}: unknown key '{key}'{' for kind ' + repr(kind) if known_kind else ''}{hint}")
            del clean[key]
    _nested_unknown_keys(clean, index, where, lines, problem)

    # Regular expressions: every bad one, at its own line.
    if isinstance(raw.get("patterns"), (list, str)):
        pats = _str_list(raw["patterns"])
        good_pats = []
        for p in pats:
            why = loader.pattern_problem(p)
            if why:
                problem(lines.value(index, p, lines.key(index, "patterns")), ERROR, "regex", f"{where}: pattern {p!r}: {why}")
                blocked = True
            else:
                good_pats.append(p)
        if "patterns" in clean:
            clean["patterns"] = good_pats or ["(?!)"]  # a placeholder so the loader checks the rest
    if not known_kind:
        return None
    try:
        rule = loader._build_rule(clean, pack_id, index, lines.rules, lambda m, l=None: InputError(m, path, l), loader.str_list_reader(path))
    except InputError as exc:
        if not (blocked and "pattern" in exc.message):
            problem(exc.line or line, ERROR, "invalid", exc.message)
        return None
    if blocked:
        return None
    _check_phrases(rule, raw, index, where, lines, problem)
    if rule.kind == "pattern" and rule.params.get("match_on", "normalized") == "normalized":
        _check_pattern_literals(rule, index, where, lines, problem)
    if not rule.hit_examples:
        problem(lines.key(index, "examples"), WARNING, "no-examples", f"{where}: no 'hit' example; add [rules.examples] hit = [...] so `policy test` proves the rule fires")
    if not rule.ok_examples:
        problem(lines.key(index, "examples"), WARNING, "no-examples", f"{where}: no 'ok' example; add [rules.examples] ok = [...] so `policy test` proves it does not fire on fine text")
    if not rule.source:
        problem(line, WARNING, "no-source", f"{where}: no 'source'; name the law, regulation or platform rule it enforces")
    for src in rule.source:
        _check_source(src, where, lines.value(index, src.article or src.title, lines.key(index, "source")), problem)
    return rule


def _check_source(src, where: str, line: int | None, problem) -> None:
    if src.missing:
        missing = " and no ".join({"article": "article", "verified": "verification date ('verified')"}[k] for k in src.missing)
        problem(line, WARNING, "incomplete-source", f"{where}: source {src.title!r} has no {missing}; "
                "write it as { title, article, date, url, verified = \"YYYY-MM-DD\" } so a reader can find the provision")


def _nested_unknown_keys(clean: dict, index: int, where: str, lines: _Lines, problem) -> None:
    """Unknown keys in examples, fix, escalate, limits and when; removed from ``clean`` once reported."""

    def check(table: Any, allowed: tuple[str, ...], what: str, line_key: str) -> None:
        if not isinstance(table, dict):
            return
        for key in list(table):
            if key not in allowed:
                problem(lines.key(index, key) if lines.key(index, key) != lines.block(index)[0] else lines.key(index, line_key),
                        ERROR, "unknown-key", f"{where}: unknown {what} key '{key}'{did_you_mean(key, allowed)}")
                del table[key]

    examples = clean.get("examples")
    check(examples, EXAMPLE_KEYS, "examples", "examples")
    if isinstance(examples, dict):
        for side in EXAMPLE_KEYS:
            for item in examples.get(side, []) if isinstance(examples.get(side), list) else []:
                check(item, EXAMPLE_ITEM_KEYS, "example", "examples")
    check(clean.get("fix"), FIX_KEYS, "fix", "fix")
    for src in clean.get("source", []) if isinstance(clean.get("source"), list) else [clean.get("source")]:
        check(src, sources.KEYS, "source", "source")
    for esc in clean.get("escalate", []) if isinstance(clean.get("escalate"), list) else []:
        check(esc, ESCALATE_KEYS, "escalate", "escalate")
        _check_when(esc.get("when") if isinstance(esc, dict) else None, index, where, lines, problem)
    for lim in clean.get("limits", []) if isinstance(clean.get("limits"), list) else []:
        check(lim, LIMIT_KEYS, "limit", "limits")
    _check_when(clean.get("when"), index, where, lines, problem)


def _check_when(when: Any, index: int, where: str, lines: _Lines, problem) -> None:
    options = loader.CONDITION_KEYS + ("flags",)
    for item in when if isinstance(when, list) else [when]:
        if not isinstance(item, dict):
            continue
        for key in list(item):
            base = key[4:] if key.startswith("not_") else key
            if base == "flags" or base.startswith("flags.") or base in loader.CONDITION_KEYS:
                continue
            problem(lines.key(index, "when"), ERROR, "unknown-key", f"{where}: unknown condition '{key}'{did_you_mean(base, options)}")
            del item[key]


def _norm(phrase: str) -> str:
    return normalize_phrase(phrase.rstrip("*")).strip()


def _check_phrases(rule: Rule, raw: dict, index: int, where: str, lines: _Lines, problem) -> None:
    p = rule.params
    lists: list[tuple[str, list[str]]] = [(k, list(p.get(k, []))) for k in PHRASE_LISTS if p.get(k)]
    for g, group in enumerate(p.get("groups", []) or []):
        lists.append((f"groups[{g}]", list(group)))
    for k, esc in enumerate(rule.escalate):
        lists.append((f"escalate[{k}].near", list(esc.near)))
    default_line = rule.line
    for name, items in lists:
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
    allow = {_norm(a): a for a in p.get("allow", [])}
    targets = [("phrases", ph) for ph in p.get("phrases", [])]
    targets += [(f"groups[{g}]", ph) for g, group in enumerate(p.get("groups", []) or []) for ph in group]
    for name, phrase in targets:
        if phrase.endswith("*"):
            continue  # `arrest*` with allow `arrest`: only the bare word is allowed, its endings still hit
        norm = _norm(phrase)
        if norm and norm in allow:
            problem(lines.value(index, phrase, rule.line), ERROR, "shadowed",
                    f"{where}: {name} entry {_show(phrase)} is also in 'allow' ({_show(allow[norm])}): every hit lies inside an "
                    "allowed context, so it never fires; remove one of them")


def _check_pattern_literals(rule: Rule, index: int, where: str, lines: _Lines, problem) -> None:
    for pattern in rule.params.get("patterns", []):
        changed = []
        for ch in _pattern_literals(pattern):
            folded = fold_char(ch)
            if folded != ch.lower() and folded != ch.casefold() and ch not in changed:
                changed.append(ch)
        if not changed:
            continue
        shown = ", ".join(f"{_show(c)} → {_show(fold_char(c)) if fold_char(c) else 'removed'}" for c in changed)
        problem(lines.value(index, pattern, lines.key(index, "patterns")), ERROR, "never-matches",
                f"{where}: pattern {pattern!r} is matched on normalised text, where these characters never occur ({shown}); "
                "write the normalised form, or set match_on = \"original\" to match the text as written")


def _check_examples(pack: Pack, raw_rules: list, lines: _Lines, problem) -> None:
    from tmplstudio.policy.selftest import run_pack

    index_of = {}
    for i, raw in enumerate(raw_rules):
        if isinstance(raw, dict) and isinstance(raw.get("id"), str):
            index_of.setdefault((raw["id"], raw.get("variant")), i)
    enabled = replace(pack, rules=tuple(r for r in pack.rules if r.enabled))
    result = run_pack(enabled)
    for r in result.failures:
        index = index_of.get((r.rule.id, r.rule.variant), 0)
        at = lines.value(index, r.example.text, r.example.line or r.rule.line)
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
            res.problems.insert(0, Problem(res.path, _Lines(Path(res.path).read_text(encoding="utf-8-sig")).pack_key("id"),
                                           ERROR, "duplicate-pack", f"pack id '{res.pack_id}' is also used by {first[res.pack_id]}"))
        else:
            first[res.pack_id] = res.path
    return results
