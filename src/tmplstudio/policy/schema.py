"""The pack format: TOML text in, a Pack and *every* problem with it out.

A rule that silently cannot fire is the worst failure a compliance linter can have (Vale's
recurring bug class), so every unknown key, wrong type, invalid or runaway-prone regex and
unknown rule kind is a problem naming the file, line and column. Loading (``loader.py``) refuses
a pack with any problem; `policy lint` prints them all and adds its quality checks. Both read
packs through this one module, the way Semgrep's ``validate_yaml`` serves both.

The common keys of a rule are read here; each kind reads its own (``kinds/``).
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tmplstudio import safe_toml
from tmplstudio.errors import InputError
from tmplstudio.policy.frames import Frame
from tmplstudio.policy.kinds import KINDS, Params
from tmplstudio.policy.model import Escalation, Example, Fix, Pack, Rule, Severity
from tmplstudio.policy.sources import Source, parse_sources
from tmplstudio.template.meta import AUDIENCES, CATEGORIES, CHANNELS, SENDER_ROLES, STAGES, did_you_mean

PACK_KEYS = ("id", "title", "version", "description", "locales", "channels", "jurisdictions", "providers", "categories", "sources")
COMMON_KEYS = ("id", "variant", "kind", "severity", "message", "explanation", "source", "suggestion", "fix", "when", "escalate",
               "examples", "enabled", "set_aside", "negatable")
FRAME_KEYS = ("name", "cues", "breaks", "within", "counters")
# The values a condition can meet (template/meta.py); a misspelt one would silently never hold.
CONDITION_VALUES = {"channel": CHANNELS, "category": CATEGORIES, "sender_role": SENDER_ROLES, "audience": AUDIENCES,
                    "stage": STAGES}
CONDITION_KEYS = ("channel", "locale", "language", "jurisdiction", "category", "sender_role", "audience", "stage", "providers")
FIX_KEYS = ("replace", "replacements", "prepend", "append")
ESCALATE_KEYS = ("severity", "when", "near", "within")
EXAMPLE_KEYS = ("hit", "ok")
EXAMPLE_ITEM_KEYS = ("text", "meta", "severity")
ERROR, WARNING = "error", "warning"
_ID = re.compile(r"^[a-z0-9][a-z0-9\-]*$")
_TOML_POS = re.compile(r"\(at line (\d+), column (\d+)\)")


@dataclass(frozen=True)
class Problem:
    path: str
    line: int | None
    level: str    # error or warning
    code: str     # toml, invalid, unknown-key, unknown-kind, duplicate-id, regex (lint adds its own)
    message: str
    column: int | None = None

    def __str__(self) -> str:
        where = f"{self.path}:{self.line or 1}" + (f":{self.column}" if self.column else "")
        return f"{where}: {self.level} {self.code} {self.message}"


@dataclass
class Parsed:
    """A pack file as read: the pack (every rule without a problem; None when the file or its
    [pack] table cannot be used) and every problem found."""

    path: Path
    pack: Pack | None
    problems: list[Problem] = field(default_factory=list)
    lines: "Lines | None" = None
    indices: list[int] = field(default_factory=list)  # each built rule's position among [[rules]]
    raw_rules: list[Any] = field(default_factory=list)

    @property
    def errors(self) -> list[Problem]:
        return [p for p in self.problems if p.level == ERROR]


class Lines:
    """Where things are written in the pack text (tomllib keeps no positions): best effort,
    by key and by value, inside the right [[rules]] block."""

    def __init__(self, text: str):
        self.lines = text.split("\n")
        self.rule_lines = [n for n, line in enumerate(self.lines, 1) if re.match(r"\s*\[\[\s*rules\s*\]\]", line)]
        self.pack_line = next((n for n, l in enumerate(self.lines, 1) if re.match(r"\s*\[\s*pack\s*\]", l)), None)

    def rule(self, index: int) -> int | None:
        return self.rule_lines[index] if index < len(self.rule_lines) else None

    def block(self, index: int) -> tuple[int, int]:
        start = self.rule(index) or 1
        nxt = self.rule(index + 1)
        return start, (nxt - 1 if nxt else len(self.lines))

    def _col(self, n: int, needle: str) -> int | None:
        at = self.lines[n - 1].find(needle)
        return at + 1 if at >= 0 else None

    def pack_key(self, key: str) -> tuple[int | None, int | None]:
        if self.pack_line is None:
            return None, None
        for n in range(self.pack_line, len(self.lines) + 1):
            line = self.lines[n - 1]
            if n > self.pack_line and re.match(r"\s*\[", line):
                break
            if re.match(rf"\s*{re.escape(key)}\s*=", line):
                return n, self._col(n, key)
        return self.pack_line, None

    def top_key(self, key: str) -> tuple[int | None, int | None]:
        for n, line in enumerate(self.lines, 1):
            if re.match(rf"\s*(\[\[?\s*)?{re.escape(key)}\b", line):
                return n, self._col(n, key)
        return None, None

    def key(self, index: int, key: str) -> tuple[int | None, int | None]:
        """The line and column of ``key`` (or ``[rules.key]``, or ``key = `` inside an inline
        table) in rule ``index``; the rule's first line when it cannot be found."""
        start = self.rule(index)
        if start is None:
            return None, None
        _, end = self.block(index)
        for n in range(start, end + 1):
            line = self.lines[n - 1]
            if re.match(rf"\s*\[\[?\s*rules\.{re.escape(key)}\s*\]", line) or re.match(rf"\s*{re.escape(key)}\s*=", line):
                return n, self._col(n, key)
        for n in range(start, end + 1):  # inline tables: fix = { replce = "..." }
            m = re.search(rf"[{{,]\s*({re.escape(key)})\s*=", self.lines[n - 1])
            if m:
                return n, m.start(1) + 1
        return start, None

    def header(self, index: int | None, name: str, n: int) -> tuple[int | None, int | None]:
        """The line of the n-th ``[[name]]`` table (inside rule ``index``; at the top when None)."""
        lo, hi = self.block(index) if index is not None else (1, self.rule_lines[0] - 1 if self.rule_lines else len(self.lines))
        seen = 0
        for k in range(lo, hi + 1):
            if re.match(rf"\s*\[\[\s*{re.escape(name)}\s*\]\]", self.lines[k - 1]):
                if seen == n:
                    return k, 1
                seen += 1
        return (lo if index is not None else None), None

    def value(self, index: int, text: str, default: tuple[int | None, int | None]) -> tuple[int | None, int | None]:
        """Where a string value (a phrase, a pattern, an example) is written in rule ``index``."""
        start, end = self.block(index)
        needle = text.split("\n")[0]
        candidates = [needle, needle.replace("\\", "\\\\").replace('"', '\\"')]
        cut = re.split(r"[\\\"'\u0000-\u001f\u007f-\u009f\u200b-\u200f\u2060-\u2064\ufeff]", needle)[0]
        if len(cut) >= 2:
            candidates.append(cut)
        for cand in candidates:
            if not cand:
                continue
            for n in range(start, end + 1):
                at = self.lines[n - 1].find(cand)
                if at >= 0:
                    return n, at + 1
        return default


def parse_file(path: Path, bundled: bool = False) -> Parsed:
    path = Path(path)
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        return _fatal(path, "no such policy pack", "toml")
    except OSError as exc:
        return _fatal(path, f"cannot read policy pack: {exc.strerror or exc}", "toml")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        return _fatal(path, "policy pack is not valid UTF-8 text", "toml")
    return parse_text(text, path, bundled)


def parse_text(text: str, path: Path, bundled: bool = False) -> Parsed:
    try:
        data = safe_toml.loads(text)
    except tomllib.TOMLDecodeError as exc:
        m = _TOML_POS.search(str(exc))
        line, col = (int(m.group(1)), int(m.group(2))) if m else (None, None)
        return _fatal(path, f"not valid TOML: {_TOML_POS.sub('', str(exc)).strip()}", "toml", line, col)
    return parse_data(data, path, text, bundled)


def _fatal(path: Path, message: str, code: str, line: int | None = None, col: int | None = None) -> Parsed:
    return Parsed(Path(path), None, [Problem(str(path), line, ERROR, code, message, col)])


def parse_data(data: dict[str, Any], path: Path, text: str = "", bundled: bool = False) -> Parsed:
    """Build a pack from parsed TOML, collecting every problem instead of stopping at the first."""
    lines = Lines(text)
    parsed = Parsed(Path(path), None, lines=lines)

    def report(where: tuple[int | None, int | None], code: str, message: str) -> None:
        parsed.problems.append(Problem(str(path), where[0], ERROR, code, message, where[1]))

    for key in data:
        if key not in ("pack", "rules", "set_aside"):
            report(lines.top_key(key), "unknown-key", f"unknown top-level key '{key}'{did_you_mean(key, ['pack', 'rules', 'set_aside'])}; "
                   "a pack has [pack], [[set_aside]] and [[rules]]")
    pack_frames = _frames(data.get("set_aside"), "[[set_aside]]", lambda n: lines.header(None, "set_aside", n),
                          lambda where, code, msg: report(where, code, msg))
    header = data.get("pack")
    pack_id = "?"
    header_ok = isinstance(header, dict)
    if not header_ok:
        report((None, None), "invalid", "missing [pack] table (id, title, version, ...)")
        header = {}
    for key in header:
        if key not in PACK_KEYS:
            report(lines.pack_key(key), "unknown-key", f"unknown key '{key}' in [pack]{did_you_mean(key, PACK_KEYS)}")
    if isinstance(header.get("id"), str) and _ID.match(header["id"]):
        pack_id = header["id"]
    elif header_ok:
        header_ok = False
        report(lines.pack_key("id"), "invalid", "[pack] id must be a lower-case kebab-case string, e.g. \"zh-collections\"")

    def header_list(key: str) -> tuple[str, ...]:
        value = header.get(key)
        if value is None:
            return ()
        if isinstance(value, str):
            return (value,)
        if isinstance(value, list) and all(isinstance(v, str) for v in value):
            return tuple(value)
        report(lines.pack_key(key), "invalid", f"[pack] {key} must be a string or a list of strings")
        return ()

    fields = {k: header_list(k) for k in ("locales", "channels", "jurisdictions", "providers", "categories")}
    for key, known in (("channels", CHANNELS), ("categories", CATEGORIES)):
        for v in fields[key]:
            if v not in known:
                report(lines.pack_key(key), "invalid", f"[pack] {key}: {v!r} never matches; one of {', '.join(known)}"
                       f"{did_you_mean(v, known)}")
    pack_sources = _sources(header.get("sources"), "[pack]", lines.pack_key("sources"), report)

    raw_rules = data.get("rules", [])
    if not isinstance(raw_rules, list):
        report(lines.top_key("rules"), "invalid", "'rules' must be an array of tables: [[rules]]")
        raw_rules = []
    parsed.raw_rules = raw_rules
    rules: list[Rule] = []
    seen: dict[str, list[tuple[str | None, int | None]]] = {}
    for index, raw in enumerate(raw_rules):
        rule = _rule(raw, index, pack_id, lines, report)
        rid = raw.get("id") if isinstance(raw, dict) else None
        if isinstance(rid, str):
            line = lines.rule(index)
            variant = raw.get("variant")
            earlier = seen.setdefault(rid, [])
            # Entries may share an id when each names a distinct `variant` (docs/policy-format.md).
            clash = [ln for v, ln in earlier if v is None or variant is None or v == variant]
            if clash:
                report((line, None), "duplicate-id", f"rule id '{rid}' is used twice in pack '{pack_id}' (first at line {clash[0] or '?'}); "
                       "when one rule needs several matchers or conditions, give each entry a distinct `variant = \"...\"`, "
                       "or suppressions and config overrides could not tell them apart")
                rule = None
            earlier.append((variant if isinstance(variant, str) else None, line))
        if rule is not None:
            rules.append(rule)
            parsed.indices.append(index)
    if header_ok:
        parsed.pack = Pack(
            id=pack_id,
            title=str(header.get("title", pack_id)),
            version=str(header.get("version", "0")),
            path=str(path),
            rules=tuple(rules),
            description=str(header.get("description", "")),
            locales=tuple(l.lower() for l in fields["locales"]),
            channels=fields["channels"],
            jurisdictions=tuple(j.upper() for j in fields["jurisdictions"]),
            providers=tuple(p.lower() for p in fields["providers"]),
            categories=fields["categories"],
            sources=pack_sources,
            set_aside=pack_frames,
            bundled=bundled,
        )
    parsed.problems.sort(key=lambda p: (p.line or 0, p.column or 0))
    return parsed


def _rule(raw: Any, index: int, pack_id: str, lines: Lines, report) -> Rule | None:
    """One [[rules]] entry, or None when it has a problem (each one reported)."""
    line = lines.rule(index)
    if not isinstance(raw, dict):
        report((line, None), "invalid", "each [[rules]] entry must be a table")
        return None
    count = [0]

    def problem(where, code: str, message: str) -> None:
        count[0] += 1
        report(where, code, message)

    def at(key: str):
        return lines.key(index, key)

    rule_id = raw.get("id")
    if not isinstance(rule_id, str) or not _ID.match(rule_id):
        problem((line, None), "invalid", "rule id must be a lower-case kebab-case string, e.g. \"visit-threat\"")
        where = f"rule #{index + 1}"
    else:
        where = f"rule '{rule_id}'"
        if isinstance(raw.get("variant"), str):
            where += f" ({raw['variant']})"
    kind_name = raw.get("kind")
    kind = KINDS.get(kind_name) if isinstance(kind_name, str) else None
    if kind is None:
        names = tuple(KINDS)
        problem(at("kind"), "unknown-kind", f"{where}: unknown kind {kind_name!r}{did_you_mean(str(kind_name), names)}; kinds: {', '.join(names)}")
    allowed = COMMON_KEYS + (kind.keys if kind else tuple(k for kd in KINDS.values() for k in kd.keys))
    for key in raw:
        if key not in allowed:
            hint = did_you_mean(key, allowed)
            takers = [k.name for k in KINDS.values() if key in k.keys]
            if not hint and takers:
                hint = f" (kinds that take it: {', '.join(takers)})"
            problem(at(key), "unknown-key", f"{where}: unknown key '{key}'{' for kind ' + repr(kind_name) if kind else ''}{hint}")
    try:
        severity = Severity(raw.get("severity", ""))
    except ValueError:
        severity = Severity.ERROR
        problem(at("severity"), "invalid", f"{where}: severity must be error, warning or info")
    message = raw.get("message")
    if not isinstance(message, str) or not message.strip():
        problem((line, None), "invalid", f"{where}: 'message' is required")
    variant = raw.get("variant")
    if variant is not None and (not isinstance(variant, str) or not _ID.match(variant)):
        problem(at("variant"), "invalid", f"{where}: variant must be a short kebab-case name, e.g. \"initial\"")
    params: dict[str, Any] = {}
    if kind is not None:
        lacking = [key for key in kind.required if key not in raw]
        for key in lacking:
            problem((line, None), "invalid", f"{where}: kind '{kind.name}' needs '{key}'")
        params = {k: raw[k] for k in kind.keys if k in raw}
        if not lacking:
            checked = Params(params, where, lambda key, msg, code, value: problem(
                lines.value(index, value, at(key)) if value else (at(key) if key else (line, None)), code, msg))
            kind.validate(checked)
    source = _sources(raw.get("source"), where, at("source"), problem)
    fix = _fix(raw.get("fix"), where, at, problem)
    when = _when(raw.get("when"), where, at("when"), problem)
    escalate = _escalations(raw.get("escalate"), where, at, problem, kind, params,
                            lambda n: lines.header(index, "rules.escalate", n))
    examples = _examples(raw.get("examples"), where, at, problem)
    frames = _frames(raw.get("set_aside"), f"{where}: set_aside", lambda n: lines.header(index, "rules.set_aside", n), problem)
    negatable = raw.get("negatable", True)
    if not isinstance(negatable, bool):
        problem(at("negatable"), "invalid", f"{where}: negatable must be true or false")
    if kind is not None and not kind.wording and ("set_aside" in raw or "negatable" in raw):
        problem(at("set_aside" if "set_aside" in raw else "negatable"), "invalid",
                f"{where}: set_aside and negatable apply to wording kinds (phrases, near), not to kind '{kind.name}'")
    enabled = raw.get("enabled", True)
    if not isinstance(enabled, bool):
        problem(at("enabled"), "invalid", f"{where}: enabled must be true or false")
    if count[0]:
        return None
    return Rule(
        id=rule_id,
        kind=kind.name,
        severity=severity,
        message=message.strip(),
        explanation=str(raw.get("explanation", "")).strip(),
        source=source,
        pack_id=pack_id,
        params=params,
        suggestion=raw.get("suggestion"),
        fix=fix,
        when=when,
        escalate=escalate,
        hit_examples=examples[0],
        ok_examples=examples[1],
        enabled=enabled,
        set_aside=frames,
        negatable=negatable,
        line=line,
        variant=variant,
    )


def _frames(value: Any, where: str, nth, problem) -> tuple[Frame, ...]:
    """[[set_aside]] tables: name, cues, breaks, within, counters (policy/frames.py); ``nth(n)``
    is where the n-th table is written."""
    if value is None:
        return ()
    spot = nth(0)
    if not isinstance(value, list) or not all(isinstance(v, dict) for v in value):
        problem(spot, "invalid", f"{where} must be tables: [[set_aside]] with name, cues, breaks, within")
        return ()
    from tmplstudio.text.normalize import normalize_phrase

    out = []
    for n, item in enumerate(value):
        spot = nth(n)
        _unknown(item, FRAME_KEYS, "set_aside", where, lambda _key, _s=spot: _s, "set_aside", problem)
        name, within = item.get("name"), item.get("within", 12)
        lists = {k: item.get(k, []) for k in ("cues", "breaks", "counters")}
        if not isinstance(name, str) or not name.strip():
            problem(spot, "invalid", f"{where}: a frame needs a 'name' saying what it sets aside (\"negated\", \"advice to the reader\")")
            continue
        if not all(isinstance(v, list) and all(isinstance(w, str) and w.strip() for w in v) for v in lists.values()) or not lists["cues"]:
            problem(spot, "invalid", f"{where}: '{name}' needs 'cues' (and may have 'breaks', 'counters'): lists of non-empty phrases")
            continue
        if not isinstance(within, int) or isinstance(within, bool) or within < 0:
            problem(spot, "invalid", f"{where}: '{name}': within must be a non-negative whole number")
            continue
        norm = {k: tuple(dict.fromkeys(normalize_phrase(w).strip() for w in v)) for k, v in lists.items()}
        if any(not w for v in norm.values() for w in v):
            problem(spot, "invalid", f"{where}: '{name}' has a word that is empty after normalisation "
                    "(only invisible characters, spaces or separators)")
            continue
        out.append(Frame(name.strip(), norm["cues"], norm["breaks"], within, norm["counters"]))
    return tuple(out)


def _sources(value: Any, where: str, spot, problem) -> tuple[Source, ...]:
    try:
        return parse_sources(value, where, InputError)
    except InputError as exc:
        problem(spot, "unknown-key" if "unknown key" in exc.message else "invalid", exc.message)
        return ()


def _unknown(table: dict, allowed: tuple[str, ...], what: str, where: str, at, fallback: str, problem) -> None:
    for key in table:
        if key not in allowed:
            spot = at(key)
            problem(spot if spot[1] is not None else at(fallback), "unknown-key",
                    f"{where}: unknown {what} key '{key}'{did_you_mean(key, allowed)}")


def _when(value: Any, where: str, spot, problem) -> tuple[dict[str, Any], ...]:
    if value is None:
        return ()
    items = value if isinstance(value, list) else [value]
    out = []
    for item in items:
        if not isinstance(item, dict):
            problem(spot, "invalid", f"{where}: 'when' must be a table or a list of tables")
            continue
        flat: dict[str, Any] = {}
        for key, val in item.items():
            if key in ("flags", "not_flags") and isinstance(val, dict):  # flags.x = … written as a dotted key
                for flag, fv in val.items():
                    flat[f"{key}.{flag}"] = fv
                continue
            base = key[4:] if key.startswith("not_") else key
            if base not in CONDITION_KEYS and not base.startswith("flags."):
                problem(spot, "unknown-key", f"{where}: unknown condition '{key}'{did_you_mean(base, CONDITION_KEYS + ('flags',))}")
                continue
            known = CONDITION_VALUES.get(base)
            for v in (val if isinstance(val, list) else [val]):
                if known is not None and str(v).lower() not in known:
                    problem(spot, "invalid", f"{where}: condition {key} = {v!r} never holds; "
                            f"{base} is one of {', '.join(known)}{did_you_mean(str(v), known)}")
            flat[key] = val
        out.append(flat)
    return tuple(out)


def _fix(value: Any, where: str, at, problem) -> Fix | None:
    if value is None:
        return None
    if not isinstance(value, dict):
        problem(at("fix"), "invalid", f"{where}: 'fix' must be a table such as {{ replace = \"...\" }}")
        return None
    _unknown(value, FIX_KEYS, "fix", where, at, "fix", problem)
    for key in ("replace", "prepend", "append"):
        if key in value and not isinstance(value[key], str):
            problem(at("fix"), "invalid", f"{where}: fix.{key} must be a string")
            return None
    repl = value.get("replacements", {})
    if not isinstance(repl, dict):
        problem(at("replacements"), "invalid", f"{where}: fix.replacements must be a table of phrase = replacement")
        repl = {}
    return Fix(value.get("replace"), {str(k): str(v) for k, v in repl.items()}, value.get("prepend"), value.get("append"))


def _escalations(value: Any, where: str, at, problem, kind, params, nth) -> tuple[Escalation, ...]:
    if value is None:
        return ()
    if not isinstance(value, list):
        problem(at("escalate"), "invalid", f"{where}: 'escalate' must be [[rules.escalate]] tables")
        return ()
    out = []
    for n, item in enumerate(value):
        at = (lambda key, _n=n, _at=at: nth(_n) if key == "escalate" else _at(key))
        if not isinstance(item, dict):
            problem(at("escalate"), "invalid", f"{where}: each escalate entry must be a table")
            continue
        _unknown(item, ESCALATE_KEYS, "escalate", where, at, "escalate", problem)
        try:
            sev = Severity(item.get("severity", ""))
        except ValueError:
            problem(at("escalate"), "invalid", f"{where}: escalate severity must be error, warning or info")
            continue
        near = item.get("near", [])
        near = [near] if isinstance(near, str) else near
        if not isinstance(near, list) or not all(isinstance(n, str) and n.strip() for n in near):
            problem(at("escalate"), "invalid", f"{where}: escalate 'near' must be a list of phrases")
            continue
        if not near and "when" not in item:
            problem(at("escalate"), "invalid", f"{where}: an escalate entry needs 'near' or 'when'")
            continue
        if near and kind is not None and not kind.reads_normalised(params):
            problem(at("escalate"), "invalid", f"{where}: escalate 'near' needs the normalised text to look in, and "
                    f"kind '{kind.name}' (as configured) has none; use 'when'")
            continue
        within = item.get("within", 20)
        if not isinstance(within, int) or isinstance(within, bool) or within < 0:
            problem(at("within"), "invalid", f"{where}: escalate 'within' must be a non-negative whole number")
            continue
        out.append(Escalation(sev, _when(item.get("when"), where, at("escalate"), problem), tuple(near), within))
    return tuple(out)


def _examples(value: Any, where: str, at, problem) -> tuple[tuple[Example, ...], tuple[Example, ...]]:
    if value is None:
        return (), ()
    spot = at("examples")
    if not isinstance(value, dict):
        problem(spot, "invalid", f"{where}: 'examples' must be a table with 'hit' and 'ok' lists")
        return (), ()
    _unknown(value, EXAMPLE_KEYS, "examples", where, at, "examples", problem)
    sides = []
    for side in EXAMPLE_KEYS:
        out = []
        items = value.get(side, []) or []
        for item in items if isinstance(items, list) else [items]:
            if isinstance(item, str):
                out.append(Example(item, {}, spot[0]))
            elif isinstance(item, dict) and isinstance(item.get("text"), str) and set(item) <= set(EXAMPLE_ITEM_KEYS):
                meta = item.get("meta", {})
                if not isinstance(meta, dict):
                    problem(spot, "invalid", f"{where}: example meta must be a table of front-matter keys")
                    continue
                severity = item.get("severity")
                if severity is not None and (side != "hit" or severity not in ("error", "warning", "info")):
                    problem(spot, "invalid", f"{where}: an example's severity (error, warning or info) is what a hit example must report")
                    continue
                out.append(Example(item["text"], meta, spot[0], Severity(severity) if severity else None))
            elif isinstance(item, dict) and isinstance(item.get("text"), str):
                _unknown(item, EXAMPLE_ITEM_KEYS, "example", where, at, "examples", problem)
            else:
                problem(spot, "invalid", f"{where}: each {side} example must be a string or {{ text = \"...\", meta = {{...}}, severity = \"...\" }}")
        sides.append(tuple(out))
    return sides[0], sides[1]
