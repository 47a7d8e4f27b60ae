"""Modal dialogs: confirmations (save draft, unsaved quit, changed on disk) and the new-template form."""

from __future__ import annotations

import re
from pathlib import Path

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Grid, Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Input, Label, Select, Static


class ChoiceDialog(ModalScreen[str]):
    """A question with buttons; dismisses with the chosen button's id (escape: ``cancel``)."""

    BINDINGS = [Binding("escape", "dismiss('cancel')", "Cancel")]

    def __init__(self, title: str, body: str, choices: list[tuple[str, str, str]], *, id: str | None = None) -> None:
        """``choices``: (button id, label, variant) tuples; the first one gets the focus."""
        super().__init__(id=id)
        self.title_text = title
        self.body = body
        self.choices = choices

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            yield Label(self.title_text, classes="dialog-title")
            yield Static(self.body, classes="dialog-body", markup=False)
            with Horizontal(classes="dialog-buttons"):
                for choice_id, label, variant in self.choices:
                    yield Button(label, id=choice_id, variant=variant)  # type: ignore[arg-type]

    def on_mount(self) -> None:
        self.query_one(Button).focus()

    def on_button_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        self.dismiss(event.button.id or "cancel")


def save_draft_dialog(errors: int) -> ChoiceDialog:
    noun = "error" if errors == 1 else "errors"
    return ChoiceDialog(
        f"Save as a draft with {errors} {noun}?",
        f"The template still has {errors} policy {noun}. It will be saved as it is, and `tmplstudio validate` "
        "will keep failing on it until the errors are fixed.",
        [("save", "Save draft", "warning"), ("cancel", "Keep editing", "primary")],
        id="save-draft-dialog",
    )


def unsaved_quit_dialog(names: list[str]) -> ChoiceDialog:
    listed = ", ".join(names[:5]) + (" …" if len(names) > 5 else "")
    return ChoiceDialog(
        "Quit with unsaved changes?",
        f"Unsaved changes in: {listed}",
        [("cancel", "Keep editing", "primary"), ("save", "Save all and quit", "success"), ("discard", "Quit without saving", "error")],
        id="unsaved-quit-dialog",
    )


def create_starter_dialog(folder: str) -> ChoiceDialog:
    return ChoiceDialog(
        "No templates yet",
        f"There are no templates in {folder}. Create a starter template to begin?",
        [("create", "Create starter template", "success"), ("cancel", "Not now", "default")],
        id="create-starter-dialog",
    )


ID_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")
LOCALES = ["zh-CN", "zh-TW", "zh-HK", "en-US", "en-GB"]
CHANNELS = ["sms", "email", "push"]


class NewTemplateDialog(ModalScreen["tuple[str, str, str] | None"]):
    """Asks for the new template's id, locale and channel; dismisses with them (or None)."""

    BINDINGS = [Binding("escape", "dismiss(None)", "Cancel")]

    def __init__(self, templates_dir: Path, *, template_id: str = "", locale: str = "zh-CN", channel: str = "sms") -> None:
        super().__init__(id="new-template-dialog")
        self.templates_dir = templates_dir
        self.initial = (template_id, locale, channel)

    def compose(self) -> ComposeResult:
        template_id, locale, channel = self.initial
        locales = LOCALES if locale in LOCALES else [locale, *LOCALES]
        with Vertical(classes="dialog"):
            yield Label("New template", classes="dialog-title")
            with Grid(classes="form"):
                yield Label("Id (file name)")
                yield Input(template_id, placeholder="e.g. overdue-reminder", id="new-id")
                yield Label("Locale")
                yield Select([(l, l) for l in locales], value=locale, allow_blank=False, id="new-locale")
                yield Label("Channel")
                yield Select([(c, c) for c in CHANNELS], value=channel, allow_blank=False, id="new-channel")
            yield Static("", id="new-error", classes="dialog-error")
            with Horizontal(classes="dialog-buttons"):
                yield Button("Create", id="create", variant="success")
                yield Button("Cancel", id="cancel")

    def on_mount(self) -> None:
        self.query_one("#new-id", Input).focus()

    @on(Input.Submitted)
    def _submitted(self) -> None:
        self._create()

    @on(Button.Pressed, "#create")
    def _create(self) -> None:
        template_id = self.query_one("#new-id", Input).value.strip()
        error = ""
        if not ID_RE.match(template_id):
            error = "Use letters, digits, '-', '_' or '.' for the id."
        elif (self.templates_dir / f"{template_id}.j2").exists():
            error = f"{template_id}.j2 already exists in {self.templates_dir}."
        if error:
            self.query_one("#new-error", Static).update(error)
            return
        locale = str(self.query_one("#new-locale", Select).value)
        channel = str(self.query_one("#new-channel", Select).value)
        self.dismiss((template_id, locale, channel))

    @on(Button.Pressed, "#cancel")
    def _cancel(self) -> None:
        self.dismiss(None)
