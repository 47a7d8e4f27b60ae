"""Where a rule's claim comes from: the instrument, the provision, and when someone checked it.

Compliance officers quote a rule's sources to examiners, so a source is data, not a free string:

    source = [{ title = "《个人信息保护法》", article = "第五十一条（三）", date = "2021-08-20",
                url = "https://...", verified = "2026-12-01", note = "news mirror only" }]

``title`` names the instrument (law, regulation, standard, platform page); ``article`` the
provision that supports the rule; ``date`` the instrument's date or version; ``url`` the copy
that was read; ``verified`` the ISO date someone last checked that copy says what the rule
claims; ``note`` anything a reader must know (a news mirror instead of the official text, a
renumbered article). The old form, a plain string, still loads as a title-only source;
`policy lint` warns on any source without an article or a verification date.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any, Callable

from tmplstudio.errors import InputError
from tmplstudio.template.meta import did_you_mean

KEYS = ("title", "article", "date", "url", "verified", "note")


@dataclass(frozen=True)
class Source:
    title: str
    article: str = ""
    date: str = ""
    url: str = ""
    verified: str = ""
    note: str = ""

    @property
    def citation(self) -> str:
        """Instrument, provision and date in one line: what a reader quotes."""
        text = ", ".join(p for p in (self.title, self.article) if p)
        return f"{text} ({self.date})" if self.date else text

    @property
    def missing(self) -> tuple[str, ...]:
        """What `policy lint` asks for: the provision and the date it was checked."""
        return tuple(k for k in ("article", "verified") if not getattr(self, k))

    def __str__(self) -> str:
        extra = [p for p in (self.url, self.note, self.verified and f"verified {self.verified}") if p]
        return self.citation + (f" [{'; '.join(extra)}]" if extra else "")


def parse_sources(value: Any, where: str, fail: Callable[[str], InputError]) -> tuple[Source, ...]:
    """``source`` / ``sources`` as Source objects: a string, a table, or a list of either.

    ``fail(message)`` builds the error (the caller knows the file and the key's line); the
    first problem raises it.
    """
    if value is None:
        return ()
    items = value if isinstance(value, list) else [value]
    return tuple(_one(item, f"{where} source #{n}" if len(items) > 1 else f"{where} source", fail)
                 for n, item in enumerate(items, 1))


def _one(item: Any, where: str, fail) -> Source:
    if isinstance(item, str):
        if not item.strip():
            raise fail(f"{where} is an empty string")
        return Source(title=item.strip())
    if not isinstance(item, dict):
        raise fail(f"{where} must be a string or a table {{ title = \"...\", article = \"...\", verified = \"YYYY-MM-DD\" }}")
    for key in item:
        if key not in KEYS:
            raise fail(f"{where}: unknown key '{key}'{did_you_mean(key, KEYS)}; a source has {', '.join(KEYS)}")
    fields: dict[str, str] = {}
    for key, val in item.items():
        if isinstance(val, dt.date):  # an unquoted TOML date: verified = 2026-12-01
            val = val.isoformat()
        if not isinstance(val, str):
            raise fail(f"{where}: '{key}' must be a string")
        fields[key] = val.strip()
    if not fields.get("title"):
        raise fail(f"{where} needs a 'title' naming the instrument, e.g. \"《个人信息保护法》\" or \"Regulation F, 12 CFR part 1006\"")
    if fields.get("verified"):
        try:
            dt.date.fromisoformat(fields["verified"])
        except ValueError:
            raise fail(f"{where}: verified must be the date the source was checked, as YYYY-MM-DD "
                       f"(not {fields['verified']!r})") from None
    return Source(**fields)
