"""The studio's Approve action and approval badges (see docs/approval.md).

* :class:`ApproveDialog` asks for the signing key (projects that require signatures; default:
  git's ``user.signingKey``, else ``~/.ssh/id_ed25519``) or the approver's name (unsigned), and a
  note; it shows how many sign-offs count of those required and who may still approve, the
  refusal with the error findings listed, or the warnings that must be accepted (a checkbox).
* :class:`ApprovalActions` is mixed into the app: ``action_approve`` (f9, and the command
  palette), ``refresh_approvals`` (badges with signer counts in the templates list, every few
  seconds and after an approval), ``approval_parts`` (the status bar says why an approval is
  stale or pending) and ``record_author`` (notes who saved a version, so they cannot approve it).

Approval is of the file on disk, so a template with unsaved edits must be saved first. The
log append is the same locked write as ``tmplstudio approve``. ssh-keygen runs without the
terminal, so it never prompts over the studio: a passphrase-protected key must be in ssh-agent.
"""

from __future__ import annotations

import asyncio
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
    approver: str   # the key's path when signed, else the approver's name
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

    def __init__(self, label: str, check, approver: str, state: str = "", signed: bool = False, signers: str = "") -> None:
        super().__init__(id="approve-dialog")
        self.label = label
        self.check = check
        self.approver = approver
        self.state = state
        self.signed = signed
        self.signers = signers   # "1 of 2 approvals; may still approve: …"
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
                how = "a signed entry of" if self.signed else "an entry of"
                body = f"Records {c.rel} (sha256 {c.sha256[:12]}…) as {how} approvals.log.jsonl under the current policy set."
                if self.state:
                    body += f"\nNow: {self.state}."
                yield Static(body, classes="dialog-body", markup=False)
                if self.signers:
                    yield Static(f"Sign-offs: {self.signers}", id="approve-signers", markup=False)
                if c.warnings:
                    n = len(c.warnings)
                    yield Static(f"{n} warning{'s' if n != 1 else ''} must be accepted; {'they are' if n != 1 else 'it is'} recorded with the approval:",
                                 markup=False)
                    yield Static("\n".join(_finding_line(f) for f in c.warnings), id="approve-warnings",
                                 classes="approve-findings", markup=False)
                    yield Checkbox(f"Accept {'these' if n != 1 else 'this'} {n} warning{'s' if n != 1 else ''}", id="approve-accept")
                with Grid(classes="form"):
                    yield Label("SSH key" if self.signed else "Approver")
                    yield Input(self.approver, placeholder="path of your SSH key" if self.signed else "your name", id="approve-by")
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
            error = "Enter the path of your SSH key." if self.signed else "Enter the approver's name."
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
        from tmplstudio.pack.approval import Identity, approve, check, default_approver, refusal
        from tmplstudio.pack.settings import settings
        from tmplstudio.pack.sshsig import default_key

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
        if not checked.errors and refusal(checked, True):  # a computed partial, or an id that cannot name a file
            app.notify(f"Cannot approve {label}: {refusal(checked, True)}", severity="error", timeout=10)
            return
        info = self._approval_info().get(buf.path)
        state = self._describe_state(info) if info is not None else ""
        try:
            signed = settings(app.project).require_signature
        except InputError as exc:
            app.notify(f"Cannot approve: {exc}", severity="error", timeout=8)
            return
        default = str(default_key(app.cwd)) if signed else default_approver(app.cwd)
        signers = self._signers_line(info) if info is not None and info.state == "pending" else ""
        answer = await app.push_screen_wait(ApproveDialog(label, checked, default, state, signed, signers))
        if answer is None or checked.errors:
            return
        who = Identity(key=answer.approver, interactive=False) if signed else Identity(name=answer.approver)
        try:
            again = check(app.project, buf.path)
            if again.sha256 != checked.sha256:
                app.notify(f"{label} changed on disk while the dialog was open; not approved. Try again.", severity="error", timeout=8)
                return
            outcome = await asyncio.to_thread(approve, app.project, [again], who, answer.note)  # ssh-keygen off the UI thread
        except InputError as exc:
            app.notify(f"Not approved: {exc}", severity="error", timeout=8)
            return
        if outcome.refused:
            app.notify(f"Not approved: {outcome.refused[0][1]}", severity="error", timeout=10)
            return
        accepted = f", accepting {len(again.warnings)} warning{'s' if len(again.warnings) != 1 else ''}" if again.warnings else ""
        app.notify(f"Approved {label} by {outcome.by}{accepted}.", timeout=4)
        self.refresh_approvals(force=True)

    # -- authorship ---------------------------------------------------------------------------------
    def record_author(self, path: Path) -> None:
        """After a save: note who saved these bytes, so that they cannot approve them (authors.py)."""
        app: Any = self
        if app.project is not None:
            self._author_worker(app.project, Path(path), app.cwd)

    @work(thread=True, group="authors", exit_on_error=False)
    def _author_worker(self, project, path: Path, cwd: Path) -> None:
        from tmplstudio.pack.authors import current_user, record_save

        app: Any = self
        try:
            record_save(project, path, current_user(cwd))
        except (InputError, OSError) as exc:
            app.call_from_thread(app.notify, f"Authorship not recorded: {exc}", severity="warning", timeout=6)

    # -- badges -------------------------------------------------------------------------------------
    def _approval_info(self) -> dict[Path, Any]:  # path -> pack.status.ApprovalState
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
        from tmplstudio.pack.foureyes import FourEyes
        from tmplstudio.pack.ledger import Ledger
        from tmplstudio.pack.partials import dependencies
        from tmplstudio.pack.digest import sha256_bytes
        from tmplstudio.pack.settings import settings
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
            eyes = FourEyes(settings(project), ledger.log_path)
        except (InputError, OSError) as exc:
            app.call_from_thread(app.notify, f"Approvals not shown: {exc}", severity="warning", timeout=6)
            return
        results: dict[Path, Any] = {}
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
            try:
                results[path] = approval_state(ledger, rel, path, data, policies, eyes, partials)
            except InputError as exc:  # ssh-keygen missing, no allowed_signers: say so once, show no badges
                app.call_from_thread(app.notify, f"Approvals not shown: {exc}", severity="warning", timeout=6)
                return
            reviews[path] = "; ".join(x.describe(sha256_bytes(data)) for x in submissions.for_path(rel))
        self._approval_deps = memo
        self._provider_reviews = reviews  # hook: the providers' reviews (pack/submitted.py), shown after the approval
        app.call_from_thread(self._apply_approvals, results)

    def _apply_approvals(self, results: dict[Path, Any]) -> None:
        app: Any = self
        self._approvals_by_path = results
        lists = app.query("#templates")
        if not lists:
            return
        template_list = lists.first()
        for path in list(template_list.paths):
            info = results.get(path)
            short = ", ".join(r.split(" since ")[0] for r in info.reasons) if info and info.state == "stale" else ""
            count = f"{len(info.review.counted)}/{info.review.required}" if info and info.review is not None else ""
            template_list.set_approval(path, info.state if info else None, short, count)
        if app.current is not None:
            app._update_status()

    # -- status bar ---------------------------------------------------------------------------------
    @staticmethod
    def _signers_line(info) -> str:
        return "; ".join(info.reasons)

    @classmethod
    def _describe_state(cls, info) -> str:
        if info.state == "approved" and info.review is not None:
            return f"approved by {', '.join(s.by for s in info.review.counted)} ({info.review.count})"
        if info.state == "pending":
            return "pending: " + cls._signers_line(info)
        if info.state == "stale":
            return "stale: " + "; ".join(info.reasons)
        return "draft (not approved)"

    def approval_parts(self, buf) -> list[tuple[str, str]]:
        """Status-bar text for the open template's approval (nothing when the project has no ledger)."""
        if buf is None or buf.path is None:
            return []
        info = self._approval_info().get(buf.path)
        if info is None:
            return []
        state = info.state
        if state == "approved" and buf.dirty:
            return [("  │ stale: unsaved edits to an approved template", "$text-warning")]
        style = {"approved": "$text-success", "stale": "bold $text-warning", "pending": "$text-warning"}.get(state, "$text-muted")
        reviews = getattr(self, "_provider_reviews", {}).get(buf.path)
        return [("  │ " + self._describe_state(info), style)] + ([("  │ " + reviews, "$text-muted")] if reviews else [])

    # -- command palette ------------------------------------------------------------------------------
    def approval_commands(self) -> list[tuple[str, str, Callable[[], Any]]]:
        return [("Approve template", "Sign off the saved template in the approvals log (f9)", self.action_approve)]


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
