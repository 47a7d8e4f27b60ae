"""What every export target shares: the template as literal text and variables (with their
positions), the refusals several providers have in common, the round trip through the
provider's own placeholder grammar, and evaluating a template with the target's provider pack.

Platforms substitute values into fixed text; they cannot run Jinja. A template converts only
when its body is literal text and plain ``{{ variable }}`` tags, optionally through the masking
filter (``{{ card_no | mask }}``: the sending system passes the already-masked value; the
manifest says how to mask it). Anything else is refused with the reason, line and column.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any, Callable

from jinja2 import nodes

MASK_FILTER = "mask"


class Refused(Exception):
    """The target cannot take the template; ``offset`` is where in the file (None: the whole file)."""

    def __init__(self, message: str, offset: int | None = None):
        super().__init__(message)
        self.message = message
        self.offset = offset


@dataclass(frozen=True)
class Text:
    text: str
    offsets: tuple[int, ...]   # file offset of each character


@dataclass(frozen=True)
class Var:
    name: str
    mask: dict[str, Any] | None   # {"keep": 4, "char": "*"} when piped through `mask`
    start: int                    # file offset of "{{"
    end: int

    @property
    def key(self) -> tuple:
        return (self.name, None if self.mask is None else tuple(sorted(self.mask.items())))

    @property
    def manifest(self) -> dict[str, Any]:
        return {"variable": self.name, "mask": self.mask}


Part = Text | Var


def _join(parts: list[Part], text: str, offsets: tuple[int, ...]) -> None:
    if not text:
        return
    if parts and isinstance(parts[-1], Text):
        last = parts.pop()
        parts.append(Text(last.text + text, last.offsets + offsets))
    else:
        parts.append(Text(text, offsets))


def _mask_params(flt: nodes.Filter, offset: int) -> dict[str, Any]:
    bad = Refused("the mask filter's arguments must be constants (keep, char)", offset)
    if flt.dyn_args is not None or flt.dyn_kwargs is not None or len(flt.args) > 2:
        raise bad
    params: dict[str, Any] = {"keep": 4, "char": "*"}
    for key, node in [*zip(("keep", "char"), flt.args), *((kw.key, kw.value) for kw in flt.kwargs)]:
        if key not in params or not isinstance(node, nodes.Const):
            raise bad
        params[key] = node.value
    try:
        params["keep"] = max(0, min(int(params["keep"]), 8))  # the sandbox's mask filter clamps the same way
    except (TypeError, ValueError):
        raise bad from None
    params["char"] = str(params["char"])[:1]
    return params


def flatten(template) -> list[Part]:
    """The body as literal text and variables, in order; Refused for anything a platform cannot express."""
    from tmplstudio.render import sourcemap

    scan = sourcemap.scan(template.body, template.body_start)
    if scan.syntax_error is not None:
        raise Refused(f"Jinja syntax error: {scan.syntax_error[0]}", scan.syntax_error[1])
    parts: list[Part] = []
    for kind, i in scan.order:
        if kind == "data":
            span = scan.data[i]
            _join(parts, span.text, tuple(scan.offset(span.rel + k) for k in range(len(span.text))))
        elif kind == "block":
            start, end = scan.blocks[i]
            word = re.match(r"\{%[-+]?\s*(\w+)", template.source[start:end])
            if word and word.group(1) in ("raw", "endraw"):
                continue  # {% raw %}…{% endraw %}: its content arrives as literal data
            raise Refused(f"control flow ({{% {word.group(1) if word else '…'} %}}) cannot be expressed on the platform", start)
        else:
            tag, expr = scan.vars[i], scan.exprs[i]
            if isinstance(expr, nodes.Name):
                parts.append(Var(expr.name, None, tag.start, tag.end))
            elif isinstance(expr, nodes.Filter) and expr.name == MASK_FILTER and isinstance(expr.node, nodes.Name):
                parts.append(Var(expr.node.name, _mask_params(expr, tag.start), tag.start, tag.end))
            elif isinstance(expr, nodes.Filter):
                raise Refused(f"filter '{expr.name}' (only '{MASK_FILTER}' on a plain variable can be expressed)", tag.start)
            elif isinstance(expr, nodes.Const) and isinstance(expr.value, str):
                _join(parts, expr.value, (tag.start,) * len(expr.value))
            else:
                raise Refused(f"'{{{{ … }}}}' holds an expression ({type(expr).__name__}), not a plain variable", tag.start)
    return parts


def variables(parts: list[Part]) -> list[Var]:
    return [p for p in parts if isinstance(p, Var)]


@dataclass
class Source:
    """One approved template as a target sees it."""

    evaluation: Any            # the engine's Evaluation of the template as written (positions are its file's)
    note: str = ""             # the approval's note, for the provider's review remark

    @cached_property
    def parts(self) -> list[Part]:
        return flatten(self.template)

    @property
    def template(self):
        return self.evaluation.template

    @property
    def meta(self):
        return self.evaluation.template.meta

    @property
    def samples(self) -> dict[str, dict[str, Any]]:
        return dict(self.meta.samples)

    @property
    def domestic_cn(self) -> bool:
        """Sent to mainland China numbers (the template's jurisdiction says CN)."""
        return "CN" in self.meta.jurisdiction

    def value(self, sample: str, var: Var) -> str:
        from tmplstudio.render.sandbox import mask

        raw = self.samples[sample].get(var.name)
        if var.mask is None:
            return "" if raw is None else str(raw)
        return mask(raw, var.mask["keep"], var.mask["char"])

    def values(self, var: Var) -> list[tuple[str, str]]:
        return [(s, self.value(s, var)) for s in self.samples]

    def example(self) -> str | None:
        """The first sample's preview: what reviewers ask to see next to the template."""
        for rendering in self.evaluation.renders.values():
            if rendering.text is not None:
                return rendering.text
        return None

    def declared(self, name: str) -> dict[str, Any]:
        spec = self.meta.variables.get(name)
        return spec if isinstance(spec, dict) else {}

    def declared_at(self, name: str, fallback: int) -> int:
        return self.template.key_positions.get(f"variables.{name}", (fallback, fallback))[0]


@dataclass
class Converted:
    filename: str | None                 # path inside the pack, None for generic
    payload: dict[str, Any] | None       # the request body written to ``filename``
    manifest: dict[str, Any] = field(default_factory=dict)   # extra fields for the manifest's target record

    def file_bytes(self) -> bytes:
        return (json.dumps(self.payload, ensure_ascii=False, indent=2) + "\n").encode("utf-8")


@dataclass(frozen=True)
class Target:
    """An export target: where its files go, which provider pack applies, how a template is
    refused and converted, and (optionally) how it is submitted."""

    name: str
    description: str
    convert: Callable[[Source], Converted]
    pack: str | None = None                       # provider pack evaluated at export
    folder: str | None = None                     # request bodies go to <folder>/<id>.json
    refusals: tuple[Callable[[Source], None], ...] = ()
    api: str = ""                                 # the provider call, for `submit --dry-run` and the docs
    connect: Callable[[str | None], Any] | None = None   # endpoint -> client with create(body) / review(code, body)
    min_interval: float = 0.0                     # seconds between two create calls (provider rate limit)

    def filename(self, template_id: str) -> str | None:
        return f"{self.folder}/{template_id}.json" if self.folder else None

    def run(self, source: Source) -> Converted:
        for refuse in self.refusals:
            refuse(source)
        return self.convert(source)


# -- shared refusals -------------------------------------------------------------------------------------------


def sms_only(source: Source) -> None:
    if source.meta.channel != "sms":
        raise Refused(f"channel '{source.meta.channel}': this target sends text messages (sms)",
                      source.template.key_positions.get("channel", (0, 0))[0])


def literal_syntax(pattern: str, what: str) -> Callable[[Source], None]:
    """Refuse fixed text the provider would read as one of its placeholders (none of the three
    providers documents an escape for it)."""
    regex = re.compile(pattern)

    def check(source: Source) -> None:
        for part in source.parts:
            if isinstance(part, Text):
                m = regex.search(part.text)
                if m:
                    raise Refused(f"the fixed text '{m.group(0)}' would be read as a {what} placeholder, and the provider "
                                  "has no escape for it; reword it or pass it in a variable", part.offsets[m.start()])
    return check


def no_adjacent_variables(provider: str) -> Callable[[Source], None]:
    def check(source: Source) -> None:
        for before, after in zip(source.parts, source.parts[1:]):
            if isinstance(before, Var) and isinstance(after, Var):
                raise Refused(f"adjacent variables '{before.name}' and '{after.name}' (nothing between them): "
                              f"{provider} rejects them, it cannot tell where one ends", after.start)
    return check


def _fixed_words(parts: list[Part]) -> bool:
    text = "".join(p.text for p in parts if isinstance(p, Text))
    return any(ch.isalnum() for ch in SIGNATURE.sub("", text.lstrip(), count=1))


def not_all_variables(provider: str) -> Callable[[Source], None]:
    def check(source: Source) -> None:
        found = variables(source.parts)
        if found and not _fixed_words(source.parts):
            raise Refused(f"the body is made of variables only (no fixed words besides the signature): {provider} "
                          "reviews the fixed text and rejects such templates", found[0].start)
    return check


SIGNATURE = re.compile(r"^【([^【】]{1,30})】")


def split_signature(source: Source, provider: str, required: bool) -> tuple[str | None, list[Part]]:
    """The 【signature】 that opens the body, and the rest. The provider adds the registered
    signature itself, so it must be fixed text at the very start: no whitespace before it and
    no variable inside it."""
    parts = source.parts
    first = parts[0] if parts else None
    if isinstance(first, Text):
        stripped = first.text.lstrip()
        if stripped.startswith("【") and stripped != first.text:
            raise Refused(f"whitespace before the 【signature】: {provider} puts the signature first, so the message "
                          "would not match the approved preview; remove it", first.offsets[0])
        m = SIGNATURE.match(first.text)
        if m:
            rest = Text(first.text[m.end():], first.offsets[m.end():])
            return m.group(1), ([rest] if rest.text else []) + parts[1:]
        if first.text.startswith("【") and "】" not in first.text and len(parts) > 1 and isinstance(parts[1], Var):
            raise Refused(f"variable '{parts[1].name}' inside the 【signature】: {provider} signatures are registered "
                          "in advance as fixed text", parts[1].start)
    if isinstance(first, Var) and len(parts) > 1 and isinstance(parts[1], Text) and parts[1].text.startswith("】"):
        raise Refused(f"variable '{first.name}' inside the 【signature】: {provider} signatures are registered "
                      "in advance as fixed text", first.start)
    if required:
        raise Refused(f"no 【signature】 at the start of the body: {provider} needs the registered signature "
                      "there for messages to mainland China", first.offsets[0] if isinstance(first, Text) else
                      (first.start if first else None))
    return None, list(parts)


_URL = re.compile(r"(?i)(?:https?://|www\.)|\b[a-z0-9-]+\.(?:com|cn|net|org|info|io|me|top|xyz|cc)\b")


def links_in_variables(provider: str) -> Callable[[Source], None]:
    """A link must be fixed text the provider can review, not a value (or part of one) passed at send time."""
    def check(source: Source) -> None:
        parts = source.parts
        for k, part in enumerate(parts):
            if not isinstance(part, Var):
                continue
            before = parts[k - 1].text if k and isinstance(parts[k - 1], Text) else ""
            after = parts[k + 1].text if k + 1 < len(parts) and isinstance(parts[k + 1], Text) else ""
            glued = re.search(r"(?i)(?:https?://|www\.)\S*$|[a-z0-9]\.$|/$", before) or re.match(r"(?i)\.[a-z]{2,}|/\S", after)
            carried = [s for s, v in source.values(part) if _URL.search(v)]
            declared = str(source.declared(part.name).get("type", "")).lower() in ("link", "url", "link_param")
            if glued or carried or declared:
                why = (f"sample '{carried[0]}' holds a link" if carried else
                       "it is declared a link" if declared else "it is part of a link in the fixed text")
                raise Refused(f"variable '{part.name}' passes a link ({why}): {provider} does not accept links, "
                              "short links included, as variable values; write the link as fixed text", part.start)
    return check


# -- variable kinds ------------------------------------------------------------------------------------------------

# A template's [variables.X] type, in tmplstudio's own words; targets map these to their
# provider's vocabulary. Without a declared type, the samples' shapes decide (see `kind`).
KINDS = ("name", "money", "time", "phone", "number", "link", "text")
KIND_ALIASES = {"amount": "money", "date": "time", "datetime": "time", "url": "link", "code": "number",
                "id": "number", "string": "text", "other": "text"}
_MONEY = re.compile(r"^-?(?:\d{1,3}(?:,\d{3})+|\d+)(?:\.\d{1,2})?$")
_TIME = re.compile(r"^(?:\d{4}[-/年.]\d{1,2}[-/月.]\d{1,2}日?|\d{1,2}月\d{1,2}日|\d{1,2}/\d{1,2}(?:/\d{2,4})?)?"
                   r"(?:\s*\d{1,2}[:：]\d{2}(?::\d{2})?)?$")
_PHONE = re.compile(r"^(?:1\d{10}|(?:400|800)-?\d{3}-?\d{4}|95\d{3,6}|0\d{2,3}-?\d{7,8}|\d{5})$")
_NUMBER = re.compile(r"^[A-Za-z0-9*\-]+$")


def kind(source: Source, var: Var) -> str:
    """The variable's kind: its declared type (mapped through KIND_ALIASES), else read off the
    samples: every value a date or time → time, a phone number → phone, an amount → money, a
    link → link, letters/digits/mask characters → number; a name whose variable is called
    *name → name; anything else text."""
    declared = str(source.declared(var.name).get("type", "")).strip().lower()
    if declared:
        return KIND_ALIASES.get(declared, declared)
    values = [v for _s, v in source.values(var) if v]
    if values and all(_TIME.match(v) and any(c.isdigit() for c in v) and not _MONEY.match(v) for v in values):
        return "time"
    if values and all(_PHONE.match(v) for v in values):
        return "phone"
    if values and all(_MONEY.match(v) for v in values) and var.mask is None:
        return "money"
    if values and all(_URL.search(v) for v in values):
        return "link"
    if values and all(_NUMBER.match(v) and any(c.isdigit() for c in v) for v in values):
        return "number"
    if re.search(r"(?:^|_)name$", var.name):
        return "name"
    return "text"


# -- the round trip --------------------------------------------------------------------------------------------


def round_trip(source: Source, content: str, grammar: re.Pattern, values: Callable[[str], dict[str, str]],
               prefix: str = "") -> None:
    """Parse the converted text with the provider's placeholder grammar and substitute each
    sample's values as the provider does (one pass, left to right); the result must be the
    engine's preview exactly."""
    for sample, rendering in source.evaluation.renders.items():
        if rendering.text is None:
            raise Refused(f"sample '{sample}' does not render")
        table = values(sample)
        try:
            sent = prefix + grammar.sub(lambda m: table[m.group(1)], content)
        except KeyError as exc:
            raise Refused(f"placeholder {exc.args[0]!r} in the converted text has no value") from None
        if sent != rendering.text:
            at = next((i for i, (a, b) in enumerate(zip(sent, rendering.text)) if a != b), min(len(sent), len(rendering.text)))
            raise Refused(f"the converted text does not reproduce sample '{sample}' exactly "
                          f"(they differ from character {at + 1}: {sent[at:at + 12]!r} vs {rendering.text[at:at + 12]!r})")


def remark(source: Source) -> str:
    """The review note providers ask for: what the message is for, plus a complete example."""
    purpose = source.meta.title or source.meta.id
    bits = [f"用途 Purpose: {purpose}"]
    if source.note:
        bits.append(source.note)
    example = source.example()
    if example:
        bits.append(f"示例 Example: {example}")
    return "; ".join(bits)


# -- evaluating with the target's provider pack -------------------------------------------------------------


def with_provider(text: str, provider: str, pack_id: str) -> tuple[str, int, int]:
    """The source as if its front matter also listed ``provider`` (and ``pack_id`` among its
    ``policies`` when it names its packs): (new source, old body start, new body start). The
    body is unchanged, so positions in it shift by a constant."""
    import tomli_w

    from tmplstudio.template import frontmatter

    split = frontmatter.split(text)
    if split.problems:
        return text, split.body_start, split.body_start
    data = dict(split.data)
    listed = data.get("providers") or []
    listed = [listed] if isinstance(listed, str) else list(listed)
    if provider not in [str(p).lower() for p in listed]:
        data["providers"] = listed + [provider]
    if isinstance(data.get("policies"), (list, str)):
        named = [data["policies"]] if isinstance(data["policies"], str) else list(data["policies"])
        if pack_id not in named:
            data["policies"] = named + [pack_id]
    head = f"{frontmatter.FENCE}\n{tomli_w.dumps(data)}{frontmatter.FENCE}\n"
    body_start = split.body_start if split.has_front_matter else 0
    return head + text[body_start:], body_start, len(head)


@dataclass
class TargetCheck:
    evaluation: Any                          # with the provider pack applied
    errors: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)   # warnings and infos that only the target brings
    uncovered: str | None = None             # why the provider pack does not apply, when it does not


def pack_mismatch(pack, meta) -> str | None:
    """Why ``pack`` does not apply to a template with ``meta`` (None when it does)."""
    from tmplstudio.policy.conditions import pack_applies

    if pack_applies(pack, meta):
        return None
    loc = meta.locale.lower()
    if pack.locales and not any(loc == x or loc.startswith(x + "-") for x in pack.locales):
        return f"it covers locales {', '.join(pack.locales)} and this template is {meta.locale}"
    if pack.channels and meta.channel not in pack.channels:
        return f"it covers channels {', '.join(pack.channels)} and this template is {meta.channel}"
    if pack.jurisdictions and not set(pack.jurisdictions) & set(meta.jurisdiction):
        return (f"it covers jurisdictions {', '.join(pack.jurisdictions)} and this template's are "
                f"{', '.join(meta.jurisdiction) or 'none'}")
    if pack.categories and meta.category not in pack.categories:
        return f"it covers categories {', '.join(pack.categories)} and this template is {meta.category}"
    return "its conditions do not match this template"


def check_with_provider(project, text: str, path, target: Target, base_evaluation) -> TargetCheck:
    """Evaluate the template with the target's provider pack applied (as if the front matter
    listed the provider): every finding of that evaluation counts, so escalations keyed on
    ``providers`` apply too."""
    from tmplstudio.policy.model import Severity

    rewritten, old_start, new_start = with_provider(text, target.name, target.pack)
    ev = project.evaluate(rewritten, path)
    result = TargetCheck(ev)
    pack = next(p for p in project.packs if p.id == target.pack)
    why = pack_mismatch(pack, ev.template.meta)
    if why:
        result.uncovered = f"the {target.name} provider pack '{pack.id}' does not cover this template: {why}"
        return result
    base = {(f.pack, f.rule, f.message, f.start, f.sample) for f in base_evaluation.findings if not f.suppressed}
    template = base_evaluation.template
    for f in sorted((f for f in ev.findings if not f.suppressed), key=lambda f: f.sort_key()):
        start = f.start - new_start + old_start if f.start >= new_start and f.file is None else None
        if f.severity != Severity.ERROR and (f.pack, f.rule, f.message, start, f.sample) in base:
            continue
        line, col = template.position(start) if start is not None else (None, None)
        where = f"line {line}, column {col}" if line is not None else (f.file or "front matter")
        text_ = f"{where}: {f.severity.value} {f.rule} ({f.pack}): {f.message}"
        (result.errors if f.severity == Severity.ERROR else result.notes).append(text_)
    return result


# -- submitting --------------------------------------------------------------------------------------------------

# A provider's review, in one vocabulary for every target (``submitted.toml`` and `status`).
REVIEWING, APPROVED, REJECTED, CANCELLED, NO_REVIEW, FAILED = (
    "reviewing", "approved", "rejected", "cancelled", "no-review", "failed")


@dataclass(frozen=True)
class Review:
    code: str            # the provider's template code / id / content SID
    status: str          # one of the statuses above
    reason: str = ""     # the provider's words (a rejection reason, a note)
    query: dict[str, Any] = field(default_factory=dict)   # what the review call needs besides the code


class SubmitError(Exception):
    """The provider refused or failed a call; the message is the provider's."""


def sdk_missing(target: str, package: str) -> "Exception":
    from tmplstudio.errors import InputError

    return InputError(f"the {target} target submits through the official SDK '{package}', which is not installed: "
                      f"pip install 'tmplstudio[{target}]'")


def split_endpoint(endpoint: str | None, default_host: str) -> tuple[str, str]:
    """(scheme, host[:port]) of an endpoint given as a URL or a bare host."""
    if not endpoint:
        return "https", default_host
    m = re.match(r"^(https?)://([^/]+)/?$", endpoint)
    if m:
        return m.group(1), m.group(2)
    if re.match(r"^[A-Za-z0-9.\-]+(?::\d+)?$", endpoint):
        return "https", endpoint
    from tmplstudio.errors import InputError

    raise InputError(f"--endpoint must be a host or an http(s)://host[:port] URL, not {endpoint!r}")


def provider_message(exc: Exception) -> str:
    """The provider's own code and message from an SDK exception, whatever the SDK."""
    code = getattr(exc, "code", None) or getattr(exc, "status", None)
    message = getattr(exc, "message", None) or getattr(exc, "msg", None) or str(exc)
    return f"{code}: {message}" if code else str(message)


def prepare(project, target: Target, text: str, path, evaluation, note: str = "") -> tuple[Converted, list[str]]:
    """Convert one approved template for ``target``: (converted, notes), or Refused with the
    reason. Provider targets first evaluate the template with their provider pack: any error
    there refuses it, other findings it brings are returned as notes."""
    if target.pack is None:
        return target.run(Source(evaluation, note)), []
    check = check_with_provider(project, text, path, target, evaluation)
    if check.uncovered:
        raise Refused(check.uncovered)
    if check.errors:
        more = f" (and {len(check.errors) - 3} more)" if len(check.errors) > 3 else ""
        raise Refused(f"fails with the {target.name} provider applied: " + "; ".join(check.errors[:3]) + more)
    return target.run(Source(evaluation, note)), check.notes


def refusal_text(target: Target, template, exc: Refused) -> str:
    where = ""
    if exc.offset is not None:
        line, col = template.position(exc.offset)
        where = f"line {line}, column {col}: "
    return f"cannot be expressed for {target.name}: {where}{exc.message}"
