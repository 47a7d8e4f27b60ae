"""Chinese word boundaries, so that 线上门户 never matches 上门.

We use rjieba (the Rust port of jieba, same dictionary): it loads in ~0.15 s and cuts 300
characters in ~30 us, which keeps boundary checks inside the per-keystroke budget. The
dictionary loads on first use, never at import.

Loading it is still the largest single cost of a cold ``tmplstudio validate``, while the
sentences it is asked about are mostly the same from one run to the next. So the words of
each text cut are kept in the per-user cache (tmplstudio/usercache.py, keyed on the installed
rjieba) and a run that meets only known sentences never loads the dictionary.
"""

from __future__ import annotations

import atexit
import hashlib
import importlib.util
import os
import threading
from tmplstudio import usercache
from tmplstudio.reuse import REUSE

_lock = threading.Lock()
_tokenizer = None
MAX_KEPT = 5000        # texts kept on disk (the most recently cut ones)
MAX_KEPT_CHARS = 400   # longer texts are not worth keeping


def _get():
    global _tokenizer
    if _tokenizer is None:
        with _lock:
            if _tokenizer is None:
                import rjieba

                _tokenizer = rjieba
    return _tokenizer


def warm_up() -> None:
    """Load the dictionary now (the studio calls this in a background thread at start)."""
    _get().cut("预热")


@REUSE.cached("text.is_word", 4096)
def is_word(text: str) -> bool:
    """Is ``text`` a word of jieba's dictionary (as a whole)? Answers are kept in the per-user
    cache with the texts' words, so a run over known sentences still never loads the dictionary."""
    key = ("word", text)
    if REUSE.active("text.words"):
        found = _kept().get(key)
        if found is not None:
            return found
    found = bool(_get().has_word(text))
    if _path is not None:
        with _lock:
            _new[key] = found
            if len(_new) > MAX_KEPT:
                del _new[next(iter(_new))]
    return found


@REUSE.cached("text.words", 4096)
def tokens(text: str) -> tuple[tuple[int, int], ...]:
    """(start, end) code-point spans of jieba's words in ``text``."""
    if REUSE.active("text.words"):  # the words of texts seen in earlier runs (per-user cache)
        found = _kept().get(text)
        if found is not None:
            return found
    found = tuple((start, end) for _word, start, end in _get().tokenize(text))
    if _path is not None and len(text) <= MAX_KEPT_CHARS:
        with _lock:  # the studio cuts words in its worker threads too
            _new[text] = found
            if len(_new) > MAX_KEPT:  # only the most recent are written back
                del _new[next(iter(_new))]
    return found


_path = None                                   # the cache file, once known
_known: dict | None = None  # text -> its words; ("word", text) -> is it a dictionary word
_new: dict = {}


def _kept() -> dict:
    global _known, _path
    if _known is None:
        with _lock:
            if _known is None:
                folder = usercache.cache_dir("words")
                stamp = _rjieba_stamp() if folder is not None else None
                if stamp is not None:
                    _path = folder / f"{hashlib.sha256(stamp.encode()).hexdigest()[:32]}.pickle"
                    loaded = usercache.read(_path)
                    _known = loaded if isinstance(loaded, dict) else {}
                else:
                    _known = {}
    return _known


def _rjieba_stamp() -> str | None:
    try:
        origin = importlib.util.find_spec("rjieba").origin
        return f"{usercache.file_stamp(origin)}|{usercache.file_stamp(os.path.dirname(origin))}"
    except (OSError, AttributeError, ImportError, ValueError):
        return None


def _save() -> None:
    with _lock:
        new = dict(_new)
        _new.clear()
    if _path is None or not new:
        return
    merged = usercache.read(_path)  # another process may have added texts meanwhile
    merged = merged if isinstance(merged, dict) else {}
    for text in new:
        merged.pop(text, None)
    merged.update(new)
    if len(merged) > MAX_KEPT:
        merged = dict(list(merged.items())[-MAX_KEPT:])
    usercache.write(_path, merged, keep=2)


atexit.register(_save)  # writes only when this process cut new texts
