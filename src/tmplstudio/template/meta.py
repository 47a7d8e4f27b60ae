"""Template metadata (front matter): the documented keys, their defaults, and validation.

Defaults for a template without front matter (documented in docs/templates.md):
locale from the project config, else detected from the body (Chinese text → zh-CN, else
en-US); jurisdiction from the locale's region (zh-CN → CN, en-US → US); channel "sms";
category "notification"; sender_role "third_party_collector"; audience "debtor";
stage "subsequent"; no providers; send window 08:00-21:00 (the packs' allowed window).
"""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass, field
from typing import Any

from tmplstudio.template.frontmatter import Problem

CHANNELS = ("sms", "email", "push")
CATEGORIES = ("notification", "marketing")
SENDER_ROLES = ("creditor", "third_party_collector")
AUDIENCES = ("debtor", "third_party", "emergency_contact")
STAGES = ("initial", "subsequent")
FLAGS = ("attorney_involved", "debt_time_barred", "legal_action_intended")
VARIABLE_KEYS = ("max_len", "type", "sensitive", "description")

DEFAULTS: dict[str, Any] = {
    "channel": "sms",
    "category": "notification",
    "sender_role": "third_party_collector",
    "audience": "debtor",
    "stage": "subsequent",
}

KNOWN_KEYS = (
    "id", "title", "channel", "locale", "jurisdiction", "category", "sender_role", "audience",
    "stage", "providers", "policies", "send_window", "subject", "flags", "samples", "variables",
    "creditor_name", "description", "free_text",
)

_LOCALE = re.compile(r"^[A-Za-z]{2,3}(-[A-Za-z0-9]{2,8})*$")
_WINDOW = re.compile(r"^([01]\d|2[0-3]):([0-5]\d)-([01]\d|2[0-4]):([0-5]\d)$")
_HAN = re.compile(r"[\u4e00-\u9fff]")


@dataclass(frozen=True)
class TemplateMeta:
    id: str
    locale: str
    channel: str = "sms"
    jurisdiction: tuple[str, ...] = ()
    category: str = "notification"
    sender_role: str = "third_party_collector"
    audience: str = "debtor"
    stage: str = "subsequent"
    providers: tuple[str, ...] = ()
    policies: tuple[str, ...] | None = None
    send_window: str | None = None
    subject: str | None = None
    title: str | None = None
    creditor_name: tuple[str, ...] = ()
    free_text: tuple[str, ...] = ()  # variables whose text is written at send time (a note, a remark)
    flags: dict[str, bool] = field(default_factory=dict)
    samples: dict[str, dict[str, Any]] = field(default_factory=dict)
    variables: dict[str, dict[str, Any]] = field(default_factory=dict)

    @property
    def language(self) -> str:
        return self.locale.split("-")[0].lower()

    def condition_value(self, key: str) -> Any:
        """The value a rule condition (`when`) compares against."""
        if key.startswith("flags."):
            return bool(self.flags.get(key[6:], False))
        if key == "language":
            return self.language
        return getattr(self, key, None)


def did_you_mean(word: str, options: tuple[str, ...] | list[str]) -> str:
    close = difflib.get_close_matches(word, list(options), n=1, cutoff=0.6)
    return f" (did you mean '{close[0]}'?)" if close else ""


def region_of(locale: str) -> str | None:
    parts = locale.split("-")
    for part in parts[1:]:
        if len(part) == 2 and part.isalpha():
            return part.upper()
    return {"zh": "CN", "en": "US"}.get(parts[0].lower())


def build_meta(
    data: dict[str, Any],
    default_id: str,
    body: str,
    positions: dict[str, tuple[int, int]],
    default_locale: str | None = None,
    fallback_span: tuple[int, int] = (0, 0),
) -> tuple[TemplateMeta, list[Problem]]:
    """Validate front matter and fill in defaults. Problems are findings, never exceptions."""
    problems: list[Problem] = []

    def where(key: str) -> tuple[int, int]:
        return positions.get(key) or positions.get(key.split(".")[0]) or fallback_span

    def problem(key: str, message: str) -> None:
        start, end = where(key)
        problems.append(Problem(message, start, end))

    for key in data:
        if key not in KNOWN_KEYS:
            problem(key, f"unknown front-matter key '{key}'{did_you_mean(key, KNOWN_KEYS)}")

    def text(key: str, allowed: tuple[str, ...] | None = None) -> str | None:
        value = data.get(key)
        if value is None:
            return None
        if not isinstance(value, str):
            problem(key, f"'{key}' must be a string, not {type(value).__name__}")
            return None
        if allowed and value not in allowed:
            problem(key, f"'{key}' must be one of {', '.join(allowed)}; got '{value}'{did_you_mean(value, allowed)}")
            return None
        return value

    def string_list(key: str) -> tuple[str, ...] | None:
        value = data.get(key)
        if value is None:
            return None
        if isinstance(value, str):
            return (value,)
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            problem(key, f"'{key}' must be a list of strings")
            return None
        return tuple(value)

    locale = text("locale")
    if locale is not None and not _LOCALE.match(locale):
        problem("locale", f"'locale' must be a BCP 47 tag such as zh-CN or en-US; got '{locale}'")
        locale = None
    if locale is None:
        locale = default_locale or ("zh-CN" if _HAN.search(body) else "en-US")

    jurisdiction = string_list("jurisdiction")
    if jurisdiction is None:
        region = region_of(locale)
        jurisdiction = (region,) if region else ()
    jurisdiction = tuple(j.upper() for j in jurisdiction)

    send_window = text("send_window")
    if send_window is not None:
        m = _WINDOW.match(send_window.replace(" ", ""))
        if not m:
            problem("send_window", f"'send_window' must look like \"08:00-21:00\"; got '{send_window}'")
            send_window = None
        else:
            send_window = send_window.replace(" ", "")

    flags: dict[str, bool] = {}
    raw_flags = data.get("flags", {})
    if not isinstance(raw_flags, dict):
        problem("flags", "'flags' must be a table, e.g. [flags] attorney_involved = false")
    else:
        for name, value in raw_flags.items():
            if name not in FLAGS:
                problem(f"flags.{name}", f"unknown flag '{name}'{did_you_mean(name, FLAGS)}; known flags: {', '.join(FLAGS)}")
            elif not isinstance(value, bool):
                problem(f"flags.{name}", f"flag '{name}' must be true or false")
            else:
                flags[name] = value

    samples: dict[str, dict[str, Any]] = {}
    raw_samples = data.get("samples", {})
    if not isinstance(raw_samples, dict):
        problem("samples", "'samples' must be tables: [samples.NAME] with variable = value lines")
    else:
        for name, values in raw_samples.items():
            if not isinstance(values, dict):
                problem(f"samples.{name}", f"sample '{name}' must be a table of variable values")
            else:
                samples[str(name)] = dict(values)

    variables: dict[str, dict[str, Any]] = {}
    raw_vars = data.get("variables", {})
    if isinstance(raw_vars, dict):
        for name, spec in raw_vars.items():
            if not isinstance(spec, dict):
                problem(f"variables.{name}", f"variable '{name}' must be a table (max_len, type, sensitive)")
                continue
            for k in spec:
                if k not in VARIABLE_KEYS:
                    problem(f"variables.{name}", f"unknown key '{k}' for variable '{name}'{did_you_mean(k, VARIABLE_KEYS)}")
            variables[str(name)] = dict(spec)
    else:
        problem("variables", "'variables' must be tables: [variables.NAME]")

    subject = text("subject")
    policies = string_list("policies")
    meta = TemplateMeta(
        id=text("id") or default_id,
        locale=locale,
        channel=text("channel", CHANNELS) or DEFAULTS["channel"],
        jurisdiction=jurisdiction,
        category=text("category", CATEGORIES) or DEFAULTS["category"],
        sender_role=text("sender_role", SENDER_ROLES) or DEFAULTS["sender_role"],
        audience=text("audience", AUDIENCES) or DEFAULTS["audience"],
        stage=text("stage", STAGES) or DEFAULTS["stage"],
        providers=tuple(p.lower() for p in (string_list("providers") or ())),
        policies=policies,
        send_window=send_window,
        subject=subject,
        title=text("title"),
        creditor_name=string_list("creditor_name") or (),
        free_text=string_list("free_text") or (),
        flags=flags,
        samples=samples,
        variables=variables,
    )
    text("description")
    return meta, problems
