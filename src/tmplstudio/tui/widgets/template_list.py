"""Templates list: every template of the project with a status badge."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from textual.content import Content
from textual.message import Message
from textual.widgets import OptionList
from textual.widgets.option_list import Option


@dataclass(frozen=True)
class Status:
    errors: int | None = None  # None: not evaluated yet
    warnings: int = 0
    unsaved: bool = False


def badge(status: Status) -> Content:
    parts: list = []
    if status.unsaved:
        parts.append(("● ", "bold $text-accent"))
    if status.errors is None:
        parts.append(("…", "$text-muted"))
    elif status.errors:
        parts.append((f"{status.errors}E", "bold $text-error"))
        if status.warnings:
            parts.append((f" {status.warnings}W", "$text-warning"))
    elif status.warnings:
        parts.append((f"{status.warnings}W", "bold $text-warning"))
    else:
        parts.append(("✔", "$text-success"))
    return Content.assemble(*parts)


def approval_badge(state: str | None, unsaved: bool = False, count: str = "") -> Content:
    """A approved · P pending (too few sign-offs) · S stale (or an approved template with unsaved
    edits) · D draft, followed by the sign-offs that count of those required (``2/2``); nothing
    without a ledger."""
    if state is None:
        return Content("")
    signers = f"{count} " if count else ""
    if state == "approved" and not unsaved:
        return Content.styled("A " + signers, "bold $text-success")
    if state == "pending":
        return Content.styled("P " + signers, "bold $text-warning")
    if state in ("approved", "stale"):
        return Content.styled("S ", "bold $text-warning")
    return Content.styled("D ", "$text-muted")


class TemplateList(OptionList):
    """Selecting a row opens that template in the editor."""

    class Open(Message):
        def __init__(self, path: Path) -> None:
            super().__init__()
            self.path = path

    def __init__(self, root: Path | None = None, **kwargs) -> None:
        super().__init__(**kwargs)
        self.root = root
        self.paths: list[Path] = []
        self.statuses: dict[Path, Status] = {}
        self.current: Path | None = None
        self.approvals: dict[Path, tuple[str | None, str]] = {}  # path -> (approval state, why stale)
        self.signers: dict[Path, str] = {}  # path -> sign-offs that count of those required ("1/2")

    def label(self, path: Path) -> str:
        if self.root is not None:
            try:
                return str(path.relative_to(self.root))
            except ValueError:
                pass
        return path.name

    def set_paths(self, paths: list[Path]) -> None:
        self.paths = list(paths)
        self._rebuild()

    def set_status(self, path: Path, status: Status) -> None:
        if self.statuses.get(path) == status:
            return
        self.statuses[path] = status
        if path not in self.paths:
            self.paths.append(path)
            self.paths.sort()
            self._rebuild()
            return
        self.replace_option_prompt(str(path), self._prompt(path))

    def set_current(self, path: Path | None) -> None:
        old, self.current = self.current, path
        for p in (old, path):
            if p is not None and p in self.paths:
                self.replace_option_prompt(str(p), self._prompt(p))
        if path is not None and path in self.paths:
            self.highlighted = self.get_option_index(str(path))

    def set_approval(self, path: Path, state: str | None, reason: str = "", count: str = "") -> None:
        if self.approvals.get(path, (None, "")) == (state, reason) and self.signers.get(path, "") == count:
            return
        self.approvals[path] = (state, reason)
        self.signers[path] = count
        if path in self.paths:
            self.replace_option_prompt(str(path), self._prompt(path))

    def _prompt(self, path: Path) -> Content:
        name = self.label(path).removesuffix(".j2")
        current = path == self.current
        status = self.statuses.get(path, Status())
        state, why = self.approvals.get(path, (None, ""))
        if state == "approved" and status.unsaved:
            state, why = "stale", "unsaved edits"
        return Content.assemble(
            approval_badge(state, status.unsaved, self.signers.get(path, "")),
            badge(status), " ", (name, "bold $text-accent" if current else ""),
            ("\n  " + why, "$text-warning") if state == "stale" and why else "",
        )

    def _rebuild(self) -> None:
        highlighted = self.current
        self.set_options([Option(self._prompt(p), id=str(p)) for p in self.paths])
        if not self.paths:
            self.add_option(Option(Content.styled("No templates yet (ctrl+n)", "$text-muted"), disabled=True))
        if highlighted in self.paths:
            self.highlighted = self.paths.index(highlighted)

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        if event.option.id:
            self.post_message(self.Open(Path(event.option.id)))
