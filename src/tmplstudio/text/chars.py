"""What a character is to a reader, from Unicode's own properties (the `regex` module's
``\\p{...}`` classes), never from a hand-typed list.

Senders hide a phrase from a filter with characters the reader does not see or reads past:
zero-width and other default-ignorable code points, fillers that render blank, exotic spaces,
and marks used as dividers between Chinese characters (上丶门, 上の门). Each question here is
asked once per distinct character (``normalize.fold_char`` and the normaliser's per-character
table remember the answer), so the property lookups cost nothing on the keystroke path.
"""

from __future__ import annotations

import unicodedata

import regex

# Default_Ignorable_Code_Point: what a renderer shows nothing for where it has no glyph --
# zero-width spaces and joiners, bidi controls, variation selectors, tag characters, the
# Hangul fillers (U+115F, U+1160, U+3164, U+FFA0), the soft hyphen. Cf adds the other
# format characters (U+0600 and the like) the normaliser always dropped.
_IGNORABLE = regex.compile(r"[\p{Default_Ignorable_Code_Point}\p{Cf}]")
# U+2800 BRAILLE PATTERN BLANK renders as an empty cell, yet Unicode lists it neither as
# White_Space nor as default-ignorable (it is a real Braille symbol: no dots). It is the one
# blank-looking code point the properties miss, so it is named here and read as a space.
BRAILLE_BLANK = "\u2800"
# White_Space beyond the word space: the typographic spaces (en quad ... hair space, narrow
# no-break, medium mathematical, ogham). The word spaces U+0020, U+00A0 and the ideographic
# space U+3000 stay spaces; line and paragraph separators are line breaks (NFKC keeps them, so
# they are mapped to "\n" here). A typographic space inside a word is how "arr\u2009est"
# keeps a filter from seeing "arrest", and a reader from seeing the gap.
_WHITE = regex.compile(r"\p{White_Space}")
_WORD_SPACES = frozenset(" \u00a0\u3000\t\n\r\x0b\x0c\x85")
_LINE_BREAKS = frozenset("\u2028\u2029\x85\x0b\x0c")
# Kana letters (hiragana, katakana and the marks both share: ー ゝ ゞ) never stand inside a
# Chinese word: between two Chinese characters they are dividers (上の门, 上ノ门).
_KANA = regex.compile(r"[\p{scx=Hiragana}\p{scx=Katakana}]")
# Hangul letters on their own (jamo, not syllables): ㅣ (U+3163, NFKC U+1175) for a bar.
_HANGUL_JAMO = regex.compile(r"[\p{Block=Hangul_Jamo}\p{Block=Hangul_Compatibility_Jamo}"
                             r"\p{Block=Hangul_Jamo_Extended_A}\p{Block=Hangul_Jamo_Extended_B}]")


def is_ignorable(ch: str) -> bool:
    """Rendered as nothing: it never belongs inside a word."""
    return _IGNORABLE.match(ch) is not None


def blank_fold(ch: str) -> str | None:
    """What a blank-looking character folds to: "" (typographic spaces vanish), " " (Braille
    blank), "\\n" (line and paragraph separators), or None when it is not such a character."""
    if ch == BRAILLE_BLANK:
        return " "
    if ch in _LINE_BREAKS:
        return "\n"
    if ch not in _WORD_SPACES and _WHITE.match(ch):
        return ""
    return None


def _one_stroke_radicals() -> frozenset[str]:
    """The unified ideographs of the one-stroke Kangxi radicals (the first six of the radical
    block: 一 丨 丶 丿 乙 亅) that are not common characters (GB 2312 level 1): 丨 丶 丿 亅.
    They are strokes, not words -- 一 ("one") and 乙 are words and stay."""
    out = set()
    for cp in range(0x2F00, 0x2F06):
        han = unicodedata.normalize("NFKC", chr(cp))
        if not is_common_han(han):
            out.add(han)
    return frozenset(out)


def is_common_han(ch: str) -> bool:
    """One of GB 2312's 3,755 level-1 characters (常用字, lead bytes 0xB0-0xD7): the characters
    of everyday Chinese text. Radical forms used only inside characters (扌 亻 氵 阝 讠), and
    stroke characters (丶 丿), are level 2 or not in GB 2312 at all."""
    try:
        encoded = ch.encode("gb2312")
    except UnicodeEncodeError:
        return False
    return len(encoded) == 2 and 0xB0 <= encoded[0] <= 0xD7


_STROKE_MARKS: frozenset[str] | None = None


def is_divider_mark(ch: str) -> bool:
    """A letter-like character that, between two Chinese characters, only divides them: kana,
    Hangul compatibility jamo, and the one-stroke radicals (上丶门, 上ノ门, 上ㅣ门)."""
    global _STROKE_MARKS
    if _STROKE_MARKS is None:
        _STROKE_MARKS = _one_stroke_radicals()
    if ch in _STROKE_MARKS:
        return True
    if not unicodedata.category(ch).startswith("L"):
        return False  # punctuation and symbols are separators already
    return _KANA.match(ch) is not None or _HANGUL_JAMO.match(ch) is not None
