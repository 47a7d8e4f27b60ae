"""Bidirectional overrides resolved to the order the reader sees.

``\\u202etserra\\u202c`` is stored as "tserra" but displayed as "arrest": the right-to-left
override (RLO) makes every character inside it right-to-left, so the run shows reversed. We
match on what is displayed. This is the part of the Unicode Bidirectional Algorithm (UAX #9)
that explicit overrides and embeddings decide -- rules X1-X10 for LRO, RLO, LRE, RLE, the
isolates and PDF/PDI, and L2's reversal of runs by level -- for the Latin and Chinese text
tmplstudio checks, whose letters are all strong left-to-right. (python-bidi implements the
whole algorithm but returns only the reordered string; the checker needs to know where each
displayed character came from, to highlight what the author typed.)

A reordered run maps back as one block: every character of it points at the whole run in
the original, so offsets stay in order and a finding inside the run highlights the run.
"""

from __future__ import annotations

LRE, RLE, PDF, LRO, RLO = "\u202a", "\u202b", "\u202c", "\u202d", "\u202e"
LRI, RLI, FSI, PDI = "\u2066", "\u2067", "\u2068", "\u2069"
OVERRIDES = (LRO, RLO)
_OPENERS = {LRE: (False, None), RLE: (True, None), LRO: (False, "L"), RLO: (True, "R"),
            LRI: (False, None), RLI: (True, None), FSI: (False, None)}
_CONTROLS = frozenset(_OPENERS) | {PDF, PDI}
_PARAGRAPH = frozenset("\n\r\u2029\x1c\x1d\x1e\x85")
MAX_DEPTH = 125  # UAX #9's max_depth


def has_override(text: str) -> bool:
    return LRO in text or RLO in text


def visual(text: str) -> tuple[str, list[int], list[int]]:
    """The text in display order, without the bidi controls, and for each of its characters
    the [start, end) span of ``text`` it stands for."""
    out: list[str] = []
    starts: list[int] = []
    ends: list[int] = []
    i = 0
    while i < len(text):
        j = i
        while j < len(text) and text[j] not in _PARAGRAPH:
            j += 1
        _paragraph(text, i, j, out, starts, ends)
        if j < len(text):  # the paragraph separator itself stays where it is
            out.append(text[j])
            starts.append(j)
            ends.append(j + 1)
        i = j + 1
    return "".join(out), starts, ends


def _paragraph(text: str, lo: int, hi: int, out: list[str], starts: list[int], ends: list[int]) -> None:
    # X1-X9: the embedding level of each character (controls removed); base level 0, as the
    # first strong character of Latin or Chinese text is left-to-right.
    stack: list[tuple[int, str | None, bool]] = [(0, None, False)]  # (level, override, is isolate)
    chars: list[tuple[int, int]] = []  # (index in text, resolved level)
    for k in range(lo, hi):
        ch = text[k]
        level, override, _iso = stack[-1]
        if ch in _OPENERS:
            rtl, forced = _OPENERS[ch]
            new = (level + 1) | 1 if rtl else (level + 2) & ~1
            if new <= MAX_DEPTH:
                stack.append((new, forced, ch in (LRI, RLI, FSI)))
            continue
        if ch == PDF:
            if len(stack) > 1 and not stack[-1][2]:
                stack.pop()
            continue
        if ch == PDI:
            while len(stack) > 1 and not stack[-1][2]:
                stack.pop()  # a PDI closes the embeddings opened inside its isolate too
            if len(stack) > 1:
                stack.pop()
            continue
        if override == "R":
            resolved = level  # odd: shown right to left
        elif override == "L" or level % 2 == 0:
            resolved = level
        else:
            resolved = level + 1  # a left-to-right letter in a right-to-left embedding (I2)
        chars.append((k, resolved))
    if not chars:
        return
    # L2: from the highest level down to the lowest odd one, reverse every run at that level or above.
    order = list(range(len(chars)))
    levels = [lv for _k, lv in chars]
    highest = max(levels)
    lowest_odd = min((lv for lv in levels if lv % 2), default=highest + 1)
    for level in range(highest, lowest_odd - 1, -1):
        p = 0
        while p < len(order):
            if levels[order[p]] >= level:
                q = p
                while q < len(order) and levels[order[q]] >= level:
                    q += 1
                order[p:q] = order[p:q][::-1]
                p = q
            else:
                p += 1
    # Each run of reordered characters maps back to its whole original span (a run whose
    # levels cancel out, such as Latin inside a right-to-left embedding, keeps its own order).
    position = [0] * len(chars)
    for visual_at, r in enumerate(order):
        position[r] = visual_at
    block: dict[int, tuple[int, int]] = {}
    p = 0
    while p < len(chars):
        if chars[p][1] == 0:
            p += 1
            continue
        q = p
        while q < len(chars) and chars[q][1] > 0:
            q += 1
        if any(position[r + 1] != position[r] + 1 for r in range(p, q - 1)):
            start, end = chars[p][0], chars[q - 1][0] + 1
            while start > lo and text[start - 1] in _CONTROLS:  # the override that made the run
                start -= 1
            while end < hi and text[end] in _CONTROLS:
                end += 1
            span = (start, end)
            for r in range(p, q):
                block[r] = span
        p = q
    for r in order:
        k = chars[r][0]
        out.append(text[k])
        s, e = block.get(r, (k, k + 1))
        starts.append(s)
        ends.append(e)
