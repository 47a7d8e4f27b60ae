"""Normalisation for matching, with a map from every normalised character back to the original.

Evaders write 上 门, 上門, ｐｏｌｉｃｅ, a-r-r-e-s-t or hide zero-width characters in a word. We
match policies on a folded copy of the text and keep, for each folded character, the span of
original characters it came from, so a finding always highlights what the author typed.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache

# Characters that are invisible or only steer rendering; they never belong inside a word.
_INVISIBLE_RANGES = (
    (0x200B, 0x200F), (0x202A, 0x202E), (0x2060, 0x2064), (0x2066, 0x2069),
    (0xFE00, 0xFE0F), (0xFEFF, 0xFEFF), (0x00AD, 0x00AD), (0x180E, 0x180E),
    (0xE0000, 0xE007F), (0xE0100, 0xE01EF), (0x034F, 0x034F),
)

# Latin look-alikes from Cyrillic and Greek, folded for matching only (never for display).
_HOMOGLYPHS = str.maketrans({
    "а": "a", "е": "e", "о": "o", "р": "p", "с": "c", "х": "x", "у": "y", "і": "i", "ј": "j",
    "ѕ": "s", "ԁ": "d", "ԛ": "q", "ԝ": "w", "ο": "o", "ρ": "p", "α": "a", "ι": "i", "κ": "k",
    "ν": "v", "τ": "t", "υ": "u", "χ": "x",
})

# Private-use characters mark rendering provenance (see render/sandbox.py); they are dropped here too.
_PUA = (0xE000, 0xF8FF)


def is_invisible(ch: str) -> bool:
    cp = ord(ch)
    for lo, hi in _INVISIBLE_RANGES:
        if lo <= cp <= hi:
            return True
    return unicodedata.category(ch) == "Cf"


def is_han(ch: str) -> bool:
    cp = ord(ch)
    return (0x4E00 <= cp <= 0x9FFF or 0x3400 <= cp <= 0x4DBF or 0x20000 <= cp <= 0x2A6DF
            or 0xF900 <= cp <= 0xFAFF)


_converter = None


def _t2s(ch: str) -> str:
    global _converter
    if _converter is None:
        import opencc  # imported lazily: only Chinese text pays for it

        _converter = opencc.OpenCC("t2s")
    return _converter.convert(ch)


@lru_cache(maxsize=65536)
def fold_char(ch: str) -> str:
    """The matching form of one character ('' when it should vanish)."""
    if is_invisible(ch):
        return ""
    cp = ord(ch)
    if _PUA[0] <= cp <= _PUA[1]:
        return ""
    if cp < 128:
        return ch.lower()
    out = unicodedata.normalize("NFKC", ch).casefold().translate(_HOMOGLYPHS)
    out = "".join(c for c in out if unicodedata.category(c) != "Mn")
    if out and any(is_han(c) for c in out):
        out = "".join(_t2s(c) if is_han(c) else c for c in out)
    return out


# Between two Han characters, up to three separator characters are evasion, not punctuation.
# Sentence punctuation (，。！？；：、) is kept: it is how Chinese is written.
_SEPARATOR_CATEGORIES = {"Zs", "Pd", "Pc", "Po", "So", "Sk", "Sm", "Cc"}
_KEEP_PUNCT = set("，。！？；：、,!?;:\n\r\"'()（）【】《》<>\ufffc")


def _is_separator(ch: str) -> bool:
    if ch in _KEEP_PUNCT:
        return False
    if ch in " \t.-_*/\\|~·•+=#":
        return True
    cat = unicodedata.category(ch)
    return cat in _SEPARATOR_CATEGORIES or (0x1F000 <= ord(ch) <= 0x1FAFF)


# Three or more single Latin letters joined by separators: a-r-r-e-s-t, a r r e s t, a.r.r.e.s.t
_SPACED_LATIN = re.compile(r"(?<![a-z0-9])[a-z](?:[\s.\-_*·/]{1,2}[a-z](?![a-z0-9])){2,}")


@dataclass(frozen=True)
class Normalized:
    """Folded text plus, for each folded character, the [start, end) span of original characters."""

    original: str
    text: str
    starts: tuple[int, ...]
    ends: tuple[int, ...]

    def span(self, start: int, end: int) -> tuple[int, int]:
        """Original span covering normalised [start, end)."""
        if not self.text:
            return (0, 0)
        start = min(max(start, 0), len(self.text) - 1)
        end = min(max(end, start + 1), len(self.text))
        return self.starts[start], self.ends[end - 1]


def normalize(text: str) -> Normalized:
    chars: list[str] = []
    starts: list[int] = []
    ends: list[int] = []
    for i, ch in enumerate(text):
        folded = fold_char(ch)
        for c in folded:
            chars.append(c)
            starts.append(i)
            ends.append(i + 1)
    # Fold separators between two Han characters (上 门, 上.门, 上😀门).
    drop = [False] * len(chars)
    n = len(chars)
    i = 0
    while i < n:
        if is_han(chars[i]):
            j = i + 1
            while j < n and j - i - 1 < 3 and _is_separator(chars[j]):
                j += 1
            if j > i + 1 and j < n and is_han(chars[j]):
                for k in range(i + 1, j):
                    drop[k] = True
                i = j
                continue
        i += 1
    if any(drop):
        chars = [c for c, d in zip(chars, drop) if not d]
        starts = [s for s, d in zip(starts, drop) if not d]
        ends = [e for e, d in zip(ends, drop) if not d]
    # Runs of spaces collapse to one space, runs with a line break to one line break, so
    # "Reply  STOP" matches "reply stop" and sentence breaks survive.
    if any(c in " \t\n\r\xa0" for c in chars):
        chars, starts, ends = _collapse_space(chars, starts, ends)
    folded = "".join(chars)
    if _SPACED_LATIN.search(folded):
        keep = [True] * len(folded)
        for m in _SPACED_LATIN.finditer(folded):
            for k in range(m.start(), m.end()):
                if not folded[k].isalpha():
                    keep[k] = False
        folded = "".join(c for c, k in zip(folded, keep) if k)
        starts = [s for s, k in zip(starts, keep) if k]
        ends = [e for e, k in zip(ends, keep) if k]
    return Normalized(text, folded, tuple(starts), tuple(ends))


def _collapse_space(chars: list[str], starts: list[int], ends: list[int]):
    out_c: list[str] = []
    out_s: list[int] = []
    out_e: list[int] = []
    for c, s, e in zip(chars, starts, ends):
        if c in " \t\n\r":
            c = "\n" if c in "\n\r" else " "
            if out_c and out_c[-1] in " \n":
                if c == "\n":
                    out_c[-1] = "\n"
                out_e[-1] = e
                continue
        out_c.append(c)
        out_s.append(s)
        out_e.append(e)
    return out_c, out_s, out_e


def normalize_phrase(phrase: str) -> str:
    """Phrases in packs go through the same folding so authors may write them naturally."""
    return normalize(phrase).text
