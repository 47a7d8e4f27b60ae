"""Which packs check a template, and every exception to them: the project config decides; a
template's front matter can add packs but never remove one.

A template's packs are those whose own conditions match it (locales, channels, jurisdictions,
providers, categories), those the config's ``[gate]`` makes mandatory for its folder, locale or
jurisdiction (whatever its front matter says), and those its front matter's ``policies`` adds.
Because the front matter still says which locale and jurisdiction a template has, a locale or
jurisdiction that no active pack covers (``locale = "ja-JP"``, ``jurisdiction = []``) is an
error finding (``policy-coverage``), not silence.

What weakens the checks — a rule turned off or lowered in ``[rules]``, a rule off for some
templates (``[[gate.narrow]]``), a suppression comment — needs a real reason (``real_reason``),
is shown by ``validate`` and is recorded with each approval.
"""

from __future__ import annotations

import fnmatch
import os
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tmplstudio.policy.conditions import pack_applies
from tmplstudio.policy.model import Pack
from tmplstudio.template.meta import TemplateMeta

COVERAGE_RULE = "policy-coverage"
MIN_REASON = 3  # letters or digits (a CJK character counts two): "误报", "FP1"; never ".", "-", "\u200b"


def real_reason(text: str | None) -> bool:
    """Is ``text`` a reason someone wrote (at least a few letters or digits), not a placeholder?"""
    score = 0
    for ch in text or "":
        cat = unicodedata.category(ch)
        if cat[0] in "LN":
            score += 2 if unicodedata.east_asian_width(ch) in "WF" else 1
    return score >= MIN_REASON


@dataclass(frozen=True)
class Narrowing:
    """Rules that do not apply (``off``) or apply lower (a severity) to some templates, and why."""

    rules: tuple[str, ...]              # rule ids, or pack/rule
    reason: str
    templates: tuple[str, ...] = ()     # glob patterns under the templates folder; () = every template
    severity: str = "off"
    origin: str = ""                    # where it is written, e.g. "tmplstudio.toml [[gate.narrow]] 1"

    def covers(self, rel: str | None) -> bool:
        if not self.templates:
            return True
        return rel is not None and any(fnmatch.fnmatchcase(rel, g) for g in self.templates)

    def matches(self, pack: str, rule: str) -> bool:
        return rule in self.rules or f"{pack}/{rule}" in self.rules

    def describe(self) -> str:
        where = f" for {', '.join(self.templates)}" if self.templates else ""
        return f"{', '.join(self.rules)} {self.severity}{where}"

    def to_json(self) -> dict[str, Any]:
        return {"rules": list(self.rules), "severity": self.severity, "templates": list(self.templates),
                "reason": self.reason, "origin": self.origin}


@dataclass
class Applied:
    """A narrowing that covers one template, and how many of its findings it silenced
    (None: the rule is not run at all, so there is nothing to count)."""

    narrowing: Narrowing
    silenced: int | None = 0


@dataclass(frozen=True)
class Gate:
    packs: tuple[str, ...] = ()                                   # every template
    folders: tuple[tuple[str, tuple[str, ...]], ...] = ()         # folder under templates/ -> packs
    locales: tuple[tuple[str, tuple[str, ...]], ...] = ()         # language or tag -> packs
    jurisdictions: tuple[tuple[str, tuple[str, ...]], ...] = ()   # jurisdiction -> packs
    narrowings: tuple[Narrowing, ...] = ()
    templates_root: str | None = None

    def relative(self, path: str | Path) -> str | None:
        """The template's path under the templates folder (POSIX), or None when it is not in it."""
        if self.templates_root is None:
            return None
        try:
            return Path(os.path.abspath(path)).relative_to(os.path.abspath(self.templates_root)).as_posix()
        except ValueError:
            return None

    def mandatory(self, rel: str | None, meta: TemplateMeta) -> list[str]:
        out = list(self.packs)
        for folder, packs in self.folders:
            if rel is not None and rel.startswith(folder.strip("/") + "/"):
                out += packs
        for loc, packs in self.locales:
            if _locale_matches(meta.locale, loc):
                out += packs
        for j, packs in self.jurisdictions:
            if j.upper() in meta.jurisdiction:
                out += packs
        return list(dict.fromkeys(out))

    def covers_locale(self, locale: str) -> bool:
        return any(_locale_matches(locale, loc) for loc, _ in self.locales)

    def covers_jurisdiction(self, j: str) -> bool:
        return any(j == k.upper() for k, _ in self.jurisdictions)

    def to_json(self) -> dict[str, Any]:
        """What the approval's policy-set digest covers (empty for a project without a gate)."""
        out: dict[str, Any] = {}
        if self.packs:
            out["packs"] = list(self.packs)
        for key in ("folders", "locales", "jurisdictions"):
            if getattr(self, key):
                out[key] = {k: list(v) for k, v in getattr(self, key)}
        narrowings = [n.to_json() for n in self.narrowings if n.origin != "rules"]
        if narrowings:
            out["narrow"] = narrowings
        return out


NO_GATE = Gate()


def _locale_matches(locale: str, pattern: str) -> bool:
    loc, pat = locale.lower(), pattern.lower()
    return loc == pat or loc.startswith(pat + "-")


@dataclass
class Selection:
    packs: list[Pack]
    unknown: list[str] = field(default_factory=list)        # front matter `policies` ids no pack has
    coverage: list[tuple[str, str]] = field(default_factory=list)   # (front-matter key, message)


def select_packs(meta: TemplateMeta, packs: list[Pack], gate: Gate, rel: str | None) -> Selection:
    """The packs that check a template (in load order), and what its metadata leaves uncovered."""
    by_id = {p.id: p for p in packs}
    wanted = set(gate.mandatory(rel, meta))
    unknown: list[str] = []
    for pid in meta.policies or ():
        if pid in by_id:
            wanted.add(pid)
        else:
            unknown.append(pid)
    active = [p for p in packs if p.id in wanted or pack_applies(p, meta)]
    selection = Selection(active, unknown)
    # Coverage counts the general packs: a provider's pack (providers = [...]) adds that
    # platform's rules on top, it does not stand for a language's or a country's.
    general = [p for p in packs if not p.providers]
    covering = [p for p in active if not p.providers]
    declares_locales = gate.locales or any(p.locales for p in general)
    if declares_locales and not gate.covers_locale(meta.locale) and not any(
            any(_locale_matches(meta.locale, loc) for loc in p.locales) for p in covering):
        langs = sorted({loc for p in general for loc in p.locales} | {loc for loc, _ in gate.locales})
        selection.coverage.append(("locale", f"no policy pack covers locale '{meta.locale}' (the packs cover "
                                             f"{', '.join(langs)}); nothing checks this language's rules, so the "
                                             "template cannot pass until a pack for it is added or the locale is corrected"))
    known = sorted({j for p in general for j in p.jurisdictions} | {j.upper() for j, _ in gate.jurisdictions})
    if known:
        if not meta.jurisdiction:
            selection.coverage.append(("jurisdiction", "the template names no jurisdiction, so no jurisdiction's rules "
                                                       f"check it; say where it is sent (the packs cover {', '.join(known)})"))
        for j in meta.jurisdiction:
            if not gate.covers_jurisdiction(j) and not any(j in p.jurisdictions for p in covering):
                selection.coverage.append(("jurisdiction", f"no policy pack covers jurisdiction '{j}' (the packs cover "
                                                           f"{', '.join(known)}); nothing checks that jurisdiction's rules"))
    return selection
