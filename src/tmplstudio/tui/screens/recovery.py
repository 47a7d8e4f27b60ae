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
