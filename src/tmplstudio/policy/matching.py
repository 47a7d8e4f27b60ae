"""Phrase occurrences in normalised text, with Chinese and Latin word boundaries.

One Aho-Corasick automaton holds every phrase of every active rule (hits, allow contexts,
`not_after` words, escalation words, required phrases); one scan per text finds them all
(~100 us for 2,000 phrases over 300 characters), then each rule looks at its own.
"""

from __future__ import annotations

import bisect
from collections import defaultdict
from typing import NamedTuple

import ahocorasick

from tmplstudio.reuse import REUSE, HasMemos
from tmplstudio.text.normalize import PIECE_END, PIECES_KEPT, Normalized, is_han, normalize_phrase
from tmplstudio.text.segment import tokens

SENTENCE_END = set("。!?;\n")

# jieba sometimes glues a pronoun or particle onto the next word (你家|人 for 你家人). A cut
# that leaves only one of these outside the phrase is not a real word boundary violation,
# while 线上|门户 (上门) or 马上|门店 (上门) leave content characters outside and are.
GLUE = set("你您我他她它们的了将会就要把被给让在是请已再不还都也很和与及或这那该此其")


def _is_word_char(ch: str) -> bool:
    return ch.isalnum() and not is_han(ch)


class Occurrence(NamedTuple):
    # A tuple, not a dataclass: a text yields dozens of these per keystroke.
    start: int
    end: int
    phrase: str
    prefix: bool = False  # written as `word*`: matches any ending
    # Found in another reading of the text (text/views.py, text/pinyin.py), whose Chinese word
    # boundaries were checked in that reading: the text as written (扌丁, gong安) cuts oddly.
    read: bool = False


class PhraseIndex(HasMemos):
    """All phrases of a rule set, keyed by the (rule, role) that wants them.

    Two automata: one for the phrases of required elements (role ``any``), one for everything
    else, so texts checked only for required elements (each path through a template) scan
    a few dozen phrases instead of thousands.
    """

    REQUIRED = "required"
    TEXT = "text"

    def __init__(self) -> None:
        # family -> phrase -> [(owner, role, written with a trailing '*')]; the star belongs to
        # the rule that wrote it, not to every rule that lists the same phrase.
        self._owners: dict[str, dict[str, list[tuple[int, str, bool]]]] = {
            self.REQUIRED: defaultdict(list), self.TEXT: defaultdict(list)}
        self._automata: dict[str, object] = {}
        # (owner, role) pairs whose occurrence makes the owner a candidate for a text (a rule
        # kind says which: a phrase of ``phrases``, the first group of ``near``).
        self._candidates: set[tuple[int, str]] = set()
        # Texts are scanned piece by piece (see text/normalize.py) with each piece's
        # occurrences cached, unless a phrase runs across the punctuation pieces end with.
        self.by_piece = True
        self.memos()

    def add(self, phrase: str, owner: int, role: str, family: str = TEXT, candidate: bool = False) -> str:
        prefix = phrase.endswith("*")
        norm = normalize_phrase(phrase.rstrip("*")).strip()
        if not norm:
            return norm
        self._owners[family][norm].append((owner, role, prefix))
        if candidate:
            self._candidates.add((owner, role))
        self._automata.pop(family, None)
        return norm

    def memos(self) -> None:
        self._piece_scans = REUSE.memo("phrases.piece_scans", PIECES_KEPT)
        self._piece_candidates = REUSE.memo("phrases.piece_candidates", PIECES_KEPT)

    def _scan_piece(self, piece: str, family: str) -> dict:
        found = self._piece_scans.get((piece, family))
        return found if found is not None else self._piece_scans.put((piece, family), self.scan(piece, family))

    def _piece_owners(self, piece: str, family: str) -> frozenset[int]:
        owners = self._piece_candidates.get((piece, family))
        if owners is None:
            owners = self._piece_candidates.put((piece, family), self._owners_in(self._scan_piece(piece, family)))
        return owners

    def build(self) -> None:
        ends = set(normalize_phrase(PIECE_END))
        self.by_piece = not any(c in ends for owners in self._owners.values() for phrase in owners for c in phrase.rstrip("".join(ends)))
        self._piece_scans.clear()
        self._piece_candidates.clear()
        for family, owners in self._owners.items():
            automaton = ahocorasick.Automaton()
            for phrase in owners:
                automaton.add_word(phrase, phrase)
            if len(automaton):
                automaton.make_automaton()
            self._automata[family] = automaton

    def scan_norm(self, norm: Normalized, family: str = "text", keep=None) -> "Found":
        """Occurrences per (owner, role) in a normalised text, from its pieces' cached scans.

        ``keep(occurrence)`` filters the occurrences of ``hit`` roles."""
        if not norm.pieces or not self.by_piece:
            found = self.scan(norm.text, family)
            return Found([(0, found)], keep, self._owners_in(found))
        parts = [(at, self._scan_piece(piece, family)) for at, piece in norm.pieces]
        owners = [self._piece_owners(piece, family) for _at, piece in norm.pieces]
        return Found(parts, keep, frozenset().union(*owners))

    def _owners_in(self, found: dict) -> frozenset[int]:
        """Rules that may hit a text: those with a candidate phrase in it."""
        candidates = self._candidates
        return frozenset(key[0] for key in found if key in candidates)

    def scan(self, text: str, family: str = "text") -> dict[tuple[int, str], list[Occurrence]]:
        """Occurrences per (owner, role) in one text, before boundary checks."""
        if family not in self._automata:
            self.build()
        automaton = self._automata[family]
        owners = self._owners[family]
        found: dict[tuple[int, str], list[Occurrence]] = defaultdict(list)
        if not len(automaton) or not text:
            return found
        for end_index, phrase in automaton.iter(text):
            start = end_index - len(phrase) + 1
            for owner, role, prefix in owners[phrase]:
                found[(owner, role)].append(Occurrence(start, end_index + 1, phrase, prefix))
        return found


class Found:
    """Occurrences per (owner, role) of one text, assembled from its pieces on first request.

    A text holds hundreds of occurrences (allow contexts, escalation words, required
    phrases...) of which a check asks for a few; only those are shifted into place.
    """

    __slots__ = ("_parts", "_keys", "_done", "_keep", "candidates")

    def __init__(self, parts: list[tuple[int, dict]], keep=None, candidates: frozenset[int] = frozenset()):
        self._parts = parts
        self.candidates = candidates  # rules with a phrase or first near group here
        self._keys = set().union(*(d.keys() for _at, d in parts)) if len(parts) > 1 else parts[0][1].keys()
        self._done: dict[tuple[int, str], list[Occurrence]] = {}
        self._keep = keep

    def get(self, key: tuple[int, str], default=None):
        done = self._done.get(key)
        if done is not None:
            return done
        if key not in self._keys:
            return default
        out: list[Occurrence] = []
        for at, found in self._parts:
            occs = found.get(key)
            if occs:
                out.extend(occs if not at else (Occurrence(o.start + at, o.end + at, o.phrase, o.prefix) for o in occs))
        if self._keep is not None and key[1] == "hit":
            out = [o for o in out if self._keep(o)]
        self._done[key] = out
        return out

    def add(self, key: tuple[int, str], occ: Occurrence) -> None:
        self.get(key)
        self._done.setdefault(key, []).append(occ)


class TextFacts:
    """Lazily computed facts about one normalised text: word boundaries and sentences."""

    def __init__(self, norm: Normalized):
        self.norm = norm
        self.text = norm.text
        self._tokens: tuple[tuple[int, int], ...] | None = None
        self._token_starts: list[int] = []
        self._sentence: list[int] | None = None

    def _token_at(self, index: int) -> tuple[int, int] | None:
        """The jieba word containing character ``index``."""
        pieces = self.norm.pieces
        if pieces:  # jieba never joins characters across sentence punctuation: ask the piece
            if self._tokens is None:
                self._tokens = ()
                self._token_starts = [at for at, _p in pieces]
            k = bisect.bisect_right(self._token_starts, index) - 1
            if k < 0:
                return None
            at, piece = pieces[k]
            words = tokens(piece)
            j = bisect.bisect_right(words, (index - at, float("inf"))) - 1
            if j < 0:
                return None
            s, e = words[j]
            return (s + at, e + at) if s <= index - at < e else None
        if self._tokens is None:
            self._tokens = tokens(self.text)
            self._token_starts = [s for s, _e in self._tokens]
        k = bisect.bisect_right(self._token_starts, index) - 1
        if k < 0:
            return None
        s, e = self._tokens[k]
        return (s, e) if s <= index < e else None

    def _inside_one_word(self, start: int, end: int) -> bool:
        token = self._token_at(start)
        return token is not None and token[1] >= end and end - start >= 2

    def start_cut(self, start: int) -> bool:
        """A phrase starting at ``start`` splits a jieba word (beyond a glued particle)."""
        token = self._token_at(start)
        if token is None or token[0] == start:
            return False
        outside = self.text[token[0]:start]
        return not (len(outside) == 1 and outside in GLUE)

    def end_cut(self, end: int) -> bool:
        """A phrase ending at ``end`` splits a jieba word (beyond a glued particle)."""
        token = self._token_at(end - 1)
        if token is None or token[1] == end:
            return False
        outside = self.text[end:token[1]]
        return not (len(outside) == 1 and outside in GLUE)

    def sentence_of(self, index: int) -> int:
        if self._sentence is None:
            ids = []
            current = 0
            text = self.text
            for i, ch in enumerate(text):
                ids.append(current)
                if ch in SENTENCE_END or (ch == "." and (i + 1 >= len(text) or text[i + 1] in " \n")):
                    current += 1
            ids.append(current)
            self._sentence = ids
        return self._sentence[min(max(index, 0), len(self._sentence) - 1)]

    def edge_ok(self, occ: Occurrence, prefix: bool, word_mode: bool) -> Occurrence | None:
        """The occurrence if it respects word boundaries (possibly extended for `word*`), else None."""
        text = self.text
        start, end = occ.start, occ.end
        first, last = text[start], text[end - 1]
        # Latin edges: no letter or digit may touch the phrase.
        if _is_word_char(first) and start > 0 and _is_word_char(text[start - 1]):
            return None
        if _is_word_char(last):
            if prefix:
                while end < len(text) and _is_word_char(text[end]):
                    end += 1
            elif end < len(text) and _is_word_char(text[end]):
                return None
        if word_mode and not occ.read and (is_han(first) or is_han(last)) and not self._inside_one_word(start, end):
            # A phrase that straddles words (线上|门户 for 上门) is not that phrase; one that sits
            # inside a single longer word (构成犯罪 for 犯罪, 逮捕令 for 逮捕) still is.
            if is_han(first) and start > 0 and is_han(text[start - 1]) and self.start_cut(start):
                return None
            if is_han(last) and end < len(text) and is_han(text[end]) and self.end_cut(end):
                return None
        if end != occ.end:
            return Occurrence(start, end, text[start:end])
        return occ


def inside_any(occ: Occurrence, spans: list[Occurrence]) -> bool:
    return any(s.start <= occ.start and occ.end <= s.end for s in spans)


def overlaps_any(occ: Occurrence, spans: list[Occurrence]) -> bool:
    return any(s.start < occ.end and occ.start < s.end for s in spans)
