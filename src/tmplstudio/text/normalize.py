"""Normalisation for matching, with a map from every normalised character back to the original.

Evaders write 上 门, 上門, ｐｏｌｉｃｅ, a-r-r-e-s-t, pоlice with a Cyrillic о, hide zero-width
characters or Hangul fillers in a word, divide it with marks (上丶门), reverse it behind a
bidi override, or split it with markup in an e-mail. We match policies on a folded copy of the
text and keep, for each folded character, the span of original characters it came from, so a
finding always highlights what the author typed.

What each character is (ignorable, blank, a divider, a look-alike) comes from Unicode's own
data: ``chars`` (properties), ``confusables`` (UTS #39), ``bidi`` (UAX #9 overrides) and
``markup`` (HTML e-mail bodies).
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

from tmplstudio.reuse import REUSE
from tmplstudio.text import bidi, chars as charinfo, confusables, markup as html_markup

# Typographic quotes and dashes, so "can’t" matches "can't" and "—" a hyphen. (Punctuation,
# not letters: the look-alike letters come from Unicode's confusables, text/confusables.py.)
_TYPOGRAPHIC = str.maketrans({
    "\u2018": "'", "\u2019": "'", "\u02bc": "'", "\u2032": "'", "\u201c": '"', "\u201d": '"',
    "\u2013": "-", "\u2014": "-", "\u2212": "-",
})

# Private-use characters mark rendering provenance (see render/sandbox.py); they are dropped here too.
_PUA = (0xE000, 0xF8FF)


def is_invisible(ch: str) -> bool:
    """Rendered as nothing (default-ignorable or a format character)."""
    return charinfo.is_ignorable(ch)


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


@REUSE.cached("text.fold_char", 65536)
def fold_char(ch: str) -> str:
    """The matching form of one character ('' when it should vanish)."""
    cp = ord(ch)
    if cp < 128:
        return ch.lower()
    if _PUA[0] <= cp <= _PUA[1] or charinfo.is_ignorable(ch):
        return ""
    blank = charinfo.blank_fold(ch)
    if blank is not None:
        return blank
    out = "".join(_fold_one(c) for c in unicodedata.normalize("NFKC", ch)).translate(_TYPOGRAPHIC)
    if out and any(is_han(c) for c in out):
        out = "".join(_t2s(c) if is_han(c) else c for c in out)
    return out


def _fold_one(c: str) -> str:
    """One character of a character's NFKC form: lower case, look-alikes folded, marks dropped."""
    if c.isascii():
        return c.lower()
    if is_han(c):
        return c
    category = unicodedata.category(c)
    if category in ("Mn", "Me"):
        return ""  # combining marks: strike-through, zalgo, accents left over by NFKC
    if category[0] not in "LN":
        if 0x2E80 <= ord(c) <= 0x2FDF:  # CJK Radicals Supplement (⻔): NFKC leaves them
            return confusables.radical(c) or c
        return c
    if category == "Lu":
        # A capital is read as the capital it looks like (Greek Ι is I, not the l that Unicode's
        # skeleton gives every I): fold its lower case where that folds whole.
        lower = _latin_only(c.casefold())
        if lower is not None:
            return lower
    found = _latin_only(c)
    if found is not None:
        return found
    return "".join(_latin_only(f) or f for f in c.casefold() if unicodedata.category(f) not in ("Mn", "Me"))


def _latin_only(text: str) -> str | None:
    """``text`` as ASCII letters and digits (accents dropped, look-alikes folded), or None
    when a character of it is neither."""
    out = []
    for f in text:
        if f.isascii():
            out.append(f.lower())
            continue
        base = unicodedata.normalize("NFD", f)
        if base[0].isascii() and all(unicodedata.category(m) == "Mn" for m in base[1:]):
            out.append(base[0].lower())  # é, ò (pinyin tone marks): the letter without its accent
            continue
        found = confusables.latin(f)
        if found is None:
            return None
        out.append(found)
    return "".join(out)


# Three or more single Latin letters joined by one repeated separator: a-r-r-e-s-t,
# a r r e s t, a.r.r.e.s.t. The separator must stay the same so a neighbouring one-letter
# word is not glued on ("A l-a-w-s-u-i-t" is "a lawsuit", not "alawsuit").
_SPACED_LATIN = re.compile(r"(?<![a-z0-9])[a-z](?P<sep>[ .\-_*·/])[a-z](?:(?P=sep)[a-z]){1,}(?![a-z0-9])")
# Once a sentence spaces words out, its two-letter words (b e, i s) are spaced out too. (Texts
# are normalised a sentence piece at a time, see ``normalize``: the sentence is the scope.)
_SPACED_PAIR = re.compile(r"(?<![a-z0-9])(?<![a-z0-9][ .\-_*·/])[a-z][ .\-_*·/][a-z](?![a-z0-9])(?![ .\-_*·/][a-z0-9])")


@dataclass(frozen=True)
class Normalized:
    """Folded text plus, for each folded character, the [start, end) span of original characters."""

    original: str
    text: str
    starts: "tuple[int, ...] | list[int] | range"
    ends: "tuple[int, ...] | list[int] | range"
    # (start in ``text``, normalised piece) for each piece when the text was normalised piece
    # by piece (see ``normalize``); empty when ``text`` is one piece.
    pieces: tuple[tuple[int, str], ...] = ()

    def span(self, start: int, end: int) -> tuple[int, int]:
        """Original span covering normalised [start, end)."""
        if not self.text:
            return (0, 0)
        start = min(max(start, 0), len(self.text) - 1)
        end = min(max(end, start + 1), len(self.text))
        return self.starts[start], self.ends[end - 1]


_FOLD: dict[str, str] = {}

# Separator runs (1-3 characters) between two Han characters: anything that is neither a word
# character (letters, digits, Han) nor sentence punctuation. The stdlib engine runs this in
# microseconds; a Unicode-category class in the `regex` module took ~0.2 ms per text.
_HAN = "\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"
_HAN_GAP = re.compile(
    rf"(?<=[{_HAN}])(?:[^\w{_HAN}，。！？；：、,!?;:\n\r\"'()（）【】《》<>\ufffc]|_){{1,3}}(?=[{_HAN}])"
)
# Spaces or dots between a Han character and a Latin letter or digit (加 QQ, 加.QQ, 微 信 vx).
_HAN_LATIN_GAP = re.compile(r"(?<=[\u4e00-\u9fff])[ .·\-_*]{1,2}(?=[a-z0-9])|(?<=[a-z0-9])[ .·\-_*]{1,2}(?=[\u4e00-\u9fff])")
# Leetspeak inside a Latin word (p0lice, j@il, arr3st): folded only when every character then
# is a letter, so numbers, codes (95xxx, 11010519491231002x) and amounts are never touched.
_LEET = str.maketrans({"0": "o", "1": "i", "3": "e", "4": "a", "5": "s", "7": "t", "@": "a", "$": "s"})
_LEET_WORD = re.compile(r"(?<![a-z0-9@$])(?=[a-z0-9@$]*[a-z])(?=[a-z0-9@$]*[0134579@$])[a-z0-9@$]{3,}(?![a-z0-9@$])")
_SPACE_RUN = re.compile(r"[ \t\r\n]{2,}|[\t\r]")


# Per character, learnt on first sight: its fold (for str.translate), whether it folds to
# anything but exactly one character, and which later passes could possibly apply to it.
# Most texts need none of the regex passes; the flags skip them without scanning.
_TABLE: dict[int, str] = {}
_IRREGULAR: set[str] = set()
_FLAGS: dict[str, int] = {}
_KNOWN: set[str] = set()
_F_HAN, _F_GAP, _F_LATIN, _F_DIGIT, _F_LEET, _F_HLSEP, _F_SPSEP, _F_SPACE, _F_MARK = (1 << k for k in range(9))
# Divider marks (kana, jamo, one-stroke radicals: text/chars.py) read as a separator ("·")
# when the Han gaps are looked for; between two Han characters they fold away like one.
_DIVIDERS: dict[int, str] = {}
_GAP_EXCLUDED = set("，。！？；：、,!?;:\n\r\"'()（）【】《》<>\ufffc")


def _char_flags(folded: str) -> int:
    flags = 0
    for c in folded:
        if c in _DIVIDER_CACHE or (not c.isascii() and _is_divider(c)):
            flags |= _F_MARK
        if is_han(c):
            flags |= _F_HAN
        elif c == "_" or not (c.isalnum() or c in _GAP_EXCLUDED):  # what _HAN_GAP may fold
            flags |= _F_GAP
        if "a" <= c <= "z":
            flags |= _F_LATIN
        if "0" <= c <= "9":
            flags |= _F_DIGIT
        if c in "0134579@$":
            flags |= _F_LEET
        if c in " .·-_*":
            flags |= _F_HLSEP
        if c in " .-_*·/":
            flags |= _F_SPSEP
        if c in " \t\r\n":
            flags |= _F_SPACE
    return flags


_DIVIDER_CACHE: set[str] = set()


def _is_divider(c: str) -> bool:
    if charinfo.is_divider_mark(c):
        _DIVIDER_CACHE.add(c)
        _DIVIDERS[ord(c)] = "·"
        return True
    return False


def _learn(chars: set[str]) -> None:
    for c in chars:
        out = fold_char(c)
        _FOLD[c] = out
        _TABLE[ord(c)] = out
        if len(out) != 1:
            _IRREGULAR.add(c)
        _FLAGS[c] = _char_flags(out)
        _KNOWN.add(c)  # last: a known character is fully learnt (threads)


# Texts are normalised piece by piece, each piece ending after a run of sentence punctuation
# that no folding step looks across (Han gaps keep it, Latin folds need letters around it).
# While a template is edited only the piece being typed in is new; the others, and every
# sentence repeated across samples and templates, come from the cache, and so do their
# phrase occurrences, word boundaries and pattern matches (policy/engine.py).
PIECE_END = "。？?；;"
# Pieces (and what is derived from them) kept in memory: a template has a few dozen, an editing
# session a few hundred; a run over 10,000 templates stays within its memory budget.
PIECES_KEPT = 2048
_PIECE = re.compile(r"[^。？?；;]*[。？?；;]+|[^。？?；;]+")


def pieces(text: str) -> list[str]:
    """``text`` cut after each run of sentence punctuation; the pieces join back to it."""
    return _PIECE.findall(text)


def normalize(text: str, markup: bool = False) -> Normalized:
    """Fold ``text`` for matching, keeping the map back to its characters. With ``markup``
    (an HTML e-mail body) the text is first read as its reader sees it (text/markup.py); text
    with a bidi override is read in display order (text/bidi.py)."""
    if markup and html_markup.looks_like_markup(text):
        return _through(text, *html_markup.decode(text))
    if bidi.has_override(text):
        return _through(text, *bidi.visual(text))
    return _normalize_text(text)


def _through(original: str, seen: str, seen_starts: list[int], seen_ends: list[int]) -> Normalized:
    """Normalise ``seen`` (what a reader sees of ``original``) and map it back to ``original``."""
    if bidi.has_override(seen):
        inner = normalize(seen)  # markup that spelt a bidi override (&#8238;)
    else:
        inner = _normalize_text(seen)
    starts = [seen_starts[s] for s in inner.starts]
    ends = [seen_ends[e - 1] for e in inner.ends]
    return Normalized(original, inner.text, starts, ends, inner.pieces)


def _normalize_text(text: str) -> Normalized:
    if len(text) < 16 or not any(c in text for c in PIECE_END):
        return _normalize(text)
    parts = pieces(text)
    if len(parts) == 1:
        return _normalize_piece(text)
    done = [_normalize_piece(p) for p in parts]
    folded = "".join(n.text for n in done)
    regular = all(type(n.starts) is range for n in done)
    if regular:
        starts: list[int] | range = range(len(text))
        ends: list[int] | range = range(1, len(text) + 1)
    else:
        starts, ends = [], []
        raw = 0
        for part, n in zip(parts, done):
            if raw:
                starts.extend(s + raw for s in n.starts)
                ends.extend(e + raw for e in n.ends)
            else:
                starts.extend(n.starts)
                ends.extend(n.ends)
            raw += len(part)
    at = 0
    spans = []
    for n in done:
        spans.append((at, n.text))
        at += len(n.text)
    return Normalized(text, folded, starts, ends, tuple(spans))


@REUSE.cached("text.normalized_pieces", PIECES_KEPT)
def _normalize_piece(piece: str) -> Normalized:
    return _normalize(piece)


def _normalize(text: str) -> Normalized:
    chars = set(text)
    if not _KNOWN.issuperset(chars):
        _learn(chars - _KNOWN)
    folded = text.translate(_TABLE)
    if _IRREGULAR.isdisjoint(chars):
        # The common case: every character folds to exactly one character.
        starts: list[int] | range = range(len(text))
        ends: list[int] | range = range(1, len(text) + 1)
    else:
        starts, ends = [], []
        for i, ch in enumerate(text):
            for _c in _FOLD[ch]:
                starts.append(i)
                ends.append(i + 1)
    flags = 0
    for c in chars:
        flags |= _FLAGS[c]
    if not flags & (_F_GAP | _F_LATIN | _F_DIGIT | _F_SPACE | _F_MARK):
        return Normalized(text, folded, starts, ends)
    han = flags & _F_HAN
    # Fold separators and divider marks between two Han characters (上 门, 上.门, 上😀门,
    # 上丶门, 上の门). A line break stays: in a template's literal text it may be a tag, so
    # phrase matching alone reads across it (text/views.py).
    if han and flags & (_F_GAP | _F_MARK):
        probe = folded.translate(_DIVIDERS) if flags & _F_MARK else folded
        gaps = list(_HAN_GAP.finditer(probe))
        if gaps:
            keep = [True] * len(folded)
            for m in gaps:
                for k in range(m.start(), m.end()):
                    keep[k] = False
            folded, starts, ends = _apply_keep(folded, starts, ends, keep)
    if flags & _F_LATIN and flags & _F_LEET and _LEET_WORD.search(folded):
        def unleet(m: re.Match) -> str:
            word = m.group(0).translate(_LEET)
            return word if word.isalpha() else m.group(0)

        folded = _LEET_WORD.sub(unleet, folded)  # same length: the offset map is unchanged
    if han and flags & _F_HLSEP and flags & (_F_LATIN | _F_DIGIT) and _HAN_LATIN_GAP.search(folded):
        keep = [True] * len(folded)
        for m in _HAN_LATIN_GAP.finditer(folded):
            for k in range(m.start(), m.end()):
                keep[k] = False
        folded, starts, ends = _apply_keep(folded, starts, ends, keep)
    # Before spaces collapse, so a double space still separates spaced-out words.
    if flags & _F_LATIN and flags & _F_SPSEP and _SPACED_LATIN.search(folded):
        keep = [True] * len(folded)
        for m in [*_SPACED_LATIN.finditer(folded), *_SPACED_PAIR.finditer(folded)]:
            for k in range(m.start(), m.end()):
                if not folded[k].isalpha():
                    keep[k] = False
        folded, starts, ends = _apply_keep(folded, starts, ends, keep)
    # Runs of spaces collapse to one space, runs with a line break to one line break, so
    # "Reply  STOP" matches "reply stop" and sentence breaks survive.
    if flags & _F_SPACE and _SPACE_RUN.search(folded):
        chars, starts, ends = _collapse_space(list(folded), list(starts), list(ends))
        folded = "".join(chars)
    return Normalized(text, folded, starts, ends)


def _apply_keep(folded: str, starts, ends, keep: list[bool]):
    return (
        "".join(c for c, k in zip(folded, keep) if k),
        [s for s, k in zip(starts, keep) if k],
        [e for e, k in zip(ends, keep) if k],
    )


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


@REUSE.cached("text.normalized_phrases", 65536)
def normalize_phrase(phrase: str) -> str:
    """Phrases in packs go through the same folding so authors may write them naturally."""
    return _normalize(phrase).text
