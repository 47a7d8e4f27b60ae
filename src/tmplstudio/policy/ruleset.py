"""The rules of a project with one phrase automaton and their patterns, built once (and kept in
the per-user cache, policy/cache.py). What each rule contributes comes from its kind."""

from __future__ import annotations

import threading
from typing import Iterable

from tmplstudio.policy.kinds import KINDS
from tmplstudio.policy.matching import GLUE, Occurrence, PhraseIndex, TextFacts
from tmplstudio.policy.model import Pack, Rule
from tmplstudio.policy.patterns import REGEX_TIMEOUT, compile_pattern, piece_local, required_literals
from tmplstudio.reuse import REUSE, HasMemos
from tmplstudio.text import segment
from tmplstudio.text.normalize import PIECES_KEPT, Normalized, is_han
from tmplstudio.text.pinyin import SoundIndex
from tmplstudio.text.views import SplitTable, reading


class RuleSet(HasMemos):
    """Patterns compile on first use: a Chinese template never pays for the English packs' regexes."""

    def __init__(self, rules: list[Rule], pack_frames: dict | None = None):
        self.rules = rules
        self.pack_frames = pack_frames or {}  # pack id -> its set-aside frames (policy/frames.py)
        self.index = PhraseIndex()
        self.local: dict[str, bool] = {}
        # pattern -> strings one of which every match contains (None: unknown); a text with none
        # of them is skipped with a substring test (normalised text only).
        self.literals: dict[str, frozenset[str] | None] = {}
        self.candidate_rules: set[int] = set()  # rules that run on a text only when a candidate phrase occurs in it
        self._patterns: list[tuple[tuple[str, bool], ...]] = []
        # Evasions the folded text cannot show (text/views.py, text/pinyin.py) are looked for
        # for the phrases a rule reports itself, never for its context words (allow, not_after).
        self.reporting: set[tuple[int, str]] = set()
        self.reporting_candidates: set[tuple[int, str]] = set()
        self.sounds = SoundIndex()
        reported_chars: set[str] = set()
        for i, rule in enumerate(rules):
            kind = KINDS[rule.kind]
            for entry in kind.phrases(rule):
                norm = self.index.add(entry.phrase, i, entry.role, entry.family, entry.candidate)
                if entry.candidate:
                    self.candidate_rules.add(i)
                if entry.reports and entry.family == PhraseIndex.TEXT and norm:
                    self.reporting.add((i, entry.role))
                    if entry.candidate:
                        self.reporting_candidates.add((i, entry.role))
                    reported_chars.update(c for c in norm if is_han(c))
                    if entry.by_sound and not entry.phrase.endswith("*"):
                        self.sounds.add(norm, i, entry.role)
            for k, esc in enumerate(rule.escalate):
                for phrase in esc.near:
                    self.index.add(phrase, i, f"esc{k}")
            patterns = tuple(kind.patterns(rule))
            self._patterns.append(patterns)
            for pattern, _original in patterns:
                self.local[pattern] = piece_local(pattern)
                self.literals[pattern] = required_literals(pattern)
        self.index.build()
        self.sounds.build()
        self.split = SplitTable.for_characters(reported_chars, segment.is_word) if reported_chars else SplitTable()
        self.memos()

    def memos(self) -> None:
        self._pattern_sets: dict[tuple[str, ...], int] = {}  # ids that name sets in the piece tables' keys
        self._local_sets = REUSE.memo("patterns.rule_combinations", 256)
        self._piece_tables = REUSE.memo("patterns.piece_tables", PIECES_KEPT)
        self._evasion_scans = REUSE.memo("phrases.evasion_scans", PIECES_KEPT)
        self._lock = threading.Lock()

    def evasions(self, piece: str, sound_owners: frozenset[int]) -> dict[tuple[int, str], list[Occurrence]]:
        """Occurrences of reported phrases in one normalised piece that only another reading
        shows -- across a line break, through split characters (text/views.py), by sound for
        the rules in ``sound_owners`` (text/pinyin.py) -- per (rule, role). Cached per piece."""
        key = (piece, sound_owners)
        found = self._evasion_scans.get(key)
        if found is not None:
            return found
        found: dict[tuple[int, str], list[Occurrence]] = {}
        view = reading(piece, self.split)
        if view is not None:
            facts = _facts(view.text)
            for owner_role, occs in self.index.scan(view.text).items():
                if owner_role not in self.reporting:
                    continue
                for o in occs:
                    if view.new_in(o.start, o.end) and facts.edge_ok(o, o.prefix, self._word_mode(owner_role[0])):
                        found.setdefault(owner_role, []).append(
                            Occurrence(view.starts[o.start], view.ends[o.end - 1], o.phrase, o.prefix, read=True))
        if sound_owners:
            for f in self.sounds.scan(piece, sound_owners, segment.tokens, segment.is_word, FUNCTION_CHARS):
                # Word boundaries as the reader reads it: the phrase in place of its sound.
                read_as = piece[:f.start] + f.phrase + piece[f.end:]
                spot = Occurrence(f.start, f.start + len(f.phrase), f.phrase)
                if _facts(read_as).edge_ok(spot, False, self._word_mode(f.owner)):
                    found.setdefault((f.owner, f.role), []).append(Occurrence(f.start, f.end, f.phrase, read=True))
        return self._evasion_scans.put(key, found)

    def _word_mode(self, owner: int) -> bool:
        return self.rules[owner].params.get("boundary", "word") == "word"

    def local_patterns(self, rule_indices: tuple[int, ...]) -> dict[bool, tuple[tuple[str, ...], frozenset[str], int]]:
        """For matching on normalised (False) and original (True) text: the piece-local patterns
        of these rules, as a sorted tuple, a set and the tuple's id. Templates of one kind run
        the same rules, so this is worked out once per rule combination."""
        found = self._local_sets.get(rule_indices)
        if found is None:
            found = {}
            for original in (False, True):
                local = tuple(sorted({p for i in rule_indices for p, on_original in self._patterns[i]
                                      if on_original == original and self.local.get(p)}))
                found[original] = (local, frozenset(local), self.pattern_set(local))
            self._local_sets.put(rule_indices, found)
        return found

    def pattern_set(self, patterns: tuple[str, ...]) -> int:
        """A small id for a set of patterns (the piece-local ones of a template's active rules)."""
        with self._lock:
            return self._pattern_sets.setdefault(patterns, len(self._pattern_sets))

    def cannot_match(self, pattern: str, text: str) -> bool:
        """True when ``pattern`` cannot match normalised ``text``: none of the strings every
        match contains is in it."""
        literals = self.literals.get(pattern)
        return literals is not None and not any(lit in text for lit in literals)

    def piece_table(self, piece: str, set_id: int, patterns: tuple[str, ...], timed_out: set[str],
                    normalised: bool = True) -> dict[str, tuple | None]:
        """The matches of every pattern in a set that matches ``piece`` at all (None: it timed
        out, now or earlier in this evaluation: ``timed_out``, which this adds to). Cached per
        piece unless something timed out, which may be the machine's load."""
        key = (piece, set_id)
        table = self._piece_tables.get(key)
        if table is not None:
            return table
        table = {}
        clean = True
        for pattern in patterns:
            if normalised and self.cannot_match(pattern, piece):
                continue
            if pattern in timed_out:  # a runaway pattern costs one timeout per evaluation, not one per piece
                table[pattern] = None
                clean = False
                continue
            try:
                found = self.find_all(pattern, piece)
            except TimeoutError:
                timed_out.add(pattern)
                table[pattern] = None
                clean = False
                continue
            if found:
                table[pattern] = found
        if clean:
            self._piece_tables.put(key, table)
        return table

    def find_all(self, pattern: str, text: str) -> tuple[tuple[int, int, str], ...]:
        """Every match of ``pattern`` in ``text``; raises TimeoutError (never cached)."""
        compiled, bounded = compile_pattern(pattern)
        found = compiled.finditer(text, timeout=REGEX_TIMEOUT) if bounded else compiled.finditer(text)
        return tuple((m.start(), m.end(), m.group(0)) for m in found)


# Pronouns and particles: a homophone that keeps only these of a phrase (看你 for 砍你) is not one.
FUNCTION_CHARS = frozenset(GLUE)


def _facts(text: str) -> TextFacts:
    """Word boundaries of a text as read (already normalised: it maps onto itself)."""
    return TextFacts(Normalized(text, text, range(len(text)), range(1, len(text) + 1)))


def build_ruleset(packs: Iterable[Pack], overrides: dict[str, str]) -> RuleSet:
    """One rule set for every enabled rule of ``packs`` not turned off in the config."""
    packs = list(packs)
    return RuleSet([r for p in packs for r in p.rules if r.enabled and overrides.get(r.id, overrides.get(r.key)) != "off"],
                   {p.id: p.set_aside for p in packs if p.set_aside})


def ruleset_key(packs: Iterable[Pack], overrides: dict[str, str]) -> tuple:
    return tuple(id(p) for p in packs) + tuple(sorted(overrides.items()))
