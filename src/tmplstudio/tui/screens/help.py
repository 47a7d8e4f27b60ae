"""F1 help: what the studio shows and every key binding."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Markdown

KEYS = [
    ("ctrl+s", "Save (atomic; asks before saving a draft with errors, detects changes on disk)"),
    ("ctrl+n", "New template from the starter (asks id, locale, channel)"),
    ("f2", "Quick fix: apply the selected finding's fix (or the one under the cursor)"),
    ("f8 / shift+f8", "Next / previous finding (selects its text in the editor)"),
    ("f4 / shift+f4", "Next / previous sample in the preview"),
    ("f3", "Policy browser: active packs, rules, explanations, sources, examples"),
    ("f5", "Reload the project (config and policy packs) and re-check"),
    ("f9", "Approve the saved template (records it in the approvals ledger; see docs/approval.md)"),
    ("ctrl+b", "Show or hide the templates list"),
    ("ctrl+t", "Cycle the side panel tab (Findings, Preview, Variables) on small screens"),
    ("a (Variables panel)", "Add the highlighted missing variable to every sample"),
    ("tab / shift+tab", "Move the focus between the editor and the panels"),
    ("ctrl+p", "Command palette: every action, open a template, pick a sample"),
    ("ctrl+z / ctrl+y", "Undo / redo"),
    ("f1", "This help"),
    ("ctrl+q", "Quit (asks when there are unsaved changes)"),
]

HELP = """\
# tmplstudio

Edit a message template on the left; every keystroke re-checks it against the active policy packs.

* **Editor** — the whole file (TOML front matter between `+++` lines, then the Jinja body).
  Findings are underlined in place: **red** errors, **yellow** warnings, **blue** info.
* **Findings** — grouped by severity. Highlight one to select its text and read the rule's
  explanation, source and suggestion; `⚡fix` marks the ones with a quick fix.
* **Preview** — the selected sample's rendering with its problem phrases marked, the character
  count, the encoding (GSM-7 or UCS-2) and the number of SMS segments.
* **Variables** — the variables the template uses, and the samples that have no value for them.
* **Templates** — every template of the project with a badge: `✔` clean, `2E 1W` errors and
  warnings, `●` unsaved.

## Keys

| Key | Action |
|---|---|
{rows}

Suppress a rule for the next line with a Jinja comment, `{{# tmplstudio: allow RULE -- reason #}}`,
or for the whole file with `allow-file`; the reason is required. Suppressed findings stay listed,
dimmed, under *Suppressed*.
"""


def help_markdown() -> str:
    rows = "\n".join(f"| `{key}` | {action} |" for key, action in KEYS)
    return HELP.format(rows=rows)


class HelpScreen(ModalScreen[None]):
    BINDINGS = [
        Binding("escape", "dismiss", "Close"),
        Binding("f1", "dismiss", "Close"),
        Binding("q", "dismiss", "Close", show=False),
    ]

    def compose(self) -> ComposeResult:
        with VerticalScroll(id="help-body"):
            yield Markdown(help_markdown())
