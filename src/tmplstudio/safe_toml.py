"""Every TOML read goes through ``loads``: tomllib, after the text is checked for what tomllib
cannot survive.

tomllib parses nested arrays and inline tables by recursion (``x = [[[[…`` 5,000 deep is a
``RecursionError``), builds one dict per part of a dotted key (20,000 parts take 5 s and
1.6 GB; 100,000 a ``MemoryError``) and turns integer literals into ``int`` (5,001 digits is a
``ValueError`` from Python's integer-string limit). Front matter, packs, ``tmplstudio.toml``
and the approvals files are all written by someone else, so before tomllib sees the text one
linear scan (strings and comments skipped) refuses:

* arrays and inline tables nested deeper than ``MAX_DEPTH``;
* a key or table header with more than ``MAX_KEY_PARTS`` dotted parts;
* a number (or date) literal longer than ``MAX_NUMBER_CHARS`` characters.

Every refusal, and anything tomllib raises, is a ``TomlError``: a ``tomllib.TOMLDecodeError``
(callers' handlers keep working) whose message ends with "(at line N, column M)".
"""

from __future__ import annotations

import tomllib
from typing import Any

MAX_DEPTH = 32          # a pack nests 3 levels; TOML written by hand rarely more than 5
MAX_KEY_PARTS = 16      # `[approval.folders."production"]` is 3
MAX_NUMBER_CHARS = 64   # a 64-bit integer is 20 digits; an offset date-time with fractions ~35


class TomlError(tomllib.TOMLDecodeError):
    def __init__(self, message: str, line: int | None = None, column: int | None = None):
        if line is not None:
            message = f"{message} (at line {line}, column {column or 1})"
        ValueError.__init__(self, message)  # TOMLDecodeError's own signature differs between Pythons
        self.line, self.column = line, column


def loads(text: str) -> dict[str, Any]:
    check_bounds(text)
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError:
        raise
    except (RecursionError, MemoryError, ValueError, OverflowError) as exc:  # belt and braces
        raise TomlError(f"cannot be read: {exc}") from None


def check_bounds(text: str) -> None:
    """Raise TomlError at the first place ``text`` is nested too deep, has too many key parts
    or too long a number. Does not judge anything else (tomllib does)."""
    i, n = 0, len(text)
    line, line_start = 1, 0
    stack: list[str] = []      # "[" (array) or "{" (inline table)
    mode = "key"               # key | header | value
    parts = 1

    def fail(message: str, at: int) -> None:
        raise TomlError(message, line, at - line_start + 1)

    while i < n:
        c = text[i]
        if c == "\n":
            line, line_start = line + 1, i + 1
            if not stack:
                mode, parts = "key", 1
            i += 1
            continue
        if c == "#":
            nl = text.find("\n", i)
            i = n if nl < 0 else nl
            continue
        if c in "\"'":
            start = i
            triple = text.startswith(c * 3, i)
            if triple:
                close = text.find(c * 3, i + 3)
                while c == '"' and close > 0 and _escaped(text, close):
                    close = text.find(c * 3, close + 1)
                end = n if close < 0 else close + 3
                while end < n and text[end] == c and end - close < 5:
                    end += 1  # up to two quotes may end the string's content
            else:
                j = i + 1
                while j < n and text[j] != c and text[j] != "\n":
                    j += 2 if (c == '"' and text[j] == "\\") else 1
                end = min(j + 1, n)
            newlines = text.count("\n", start, end)
            if newlines:
                line += newlines
                line_start = text.rfind("\n", start, end) + 1
            i = end
            continue
        if mode == "key":
            if c == "[" and not stack:
                mode, parts = "header", 1
            elif c == ".":
                parts += 1
                if parts > MAX_KEY_PARTS:
                    fail(f"a key has more than {MAX_KEY_PARTS} dotted parts", i)
            elif c == "=":
                mode = "value"
            elif c == "}" and stack:
                stack.pop()
                mode = "value"
        elif mode == "header":
            if c == ".":
                parts += 1
                if parts > MAX_KEY_PARTS:
                    fail(f"a table header has more than {MAX_KEY_PARTS} dotted parts", i)
            elif c == "]":
                mode = "value"  # the rest of the line: only a comment may follow
        else:
            if c in "[{":
                stack.append(c)
                if len(stack) > MAX_DEPTH:
                    fail(f"arrays and inline tables are nested more than {MAX_DEPTH} deep", i)
                mode, parts = ("key", 1) if c == "{" else ("value", 1)
            elif c in "]}":
                if stack:
                    stack.pop()
            elif c == "," and stack and stack[-1] == "{":
                mode, parts = "key", 1
            elif c.isdigit() or (c in "+-" and i + 1 < n and text[i + 1].isdigit()):
                j = i + 1
                while j < n and (text[j].isalnum() or text[j] in "_.:+-"):
                    j += 1
                if j - i > MAX_NUMBER_CHARS:
                    fail(f"a number of {j - i:,} characters (numbers are limited to {MAX_NUMBER_CHARS})", i)
                i = j
                continue
        i += 1


def _escaped(text: str, at: int) -> bool:
    """Is the character at ``at`` preceded by an odd number of backslashes?"""
    k = at - 1
    while k >= 0 and text[k] == "\\":
        k -= 1
    return (at - 1 - k) % 2 == 1
