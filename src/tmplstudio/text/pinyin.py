"""Phrases found by their sound: homophones (尚门 for 上门), pinyin (zuo lao, zhua bu, zuò láo)
and the two mixed (gong安, 上men), for the rules that opt in (``pinyin = true``).

Each opted-in phrase is turned into its toneless pinyin once, when the rule set is built
(pypinyin, with its phrase dictionary for the reading in context: 曝光 is bao guang). A text
is read as a row of syllable tokens -- each Chinese character with all its readings, each
Latin word as the syllables it spells -- and a window of tokens whose syllables are a
phrase's is an occurrence of that phrase, at the characters the window covers.

Sound alone would find phrases everywhere Chinese has homophones (看你 sounds like 砍你, 通知
like 同志), so a window made only of Chinese characters counts only when it keeps a content
character of the phrase in place (尚门 keeps 门; 看你 keeps only the pronoun of 砍你) and none
of the characters it replaces stands in a word of the text as written (催收时间 holds 收时, a
homophone of 收尸, but 时 belongs to 时间; 法院通知 is 法院 and 通知, not 法院同志). A character
is read with its common reading (pypinyin lists the commonest first), and with the readings it
has in the phrases: a rare reading (提 as shi) makes no homophone. The rule's word-boundary
checks then apply as to any phrase. A window with Latin letters is always deliberate: Chinese
text has no other reason to spell a phrase in pinyin.

The readings of the characters come from pypinyin's dictionary, read when the rule set is
built and kept in it -- for the characters of GB 2312 (the 6,763 an input method offers for a
syllable, which is how a homophone is typed) and the phrases' own, and only their readings
among the syllables the phrases use -- so evaluating a template never imports pypinyin: a rule
set loaded from the per-user cache reads no pinyin data at all.
"""

from __future__ import annotations

import re
import unicodedata
from typing import Iterable, NamedTuple

from tmplstudio.text.normalize import is_han

MIN_SYLLABLES = 2
# What may stand between two Latin words of one pinyin phrase (zuo lao, gong'an, zhua-bu).
_LATIN_LINK = re.compile(r"[ '\-.·_]{1,2}")


class Found(NamedTuple):
    owner: int
    role: str
    start: int
    end: int
    phrase: str


def toneless(reading: str) -> str:
    """shàng -> shang, lǜ -> lv (pypinyin's spelling of ü)."""
    decomposed = unicodedata.normalize("NFD", reading).replace("u\u0308", "v")
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def _latin(syllable: str) -> str:
    return syllable.replace("v", "u")  # lü is written lu (or lv) in Latin letters


class _Token(NamedTuple):
    start: int
    end: int
    han: str          # the character, for a Chinese token; "" for a Latin word
    word: str         # the Latin word ("" for a Chinese token, or a word with digits)


class SoundIndex:
    """The pinyin of every opted-in phrase, and the readings of the characters that sound like them."""

    def __init__(self) -> None:
        self._phrases: list[tuple[tuple[str, ...], int, str, str]] = []  # (syllables, owner, role, phrase)
        self.owners: set[int] = set()
        self._readings: dict[str, tuple[str, ...]] = {}  # character -> its readings the phrases use
        # Phrases by their first syllables, so a text's characters look up few candidates:
        # two-syllable phrases by both, longer ones by their first three (or first two, when
        # the third is spelt in Latin letters), any phrase by its first alone.
        self._two: dict[tuple[str, str], list[int]] = {}
        self._three: dict[tuple[str, str, str], list[int]] = {}
        self._long_two: dict[tuple[str, str], list[int]] = {}
        self._by_first: dict[str, list[int]] = {}
        self._by_first_latin: dict[str, list[int]] = {}
        self._pending: list[tuple[str, int, str]] = []

    def __bool__(self) -> bool:
        return bool(self._phrases)

    def __getstate__(self) -> dict:
        return {"_phrases": self._phrases, "owners": self.owners, "_readings": self._readings}

    def __setstate__(self, state: dict) -> None:
        self.__init__()
        self.__dict__.update(state)
        self._index()

    def add(self, phrase: str, owner: int, role: str) -> None:
        """``phrase`` is normalised; only phrases written in Chinese characters are added."""
        if len(phrase) < MIN_SYLLABLES or not all(is_han(c) for c in phrase):
            return
        self._pending.append((phrase, owner, role))
        self.owners.add(owner)

    def build(self) -> None:
        """Work out the pinyin of the phrases added (pypinyin is imported here, and only here)."""
        pending = self._pending
        if not pending:
            self._index()
            return
        from pypinyin import Style, lazy_pinyin
        from pypinyin.pinyin_dict import pinyin_dict

        # One call for every phrase (a line break between them keeps each phrase's context its own).
        # (errors=list: a character without a reading stays one item of its own.)
        readings = iter(lazy_pinyin("\n".join(p for p, _o, _r in pending), style=Style.TONE, errors=list))
        for phrase, owner, role in pending:
            syllables = tuple(toneless(next(readings)) for _ in phrase)
            next(readings, None)  # the line break
            if all(s.isalpha() and s.isascii() for s in syllables):
                self._phrases.append((syllables, owner, role, phrase))
        self._pending = []
        wanted = {s for syllables, *_ in self._phrases for s in syllables}
        in_phrases: dict[str, set[str]] = {}
        for syllables, _owner, _role, phrase in self._phrases:
            for ch, syllable in zip(phrase, syllables):
                in_phrases.setdefault(ch, set()).add(syllable)
        readings: dict[str, tuple[str, ...]] = {}
        for ch in _gb2312_han() | set(in_phrases):
            listed = pinyin_dict.get(ord(ch))
            if listed is None:
                continue
            common = {toneless(listed.split(",")[0])} | in_phrases.get(ch, set())
            found = tuple(sorted(common & wanted))
            if found:
                readings[ch] = found
        self._readings = readings
        self._index()

    def _index(self) -> None:
        self._two, self._three, self._long_two, self._by_first, self._by_first_latin = {}, {}, {}, {}, {}
        for k, (syllables, *_rest) in enumerate(self._phrases):
            if len(syllables) == 2:
                self._two.setdefault(syllables, []).append(k)
            else:
                self._three.setdefault(syllables[:3], []).append(k)
                self._long_two.setdefault(syllables[:2], []).append(k)
            self._by_first.setdefault(syllables[0], []).append(k)
            self._by_first_latin.setdefault(_latin(syllables[0]), []).append(k)

    def scan(self, text: str, owners: Iterable[int] | None = None, words=None, is_word=None,
             function_chars: frozenset[str] = frozenset()) -> list[Found]:
        """Occurrences, by sound, of the phrases of ``owners`` (every owner: None) in normalised
        ``text``. For the homophone guards: ``words(text)`` gives the (start, end) of its words
        as written, ``is_word(s)`` whether ``s`` is a dictionary word, and ``function_chars``
        are the pronouns and particles that do not count as a kept character."""
        if not self._phrases:
            return []
        wanted = None if owners is None else set(owners)
        tokens = _tokens(text)
        if len(tokens) < MIN_SYLLABLES:
            return []
        readings = self._readings
        found: list[Found] = []
        for t, token in enumerate(tokens):
            if token.han:
                first = readings.get(token.han, ())
                if not first:
                    continue
                after = tokens[t + 1] if t + 1 < len(tokens) else None
                if after is None or not _linked(text, token, after):
                    continue  # a phrase has two syllables or more: nothing goes on from here
                second = after if after.han else None
                if second is None:  # the second syllable is spelt in Latin letters
                    starts = [k for a in first for k in self._by_first.get(a, ())]
                else:
                    # The next character is the phrase's second syllable, the one after it its third.
                    pairs = [(a, b) for a in first for b in readings.get(second.han, ())]
                    starts = [k for pair in pairs for k in self._two.get(pair, ())]
                    third = _next_han(tokens, t + 1, text)
                    if third is None:
                        starts += [k for pair in pairs for k in self._long_two.get(pair, ())]
                    else:
                        starts += [k for a, b in pairs for c in readings.get(third.han, ())
                                   for k in self._three.get((a, b, c), ())]
            else:
                starts = [k for length in range(1, min(6, len(token.word)) + 1)
                          for k in self._by_first_latin.get(token.word[:length], ())]
            for k in starts:
                syllables, owner, role, phrase = self._phrases[k]
                if wanted is not None and owner not in wanted:
                    continue
                end = _walk(tokens, t, syllables, readings, text)
                if end is None:
                    continue
                s, e = tokens[t].start, tokens[end].end
                window = text[s:e]
                if window == phrase:
                    continue  # the phrase as written: the automaton found it already
                if all(tok.han for tok in tokens[t:end + 1]) and not _homophone(
                        text, s, phrase, words, is_word, function_chars):
                    continue
                found.append(Found(owner, role, s, e, phrase))
        return found


def _next_han(tokens: list[_Token], t: int, text: str) -> _Token | None:
    """The token after ``t`` if it is a Chinese character that touches it."""
    if t + 1 < len(tokens) and tokens[t + 1].han and _linked(text, tokens[t], tokens[t + 1]):
        return tokens[t + 1]
    return None


def _homophone(text: str, at: int, phrase: str, words, is_word, function_chars) -> bool:
    """Is ``text[at:at + len(phrase)]``, all Chinese characters, the phrase written with
    homophones (the guards of the module docstring)?"""
    window = text[at:at + len(phrase)]
    kept = [c for c, p in zip(window, phrase) if c == p]
    if not any(c not in function_chars for c in kept):
        return False
    replaced = [at + k for k, (c, p) in enumerate(zip(window, phrase)) if c != p]
    if words is not None and is_word is not None:
        for ws, we in words(text):
            if we - ws >= 2 and any(ws <= k < we for k in replaced) and is_word(text[ws:we]):
                return False  # the character stands in a word of its own
    return True


def _gb2312_han() -> set[str]:
    """The 6,763 Chinese characters of GB 2312 (rows 16-87 of its 94x94 table)."""
    out = set()
    for row in range(0xB0, 0xF8):
        for cell in range(0xA1, 0xFF):
            try:
                ch = bytes((row, cell)).decode("gb2312")
            except UnicodeDecodeError:
                continue
            if is_han(ch):
                out.add(ch)
    return out


def _tokens(text: str) -> list[_Token]:
    """Syllable tokens: each Chinese character, each Latin word (with the links allowed
    between the words of one phrase kept as gaps the walk checks)."""
    out: list[_Token] = []
    i, n = 0, len(text)
    while i < n:
        ch = text[i]
        if is_han(ch):
            out.append(_Token(i, i + 1, ch, ""))
            i += 1
            continue
        if "a" <= ch <= "z" and (i == 0 or not (text[i - 1].isascii() and text[i - 1].isalnum())):
            j = i
            while j < n and text[j].isascii() and text[j].isalnum():
                j += 1
            word = text[i:j]
            # (Normalised text has no tone marks left; tone numbers, zuo4, are read as leetspeak.)
            out.append(_Token(i, j, "", word.replace("v", "u") if word.isalpha() else ""))
            i = j
            continue
        i += 1
    return out


def _walk(tokens: list[_Token], t: int, syllables: tuple[str, ...], readings, text: str) -> int | None:
    """The index of the last token of a window starting at token ``t`` that spells
    ``syllables`` exactly, or None."""
    j = 0
    k = t
    while k < len(tokens):
        token = tokens[k]
        if k > t and not _linked(text, tokens[k - 1], token):
            return None
        if token.han:
            if syllables[j] not in readings.get(token.han, ()):
                return None
            j += 1
        else:
            word = token.word
            if not word:
                return None
            at = 0
            while at < len(word):
                if j >= len(syllables):
                    return None  # the word goes on past the phrase: not a whole word
                syllable = _latin(syllables[j])
                if not word.startswith(syllable, at):
                    return None
                at += len(syllable)
                j += 1
        if j == len(syllables):
            return k
        k += 1
    return None


def _linked(text: str, before: _Token, after: _Token) -> bool:
    """May ``before`` and ``after`` be syllables of one phrase? Chinese characters must touch;
    Latin words may be joined by a space, an apostrophe or a hyphen."""
    gap = text[before.end:after.start]
    if not gap:
        return True
    if before.han and after.han:
        return False
    return _LATIN_LINK.fullmatch(gap) is not None
