"""The studio's Approve action and approval badges (see docs/approval.md).

* :class:`ApproveDialog` asks for the approver (default: ``git config user.name``, else the
  login name) and a note; it shows the refusal with the error findings listed, or the warnings
  that must be accepted (a checkbox) before the approval is recorded.
* :class:`ApprovalActions` is mixed into the app: ``action_approve`` (f9, and the command
  palette), ``refresh_approvals`` (badges in the templates list, every few seconds and after an
  approval) and ``approval_parts`` (the status bar says why an approval is stale).

Approval is of the file on disk, so a template with unsaved edits must be saved first. The
ledger write is the same locked, atomic write as ``tmplstudio approve``.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Grid, Horizontal, Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Button, Checkbox, Input, Label, Static

from tmplstudio.errors import InputError

REFRESH_SECONDS = 3.0


def _finding_line(f) -> str:
    sample = f" [sample {f.sample}]" if f.sample else ""
    return f"{f.line}:{f.column} {f.severity.value} {f.rule}: {f.message}{sample}"


@dataclass(frozen=True)
class ApproveAnswer:
    approver: str
    note: str


class ApproveDialog(ModalScreen["ApproveAnswer | None"]):
    """Approve one template; dismisses with an :class:`ApproveAnswer`, or None (cancelled/refused)."""

    DEFAULT_CSS = """
    ApproveDialog { align: center middle; background: $background 60%; }
    ApproveDialog .dialog { border: thick $success; }
    ApproveDialog.-refused .dialog, ApproveDialog.-warnings .dialog { border: thick $warning; }
    ApproveDialog .approve-scroll { height: auto; max-height: 50vh; }
    ApproveDialog .approve-findings { height: auto; margin-bottom: 1; color: $text-warning; }
    ApproveDialog.-refused .approve-findings { color: $text-error; }
    ApproveDialog Checkbox { margin-bottom: 1; }
    """
    BINDINGS = [Binding("escape", "dismiss(None)", "Cancel")]

    def __init__(self, label: str, check, approver: str, state: str = "") -> None:
        super().__init__(id="approve-dialog")
        self.label = label
        self.check = check
        self.approver = approver
        self.state = state
        if check.errors:
            self.add_class("-refused")
        elif check.warnings:
            self.add_class("-warnings")

    @property
    def refused(self) -> bool:
        return bool(self.check.errors)

    def compose(self) -> ComposeResult:
        c = self.check
        with Vertical(classes="dialog"):
            if self.refused:
                n = len(c.errors)
                yield Label(f"Cannot approve {self.label}", classes="dialog-title")
                with VerticalScroll(classes="approve-scroll"):
                    yield Static(f"It has {n} error finding{'s' if n != 1 else ''}; fix {'them' if n != 1 else 'it'} first:",
                                 classes="dialog-body", markup=False)
                    yield Static("\n".join(_finding_line(f) for f in c.errors), id="approve-errors",
                                 classes="approve-findings", markup=False)
                with Horizontal(classes="dialog-buttons"):
                    yield Button("Close", id="cancel", variant="primary")
                return
            yield Label(f"Approve {self.label}", classes="dialog-title")
            with VerticalScroll(classes="approve-scroll"):
                body = f"Records {c.rel} (sha256 {c.sha256[:12]}…) in approvals.toml under the current policy set."
                if self.state:
                    body += f"\nNow: {self.state}."
                yield Static(body, classes="dialog-body", markup=False)
                if c.warnings:
                    n = len(c.warnings)
                    yield Static(f"{n} warning{'s' if n != 1 else ''} must be accepted; {'they are' if n != 1 else 'it is'} recorded with the approval:",
                                 markup=False)
                    yield Static("\n".join(_finding_line(f) for f in c.warnings), id="approve-warnings",
                                 classes="approve-findings", markup=False)
                    yield Checkbox(f"Accept {'these' if n != 1 else 'this'} {n} warning{'s' if n != 1 else ''}", id="approve-accept")
                with Grid(classes="form"):
                    yield Label("Approver")
                    yield Input(self.approver, placeholder="your name", id="approve-by")
                    yield Label("Note")
                    yield Input("", placeholder="optional: what was reviewed", id="approve-note")
            yield Static("", id="approve-error", classes="dialog-error")
            with Horizontal(classes="dialog-buttons"):
                yield Button("Approve", id="approve", variant="success")
                yield Button("Cancel", id="cancel")

    def on_mount(self) -> None:
        if self.refused:
            self.query_one("#cancel", Button).focus()
        else:
            self.query_one("#approve-by", Input).focus()

    @on(Input.Submitted)
    def _submitted(self) -> None:
        self._approve()

    @on(Button.Pressed, "#approve")
    def _approve(self) -> None:
        if self.refused:
            return
        approver = self.query_one("#approve-by", Input).value.strip()
        error = ""
        if not approver:
            error = "Enter the approver's name."
        elif self.check.warnings and not self.query_one("#approve-accept", Checkbox).value:
            error = "Tick the box to accept the warnings, or cancel and fix them."
        if error:
            self.query_one("#approve-error", Static).update(error)
            return
        self.dismiss(ApproveAnswer(approver, self.query_one("#approve-note", Input).value.strip()))

    @on(Button.Pressed, "#cancel")
    def _cancel(self) -> None:
        self.dismiss(None)


class ApprovalActions:
    """Approval support for :class:`~tmplstudio.tui.app.StudioApp` (a mixin; state is created lazily)."""

    # -- the Approve action ------------------------------------------------------------------------
    @work(exclusive=True, group="approve")
    async def action_approve(self) -> None:
        from tmplstudio.pack.approval import approve, check, default_approver, refusal

        app: Any = self
        buf = app.current
        if app.project is None:
            app.notify("Policies are not loaded, so nothing can be approved (f5 reloads).", severity="error", timeout=6)
            return
        if buf is None or buf.path is None:
            app.notify("Open a template to approve it.", timeout=3)
            return
        if buf.dirty or not buf.path.exists():
            app.notify("Save the template first (ctrl+s): an approval records the file on disk.", severity="warning", timeout=6)
            return
        label = app.template_list.label(buf.path)
        try:
            checked = check(app.project, buf.path)
        except InputError as exc:
            app.notify(f"Cannot approve: {exc}", severity="error", timeout=8)
            return
        if not checked.errors and checked.dependencies is not None and checked.dependencies.dynamic:
            app.notify(f"Cannot approve {label}: {refusal(checked, True)}", severity="error", timeout=10)
            return
        info = self._approval_info().get(buf.path)
        state = self._describe_state(info) if info is not None else ""
        answer = await app.push_screen_wait(ApproveDialog(label, checked, default_approver(app.cwd), state))
        if answer is None or checked.errors:
            return
        try:
            again = check(app.project, buf.path)
            if again.sha256 != checked.sha256:
                app.notify(f"{label} changed on disk while the dialog was open; not approved. Try again.", severity="error", timeout=8)
                return
            approve(app.project, [again], answer.approver, answer.note)
        except InputError as exc:
            app.notify(f"Not approved: {exc}", severity="error", timeout=8)
            return
        accepted = f", accepting {len(again.warnings)} warning{'s' if len(again.warnings) != 1 else ''}" if again.warnings else ""
        app.notify(f"Approved {label} by {answer.approver}{accepted}.", timeout=4)
        self.refresh_approvals(force=True)

    # -- badges -------------------------------------------------------------------------------------
    def _approval_info(self) -> dict[Path, tuple[str, list[str], Any]]:
        return getattr(self, "_approvals_by_path", {})

    def refresh_approvals(self, force: bool = False) -> None:
        """Recompute approval badges (cheap: hashes only). Starts the periodic refresh on first use."""
        from tmplstudio.pack.ledger import LEDGER_NAME

        app: Any = self
        if getattr(self, "_approval_timer", None) is None:
            self._approval_timer = app.set_interval(REFRESH_SECONDS, self.refresh_approvals)
        project = app.project
        if project is None:
            return
        root = Path(project.templates_dir)
        if not (root / LEDGER_NAME).exists():
            if self._approval_info():
                self._apply_approvals({})  # the ledger was removed: no badges
            return
        self._approval_worker(project, root, list(app.template_list.paths))

    @work(thread=True, exclusive=True, group="approvals", exit_on_error=False)
    def _approval_worker(self, project, root: Path, paths: list[Path]) -> None:
        from tmplstudio.pack.approval import relative
        from tmplstudio.pack.digest import policy_set
        from tmplstudio.pack.ledger import Ledger
        from tmplstudio.pack.partials import dependencies
        from tmplstudio.pack.digest import sha256_bytes
        from tmplstudio.pack.status import approval_state
        from tmplstudio.pack.submitted import Submissions

        app: Any = self
        try:
            ledger = Ledger.load(root)
            stamps = []
            for pack in project.packs:
                st = Path(pack.path).stat()
                stamps.append((pack.path, st.st_mtime_ns, st.st_size))
            key = (id(project), tuple(stamps))
            cached = getattr(self, "_approval_policies", None)
            if cached is None or cached[0] != key:
                cached = (key, policy_set(project))
                self._approval_policies = cached
            policies = cached[1]
        except (InputError, OSError) as exc:
            app.call_from_thread(app.notify, f"Approvals not shown: {exc}", severity="warning", timeout=6)
            return
        results: dict[Path, tuple[str, list[str], Any]] = {}
        reviews: dict[Path, str] = {}
        try:
            submissions = Submissions.load(root)
        except InputError:
            submissions = Submissions(root)
        # This runs every few seconds: re-parse a template for its partials only when it, or one
        # of the partials it loaded last time, changed on disk.
        memo: dict[Path, tuple[tuple, dict[str, str]]] = getattr(self, "_approval_deps", {})
        for path in paths:
            try:
                rel = relative(root, path)
                data = path.read_bytes()
                st = path.stat()
                known = memo.get(path)
                if known is not None and known[0] == _deps_key(st, root, known[1]):
                    partials = known[1]
                else:
                    partials = dependencies(project, path, data.decode("utf-8-sig")).partials
                    memo[path] = (_deps_key(st, root, partials), partials)
            except (InputError, OSError, UnicodeDecodeError):
                continue
            results[path] = approval_state(ledger, rel, data, policies, partials)
            reviews[path] = "; ".join(x.describe(sha256_bytes(data)) for x in submissions.for_path(rel))
        self._approval_deps = memo
        self._provider_reviews = reviews  # hook: the providers' reviews (pack/submitted.py), shown after the approval
        app.call_from_thread(self._apply_approvals, results)

    def _apply_approvals(self, results: dict[Path, tuple[str, list[str], Any]]) -> None:
        app: Any = self
        self._approvals_by_path = results
        lists = app.query("#templates")
        if not lists:
            return
        template_list = lists.first()
        for path in list(template_list.paths):
            info = results.get(path)
            short = ", ".join(r.split(" since ")[0] for r in info[1]) if info else ""
            template_list.set_approval(path, info[0] if info else None, short)
        if app.current is not None:
            app._update_status()

    # -- status bar ---------------------------------------------------------------------------------
    @staticmethod
    def _describe_state(info: tuple[str, list[str], Any]) -> str:
        state, reasons, approval = info
        if state == "approved" and approval is not None:
            return f"approved by {approval.approved_by}"
        if state == "stale":
            return "stale: " + "; ".join(reasons)
        return "draft (not approved)"

    def approval_parts(self, buf) -> list[tuple[str, str]]:
        """Status-bar text for the open template's approval (nothing when the project has no ledger)."""
        if buf is None or buf.path is None:
            return []
        info = self._approval_info().get(buf.path)
        if info is None:
            return []
        state = info[0]
        if state == "approved" and buf.dirty:
            return [("  │ stale: unsaved edits to an approved template", "$text-warning")]
        style = {"approved": "$text-success", "stale": "bold $text-warning"}.get(state, "$text-muted")
        reviews = getattr(self, "_provider_reviews", {}).get(buf.path)
        return [("  │ " + self._describe_state(info), style)] + ([("  │ " + reviews, "$text-muted")] if reviews else [])

    # -- command palette ------------------------------------------------------------------------------
    def approval_commands(self) -> list[tuple[str, str, Callable[[], Any]]]:
        return [("Approve template", "Record the approval of the saved template in approvals.toml (f9)", self.action_approve)]


def _deps_key(st, root: Path, partials: dict[str, str]) -> tuple:
    """Modification stamps of a template and of the partials it loaded (keys are under ``root``)."""
    stamps = []
    for key in sorted(partials):
        try:
            ps = (root / key).stat()
            stamps.append((key, ps.st_mtime_ns, ps.st_size))
        except OSError:
            stamps.append((key, None, None))
    return (st.st_mtime_ns, st.st_size, tuple(stamps))
