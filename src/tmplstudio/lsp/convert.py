"""Findings as LSP diagnostics, code actions and hover text (no I/O: the server does that).

Positions: findings carry code-point offsets into the whole file; :class:`Positions` turns
them into LSP lines (split at CR LF, CR or LF only, as the protocol says) and columns in the
position encoding agreed with the client (pygls's codec: UTF-16 code units unless the client
asked otherwise), so a range after 🙂 or 上门 lands on the right characters in every editor.
"""

from __future__ import annotations

import re
from bisect import bisect_right

from lsprotocol import types

from tmplstudio.policy.model import Finding, Severity

SOURCE = "tmplstudio"
SEVERITY = {Severity.ERROR: types.DiagnosticSeverity.Error, Severity.WARNING: types.DiagnosticSeverity.Warning,
            Severity.INFO: types.DiagnosticSeverity.Information}
REASON_PLACEHOLDER = "<reason: who approved it, ticket>"


_EOL = re.compile(r"\r\n|\r|\n")


class Positions:
    """Code-point offsets <-> LSP positions for one version of a document."""

    def __init__(self, text: str, codec):
        self.text = text
        self.codec = codec  # pygls PositionCodec: counts a string in the client's units
        self.starts = [0] + [m.end() for m in _EOL.finditer(text)]

    def position(self, offset: int) -> types.Position:
        offset = max(0, min(offset, len(self.text)))
        line = bisect_right(self.starts, offset) - 1
        return types.Position(line=line, character=self.codec.client_num_units(self.text[self.starts[line]:offset]))

    def offset(self, position: types.Position) -> int:
        if position.line >= len(self.starts):
            return len(self.text)
        start = self.starts[position.line]
        end = self.starts[position.line + 1] if position.line + 1 < len(self.starts) else len(self.text)
        units = 0
        for i in range(start, end):
            if units >= position.character:
                return i
            units += self.codec.client_num_units(self.text[i])
        return end


def _range(doc: Positions, start: int, end: int) -> types.Range:
    return types.Range(start=doc.position(start), end=doc.position(end))


def diagnostic(doc: Positions, f: Finding) -> types.Diagnostic:
    message = f.message
    if f.sample:
        message += f" [sample {f.sample}]"
    if f.path:
        message += f" [{f.path}]"
    if f.file:  # the text is in an included partial: shown at the top of this template, naming where
        rng = types.Range(start=types.Position(0, 0), end=types.Position(0, 0))
        message += f" [in {f.file}:{f.line}:{f.column}]"
    else:
        rng = _range(doc, f.start, f.end)
    data: dict = {"rule": f.rule, "pack": f.pack, "start": f.start, "end": f.end}
    if f.fix is not None and not f.file:
        data["fix"] = {"start": f.fix.start, "end": f.fix.end, "text": f.fix.text}
    return types.Diagnostic(range=rng, message=message, severity=SEVERITY[f.severity], code=f.rule, source=SOURCE,
                            data=data)


def code_actions(doc: Positions, uri: str, diagnostics: list[types.Diagnostic]) -> list[types.CodeAction]:
    """For each of our diagnostics: its quick fix (when the rule has one), and a suppression
    comment on the line above, with a reason to fill in."""
    actions = []
    for diag in diagnostics:
        if diag.source != SOURCE or not isinstance(diag.data, dict):
            continue
        data = diag.data
        fix = data.get("fix")
        if fix:
            edit = types.TextEdit(range=_range(doc, fix["start"], fix["end"]), new_text=fix["text"])
            title = f"Fix {data['rule']}: replace with “{fix['text']}”" if fix["text"] else f"Fix {data['rule']}: remove"
            actions.append(types.CodeAction(title=title, kind=types.CodeActionKind.QuickFix, diagnostics=[diag],
                                            is_preferred=True, edit=types.WorkspaceEdit(changes={uri: [edit]})))
        if data.get("pack") != "tmplstudio":  # engine checks (syntax, render errors) are fixed, not suppressed
            line = doc.position(data["start"]).line
            comment = f"{{# tmplstudio: allow {data['rule']} -- {REASON_PLACEHOLDER} #}}\n"
            edit = types.TextEdit(range=types.Range(start=types.Position(line, 0), end=types.Position(line, 0)), new_text=comment)
            actions.append(types.CodeAction(title=f"Suppress {data['rule']} on this line (give the reason)",
                                            kind=types.CodeActionKind.QuickFix, diagnostics=[diag],
                                            edit=types.WorkspaceEdit(changes={uri: [edit]})))
    return actions


def hover_text(findings: list[Finding], rules) -> str:
    """Markdown for the findings under the cursor: message, the rule's explanation and sources."""
    parts = []
    for f in findings:
        rule = next(iter(rules(f.rule, f.pack)), None)
        explanation = (rule.explanation if rule is not None else "") or f.explanation
        sources = tuple(rule.source if rule is not None else f.source)
        block = [f"**{f.severity.value} · {f.pack}/{f.rule}** — {f.message}"]
        if explanation:
            block.append(explanation)
        if sources:
            block.append("Source: " + "; ".join(map(str, sources)))
        if f.suggestion:
            block.append(f"Suggestion: {f.suggestion}")
        parts.append("\n\n".join(block))
    return "\n\n---\n\n".join(parts)
