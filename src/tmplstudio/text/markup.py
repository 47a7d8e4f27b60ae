"""An HTML e-mail body as its reader sees it, with a map back to the characters written.

In an e-mail a filter sees the markup, the reader sees the rendered text: ``ar<b></b>rest``,
``ar&shy;rest``, ``arr&#101;st``, ``ar<!-- x -->rest`` and ``ar<span style="display:none">
xyz</span>rest`` all show "arrest". Before matching, character references are decoded (by the
standard library's ``html.unescape``, which knows every HTML5 named reference), comments, tags,
and the content of elements the reader never sees (script, style, hidden by inline style)
are removed, and block-level tags become line breaks (``<p>``, ``<br>``: a reader sees a new
line there, not a word run on). Each decoded character maps to the reference it came from.
"""

from __future__ import annotations

import html
import re

# HTML's block-level and line-breaking elements (HTML Living Standard, "the rendering" §15.3):
# a tag of one of these starts a new line in what the reader sees.
BLOCK = frozenset("""address article aside blockquote br caption center dd details dialog dir div dl dt
fieldset figcaption figure footer form h1 h2 h3 h4 h5 h6 header hgroup hr legend li main menu nav ol
p pre section summary table tbody td tfoot th thead tr ul""".split())
VOID = frozenset("area base br col embed hr img input link meta param source track wbr".split())
_UNSEEN = frozenset(("script", "style", "head", "title", "template", "noscript"))
# Inline styles that hide an element's content from the reader.
_HIDDEN_STYLE = re.compile(
    r"display\s*:\s*none|visibility\s*:\s*hidden|font-size\s*:\s*0(?![.\d]*[1-9])|mso-hide\s*:\s*all"
    r"|max-height\s*:\s*0(?![.\d]*[1-9])|opacity\s*:\s*0(?![.\d]*[1-9])", re.I)
_HIDDEN_ATTR = re.compile(r"""(?:^|\s)hidden(?:\s|=|/|$)|aria-hidden\s*=\s*["']?true""", re.I)

_TOKEN = re.compile(
    r"<!--.*?(?:-->|\Z)"                                             # a comment
    r"|<(?P<close>/?)(?P<name>[a-zA-Z][a-zA-Z0-9:-]*)(?P<attrs>(?:\s[^<>]*?)?)\s*/?>"  # a tag
    r"|&(?:#[0-9]{1,7}|#[xX][0-9a-fA-F]{1,6}|[A-Za-z][A-Za-z0-9]{1,31});?",  # a character reference
    re.S,
)


def looks_like_markup(text: str) -> bool:
    return "<" in text or "&" in text


def decode(text: str) -> tuple[str, list[int], list[int]]:
    """The text the reader sees, and for each of its characters the [start, end) span of
    ``text`` it comes from."""
    out: list[str] = []
    starts: list[int] = []
    ends: list[int] = []
    at = 0
    n = len(text)
    while at < n:
        m = _TOKEN.search(text, at)
        stop = m.start() if m else n
        for k in range(at, stop):
            out.append(text[k])
            starts.append(k)
            ends.append(k + 1)
        if m is None:
            break
        at = m.end()
        token = m.group(0)
        if token.startswith("&"):
            decoded = html.unescape(token)
            if decoded == token:  # not a reference HTML knows: the reader sees it as written
                for k in range(m.start(), m.end()):
                    out.append(text[k])
                    starts.append(k)
                    ends.append(k + 1)
            else:
                for ch in decoded:
                    out.append(ch)
                    starts.append(m.start())
                    ends.append(m.end())
            continue
        name = (m.group("name") or "").lower()
        if not name:
            continue  # a comment
        opening = not m.group("close")
        attrs = m.group("attrs") or ""
        if opening and name not in VOID and (name in _UNSEEN or _HIDDEN_STYLE.search(attrs) or _HIDDEN_ATTR.search(attrs)):
            at = _end_of_element(text, at, name)  # the reader never sees what is inside
            continue
        if name in BLOCK:
            out.append("\n")
            starts.append(m.start())
            ends.append(m.end())
    return "".join(out), starts, ends


def _end_of_element(text: str, at: int, name: str) -> int:
    """Where the element opened just before ``at`` ends (after its matching end tag; the end
    of the text if it is never closed)."""
    pattern = re.compile(rf"<(/?){re.escape(name)}(?:\s[^<>]*?)?\s*/?>", re.I)
    depth = 1
    while depth:
        m = pattern.search(text, at)
        if m is None:
            return len(text)
        at = m.end()
        depth += -1 if m.group(1) else 1
    return at
