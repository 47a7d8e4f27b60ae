"""Phrases found by their sound: homophones (尚门 for 上门), pinyin (zuo lao, zhua bu, zuo4lao2)
and the two mixed (gong安, 上men), for the rules that opt in (``pinyin = true``).

Each opted-in phrase is turned into its toneless pinyin once, when the rule set is built
(pypinyin, with its phrase dictionary for the reading in context: 曝光 is bao guang). A text
is read as a row of syllable tokens -- each Chinese character with all its readings, each
Latin word as the syllables it spells -- and a window of tokens whose syllables are a
phrase's is an occurrence of that phrase, at the characters the window covers.

Sound alone would find phrases everywhere Chinese has homophones, so a window made only of
Chinese characters counts only when it keeps at least one character of the phrase in place
(尚门 keeps 门; 居留 keeps nothing of 拘留) and is not itself a word of the dictionary (居留
is; 尚门 is not). The rule's word-boundary checks then apply as to any phrase (时尚门店 holds
尚门 across two words). A window with Latin letters is always deliberate: Chinese text has
no other reason to spell a phrase in pinyin.

The readings of every character come from pypinyin's dictionary, read when the rule set is
built and kept in it (only for the syllables the phrases use), so evaluating a template never
imports pypinyin: a rule set loaded from the per-user cache reads no pinyin data at all.
"""

from __future__ import annotations

import re
import threading
import unicodedata
from typing import Iterable, NamedTuple

from tmplstudio.text.normalize import is_han

MIN_SYLLABLES = 2
# What may stand between two Latin words of one pinyin phrase (zuo lao, gong'an, zhua-bu).
_LATIN_LINK = re.compile(r"[ '\-.·_]{1,2}")
_TONE_DIGITS = re.compile(r"[1-5]")


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
    word: str         # the Latin word without tone digits ("" for a Chinese token)


class SoundIndex:
    """The pinyin of every opted-in phrase, and the readings of the characters that sound like them."""

    def __init__(self) -> None:
        self._phrases: list[tuple[tuple[str, ...], int, str, str]] = []  # (syllables, owner, role, phrase)
        self.owners: set[int] = set()
        self._homophones: dict[str, str] = {}   # syllable -> every character with that reading
        self._readings: dict[str, tuple[str, ...]] | None = None
        self._by_pair: dict[tuple[str, str], list[int]] = {}   # first two syllables -> phrases
        self._by_first: dict[str, list[int]] = {}
        self._by_first_latin: dict[str, list[int]] = {}
        self._pending: list[tuple[str, int, str]] = []
        self._lock = threading.Lock()

    def __bool__(self) -> bool:
        return bool(self._phrases)

    def __getstate__(self) -> dict:
        return {"_phrases": self._phrases, "owners": self.owners, "_homophones": self._homophones}

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

        for phrase, owner, role in pending:
            syllables = tuple(toneless(s) for s in lazy_pinyin(phrase, style=Style.TONE))
            if len(syllables) == len(phrase) and all(s.isalpha() and s.isascii() for s in syllables):
                self._phrases.append((syllables, owner, role, phrase))
        self._pending = []
        wanted = {s for syllables, *_ in self._phrases for s in syllables}
        homophones: dict[str, list[str]] = {}
        for cp, readings in pinyin_dict.items():
            ch = chr(cp)
            if not is_han(ch):
                continue
            for reading in {toneless(r) for r in readings.split(",")}:
                if reading in wanted:
                    homophones.setdefault(reading, []).append(ch)
        self._homophones = {s: "".join(chars) for s, chars in homophones.items()}
        self._index()

    def _index(self) -> None:
        self._by_pair, self._by_first, self._by_first_latin = {}, {}, {}
        for k, (syllables, *_rest) in enumerate(self._phrases):
            self._by_pair.setdefault(syllables[:2], []).append(k)
            self._by_first.setdefault(syllables[0], []).append(k)
            self._by_first_latin.setdefault(_latin(syllables[0]), []).append(k)
        self._readings = None

    def _reading_table(self) -> dict[str, tuple[str, ...]]:
        """Character -> its readings among the phrases' syllables: built once per process."""
        if self._readings is None:
            with self._lock:
                if self._readings is None:
                    table: dict[str, list[str]] = {}
                    for syllable, chars in self._homophones.items():
                        for ch in chars:
                            table.setdefault(ch, []).append(syllable)
                    self._readings = {ch: tuple(s) for ch, s in table.items()}
        return self._readings

    def scan(self, text: str, owners: Iterable[int] | None = None, is_word=None) -> list[Found]:
        """Occurrences, by sound, of the phrases of ``owners`` (every owner: None) in normalised
        ``text``. ``is_word(s)``: is ``s`` a dictionary word (the homophone guard)."""
        if not self._phrases:
            return []
        wanted = None if owners is None else set(owners)
        tokens = _tokens(text)
        if len(tokens) < MIN_SYLLABLES:
            return []
        readings = self._reading_table()
        found: list[Found] = []
        for t, token in enumerate(tokens):
            if token.han:
                first = readings.get(token.han, ())
                if not first:
                    continue
                after = tokens[t + 1] if t + 1 < len(tokens) else None
                if after is not None and after.han and _linked(text, token, after):
                    # The next character is the phrase's second syllable: look up both at once.
                    second = readings.get(after.han, ())
                    starts = [k for a in first for b in second for k in self._by_pair.get((a, b), ())]
                else:
                    starts = [k for a in first for k in self._by_first.get(a, ())]
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
                if all(tok.han for tok in tokens[t:end + 1]):
                    # Only Chinese characters: a homophone must keep a character of the phrase
                    # in place and must not be a word of its own.
                    if not any(a == b for a, b in zip(window, phrase)):
                        continue
                    if is_word is not None and is_word(window):
                        continue
                found.append(Found(owner, role, s, e, phrase))
        return found


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
            raw = text[i:j]
            word = _TONE_DIGITS.sub("", raw)
            if word.isalpha() and not raw[0].isdigit() and _tones_after_letters(raw):
                out.append(_Token(i, j, "", word.replace("v", "u")))
            else:
                out.append(_Token(i, j, "", ""))  # a code or number: breaks any window
            i = j
            continue
        i += 1
    return out


def _tones_after_letters(raw: str) -> bool:
    return all(raw[k - 1].isalpha() for k, c in enumerate(raw) if c.isdigit())


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
