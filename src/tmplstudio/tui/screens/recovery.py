"""The studio side of crash recovery: periodic copies of unsaved buffers, and the dialog that
offers to restore them on the next launch (file logic: :mod:`tmplstudio.tui.recovery`)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from tmplstudio.tui import recovery
from tmplstudio.tui.screens.dialogs import ChoiceDialog

if TYPE_CHECKING:
    from tmplstudio.tui.app import Buffer, StudioApp


class RecoveryDialog(ChoiceDialog):
    """Restore / discard / decide later, with where, when and a diff summary."""

    def __init__(self, rec: recovery.Recovery) -> None:
        super().__init__(
            f"Recover unsaved changes to {rec.target.name}?",
            recovery.describe(rec),
            [("restore", "Restore", "success"), ("discard", "Discard", "error"), ("later", "Decide later", "default")],
            id=None,  # several may follow one another: a fixed id would clash while one closes
        )
        self.recovery = rec


def install(app: "StudioApp") -> None:
    """Start writing copies every few seconds and, once the screen is up, offer old ones."""
    app._recovery_written = {}  # type: ignore[attr-defined]  # path -> text of the last copy
    app.set_interval(recovery.INTERVAL_SECONDS, lambda: save_copies(app), name="recovery-copies")
    app.call_after_refresh(lambda: app.run_worker(offer(app), group="recovery", exclusive=True))


def _text_of(app: "StudioApp", buf: "Buffer") -> str:
    return app.editor.text if buf is app.current else buf.text


def save_copies(app: "StudioApp") -> None:
    """Write a copy of every buffer whose unsaved text changed since its last copy; drop the
    copies of buffers that are clean again (saved, or edited back)."""
    written: dict[Path, str] = getattr(app, "_recovery_written", {})
    for buf in list(app.buffers.values()):
        if buf.path is None:
            continue
        text = _text_of(app, buf)
        if text != buf.saved_text:
            if written.get(buf.path) != text:
                try:
                    recovery.write(buf.path, text, buf.saved_text)
                except OSError:
                    continue  # a full or read-only state folder must not disturb editing
                written[buf.path] = text
        elif buf.path in written:
            recovery.discard(buf.path)
            del written[buf.path]


def before_save(app: "StudioApp", buf: "Buffer") -> None:
    """Each save attempt first secures the text (the save itself may fail or be cancelled)."""
    if buf.path is None:
        return
    text = _text_of(app, buf)
    if text == buf.saved_text:
        return
    try:
        recovery.write(buf.path, text, buf.saved_text)
        getattr(app, "_recovery_written", {})[buf.path] = text
    except OSError:
        pass


def after_save(app: "StudioApp", buf: "Buffer") -> None:
    if buf.path is not None:
        recovery.discard(buf.path)
        getattr(app, "_recovery_written", {}).pop(buf.path, None)


def on_quit(app: "StudioApp") -> None:
    """A deliberate quit (everything saved, or the user chose to discard): no copies remain."""
    for buf in app.buffers.values():
        if buf.path is not None:
            after_save(app, buf)


def _relevant(app: "StudioApp", rec: recovery.Recovery) -> bool:
    folder = Path(app.templates_dir).resolve()
    target = rec.target
    initial = getattr(app, "initial_path", None)
    if initial is not None and Path(initial).resolve() == target.resolve():
        return True
    return folder in target.resolve().parents


async def offer(app: "StudioApp") -> None:
    """Ask about each copy a previous session left for this project's templates."""
    try:
        found = [r for r in recovery.pending() if _relevant(app, r)]
    except OSError:
        return
    for rec in found:
        choice = await app.push_screen_wait(RecoveryDialog(rec))
        if choice == "restore":
            restore(app, rec)
        elif choice == "discard":
            try:
                rec.file.unlink()
            except OSError:
                pass
        # "later" / escape: keep the copy for the next launch


def restore(app: "StudioApp", rec: recovery.Recovery) -> None:
    """Open the template and replace its text with the recovered one (undo brings back the
    disk version); the buffer is then unsaved until the user saves."""
    app.open_path(rec.target)
    editor = app.editor
    if app.current is None or app.current.path is None or app.current.path.resolve() != rec.target.resolve():
        return
    editor.replace(rec.text, (0, 0), editor.document.end)
    app.current.text = editor.text
    save_copies(app)  # the copy is now this session's
    app.notify(f"Restored unsaved changes to {rec.target.name}; save with ctrl+s.", timeout=6)


# ---------------------------------------------------------------- changed on disk: decide with a diff

def changed_on_disk_dialog(name: str, disk: str | None, mine: str) -> ChoiceDialog:
    """Reload / overwrite / save as, showing how the file on disk differs from the editor."""
    summary = recovery.diff_summary(disk, mine)
    lines = [
        "Another program changed this file since you opened it.",
        f"Your text differs from the file on disk by {summary.headline()} (- on disk, + yours):",
        "",
        *summary.lines,
    ]
    if summary.truncated:
        lines.append("…")
    return ChoiceDialog(
        f"{name} changed on disk",
        "\n".join(lines),
        [("cancel", "Cancel", "primary"), ("overwrite", "Overwrite", "warning"), ("save-as", "Save as…", "success"),
         ("reload", "Load from disk", "error")],
        id="changed-on-disk-dialog",
    )


async def ask_changed_on_disk(app: "StudioApp", buf: "Buffer") -> str:
    """The user's choice when ``buf``'s file changed on disk: cancel, overwrite, reload, or
    save-as (done here: the text goes to a new file, which the buffer then edits)."""
    assert buf.path is not None
    try:
        disk = buf.path.read_bytes().decode("utf-8")
    except (OSError, UnicodeDecodeError):
        disk = None
    choice = await app.push_screen_wait(changed_on_disk_dialog(buf.path.name, disk, _text_of(app, buf)))
    if choice != "save-as":
        return choice
    target = await app.push_screen_wait(SaveAsDialog(buf.path))
    if not target:
        return "cancel"
    return "saved-as" if save_as(app, buf, Path(target)) else "cancel"


def save_as(app: "StudioApp", buf: "Buffer", target: Path) -> bool:
    """Write the buffer's text to ``target`` (atomically) and make the buffer edit that file;
    the changed original stays as it is on disk."""
    from tmplstudio.fileio import atomic_write_text

    text = _text_of(app, buf)
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        atomic_write_text(target, text)
    except OSError as exc:
        app.notify(f"Not saved: {exc}. Your text is still in the editor.", severity="error", timeout=10)
        return False
    old = buf.path
    after_save(app, buf)  # the copy of the old file's edits is no longer needed
    if old is not None:
        app.buffers.pop(old, None)
    buf.path = target
    buf.saved_text = text
    app.buffers[target] = buf
    app._disk_stamp[target] = app._stamp(target)
    if target not in app.template_list.paths and target.suffix == ".j2":
        app.template_list.set_paths(sorted([*app.template_list.paths, target]))
    if buf is app.current:
        app.template_list.set_current(target)
        app._update_status()
    app.notify(f"Saved as {target.name}; {old.name if old else 'the original'} keeps the version on disk.", timeout=5)
    return True


from textual.app import ComposeResult  # noqa: E402
from textual.binding import Binding  # noqa: E402
from textual.containers import Horizontal, Vertical  # noqa: E402
from textual.screen import ModalScreen  # noqa: E402
from textual.widgets import Button, Input, Label, Static  # noqa: E402


class SaveAsDialog(ModalScreen["str | None"]):
    """Asks for a file name (next to the original by default); dismisses with the path or None."""

    BINDINGS = [Binding("escape", "dismiss(None)", "Cancel")]

    def __init__(self, original: Path) -> None:
        super().__init__(id="save-as-dialog")
        self.original = original
        n = 1
        suggestion = original.with_name(f"{original.stem}-mine{original.suffix}")
        while suggestion.exists():
            n += 1
            suggestion = original.with_name(f"{original.stem}-mine{n}{original.suffix}")
        self.suggestion = suggestion

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            yield Label("Save your text as", classes="dialog-title")
            yield Input(str(self.suggestion), id="save-as-path")
            yield Static("", id="save-as-error", classes="dialog-error")
            with Horizontal(classes="dialog-buttons"):
                yield Button("Save", id="save-as-ok", variant="success")
                yield Button("Cancel", id="save-as-cancel")

    def on_mount(self) -> None:
        self.query_one("#save-as-path", Input).focus()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self._ok()

    def on_button_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        if event.button.id == "save-as-ok":
            self._ok()
        else:
            self.dismiss(None)

    def _ok(self) -> None:
        value = self.query_one("#save-as-path", Input).value.strip()
        path = Path(value).expanduser() if value else None
        if path is not None and not path.is_absolute():
            path = self.original.parent / path
        error = ""
        if path is None:
            error = "Enter a file name."
        elif path.exists():
            error = f"{path.name} already exists; choose another name."
        elif path.resolve() == self.original.resolve():
            error = "That is the changed file itself; use Overwrite for that."
        if error:
            self.query_one("#save-as-error", Static).update(error)
            return
        self.dismiss(str(path))
