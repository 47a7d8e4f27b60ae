"""Policy browser: the loaded packs and their rules with explanations, sources and examples."""

from __future__ import annotations

from typing import TYPE_CHECKING, Iterable

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, VerticalScroll
from textual.content import Content
from textual.screen import Screen
from textual.widgets import Footer, Static, Tree

from tmplstudio.tui.widgets.findings import reflow

if TYPE_CHECKING:
    from tmplstudio.policy.model import Pack, Rule
    from tmplstudio.policy.sources import Source

SEV_STYLE = {"error": "bold $text-error", "warning": "bold $text-warning", "info": "bold $text-primary"}


def _list(values: Iterable[str]) -> str:
    values = list(values)
    return ", ".join(values) if values else "all"


def source_lines(sources: Iterable[Source]) -> list:
    """Each source as instrument, article and date, then where it was read and when it was checked."""
    parts: list = []
    for s in sources:
        parts.append(f"• {s.citation}\n")
        where = [p for p in (s.url, s.note, s.verified and f"verified {s.verified}") if p]
        if where:
            parts.append((f"  {' · '.join(where)}\n", "$text-muted"))
    return parts


def pack_content(pack: Pack, active: bool) -> Content:
    parts: list = [
        (pack.title or pack.id, "bold"),
        f"  ({pack.id} {pack.version})\n",
        ("applies to this template\n" if active else "does not apply to this template\n", "$text-success" if active else "$text-muted"),
    ]
    if pack.description:
        parts.append(reflow(pack.description) + "\n")
    parts += [
        ("\nLocales: ", "bold"), _list(pack.locales),
        ("  Channels: ", "bold"), _list(pack.channels),
        ("  Jurisdictions: ", "bold"), _list(pack.jurisdictions), "\n",
    ]
    if pack.providers:
        parts += [("Providers: ", "bold"), _list(pack.providers), "\n"]
    if pack.sources:
        parts += [("\nSources\n", "bold")] + source_lines(pack.sources)
    parts += [("\nFile: ", "bold"), str(pack.path), f"\n{len(pack.rules)} rules"]
    return Content.assemble(*parts)


def rule_content(rule: Rule) -> Content:
    sev = rule.severity.value
    parts: list = [
        (f"{sev.upper()} ", SEV_STYLE.get(sev, "bold")),
        (f"{rule.pack_id}/{rule.id}", "bold"),
        (f"  ({rule.kind}{'' if rule.enabled else ', disabled'})\n", "$text-muted"),
        rule.message + "\n",
    ]
    if rule.explanation:
        parts.append("\n" + reflow(rule.explanation) + "\n")
    if rule.source:
        parts += [("\nSource\n", "bold")] + source_lines(rule.source)
    if rule.suggestion:
        parts += [("\nSuggestion: ", "bold"), rule.suggestion + "\n"]
    if rule.when:
        parts += [("\nOnly when: ", "bold"), " or ".join(str(w) for w in rule.when) + "\n"]
    if rule.hit_examples:
        parts += [("\nTriggers on\n", "bold $text-error")] + [f"✖ {e.text}\n" for e in rule.hit_examples]
    if rule.ok_examples:
        parts += [("\nDoes not trigger on\n", "bold $text-success")] + [f"✔ {e.text}\n" for e in rule.ok_examples]
    return Content.assemble(*parts)


class PolicyBrowser(Screen[None]):
    BINDINGS = [
        Binding("escape", "app.pop_screen", "Back"),
        Binding("f3", "app.pop_screen", "Back", show=False),
    ]

    def __init__(self, packs: Iterable[Pack], active: Iterable[str] = (), problems: Iterable[str] = ()) -> None:
        super().__init__(id="policy-browser")
        self.packs = list(packs)
        self.active = set(active)
        self.problems = list(problems)

    def compose(self) -> ComposeResult:
        with Horizontal():
            tree: Tree[object] = Tree("Policy packs", id="policy-tree")
            tree.show_root = False
            theme = self.app.current_theme
            colours = {"error": theme.error, "warning": theme.warning, "info": theme.primary}
            for pack in self.packs:
                mark = "● " if pack.id in self.active else "○ "
                node = tree.root.add(Text(f"{mark}{pack.title or pack.id}"), data=pack, expand=pack.id in self.active)
                for rule in pack.rules:
                    sev = rule.severity.value
                    label = Text.assemble((f"{sev[0].upper()} ", f"bold {colours.get(sev) or ''}".strip()), rule.id)
                    node.add_leaf(label, data=rule)
            yield tree
            with VerticalScroll(id="policy-detail-scroll"):
                yield Static(self._intro(), id="policy-detail")
        yield Footer()

    def _intro(self) -> Content:
        parts: list = [("Policy packs\n", "bold"), "● applies to the template being edited, ○ does not.\n"]
        if not self.packs:
            parts.append(("\nNo packs are loaded.\n", "$text-error"))
        for problem in self.problems:
            parts.append((f"\n✖ {problem}\n", "$text-error"))
        return Content.assemble(*parts)

    def on_mount(self) -> None:
        tree = self.query_one(Tree)
        tree.border_title = f"Policy packs ({len(self.packs)})"
        self.query_one("#policy-detail-scroll").border_title = "Details"
        tree.focus()

    def on_tree_node_highlighted(self, event: Tree.NodeHighlighted) -> None:
        data = event.node.data
        detail = self.query_one("#policy-detail", Static)
        if data is None:
            detail.update(self._intro())
        elif hasattr(data, "rules"):
            detail.update(pack_content(data, data.id in self.active))  # type: ignore[arg-type]
        else:
            detail.update(rule_content(data))  # type: ignore[arg-type]
