"""Look-alike characters folded for matching, generated from Unicode's confusables data
(UTS #39 ``confusables.txt``, as the `confusable-homoglyphs` package ships it).

Two tables, both built the first time a character needs one and kept for the process:

* **Latin letters and digits**: a letter or digit of another script (or a Latin one outside
  ASCII) that Unicode lists as confusable with exactly one ASCII letter or digit folds to it,
  lower case -- Cyrillic а, Greek ο, Armenian օ, Cherokee Ꭺ, Latin ɑ and ı. Symbols and
  punctuation are left alone (○ and × stay separators), and so is every Chinese, Japanese and
  Korean character: 門 stays 門 and becomes 门 through OpenCC only.
* **CJK radicals**: a radical code point (Kangxi Radicals, CJK Radicals Supplement) that Unicode
  lists as confusable with one unified ideograph folds to it (⻔ -> 门, ⻓ -> 长). NFKC already
  folds the Kangxi block; the supplement has no decomposition, so only this table sees ⻔.
"""

from __future__ import annotations

import json
import threading
import unicodedata
from importlib import resources

import regex

_lock = threading.Lock()
_latin: dict[str, str] | None = None
_radicals: dict[str, str] | None = None
LOADS = 0  # how many times the data was read in this process (tests: once at most)

# Scripts whose characters are never folded to Latin: what CJK text is written in.
_CJK = regex.compile(r"[\p{scx=Han}\p{scx=Hiragana}\p{scx=Katakana}\p{scx=Bopomofo}\p{scx=Hangul}\p{scx=Yi}]")
_RADICAL = regex.compile(r"\p{Radical}")
_UNIFIED = regex.compile(r"\p{Unified_Ideograph}")


def _load() -> None:
    global _latin, _radicals, LOADS
    with _lock:
        if _latin is not None:
            return
        data = json.loads(resources.files("confusable_homoglyphs").joinpath("confusables.json").read_text("utf-8"))
        latin: dict[str, str] = {}
        radicals: dict[str, str] = {}
        for source, glyphs in data.items():
            if len(source) != 1 or source.isascii():
                continue
            targets = [g["c"] for g in glyphs if len(g["c"]) == 1]
            if _RADICAL.match(source):
                unified = [t for t in targets if _UNIFIED.match(t)]
                if len(unified) == 1:
                    radicals[source] = unified[0]
                continue
            if unicodedata.category(source)[0] not in "LN" or _CJK.match(source):
                continue
            ascii_ = {t.lower() for t in targets if t.isascii() and t.isalnum()}
            if len(ascii_) == 1:
                latin[source] = ascii_.pop()
        _radicals = radicals
        _latin = latin  # last: a reader that sees it set sees both tables
        LOADS += 1


def latin(ch: str) -> str | None:
    """The ASCII letter or digit (lower case) that ``ch`` is a look-alike of, or None."""
    if _latin is None:
        _load()
    return _latin.get(ch)


def radical(ch: str) -> str | None:
    """The unified ideograph that the radical code point ``ch`` stands for, or None."""
    if _radicals is None:
        _load()
    return _radicals.get(ch)
