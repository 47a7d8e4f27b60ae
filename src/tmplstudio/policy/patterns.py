"""Policy regular expressions: how each one is read, judged and compiled.

One lexer (``_lex``) reads a pattern into tokens; the load check (``pattern_problem``), the
choice of engine (``compile_pattern``: the fast stdlib engine where backtracking is bounded,
else the `regex` module with a timeout) and `policy lint`'s literal check all work from its
tokens. What needs the real grammar (piece locality, start anchors) uses the stdlib parser's
tree instead (``_syntax_tree``).
"""

from __future__ import annotations

import re
import warnings
from typing import Iterator, NamedTuple

import regex

from tmplstudio.reuse import REUSE

REGEX_TIMEOUT = 0.2  # generous enough for a loaded CI machine; a runaway pattern still stops quickly


class Token(NamedTuple):
    kind: str   # escape, class, open, close, quant, alt, anchor, dot, literal
    text: str


_GROUP_PREFIX = re.compile(r"\(\?(?:P?<[A-Za-z_]\w*>|P=\w+\)|[:=!>|]|<[=!]|[aiLmsux-]+[:)]|#[^)]*\))")
_QUANT_BASE = re.compile(r"[*+?]|\{\d*(?:,\d*)?\}")
_QUANT = re.compile(f"(?:{_QUANT_BASE.pattern})[?+]?")


def _lex(pattern: str) -> Iterator[Token]:
    """The pattern's tokens. A quantifier is one token with its lazy/possessive mark; a
    character class is one token (a ``]`` right after ``[`` or ``[^`` is a member); ``(?:``,
    ``(?P<name>``, ``(?=``, ``(?i)`` and the like are one ``open`` token (an inline-flag group
    that closes itself, such as ``(?i)``, is followed by no ``close``); a ``{`` that does not
    start a ``{m,n}`` is a literal."""
    i, n = 0, len(pattern)
    quantifiable = False  # a quantifier needs something before it; `*` at the start is literal
    while i < n:
        ch = pattern[i]
        if ch == "\\":
            yield Token("escape", pattern[i:i + 2])
            i += 2
            quantifiable = True
            continue
        if ch == "[":
            j = i + 1
            if pattern[j:j + 1] == "^":
                j += 1
            if pattern[j:j + 1] == "]":
                j += 1
            while j < n and pattern[j] != "]":
                j += 2 if pattern[j] == "\\" else 1
            yield Token("class", pattern[i:j + 1])
            i = j + 1
            quantifiable = True
            continue
        if ch == "(":
            m = _GROUP_PREFIX.match(pattern, i) if pattern[i + 1:i + 2] == "?" else None
            text = m.group(0) if m else ("(?" if pattern[i + 1:i + 2] == "?" else "(")
            yield Token("open", text)
            i += len(text)
            quantifiable = text.endswith(")")  # (?i) and (?#...) stand alone
            continue
        if ch == ")":
            yield Token("close", ch)
            i += 1
            quantifiable = True
            continue
        m = _QUANT.match(pattern, i) if quantifiable and ch in "*+?{" else None
        if m:
            yield Token("quant", m.group(0))
            i = m.end()
            quantifiable = False
            continue
        if ch == "|":
            yield Token("alt", ch)
            quantifiable = False
        elif ch in "^$":
            yield Token("anchor", ch)
            quantifiable = True
        elif ch == ".":
            yield Token("dot", ch)
            quantifiable = True
        else:
            yield Token("literal", ch)
            quantifiable = True
        i += 1


def _unbounded(token: Token) -> bool:
    return token.kind == "quant" and (token.text[0] in "*+" or bool(re.match(r"\{\d*,\}", token.text)))


def unbounded_quantifiers(pattern: str) -> int:
    """How many unbounded quantifiers (*, +, {n,}) a pattern has, outside character classes."""
    return sum(1 for t in _lex(pattern) if _unbounded(t))


def literals(pattern: str) -> list[str]:
    """Literal characters of a pattern: outside classes, escapes, group syntax and quantifiers."""
    return [t.text for t in _lex(pattern) if t.kind == "literal"]


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
    tokens = list(_lex(pattern))
    unbounded = sum(1 for t in tokens if _unbounded(t))
    if unbounded > 1 or any(t.kind == "escape" and t.text[1:] in "123456789" and len(t.text) == 2 for t in tokens) \
            or any(t.kind == "open" and t.text.startswith("(?P=") for t in tokens):
        return "unsafe"  # more than one unbounded quantifier, or a backreference
    branching = 1
    prev = ""  # what the quantifier applies to: "atom", "group" or nothing
    for t in tokens:
        if t.kind == "quant":
            q = _QUANT_BASE.match(t.text).group(0)  # without a lazy or possessive mark
            if prev == "group" and q != "?":
                return "unsafe"  # a repeated group: (a|a){1,30}, (?:a?){25}
            if q == "?":
                branching *= 2
            elif q[0] == "{":
                m = re.match(r"\{(\d*)(?:,(\d*))?\}", q)
                low = int(m.group(1) or 0)
                high = int(m.group(2)) if m.group(2) else low
                branching *= max(high - low + 1, 1)
            prev = ""
            if branching > MAX_STDLIB_BRANCHING:
                return "unsafe"
        elif t.kind == "close":
            prev = "group"
        elif t.kind == "open":
            prev = "group" if t.text.endswith(")") else ""
        else:
            prev = "atom"
    return "short" if unbounded else "safe"


# `regex` features whose cost the backtracking analysis above does not see: recursion and
# fuzzy matching always keep the timeout.
_REGEX_ONLY_RISKY = re.compile(r"\(\?(?:R|&|P>|[+-]?[0-9])|\{[^}]*\b[eids]\b[^}]*\}")


@REUSE.cached("patterns.compiled", 4096)
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
            fast = _stdlib_compile(pattern)
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


@REUSE.cached("patterns.syntax_trees", 4096)
def _syntax_tree(pattern: str):
    """The stdlib parser's tree of a pattern (as compiled: case-insensitive), or None for
    syntax only the `regex` module reads. What the loader proves about patterns, it proves here."""
    from re import _parser

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", FutureWarning)
            return _parser.parse(pattern, re.IGNORECASE)
    except Exception:  # noqa: BLE001 - `regex`-only syntax, or not a pattern at all
        return None


def _stdlib_compile(pattern: str):
    """``re.compile``, refusing what the stdlib would read differently from `regex`: a
    "possible nested set" ([[:digit:]], POSIX classes that `regex` knows) is `regex` syntax."""
    with warnings.catch_warnings():
        warnings.simplefilter("error", FutureWarning)
        try:
            return re.compile(pattern, re.IGNORECASE)
        except FutureWarning as exc:
            raise re.error(str(exc)) from None


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


MAX_CLASS_CHARS = 8  # a class of up to this many literal characters is a set of literals


@REUSE.cached("patterns.required_literals", 4096)
def required_literals(pattern: str) -> frozenset[str] | None:
    """Strings one of which every match of ``pattern`` contains (matched case-insensitively, as
    policy patterns are: they are lower case here); None when no such set can be proven.

    A text that contains none of them cannot match, so the engine skips the pattern there with
    a substring test instead of running it (most patterns need a literal such as 回t退订 or
    "reply stop" that most texts lack). Anything the stdlib parser cannot read, and every
    construct not handled below, gives None: the pattern then always runs."""
    from re import _constants as c

    tree = _syntax_tree(pattern)
    if tree is None:
        return None

    def lowered(code: int) -> str | None:
        ch = chr(code)
        if ch.isascii():
            return ch.lower()
        # Outside ASCII only characters without case (汉字, digits, punctuation): case folding
        # (the Kelvin sign for k, dotted I) would make a lower-case substring test miss a match.
        return ch if ch.lower() == ch == ch.upper() else None

    def best(options: list[frozenset[str]]) -> frozenset[str] | None:
        # Fewer, longer strings filter better.
        return max(options, key=lambda s: (min(map(len, s)), -len(s)), default=None)

    def required(seq) -> frozenset[str] | None:
        options: list[frozenset[str]] = []
        run: list[str] = []

        def flush() -> None:
            if run:
                options.append(frozenset(["".join(run)]))
                run.clear()

        for op, av in seq:
            if op is c.LITERAL:
                ch = lowered(av)
                if ch is not None:
                    run.append(ch)
                    continue
                flush()
                continue
            flush()
            found = None
            if op is c.SUBPATTERN:
                found = required(av[3])
            elif op is c.ATOMIC_GROUP:
                found = required(av)
            elif op in (c.MAX_REPEAT, c.MIN_REPEAT, c.POSSESSIVE_REPEAT) and av[0] >= 1:
                found = required(av[2])
            elif op is c.BRANCH:
                alternatives = [required(b) for b in av[1]]
                if all(a is not None for a in alternatives):
                    found = frozenset().union(*alternatives)
            elif op is c.IN and 0 < len(av) <= MAX_CLASS_CHARS and all(o is c.LITERAL for o, _v in av):
                chars = [lowered(v) for _o, v in av]
                if all(ch is not None for ch in chars):
                    found = frozenset(chars)
            if found:
                options.append(found)
        flush()
        return best(options)

    try:
        return required(tree)
    except (TypeError, ValueError):
        return None


@REUSE.cached("patterns.piece_locality", 4096)
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


MAX_REPEAT = 10_000  # counts of nested {m,n} multiplied: (?:a{65535}){65535} matched for 16 s in 5.6 GB


def pattern_problem(pattern: str) -> str | None:
    """Why a policy regex is unusable, or None. Shared with `policy lint`."""
    if _runaway_prone(pattern):
        return "nested unbounded quantifiers (like (a+)+) can run for hours on a short text; rewrite without the outer repetition"
    repeat = _repeat_product(pattern)
    if repeat > MAX_REPEAT:
        return (f"repetition counts ({{m,n}}, nested ones multiplied) reach {repeat:,}; above {MAX_REPEAT:,} matching "
                "can take minutes and gigabytes")
    try:
        _stdlib_compile(pattern)  # the stdlib compiles large classes ~50x faster; most patterns are plain
    except (re.error, OverflowError):
        try:
            regex.compile(pattern, regex.V0)
        except (regex.error, OverflowError) as exc:
            return f"invalid regular expression: {exc}"
    return None


def _repeat_product(pattern: str) -> int:
    """The largest product of ``{m,n}`` counts along one nesting of groups (``*``/``+`` count 1)."""
    frames = [1]   # per open group: the largest product inside it so far
    last = 1       # product of the atom a quantifier would apply to
    for tok in _lex(pattern):
        if tok.kind == "open" and not tok.text.endswith(")"):
            frames.append(1)
            last = 1
        elif tok.kind == "close" and len(frames) > 1:
            last = frames.pop()
            frames[-1] = max(frames[-1], last)
        elif tok.kind == "quant" and tok.text.startswith("{"):
            counts = [int(c) for c in re.findall(r"\d+", tok.text)] or [1]
            last *= max(counts)
            frames[-1] = max(frames[-1], last)
        elif tok.kind != "quant":
            last = 1
    return max(frames)


