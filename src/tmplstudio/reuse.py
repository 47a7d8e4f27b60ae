"""Everything tmplstudio remembers between evaluations, behind one switch.

The studio re-checks the whole template on every keystroke, and most of a template is the same
text as a keystroke ago: the same sentences to normalise, cut into words and scan, the same
tags to parse, the same renderings with one data token changed. What is remembered for that is
kept in memos registered here, by name, and nowhere else:

* ``REUSE.clear()`` forgets everything (a fresh start, for tests and benchmarks);
* ``REUSE.enabled = False``, ``with REUSE.off():`` or ``TMPLSTUDIO_NO_REUSE=1`` turns every memo
  into a pass-through, and ``REUSE.off(name)`` one of them (``bench/reuse.py`` measures what
  each is worth that way);
* ``REUSE.stats()`` says how full each memo is and how often it answered.

A memo holds only values that are a function of their key, so memos are shared by every
project in the process; reuse never changes a result, which tests/engine/test_reuse.py checks
by evaluating the corpora and the fuzz cases with reuse on and off and comparing every finding.
What lives on disk between runs (loaded packs, jieba's words) is the per-user cache,
``usercache.py``, with its own switch.
"""

from __future__ import annotations

import functools
import os
import threading
import weakref
from contextlib import contextmanager
from typing import Any, Callable, Hashable, Iterator

_MISSING = object()


class Memo:
    """A bounded map, oldest entry first out. While its name is switched off it remembers
    nothing (``get`` misses, ``put`` does nothing). Reads take no lock (a dict read is atomic
    under the GIL); writes and eviction do, as the studio evaluates in worker threads."""

    __slots__ = ("name", "size", "_items", "_lock", "_reuse", "hits", "misses", "__weakref__")

    def __init__(self, reuse: "Reuse", name: str, size: int):
        self.name, self.size, self._reuse = name, size, reuse
        self._items: dict[Hashable, Any] = {}
        self._lock = threading.Lock()  # the studio evaluates in worker threads
        self.hits = self.misses = 0

    def get(self, key: Hashable, default: Any = None) -> Any:
        if not self._reuse.active(self.name):
            return default
        value = self._items.get(key, _MISSING)
        if value is _MISSING:
            self.misses += 1
            return default
        self.hits += 1
        return value

    def put(self, key: Hashable, value: Any) -> Any:
        if self._reuse.active(self.name):
            with self._lock:
                self._items.pop(key, None)
                self._items[key] = value
                while len(self._items) > self.size:
                    del self._items[next(iter(self._items))]
        return value

    def clear(self) -> None:
        with self._lock:
            self._items.clear()

    def __len__(self) -> int:
        return len(self._items)


class _Cached:
    """A pure function with a memo (``Reuse.cached``); uses functools' C implementation while
    the memo is on, the bare function while it is off."""

    def __init__(self, reuse: "Reuse", name: str, size: int, fn: Callable):
        self.name, self.fn, self._reuse = name, fn, reuse
        self._lru = functools.lru_cache(maxsize=size)(fn)
        functools.update_wrapper(self, fn)

    def __call__(self, *args):
        if self._reuse.active(self.name):
            return self._lru(*args)
        return self.fn(*args)

    def clear(self) -> None:
        self._lru.cache_clear()

    def __len__(self) -> int:
        return self._lru.cache_info().currsize


class Reuse:
    def __init__(self, enabled: bool = True):
        self.enabled = enabled
        self._off: set[str] = set()
        self._memos: dict[str, weakref.WeakSet] = {}
        self._lock = threading.Lock()

    def active(self, name: str) -> bool:
        return self.enabled and name not in self._off

    def memo(self, name: str, size: int) -> Memo:
        """A new memo under ``name`` (several objects may each own one of the same name)."""
        memo = Memo(self, name, size)
        self._register(name, memo)
        return memo

    def cached(self, name: str, size: int) -> Callable[[Callable], _Cached]:
        """Decorator: remember a pure function's results under ``name``."""
        def wrap(fn: Callable) -> _Cached:
            cached = _Cached(self, name, size, fn)
            self._register(name, cached)
            return cached
        return wrap

    def _register(self, name: str, memo) -> None:
        with self._lock:
            self._memos.setdefault(name, weakref.WeakSet()).add(memo)

    def names(self) -> list[str]:
        with self._lock:
            return sorted(self._memos)

    def clear(self) -> None:
        """Forget everything remembered, as at a fresh start."""
        with self._lock:
            memos = [m for group in self._memos.values() for m in list(group)]
        for memo in memos:
            memo.clear()

    @contextmanager
    def off(self, *names: str) -> Iterator[None]:
        """Turn reuse off (every memo, or the named ones) inside the block; what was remembered
        before is forgotten, so the block computes everything afresh."""
        previous = (self.enabled, set(self._off))
        if names:
            self._off |= set(names)
        else:
            self.enabled = False
        self.clear()
        try:
            yield
        finally:
            self.enabled, self._off = previous
            self.clear()

    def stats(self) -> dict[str, tuple[int, int, int]]:
        """name -> (entries, hits, misses), over every memo of that name."""
        out: dict[str, tuple[int, int, int]] = {}
        with self._lock:
            groups = {n: list(g) for n, g in self._memos.items()}
        for name, memos in groups.items():
            out[name] = (sum(len(m) for m in memos), sum(getattr(m, "hits", 0) for m in memos),
                         sum(getattr(m, "misses", 0) for m in memos))
        return out


class HasMemos:
    """Base of objects that own memos (a rule set's pattern tables, a phrase index's piece
    scans) and are kept in the per-user cache: pickled without what ``memos()`` creates, given
    fresh ones when unpickled."""

    def memos(self) -> None:
        """Create the object's memos (and other per-process state: locks)."""

    def __getstate__(self) -> dict:
        fresh = type(self).__new__(type(self))
        fresh.memos()
        return {k: v for k, v in self.__dict__.items() if k not in fresh.__dict__}

    def __setstate__(self, state: dict) -> None:
        self.__dict__.update(state)
        self.memos()


REUSE = Reuse(enabled=os.environ.get("TMPLSTUDIO_NO_REUSE", "") in ("", "0"))
