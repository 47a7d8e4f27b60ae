"""Set-aside frames: words before a hit, in the same clause, that take its force away.

我们绝不会上门打扰您 and "We will never contact your employer" mention a prohibited thing in
order to deny it; 您有权自行聘请律师 mentions a lawyer as advice to the reader, not as a claim
that one acts for the sender. A frame names such a context (``name``), the words that open it
(``cues``), how far they reach (``within`` characters up to the hit, never past the clause's
end), the words that end their reach earlier (``breaks``: 不还款就上门 negates the condition,
not the visit; "if you don't pay we will sue" likewise) and the words that cancel a cue when
they come before it or contain it (``counters``: 别以为我们不会上门 and 不得不 are double
negatives, "don't think we won't" likewise). Packs declare frames for all their
rules (``[[set_aside]]``, usually the locale's negation) and a rule may add its own
(``[[rules.set_aside]]``) or refuse the pack's (``negatable = false``: where even a denial is
forbidden). A hit inside a frame is not dropped: it is reported at info as "set aside", so a
reviewer can audit every one.
"""

from __future__ import annotations

from dataclasses import dataclass

from tmplstudio.text.normalize import is_han

# Where a clause ends: punctuation, dashes, ellipses, brackets, tabs and wide spaces, and the
# placeholder of a {{ }} (a value may say anything, "再容忍了。明天" included). A plain space ends
# one only between Chinese characters (English words are separated by spaces within a clause).
CLAUSE_END = frozenset("，,。.;；!！?？\n\r\t:：、—–―…～~/|()（）[]【】「」『』《》\u3000\ufffc")
MAX_CLAUSE = 80  # characters looked at before a hit
DENIED_WITHIN = 6  # how close a cue must stand to deny a required element ("is not from a debt collector")


def _ends_clause(text: str, k: int) -> bool:
    ch = text[k]
    if ch in CLAUSE_END:
        return True
    if ch == " ":
        before = text[k - 1] if k > 0 else ""
        after = text[k + 1] if k + 1 < len(text) else ""
        return is_han(before) or is_han(after)
    return False


@dataclass(frozen=True)
class Frame:
    name: str
    cues: tuple[str, ...]     # normalised (policy text is matched on normalised text)
    breaks: tuple[str, ...] = ()
    within: int = 12
    counters: tuple[str, ...] = ()


def _latin(ch: str) -> bool:
    return ch.isascii() and ch.isalnum()


def _word_at(text: str, at: int, word: str) -> bool:
    """Does ``word`` at ``at`` stand as a word (Latin words may not run into letters)?"""
    if _latin(word[0]) and at > 0 and _latin(text[at - 1]):
        return False
    end = at + len(word)
    return not (_latin(word[-1]) and end < len(text) and _latin(text[end]))


def _last(window: str, words: tuple[str, ...]) -> tuple[int, str] | None:
    best: tuple[int, str] | None = None
    for word in words:
        at = window.rfind(word)
        while at >= 0 and not _word_at(window, at, word):
            at = window.rfind(word, 0, at)
        if at >= 0 and (best is None or at + len(word) > best[0] + len(best[1])):
            best = (at, word)
    return best


def clause_before(text: str, start: int) -> str:
    lo = start
    while lo > 0 and not _ends_clause(text, lo - 1) and start - lo < MAX_CLAUSE:
        lo -= 1
    return text[lo:start]


def set_aside_by(frames: tuple[Frame, ...], text: str, start: int, end: int | None = None,
                 within: int | None = None, inside: bool = False) -> tuple[Frame, str] | None:
    """The frame (and its cue) that a hit at [start, end) of normalised ``text`` lies in.

    ``text`` is what the reader reads with the characters that came from sample values
    replaced by placeholders (a value's words are not the template's denial). A hit that runs
    over a clause's end or holds a break word ("we won't just call you, we will contact your
    employer") is not inside one frame. ``within`` caps every frame's reach. With ``inside`` (a
    proximity hit, several words apart) the cue may also stand between its words (您欠的款项不会由
    您的家人承担), reaching the hit's end."""
    if not frames:
        return None
    end = start if end is None else end
    if any(_ends_clause(text, k) for k in range(start, min(end, len(text)))):
        return None
    hit = text[start:end]
    window = clause_before(text, start)
    for frame in frames:
        found = _last(window, frame.cues)
        tail = ""  # the part of the hit after the cue
        if found is None and inside:
            within_hit = _last(hit, frame.cues)
            if within_hit is not None and within_hit[0] > 0:
                found = (len(window) + within_hit[0], within_hit[1])
                window, tail = window + hit[:within_hit[0] + len(within_hit[1])], hit[within_hit[0] + len(within_hit[1]):]
        if found is None:
            continue
        at, cue = found
        gap = window[at + len(cue):] + tail
        reach = frame.within if within is None else min(within, frame.within)
        if len(gap) > reach or _last(gap, frame.breaks) is not None or (not tail and _last(hit, frame.breaks) is not None):
            continue
        counter = _last(window, frame.counters)
        if counter is not None and counter[0] < at + len(cue):
            continue  # a double negative or a rhetorical question: 别以为我们不会, 不得不
        return frame, cue
    return None
