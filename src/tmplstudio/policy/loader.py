"""Load and strictly validate policy packs.

A rule that silently cannot fire is the worst failure a compliance linter can have (Vale's
recurring bug class), so every unknown key, wrong type, invalid or runaway-prone regex and
unknown rule kind is an InputError naming the file and line.
"""

from __future__ import annotations

import re
import tomllib
from functools import lru_cache
from pathlib import Path
from typing import Any

import regex

from tmplstudio.errors import InputError
from tmplstudio.policy.model import RULE_KINDS, Escalation, Example, Fix, Pack, Rule, Severity
from tmplstudio.policy.sources import parse_sources
from tmplstudio.template.meta import did_you_mean

PACK_KEYS = ("id", "title", "version", "description", "locales", "channels", "jurisdictions", "providers", "categories", "sources")
RULE_COMMON = ("id", "variant", "kind", "severity", "message", "explanation", "source", "suggestion", "fix", "when", "escalate", "examples", "enabled")
KIND_KEYS: dict[str, tuple[str, ...]] = {
    "phrases": ("phrases", "allow", "not_after", "not_before", "context", "boundary"),
    "near": ("groups", "within", "ordered", "allow", "not_after", "not_before", "context", "boundary"),
    "pattern": ("patterns", "validate", "allow", "match_on"),
    "required": ("any", "patterns", "position", "window"),
    "variables": ("checks", "sensitive", "mask_filters"),
    "length": ("counting", "limits"),
    "send_window": ("allowed",),
}
REQUIRED_PARAM = {"phrases": "phrases", "near": "groups", "pattern": "patterns", "variables": "checks", "length": "limits", "send_window": "allowed"}
VARIABLE_CHECKS = ("masking", "samples", "edges", "adjacent", "all-variable", "embedded")
CONDITION_KEYS = ("channel", "locale", "language", "jurisdiction", "category", "sender_role", "audience", "stage", "providers")
MAX_MAX_MATCH = 5_000
_ID = re.compile(r"^[a-z0-9][a-z0-9\-]*$")
_TOML_POS = re.compile(r"\(at line (\d+), column (\d+)\)")
# A group holding an unbounded quantifier, itself repeated without bound: (a+)+, (\w*)*, (x+y)+{2,}
_NESTED_QUANTIFIER = re.compile(r"\(((?:[^()\\]|\\.)*[+*](?:[^()\\]|\\.)*)\)(?:[+*]|\{\d*,\})")
# ...unless each repetition must start or end with a fixed character, like (?:\.[a-z]+)* in a domain name:
# then repetitions cannot overlap and matching stays linear.
_ANCHORED_GROUP = re.compile(r"^(?:\?[:!=<]+)?(?:\\[.\-/@:]|[^\\\[\](){}.*+?|^$])(?![*+?{])")


def _runaway_prone(pattern: str) -> bool:
    for m in _NESTED_QUANTIFIER.finditer(pattern):
        body = m.group(1)
        ends_fixed = body[-1] not in "*+?}])." and not (len(body) > 1 and body[-2] == "\\" and body[-1] in "dwsDWSbB")
        if not _ANCHORED_GROUP.match(body) and not ends_fixed:
            return True
    return False


def unbounded_quantifiers(pattern: str) -> int:
    """How many unbounded quantifiers (*, +, {n,}) a pattern has, outside character classes."""
    count = 0
    i = 0
    in_class = False
    while i < len(pattern):
        ch = pattern[i]
        if ch == "\\":
            i += 2
            continue
        if in_class:
            in_class = ch != "]"
        elif ch == "[":
            in_class = True
            if pattern[i + 1:i + 2] == "]":
                i += 1
        elif ch in "*+" and not (i > 0 and pattern[i - 1] in "*+?}"):
            count += 1
        elif ch == "{" and re.match(r"\{\d*,\}", pattern[i:]):
            count += 1
        i += 1
    return count


MAX_STDLIB_BRANCHING = 1_000


def stdlib_safe(pattern: str) -> bool:
    """Can this pattern run on the stdlib engine (which has no timeout) without risk?

    Only when backtracking is bounded per start position: no unbounded quantifier at all
    (even one is quadratic: ``\\s*x`` on 100,000 spaces takes minutes), no quantifier on a
    group other than an optional ``(...)?`` (``(a|a){1,30}``, ``(?:a?){25}``), no
    backreference, and few choices in total (the product of the bounded repetitions'
    ranges, ``?`` counting 2: ``\\d{1,200}\\d{1,200}x`` is 40,000 per position).
    """
    return _stdlib_class(pattern) == "safe"


SHORT_TEXT = 2_000  # up to here even a quadratic scan is a few milliseconds


def _stdlib_class(pattern: str) -> str:
    """"safe", "short" (one unbounded quantifier: fine on short texts only) or "unsafe"."""
    unbounded = unbounded_quantifiers(pattern)
    if unbounded > 1 or re.search(r"\\[1-9]|\(\?P=", pattern):
        return "unsafe"
    branching = 1
    i = 0
    in_class = False
    prev = ""
    while i < len(pattern):
        ch = pattern[i]
        if ch == "\\":
            prev = "atom"
            i += 2
            continue
        if in_class:
            if ch == "]":
                in_class = False
                prev = "atom"
            i += 1
            continue
        if ch == "[":
            in_class = True
            if pattern[i + 1:i + 2] == "^":
                i += 1
            if pattern[i + 1:i + 2] == "]":
                i += 1
        elif ch == "?" and prev in ("atom", "group"):
            branching *= 2
            prev = "quantifier"
        elif ch == "{":
            m = re.match(r"\{(\d*)(?:,(\d*))?\}", pattern[i:])
            if m and prev in ("atom", "group"):
                if prev == "group":
                    return "unsafe"
                low = int(m.group(1) or 0)
                high = int(m.group(2)) if m.group(2) else low
                branching *= max(high - low + 1, 1)
                prev = "quantifier"
                i += len(m.group(0))
                if pattern[i:i + 1] in ("?", "+"):
                    i += 1  # lazy or possessive
                continue
            prev = "atom"
        elif ch == ")":
            prev = "group"
        elif ch == "(":
            prev = ""
        elif ch in "*+" and prev in ("atom", "group"):
            if prev == "group":
                return "unsafe"
            prev = "quantifier"
        elif ch in "?*+":
            prev = "quantifier"  # a lazy marker after a quantifier
        else:
            prev = "atom"
        if branching > MAX_STDLIB_BRANCHING:
            return "unsafe"
        i += 1
    return "short" if unbounded else "safe"


# `regex` features whose cost the backtracking analysis above does not see: recursion and
# fuzzy matching always keep the timeout.
_REGEX_ONLY_RISKY = re.compile(r"\(\?(?:R|&|P>|[+-]?[0-9])|\{[^}]*\b[eids]\b[^}]*\}")


@lru_cache(maxsize=4096)
def compile_pattern(pattern: str):
    """Compile a policy regex for matching on normalised (lower-case) text.

    Patterns whose backtracking is bounded per position (see ``stdlib_safe``) use the stdlib
    engine, which is far faster on large character classes (a 3,000-character class of
    Traditional characters: 4 us instead of 0.7 ms). Patterns with one unbounded quantifier
    (and otherwise simple) use it on texts up to SHORT_TEXT characters. Everything else uses
    the `regex` module, whose per-call timeout bounds any pattern, including the ones the
    load check cannot recognise as runaway (``(a|a)*b``, ``(?:a?){25}a{25}``).
    Returns (compiled, supports_timeout).
    """
    kind = _stdlib_class(pattern)
    if kind != "unsafe":
        try:
            fast = re.compile(pattern, re.IGNORECASE)
        except re.error:
            # Syntax only `regex` knows (variable-width lookbehind, \p{Han}): its backtracking
            # is bounded the same way, so it needs no timeout where the stdlib would not.
            try:
                fast = None if _REGEX_ONLY_RISKY.search(pattern) else _NoTimeout(regex.compile(pattern, regex.V0 | regex.IGNORECASE))
            except regex.error:
                fast = None
        if fast is not None:
            if _anchored_at_start(pattern):
                fast = _AtStart(fast)
            if kind == "safe":
                return fast, False
            return _ShortTextsOnStdlib(fast, pattern), True
    return regex.compile(pattern, regex.V0 | regex.IGNORECASE), True


@lru_cache(maxsize=4096)
def _syntax_tree(pattern: str):
    """The stdlib parser's tree of a pattern (as compiled: case-insensitive), or None for
    syntax only the `regex` module reads. What the loader proves about patterns, it proves here."""
    from re import _parser

    try:
        return _parser.parse(pattern, re.IGNORECASE)
    except Exception:  # noqa: BLE001 - `regex`-only syntax, or not a pattern at all
        return None


def _anchored_at_start(pattern: str) -> bool:
    """Does every match start at the text's start (a leading ^ or \\A, not multi-line)?"""
    from re import _constants as c

    tree = _syntax_tree(pattern)
    if tree is None:
        return False
    return (len(tree) > 0 and tree[0][0] is c.AT and tree[0][1] in (c.AT_BEGINNING, c.AT_BEGINNING_STRING)
            and not tree.state.flags & re.MULTILINE)


class _AtStart:
    """A pattern anchored at the start can only match there: one attempt instead of one at
    every position of the text."""

    __slots__ = ("inner",)

    def __init__(self, inner):
        self.inner = inner

    def finditer(self, text: str, timeout: float | None = None):
        m = self.inner.match(text)
        return iter(() if m is None else (m,))

    def match(self, text: str):
        return self.inner.match(text)


@lru_cache(maxsize=4096)
def piece_local(pattern: str) -> bool:
    """Can every match of ``pattern`` be found piece by piece (text/normalize.py)?

    True when no match, lookaround included, can take in the punctuation pieces end with, in
    normalised or in original text, and
    the pattern has no start/end anchors: then a match never runs from one piece into the
    next and sees the same neighbours either way, so each piece's matches can be cached.
    Anything the stdlib parser cannot read, or cannot prove, is matched on the whole text.
    """
    from re import _constants as c

    # The pieces' ends in normalised text (。?;) and in original text (also ？；).
    ends = {ord(ch) for ch in "。?;？；"}
    tree = _syntax_tree(pattern)
    if tree is None:
        return False

    def listed(items, ch: int) -> bool:
        for op, av in items:
            if (op is c.LITERAL and av == ch) or (op is c.RANGE and av[0] <= ch <= av[1]):
                return True
        return False

    def in_class(items) -> bool:
        if any(op is c.NEGATE for op, _av in items):  # [^，。！？；\n] is fine, [^a] is not
            return all(listed(items, e) for e in ends)
        for op, av in items:
            if op is c.LITERAL and av in ends:
                return False
            if op is c.RANGE and any(av[0] <= e <= av[1] for e in ends):
                return False
            if op is c.CATEGORY and av not in (c.CATEGORY_DIGIT, c.CATEGORY_WORD, c.CATEGORY_SPACE, c.CATEGORY_LINEBREAK):
                return False
        return True

    def local(seq) -> bool:
        for op, av in seq:
            if op is c.LITERAL:
                if av in ends:
                    return False
            elif op is c.IN:
                if not in_class(av):
                    return False
            elif op is c.AT:
                if av not in (c.AT_BOUNDARY, c.AT_NON_BOUNDARY, c.AT_UNI_BOUNDARY, c.AT_UNI_NON_BOUNDARY,
                              c.AT_LOC_BOUNDARY, c.AT_LOC_NON_BOUNDARY):
                    return False
            elif op in (c.MAX_REPEAT, c.MIN_REPEAT, c.POSSESSIVE_REPEAT):
                if not local(av[2]):
                    return False
            elif op is c.SUBPATTERN:
                if not local(av[3]):
                    return False
            elif op is c.ATOMIC_GROUP:
                if not local(av):
                    return False
            elif op is c.BRANCH:
                if not all(local(b) for b in av[1]):
                    return False
            elif op in (c.ASSERT, c.ASSERT_NOT):
                if not local(av[1]):
                    return False
            elif op is c.GROUPREF_EXISTS:
                if not local(av[1]) or (av[2] is not None and not local(av[2])):
                    return False
            elif op is c.GROUPREF:
                continue
            else:  # ANY, NOT_LITERAL and whatever else: may take in anything
                return False
        return True

    return local(tree)


class _ShortTextsOnStdlib:
    """A pattern with one unbounded quantifier: the fast stdlib engine on texts up to
    SHORT_TEXT characters (its worst case there is quadratic in a short text), the `regex`
    module with its timeout on longer ones (compiled when first needed: texts are matched a
    sentence at a time, so most runs never need it)."""

    __slots__ = ("std", "_rx", "pattern")

    def __init__(self, std, pattern: str):
        self.std, self._rx, self.pattern = std, None, pattern

    @property
    def rx(self):
        if self._rx is None:
            try:
                self._rx = regex.compile(self.pattern, regex.V0 | regex.IGNORECASE)
            except regex.error:  # stdlib-only syntax: keep the fast engine
                self._rx = _NoTimeout(self.std)
        return self._rx

    def finditer(self, text: str, timeout: float | None = None):
        if len(text) <= SHORT_TEXT:
            return self.std.finditer(text)
        return self.rx.finditer(text, timeout=timeout)


class _NoTimeout:
    """A compiled pattern called without a time limit, whatever the caller offers."""

    __slots__ = ("inner",)

    def __init__(self, inner):
        self.inner = inner

    def finditer(self, text: str, timeout: float | None = None):
        return self.inner.finditer(text)

    def match(self, text: str):
        return self.inner.match(text)


def pattern_problem(pattern: str) -> str | None:
    """Why a policy regex is unusable, or None. Shared with `policy lint`."""
    if _runaway_prone(pattern):
        return "nested unbounded quantifiers (like (a+)+) can run for hours on a short text; rewrite without the outer repetition"
    try:
        re.compile(pattern)  # the stdlib compiles large classes ~50x faster; most patterns are plain
    except re.error:
        try:
            regex.compile(pattern, regex.V0)
        except regex.error as exc:
            return f"invalid regular expression: {exc}"
    return None


class _RuleLines:
    """Best-effort line numbers for [[rules]] blocks and keys (tomllib keeps no positions)."""

    def __init__(self, text: str):
        self.rule_lines: list[int] = []
        self.lines = text.split("\n")
        for n, line in enumerate(self.lines, 1):
            if re.match(r"\s*\[\[\s*rules\s*\]\]", line):
                self.rule_lines.append(n)

    def rule(self, index: int) -> int | None:
        return self.rule_lines[index] if index < len(self.rule_lines) else None

    def key(self, index: int, key: str) -> int | None:
        start = self.rule(index)
        if start is None:
            return None
        end = self.rule_lines[index + 1] if index + 1 < len(self.rule_lines) else len(self.lines) + 1
        for n in range(start, end):
            if re.match(rf"\s*(\[\[?\s*rules\.)?{re.escape(key)}\b", self.lines[n - 1]):
                return n
        return start


def str_list_reader(path: Path):
    """A reader for keys that take a string or a list of strings; errors name ``path``."""
    def str_list(value: Any, what: str, line: int | None = None) -> tuple[str, ...]:
        if value is None:
            return ()
        if isinstance(value, str):
            return (value,)
        if isinstance(value, list) and all(isinstance(v, str) for v in value):
            return tuple(value)
        raise InputError(f"{what} must be a string or a list of strings", path, line)

    return str_list


def load_pack(path: Path, bundled: bool = False) -> Pack:
    path = Path(path)
    try:
        data_bytes = path.read_bytes()
    except FileNotFoundError:
        raise InputError("no such policy pack", path) from None
    except OSError as exc:
        raise InputError(f"cannot read policy pack: {exc.strerror or exc}", path) from None
    try:
        text = data_bytes.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise InputError("policy pack is not valid UTF-8 text", path) from None
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        msg = str(exc)
        m = _TOML_POS.search(msg)
        line, col = (int(m.group(1)), int(m.group(2))) if m else (None, None)
        raise InputError(f"not valid TOML: {_TOML_POS.sub('', msg).strip()}", path, line, col) from None
    return build_pack(data, path, text, bundled)


def build_pack(data: dict[str, Any], path: Path, text: str = "", bundled: bool = False) -> Pack:
    lines = _RuleLines(text)

    def fail(message: str, line: int | None = None) -> InputError:
        return InputError(message, path, line)

    for key in data:
        if key not in ("pack", "rules"):
            raise fail(f"unknown top-level key '{key}'{did_you_mean(key, ['pack', 'rules'])}; a pack has [pack] and [[rules]]")
    header = data.get("pack")
    if not isinstance(header, dict):
        raise fail("missing [pack] table (id, title, version, ...)")
    for key in header:
        if key not in PACK_KEYS:
            raise fail(f"unknown key '{key}' in [pack]{did_you_mean(key, PACK_KEYS)}")
    pack_id = header.get("id")
    if not isinstance(pack_id, str) or not _ID.match(pack_id):
        raise fail("[pack] id must be a lower-case kebab-case string, e.g. \"zh-collections\"")

    str_list = str_list_reader(path)

    raw_rules = data.get("rules", [])
    if not isinstance(raw_rules, list):
        raise fail("'rules' must be an array of tables: [[rules]]")
    rules: list[Rule] = []
    seen: dict[str, list[str | None]] = {}
    for index, raw in enumerate(raw_rules):
        line = lines.rule(index)
        rule = _build_rule(raw, pack_id, index, lines, fail, str_list)
        variants = seen.setdefault(rule.id, [])
        if variants and (rule.variant is None or None in variants or rule.variant in variants):
            raise fail(f"duplicate rule id '{rule.id}' in pack '{pack_id}'; when one rule needs several matchers or "
                       f"conditions, give each entry a distinct `variant = \"...\"`", line)
        variants.append(rule.variant)
        rules.append(rule)
    return Pack(
        id=pack_id,
        title=str(header.get("title", pack_id)),
        version=str(header.get("version", "0")),
        path=str(path),
        rules=tuple(rules),
        description=str(header.get("description", "")),
        locales=tuple(l.lower() for l in str_list(header.get("locales"), "[pack] locales")),
        channels=str_list(header.get("channels"), "[pack] channels"),
        jurisdictions=tuple(j.upper() for j in str_list(header.get("jurisdictions"), "[pack] jurisdictions")),
        providers=tuple(p.lower() for p in str_list(header.get("providers"), "[pack] providers")),
        categories=str_list(header.get("categories"), "[pack] categories"),
        sources=parse_sources(header.get("sources"), "[pack]", lambda m: fail(m, next((n for n, l in enumerate(lines.lines, 1) if re.match(r"\s*sources\s*=", l)), None))),
        bundled=bundled,
    )


def _build_rule(raw: Any, pack_id: str, index: int, lines: _RuleLines, fail, str_list) -> Rule:
    line = lines.rule(index)
    if not isinstance(raw, dict):
        raise fail("each [[rules]] entry must be a table", line)
    rule_id = raw.get("id")
    if not isinstance(rule_id, str) or not _ID.match(rule_id):
        raise fail("rule id must be a lower-case kebab-case string, e.g. \"visit-threat\"", line)
    where = f"rule '{rule_id}'"
    kind = raw.get("kind")
    if kind not in RULE_KINDS:
        raise fail(f"{where}: unknown kind {kind!r}{did_you_mean(str(kind), RULE_KINDS)}; kinds: {', '.join(RULE_KINDS)}", lines.key(index, "kind"))
    allowed = RULE_COMMON + KIND_KEYS[kind]
    for key in raw:
        if key not in allowed:
            raise fail(f"{where}: unknown key '{key}' for kind '{kind}'{did_you_mean(key, allowed)}", lines.key(index, key))
    try:
        severity = Severity(raw.get("severity", ""))
    except ValueError:
        raise fail(f"{where}: severity must be error, warning or info", lines.key(index, "severity")) from None
    message = raw.get("message")
    if not isinstance(message, str) or not message.strip():
        raise fail(f"{where}: 'message' is required", line)
    req = REQUIRED_PARAM.get(kind)
    if req and req not in raw:
        raise fail(f"{where}: kind '{kind}' needs '{req}'", line)
    if kind == "required" and not (raw.get("any") or raw.get("patterns")):
        raise fail(f"{where}: kind 'required' needs 'any' (phrases) or 'patterns'", line)
    params = {k: raw[k] for k in KIND_KEYS[kind] if k in raw}
    ex_line: list[int | None] = []

    def examples_line() -> int | None:
        if not ex_line:
            ex_line.append(lines.key(index, "examples"))
        return ex_line[0]

    _check_params(kind, params, where, lambda key: lines.key(index, key), fail, str_list)
    return Rule(
        id=rule_id,
        kind=kind,
        severity=severity,
        message=message.strip(),
        explanation=str(raw.get("explanation", "")).strip(),
        source=parse_sources(raw.get("source"), where, lambda m: fail(m, lines.key(index, "source"))),
        pack_id=pack_id,
        params=params,
        suggestion=raw.get("suggestion"),
        fix=_build_fix(raw.get("fix"), where, lambda: lines.key(index, "fix"), fail),
        when=_build_when(raw.get("when"), where, lambda: lines.key(index, "when"), fail),
        escalate=_build_escalations(raw.get("escalate"), where, lambda: lines.key(index, "escalate"), fail),
        hit_examples=_build_examples(raw.get("examples"), "hit", where, examples_line, fail),
        ok_examples=_build_examples(raw.get("examples"), "ok", where, examples_line, fail),
        enabled=bool(raw.get("enabled", True)),
        line=line,
        variant=_variant(raw.get("variant"), where, fail, line),
    )


def _variant(value: Any, where: str, fail, line) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str) or not _ID.match(value):
        raise fail(f"{where}: variant must be a short kebab-case name, e.g. \"initial\"", line)
    return value


def _check_params(kind: str, params: dict[str, Any], where: str, line_of, fail, str_list) -> None:
    for key in ("phrases", "allow", "not_after", "not_before", "any", "sensitive", "mask_filters", "checks"):
        if key in params:
            params[key] = list(str_list(params[key], f"{where}: '{key}'", line_of(key)))
            if any(not p.strip() for p in params[key]):
                raise fail(f"{where}: '{key}' contains an empty string", line_of(key))
    for key in ("context", "within", "window"):
        if key in params and (not isinstance(params[key], int) or isinstance(params[key], bool) or params[key] < 0):
            raise fail(f"{where}: '{key}' must be a non-negative whole number", line_of(key))
    if "boundary" in params and params["boundary"] not in ("word", "substring"):
        raise fail(f"{where}: boundary must be \"word\" or \"substring\"", line_of("boundary"))
    if kind == "near":
        groups = params["groups"]
        if not isinstance(groups, list) or len(groups) < 2 or not all(isinstance(g, list) and g and all(isinstance(t, str) and t.strip() for t in g) for g in groups):
            raise fail(f"{where}: 'groups' must be two or more non-empty lists of phrases", line_of("groups"))
    if "patterns" in params:
        pats = list(str_list(params["patterns"], f"{where}: 'patterns'", line_of("patterns")))
        for p in pats:
            problem = pattern_problem(p)
            if problem:
                raise fail(f"{where}: pattern {p!r}: {problem}", line_of("patterns"))
        params["patterns"] = pats
    if "match_on" in params and params["match_on"] not in ("normalized", "original"):
        raise fail(f"{where}: match_on must be \"normalized\" or \"original\"", line_of("match_on"))
    if "validate" in params and params["validate"] not in ("luhn", "cn-id"):
        raise fail(f"{where}: validate must be \"luhn\" or \"cn-id\"", line_of("validate"))
    if "position" in params and params["position"] not in ("anywhere", "start", "end"):
        raise fail(f"{where}: position must be anywhere, start or end", line_of("position"))
    if kind == "variables":
        for check in params["checks"]:
            if check not in VARIABLE_CHECKS:
                raise fail(f"{where}: unknown variables check '{check}'{did_you_mean(check, VARIABLE_CHECKS)}", line_of("checks"))
    if kind == "length":
        if "counting" in params and params["counting"] not in ("gsm", "cn"):
            raise fail(f"{where}: counting must be \"gsm\" or \"cn\"", line_of("counting"))
        limits = params["limits"]
        if not isinstance(limits, list) or not limits:
            raise fail(f"{where}: 'limits' must be a list like [{{ segments = 2, severity = \"warning\" }}]", line_of("limits"))
        for lim in limits:
            if not isinstance(lim, dict) or not (set(lim) <= {"segments", "chars", "severity"}) or not ({"segments", "chars"} & set(lim)):
                raise fail(f"{where}: each limit needs 'segments' or 'chars' (and optional 'severity')", line_of("limits"))
            if "severity" in lim and lim["severity"] not in ("error", "warning", "info"):
                raise fail(f"{where}: limit severity must be error, warning or info", line_of("limits"))
    if kind == "send_window":
        if not isinstance(params["allowed"], str) or not re.match(r"^\d\d:\d\d-\d\d:\d\d$", params["allowed"]):
            raise fail(f"{where}: 'allowed' must look like \"08:00-21:00\"", line_of("allowed"))


def _build_when(value: Any, where: str, line, fail) -> tuple[dict[str, Any], ...]:
    if value is None:
        return ()
    items = value if isinstance(value, list) else [value]
    out = []
    for item in items:
        if not isinstance(item, dict):
            raise fail(f"{where}: 'when' must be a table or a list of tables", line())
        flat: dict[str, Any] = {}
        for key, val in item.items():
            if key in ("flags", "not_flags") and isinstance(val, dict):  # flags.x = … written as a dotted key
                for flag, fv in val.items():
                    flat[f"{key}.{flag}"] = fv
                continue
            base = key[4:] if key.startswith("not_") else key
            if base not in CONDITION_KEYS and not base.startswith("flags."):
                raise fail(f"{where}: unknown condition '{key}'{did_you_mean(base, CONDITION_KEYS + ('flags',))}", line())
            flat[key] = val
        out.append(flat)
    return tuple(out)


def _build_fix(value: Any, where: str, line, fail) -> Fix | None:
    if value is None:
        return None
    if not isinstance(value, dict):
        raise fail(f"{where}: 'fix' must be a table such as {{ replace = \"...\" }}", line())
    for key in value:
        if key not in ("replace", "replacements", "prepend", "append"):
            raise fail(f"{where}: unknown fix key '{key}'{did_you_mean(key, ('replace', 'replacements', 'prepend', 'append'))}", line())
    repl = value.get("replacements", {})
    if not isinstance(repl, dict):
        raise fail(f"{where}: fix.replacements must be a table of phrase = replacement", line())
    return Fix(value.get("replace"), {str(k): str(v) for k, v in repl.items()}, value.get("prepend"), value.get("append"))


def _build_escalations(value: Any, where: str, line, fail) -> tuple[Escalation, ...]:
    if value is None:
        return ()
    if not isinstance(value, list):
        raise fail(f"{where}: 'escalate' must be [[rules.escalate]] tables", line())
    out = []
    for item in value:
        if not isinstance(item, dict):
            raise fail(f"{where}: each escalate entry must be a table", line())
        for key in item:
            if key not in ("severity", "when", "near", "within"):
                raise fail(f"{where}: unknown escalate key '{key}'{did_you_mean(key, ('severity', 'when', 'near', 'within'))}", line())
        try:
            sev = Severity(item.get("severity", ""))
        except ValueError:
            raise fail(f"{where}: escalate severity must be error, warning or info", line()) from None
        near = item.get("near", [])
        near = [near] if isinstance(near, str) else near
        if not isinstance(near, list) or not all(isinstance(n, str) and n.strip() for n in near):
            raise fail(f"{where}: escalate 'near' must be a list of phrases", line())
        if not near and "when" not in item:
            raise fail(f"{where}: an escalate entry needs 'near' or 'when'", line())
        out.append(Escalation(sev, _build_when(item.get("when"), where, line, fail), tuple(near), int(item.get("within", 20))))
    return tuple(out)


def _build_examples(value: Any, side: str, where: str, line, fail) -> tuple[Example, ...]:
    if value is None:
        return ()
    if not isinstance(value, dict):
        raise fail(f"{where}: 'examples' must be a table with 'hit' and 'ok' lists", line())
    for key in value:
        if key not in ("hit", "ok"):
            raise fail(f"{where}: unknown examples key '{key}'{did_you_mean(key, ('hit', 'ok'))}", line())
    out = []
    for item in value.get(side, []) or []:
        if isinstance(item, str):
            out.append(Example(item, {}, line()))
        elif isinstance(item, dict) and isinstance(item.get("text"), str) and set(item) <= {"text", "meta", "severity"}:
            meta = item.get("meta", {})
            if not isinstance(meta, dict):
                raise fail(f"{where}: example meta must be a table of front-matter keys", line())
            if "severity" in item and (side != "hit" or item["severity"] not in ("error", "warning", "info")):
                raise fail(f"{where}: an example's severity (error, warning or info) is what a hit example must report", line())
            out.append(Example(item["text"], meta, line(), Severity(item["severity"]) if "severity" in item else None))
        else:
            raise fail(f"{where}: each {side} example must be a string or {{ text = \"...\", meta = {{...}}, severity = \"...\" }}", line())
    return tuple(out)


def find_packs(folder: Path) -> list[Path]:
    return sorted(p for p in Path(folder).glob("*.toml") if p.is_file())
