"""The studio: a Textual editor with live policy feedback on every keystroke.

The app is a client of the engine (``Project.evaluate``); it holds no policy logic of its own.
Launch it with :func:`run_studio` (the CLI does, lazily, so the headless path never imports Textual).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable

from textual import on, work
from textual.worker import get_current_worker
from textual.app import App, ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.content import Content
from textual.widgets import Footer, Static, Tab, Tabs, TextArea
from textual.widgets.text_area import EditHistory

from tmplstudio.errors import InputError
from tmplstudio.tui.commands import StudioCommands
from tmplstudio.tui.screens.dialogs import (
    NewTemplateDialog,
    create_starter_dialog,
    save_draft_dialog,
    unsaved_quit_dialog,
)
from tmplstudio.tui.screens.approve import ApprovalActions
from tmplstudio.tui.screens.help import HelpScreen
from tmplstudio.tui.screens.policy_browser import PolicyBrowser
from tmplstudio.tui.screens import recovery as recovery_hooks
from tmplstudio.tui.widgets.editor import TemplateEditor
from tmplstudio.tui.widgets.findings import FindingsPanel
from tmplstudio.tui.widgets.preview import PreviewPanel
from tmplstudio.tui.widgets.template_list import Status, TemplateList
from tmplstudio.tui.widgets.variables import VariablesPanel

if TYPE_CHECKING:
    from tmplstudio.policy.engine import Evaluation
    from tmplstudio.project import Project

PANELS = ("findings", "preview", "variables")
MAX_EDIT_BYTES = 1_000_000  # larger files are refused with a message (templates are a few KB)
# Actions that only make sense on the main screen (not behind a dialog or another screen).
MAIN_ACTIONS = {
    "save", "new_template", "quick_fix", "next_finding", "prev_finding", "next_sample", "prev_sample",
    "policies", "reload_project", "toggle_templates", "next_tab", "help", "approve",
}


@dataclass
class Buffer:
    """One open template: its text in the studio and what was last read from / written to disk."""

    path: Path | None
    text: str
    saved_text: str | None  # None: never saved (the file does not exist yet)
    evaluation: Evaluation | None = None
    history: Any = None  # the editor's undo history for this text, kept while another is open

    @property
    def dirty(self) -> bool:
        return self.text != self.saved_text

    @property
    def name(self) -> str:
        return self.path.name if self.path is not None else "untitled"


def _severity_count(evaluation: Evaluation | None, name: str) -> int:
    if evaluation is None:
        return 0
    return sum(1 for f in evaluation.findings if not f.suppressed and f.severity.value == name)


class StudioApp(ApprovalActions, App[int]):
    """Templates list | editor | findings, preview and variables."""

    CSS_PATH = str(Path(__file__).with_name("studio.tcss"))  # absolute: subclasses elsewhere find it too
    TITLE = "tmplstudio"
    COMMANDS = App.COMMANDS | {StudioCommands}
    HORIZONTAL_BREAKPOINTS = [(0, "-narrow"), (110, "-medium"), (170, "-wide")]
    VERTICAL_BREAKPOINTS = [(0, "-short"), (30, "-tall")]

    BINDINGS = [
        Binding("ctrl+s", "save", "Save", id="save"),
        Binding("ctrl+n", "new_template", "New", id="new-template"),
        Binding("f2", "quick_fix", "Fix", id="quick-fix"),
        Binding("f4", "next_sample", "Sample", id="next-sample"),
        Binding("shift+f4", "prev_sample", "Prev sample", show=False, id="prev-sample"),
        Binding("f8", "next_finding", "Next finding", id="next-finding"),
        Binding("shift+f8", "prev_finding", "Prev finding", show=False, id="prev-finding"),
        Binding("f3", "policies", "Policies", id="policies"),
        Binding("f9", "approve", "Approve", show=False, id="approve"),
        Binding("f5", "reload_project", "Reload", show=False, id="reload"),
        Binding("ctrl+b", "toggle_templates", "Templates", show=False, id="toggle-templates"),
        Binding("ctrl+t", "next_tab", "Next tab", show=False, id="next-tab"),
        Binding("f1", "help", "Help", id="help"),
    ]

    def __init__(self, project: Project | None = None, path: Path | str | None = None, *, cwd: Path | None = None) -> None:
        super().__init__()
        self.cwd = Path(cwd) if cwd is not None else Path.cwd()
        self.project = project
        self.problems: list[str] = []
        if project is None:
            self._discover()
        self.initial_path = Path(path) if path is not None else None
        self.folder: Path | None = None  # `tmplstudio edit FOLDER`: list that folder's templates
        if self.initial_path is not None and self.initial_path.is_dir():
            self.folder, self.initial_path = self.initial_path.resolve(), None
        self.buffers: dict[Path, Buffer] = {}
        self.current: Buffer | None = None
        self.recovered: list[Path] | None = None  # recovery files written by crash()
        self._cursor_to_body = False
        self._disk_stamp: dict[Path, tuple[int, int] | None] = {}

    # -- project -----------------------------------------------------------------------------------
    def _discover(self) -> None:
        from tmplstudio.project import Project, keep_out_of_gc

        try:
            self.project = Project.discover(self.cwd)
            self.problems = []
            keep_out_of_gc()
        except InputError as exc:
            self.project = None
            self.problems = [f"Policies not loaded: {exc}"]
        except OSError as exc:
            self.project = None
            self.problems = [f"Project not loaded: {exc}"]

    @property
    def templates_dir(self) -> Path:
        if self.folder is not None:
            return self.folder
        if self.project is not None:
            return Path(self.project.templates_dir)
        return self.cwd / "templates"

    def template_paths(self) -> list[Path]:
        """The templates to list: the engine decides what is a message template (not a partial)."""
        from tmplstudio.project import list_templates

        try:
            return list(list_templates(self.templates_dir))
        except OSError:
            return []

    def evaluate(self, source: str, path: Path | None) -> Evaluation | None:
        if self.project is None:
            return None
        return self.project.evaluate(source, path or self.templates_dir / "untitled.j2")

    # -- layout ------------------------------------------------------------------------------------
    def compose(self) -> ComposeResult:
        with Horizontal(id="main"):
            yield TemplateList(self.templates_dir, id="templates")
            with Vertical(id="center"):
                yield TemplateEditor(id="editor", placeholder="No template open: ctrl+n creates one.")
            with Vertical(id="side", classes="-tab-findings"):
                yield Tabs(
                    Tab("Findings", id="tab-findings"),
                    Tab("Preview", id="tab-preview"),
                    Tab("Variables", id="tab-variables"),
                    id="side-tabs",
                )
                yield FindingsPanel(id="findings", classes="panel")
                yield PreviewPanel(id="preview", classes="panel")
                yield VariablesPanel(id="variables", classes="panel")
        yield Static("", id="status")
        yield Footer(compact=True)

    @property
    def editor(self) -> TemplateEditor:
        return self.query_one("#editor", TemplateEditor)

    @property
    def findings_panel(self) -> FindingsPanel:
        return self.query_one("#findings", FindingsPanel)

    @property
    def preview(self) -> PreviewPanel:
        return self.query_one("#preview", PreviewPanel)

    @property
    def variables_panel(self) -> VariablesPanel:
        return self.query_one("#variables", VariablesPanel)

    @property
    def template_list(self) -> TemplateList:
        return self.query_one("#templates", TemplateList)

    def on_mount(self) -> None:
        self.query_one("#templates").border_title = "Templates"
        self.findings_panel.border_title = "Findings"
        self.preview.border_title = "Preview"
        self.variables_panel.border_title = "Variables"
        editor = self.editor
        editor.evaluator = self._evaluate_current
        editor.listener = self.show_evaluation
        self.template_list.set_paths(self.template_paths())
        self._scan_statuses()
        self.refresh_approvals()
        self.set_interval(2.0, self._check_disk)
        recovery_hooks.install(self)  # copies of unsaved buffers; offers a crashed session's
        if self.initial_path is not None:
            self.open_path(self.initial_path)
        elif self.template_list.paths:
            self.open_path(self.template_list.paths[0])
        else:
            self._show_empty()
            self.call_after_refresh(self._offer_starter)
        editor.focus()

    def on_unmount(self) -> None:
        from tmplstudio.render import pool

        pool.shutdown()  # a badge still rendering in a worker must not keep the quitting studio waiting

    def _evaluate_current(self, text: str) -> Evaluation | None:
        if self.current is None:
            return None  # nothing open: the empty editor is not a template
        return self.evaluate(text, self.current.path)

    # -- buffers ----------------------------------------------------------------------------------
    def _show_empty(self) -> None:
        self.current = None
        editor = self.editor
        editor.read_only = True
        editor.load_text("")
        self.findings_panel.show([], self.problems)
        self.preview.show(None)
        self.variables_panel.show(None)
        self._update_status()

    def open_path(self, path: Path) -> None:
        """Open a template (or switch to its buffer if it is open already)."""
        path = Path(path).resolve() if not Path(path).is_absolute() else Path(path)
        buf = self.buffers.get(path)
        if buf is None:
            if path.exists():
                text, problem = self._read_template(path)
                if text is None:
                    self.notify(f"Cannot open {path.name}: {problem}", severity="error", timeout=10)
                    if self.current is None:
                        self._show_empty()
                    return
                buf = Buffer(path, text, text)
                self._disk_stamp[path] = self._stamp(path)
            else:
                from tmplstudio.template.starter import starter_source

                buf = Buffer(path, starter_source(path.stem, "zh-CN", "sms"), None)
                self.notify(f"{path.name} does not exist yet: starting from the starter template. ctrl+s creates it.")
            self.buffers[path] = buf
        self._activate(buf)

    @staticmethod
    def _read_template(path: Path) -> tuple[str | None, str]:
        """The file's text, or None and why it cannot be edited here."""
        try:
            size = path.stat().st_size
            if not path.is_file():  # a FIFO would block the studio waiting for a writer
                return None, "it is not a regular file (a pipe, socket or device)"
            if size > MAX_EDIT_BYTES:
                return None, f"{size // 1024} KB is too large for the editor (check it with `tmplstudio validate`)"
            data = path.read_bytes()
        except OSError as exc:
            return None, exc.strerror or str(exc)
        if b"\0" in data:
            return None, "it is a binary file, not a template"
        try:
            return data.decode("utf-8"), ""
        except UnicodeDecodeError:
            return None, "it is not UTF-8 text"

    def _activate(self, buf: Buffer) -> None:
        editor = self.editor
        old = self.current
        if old is not None and old is not buf:
            old.text, old.history = editor.text, editor.history
        self.current = buf
        self._cursor_to_body = True
        editor.read_only = False
        editor.reset_timing()
        # load_text clears the history object in place: give it a fresh one, then put back the
        # buffer's own, so undo works across template switches.
        h = editor.history
        editor.history = EditHistory(h.max_checkpoints, h.checkpoint_timer, h.checkpoint_max_characters)
        editor.load_text(buf.text)  # posts Changed: evaluation follows
        if buf.history is not None:
            editor.history = buf.history
        editor.move_cursor((0, 0))
        if buf.path is not None:
            self.template_list.set_current(buf.path)
        self._update_status()

    @staticmethod
    def _stamp(path: Path) -> tuple[int, int] | None:
        try:
            st = path.stat()
        except OSError:
            return None
        return (st.st_mtime_ns, st.st_size)

    # -- evaluation results -----------------------------------------------------------------------
    def show_evaluation(self, event: TemplateEditor.Evaluated) -> None:
        """Show a fresh evaluation in every panel (called by the editor after every edit)."""
        try:
            self._show_evaluation(event)
        except Exception:
            # Textual's own crash report renders every local, and the engine's objects (packs,
            # rules, findings) make that take tens of seconds: keep the text, exit fast.
            self.crash()

    def crash(self) -> None:
        """Write recovery files for unsaved text and exit with a plain traceback (code 1)."""
        import traceback

        from rich.text import Text

        report = traceback.format_exc()
        self.recovered = self.write_recovery_files()
        report += "".join(f"tmplstudio: unsaved text of the crashed session kept in {p}\n" for p in self.recovered)
        self.exit(return_code=1, message=Text(report))

    def _show_evaluation(self, event: TemplateEditor.Evaluated) -> None:
        buf = self.current
        evaluation = event.evaluation
        if buf is not None:
            buf.text = event.text
            buf.evaluation = evaluation
        if self._cursor_to_body and evaluation is not None:
            # A freshly opened template: show the body (the part being written), not the front matter.
            self._cursor_to_body = False
            self.editor.move_cursor(self.editor.offset_to_location(evaluation.template.body_start))
            # On start-up the editor may not have its size yet: scroll once it has.
            self.editor.call_after_refresh(self.editor.scroll_cursor_visible, center=True)
        problems = list(self.problems)
        if event.error:
            problems.append(event.error)
        self.findings_panel.show(evaluation.findings if evaluation is not None else [], problems)
        self.preview.show(evaluation)
        self.variables_panel.show(evaluation)
        self._update_status()

    def _update_status(self) -> None:
        buf = self.current
        status = self.query_one("#status", Static)
        if buf is None:
            status.update(Content.styled(" No template open · ctrl+n new template", "$text-muted"), layout=False)
            self.editor.border_title = "No template"
            return
        evaluation = buf.evaluation
        errors = _severity_count(evaluation, "error")
        warnings = _severity_count(evaluation, "warning")
        infos = _severity_count(evaluation, "info")
        label = self.template_list.label(buf.path) if buf.path is not None else buf.name
        self.editor.border_title = label + (" ●" if buf.dirty else "")
        parts: list[Any] = [" ", (label, "bold")]
        parts.append(("  ● unsaved" if buf.dirty else "  saved", "$text-accent" if buf.dirty else "$text-muted"))
        parts.append("  │ ")
        if self.project is None:
            parts.append(("policies not loaded", "bold $text-error"))
        elif not (errors or warnings or infos):
            parts.append(("✔ clean", "$text-success"))
        else:
            if errors:
                parts.append((f"✖ {errors} ", "bold $text-error"))
            if warnings:
                parts.append((f"▲ {warnings} ", "bold $text-warning"))
            if infos:
                parts.append((f"● {infos}", "$text-primary"))
        if evaluation is not None:
            meta = evaluation.template.meta
            parts.append(("  │ " + " ".join(str(x) for x in (meta.locale, meta.channel) if x), "$text-muted"))
        row, col = self.editor.cursor_location
        parts.extend(self.approval_parts(buf))
        parts.append((f"  │ Ln {row + 1}, Col {col + 1}", "$text-muted"))
        status.update(Content.assemble(*parts), layout=False)  # one fixed row: no relayout per keystroke
        if buf.path is not None:
            # Without policies nothing was really checked: never badge that as clean.
            checked = errors if self.project is not None else None
            self.template_list.set_status(buf.path, Status(checked, warnings, buf.dirty))

    @on(TextArea.SelectionChanged, "#editor")
    def _on_cursor(self) -> None:
        editor = self.editor
        if editor.evaluated_version == editor.version:  # after an edit, show_evaluation updates it
            self._update_status()

    # -- statuses of the other templates ----------------------------------------------------------
    def _scan_statuses(self) -> None:
        """Badge every template that is not open, in a thread (the list is read here, on the UI thread)."""
        self._scan_worker([p for p in self.template_list.paths if p not in self.buffers])

    @work(thread=True, exclusive=True, group="statuses", exit_on_error=False)
    def _scan_worker(self, paths: list[Path]) -> None:
        worker = get_current_worker()
        for path in paths:
            if worker.is_cancelled:
                return
            text, _problem = self._read_template(path)
            if text is None:
                continue
            try:
                evaluation = self.evaluate(text, path)
            except Exception:  # a badge is not worth a crash; opening the file shows the problem
                continue
            status = Status(_severity_count(evaluation, "error") if self.project is not None else None,
                            _severity_count(evaluation, "warning"))
            if worker.is_cancelled:
                return
            self.call_from_thread(self._set_scanned_status, path, status)

    def _set_scanned_status(self, path: Path, status: Status) -> None:
        lists = self.query(TemplateList)
        if lists and path not in self.buffers:
            lists.first().set_status(path, status)

    @on(TemplateList.Open)
    def _on_open(self, event: TemplateList.Open) -> None:
        self.open_path(event.path)
        self.editor.focus()

    # -- findings -----------------------------------------------------------------------------------
    @on(FindingsPanel.Highlighted)
    def _on_finding_highlighted(self, event: FindingsPanel.Highlighted) -> None:
        self.editor.select_finding(event.finding)

    @on(FindingsPanel.Activated)
    def _on_finding_activated(self, event: FindingsPanel.Activated) -> None:
        self.editor.select_finding(event.finding)
        self.editor.focus()

    def action_next_finding(self) -> None:
        self._show_panel("findings")
        if self.findings_panel.move(1) is None:
            self.notify("No findings.", timeout=2)

    def action_prev_finding(self) -> None:
        self._show_panel("findings")
        if self.findings_panel.move(-1) is None:
            self.notify("No findings.", timeout=2)

    def _fixable_finding(self):
        panel = self.findings_panel
        if panel.current is not None and panel.current.fix is not None:
            return panel.current
        evaluation = self.editor.evaluation
        if evaluation is None:
            return None
        row, col = self.editor.cursor_location
        fixable = [f for f in evaluation.findings if f.fix is not None and not f.suppressed]
        for f in fixable:
            if (f.line - 1, f.column - 1) <= (row, col) <= (f.end_line - 1, f.end_column - 1):
                return f
        return fixable[0] if len(fixable) == 1 else None

    def action_quick_fix(self) -> None:
        editor = self.editor
        if self.current is None or editor.evaluation is None:
            return
        if editor.evaluated_version != editor.version:
            self.notify("Still checking the latest edit; try again in a moment.", timeout=2)
            return  # the fix's offsets belong to an older text
        finding = self._fixable_finding()
        if finding is None:
            self.notify("No quick fix here: highlight a finding marked ⚡fix (f8) first.", timeout=4)
            return
        fix = finding.fix
        start = editor.offset_to_location(fix.start)
        end = editor.offset_to_location(fix.end)
        editor.replace(fix.text, start, end)
        self.notify(f"Applied the fix for {finding.rule}.", timeout=3)

    # -- preview and variables ------------------------------------------------------------------------
    def action_next_sample(self) -> None:
        self._show_panel("preview")
        if self.preview.next_sample(1) is None:
            self.notify("This template has no samples.", timeout=3)

    def action_prev_sample(self) -> None:
        self._show_panel("preview")
        self.preview.next_sample(-1)

    def choose_sample(self, name: str) -> None:
        self._show_panel("preview")
        self.preview.set_sample(name)

    @on(VariablesPanel.AddVariable)
    def _on_add_variable(self, event: VariablesPanel.AddVariable) -> None:
        self.add_variable(event.name)

    def add_variable(self, name: str) -> None:
        from tmplstudio.template.frontmatter import add_sample_variable

        editor = self.editor
        text = editor.text
        try:
            new_text = add_sample_variable(text, name)
        except (InputError, ValueError) as exc:
            self.notify(f"Cannot add “{name}”: {exc}", severity="error", timeout=6)
            return
        if new_text == text:
            return
        cursor = editor.cursor_location
        editor.replace(new_text, (0, 0), editor.document.end)
        row = min(cursor[0], editor.document.line_count - 1)
        editor.move_cursor((row, min(cursor[1], len(editor.document.get_line(row)))))
        self.notify(f"Added “{name}” to every sample; fill in its values in the front matter.", timeout=4)

    # -- side panel tabs (small screens) ----------------------------------------------------------------
    def _show_panel(self, name: str) -> None:
        self.query_one("#side-tabs", Tabs).active = f"tab-{name}"

    @on(Tabs.TabActivated, "#side-tabs")
    def _on_tab(self, event: Tabs.TabActivated) -> None:
        side = self.query_one("#side")
        name = (event.tab.id or "tab-findings").removeprefix("tab-")
        for panel in PANELS:
            side.set_class(panel == name, f"-tab-{panel}")

    def action_next_tab(self) -> None:
        self.query_one("#side-tabs", Tabs).action_next_tab()

    def action_toggle_templates(self) -> None:
        self.screen.toggle_class("-templates-toggled")

    # -- screens ------------------------------------------------------------------------------------------
    def action_help(self) -> None:
        self.push_screen(HelpScreen())

    def action_policies(self) -> None:
        packs = self.project.packs if self.project is not None else ()
        evaluation = self.editor.evaluation
        active = [p.id for p in evaluation.packs] if evaluation is not None else []
        self.push_screen(PolicyBrowser(packs, active, self.problems))

    def action_reload_project(self) -> None:
        self._discover()
        if self.problems:
            self.notify(self.problems[0], severity="error", timeout=8)
        else:
            self.notify("Project and policy packs reloaded.", timeout=3)
        self.template_list.set_paths(sorted(set(self.template_paths()) | {p for p in self.buffers if p.exists()}))
        self._scan_statuses()
        self.editor.reset_timing()
        if self.current is not None:
            self.editor.reevaluate()
        else:
            self.findings_panel.show([], self.problems)

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action in MAIN_ACTIONS and len(self.screen_stack) > 1:
            return False
        return True

    # -- new template -----------------------------------------------------------------------------------------
    @work(exclusive=True, group="dialog")
    async def _offer_starter(self) -> None:
        choice = await self.push_screen_wait(create_starter_dialog(str(self.templates_dir)))
        if choice == "create":
            await self._new_template(default_id="reminder")

    @work(exclusive=True, group="dialog")
    async def action_new_template(self) -> None:
        await self._new_template()

    async def _new_template(self, default_id: str = "") -> None:
        from tmplstudio.fileio import atomic_write_text
        from tmplstudio.template.starter import starter_source

        answer = await self.push_screen_wait(NewTemplateDialog(self.templates_dir, template_id=default_id))
        if not answer:
            return
        template_id, locale, channel = answer
        path = self.templates_dir / f"{template_id}.j2"
        source = starter_source(template_id, locale, channel)
        buf = Buffer(path, source, None)
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            atomic_write_text(path, source)
            buf.saved_text = source
            self._disk_stamp[path] = self._stamp(path)
        except OSError as exc:
            self.notify(f"Could not create {path}: {exc}. The template is open unsaved.", severity="error", timeout=8)
        self.buffers[path] = buf
        if path not in self.template_list.paths:
            self.template_list.set_paths(sorted([*self.template_list.paths, path]))
        self._activate(buf)
        self.editor.focus()
        self.notify(f"Created {self.template_list.label(path)}.", timeout=3)

    # -- saving ---------------------------------------------------------------------------------------------------
    @work(exclusive=True, group="dialog")
    async def action_save(self) -> None:
        if self.current is not None:
            await self.save_buffer(self.current)

    async def save_buffer(self, buf: Buffer, *, ask: bool = True) -> bool:
        """Save one buffer atomically; True when its text is on disk afterwards."""
        from tmplstudio.fileio import atomic_write_text

        if buf is self.current:
            buf.text = self.editor.text
        if buf.path is None:
            return False
        path = buf.path
        recovery_hooks.before_save(self, buf)
        errors = _severity_count(buf.evaluation, "error")
        if errors and ask:
            if await self.push_screen_wait(save_draft_dialog(errors)) != "save":
                return False
        if self._changed_on_disk(buf):
            choice = await recovery_hooks.ask_changed_on_disk(self, buf)  # shows a diff; does save-as itself
            if choice == "saved-as":
                return True
            if choice == "reload":
                self._reload_from_disk(buf)
                return False
            if choice != "overwrite":
                return False
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            atomic_write_text(path, buf.text)
        except OSError as exc:
            self.notify(f"Not saved: {exc}. Your text is still in the editor.", severity="error", timeout=10)
            return False
        buf.saved_text = buf.text
        self._disk_stamp[path] = self._stamp(path)
        recovery_hooks.after_save(self, buf)
        draft = f" as a draft with {errors} error{'s' if errors != 1 else ''}" if errors else ""
        self.notify(f"Saved {path.name}{draft}.", timeout=3)
        if buf is self.current:
            self._update_status()
        else:
            self.template_list.set_status(path, Status(errors, _severity_count(buf.evaluation, "warning"), False))
        return True

    def _changed_on_disk(self, buf: Buffer) -> bool:
        """Does the file differ from what the studio last read or wrote?"""
        if buf.path is None or not buf.path.exists():
            return False
        try:
            disk = buf.path.read_bytes().decode("utf-8")  # bytes: keep CRLF (read_text would make it \n)
        except (OSError, UnicodeDecodeError):
            return True
        return disk != buf.saved_text

    def _reload_from_disk(self, buf: Buffer) -> None:
        assert buf.path is not None
        try:
            text = buf.path.read_bytes().decode("utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            self.notify(f"Cannot read {buf.path.name}: {exc}", severity="error")
            return
        buf.text = buf.saved_text = text
        buf.history = None  # the old undo steps do not apply to the disk version
        self._disk_stamp[buf.path] = self._stamp(buf.path)
        if buf is self.current:
            self._activate(buf)
        self.notify(f"Loaded {buf.path.name} from disk.", timeout=3)

    def _check_disk(self) -> None:
        """Every few seconds: reload a clean buffer changed by another program; warn for a dirty one."""
        buf = self.current
        if buf is None or buf.path is None or buf.path not in self._disk_stamp:
            return
        stamp = self._stamp(buf.path)
        if stamp == self._disk_stamp[buf.path] or stamp is None:
            return
        self._disk_stamp[buf.path] = stamp
        if not self._changed_on_disk(buf):
            return
        if not buf.dirty and buf is self.current:
            self._reload_from_disk(buf)
        else:
            self.notify(f"{buf.path.name} changed on disk; ctrl+s will ask before overwriting.", severity="warning", timeout=8)

    # -- quitting ---------------------------------------------------------------------------------------------------
    def write_recovery_files(self) -> list[Path]:
        """Write each dirty buffer to ``NAME.j2.unsaved`` beside it (used after a crash)."""
        from tmplstudio.fileio import atomic_write_text

        written = []
        for buf in self.buffers.values():
            if buf.dirty and buf.path is not None:
                target = buf.path.with_name(buf.path.name + ".unsaved")
                try:
                    atomic_write_text(target, buf.text)
                except OSError:
                    continue
                written.append(target)
        return written

    def dirty_buffers(self) -> list[Buffer]:
        if self.current is not None:
            self.current.text = self.editor.text
        return [b for b in self.buffers.values() if b.dirty]

    @work(exclusive=True, group="quit")  # its own group: it must not cancel a save in progress
    async def action_quit(self) -> None:
        dirty = self.dirty_buffers()
        if dirty:
            if len(self.screen_stack) > 1:
                return  # finish the open dialog first
            choice = await self.push_screen_wait(unsaved_quit_dialog([b.name for b in dirty]))
            if choice == "cancel":
                return
            if choice == "save":
                for buf in dirty:
                    if not await self.save_buffer(buf, ask=False):
                        return
        recovery_hooks.on_quit(self)  # saved or deliberately discarded: nothing to recover
        self.exit(0)

    # -- command palette --------------------------------------------------------------------------------------------
    def studio_commands(self) -> list[tuple[str, str, Callable[[], Any]]]:
        """(title, help, callback) for every action, plus entries built from the current state."""
        commands: list[tuple[str, str, Callable[[], Any]]] = [
            ("Save", "Save the template atomically (ctrl+s)", self.action_save),
            ("New template", "Create a template from the starter (ctrl+n)", self.action_new_template),
            ("Quick fix", "Apply the selected finding's fix (f2)", self.action_quick_fix),
            ("Next finding", "Select the next finding in the editor (f8)", self.action_next_finding),
            ("Previous finding", "Select the previous finding (shift+f8)", self.action_prev_finding),
            ("Next sample", "Preview the next sample (f4)", self.action_next_sample),
            ("Previous sample", "Preview the previous sample (shift+f4)", self.action_prev_sample),
            ("Policy browser", "Packs and rules with explanations, sources and examples (f3)", self.action_policies),
            *self.approval_commands(),
            ("Reload project and policy packs", "Re-read the config and packs, then re-check (f5)", self.action_reload_project),
            ("Toggle templates list", "Show or hide the templates list (ctrl+b)", self.action_toggle_templates),
            ("Next panel tab", "Cycle Findings, Preview, Variables on small screens (ctrl+t)", self.action_next_tab),
            ("Show findings", "Findings panel", lambda: self._show_panel("findings")),
            ("Show preview", "Preview panel", lambda: self._show_panel("preview")),
            ("Show variables", "Variables panel", lambda: self._show_panel("variables")),
            ("Undo", "Undo the last edit (ctrl+z)", self.editor.action_undo),
            ("Redo", "Redo (ctrl+y)", self.editor.action_redo),
            ("Toggle dark / light theme", "Switch between textual-dark and textual-light", self.toggle_dark),
            ("Help", "Key bindings and what each panel shows (f1)", self.action_help),
            ("Quit", "Quit the studio (ctrl+q)", self.action_quit),
        ]
        for path in self.template_list.paths:
            label = self.template_list.label(path)
            commands.append((f"Open template: {label}", str(path), lambda p=path: self.open_path(p)))
        for sample in self.preview.samples:
            commands.append((f"Preview sample: {sample}", "Show this sample's rendering", lambda s=sample: self.choose_sample(s)))
        for name, lacking in self.variables_panel.missing.items():
            commands.append(
                (f"Add missing variable: {name}", f"Add “{name}” to every sample (lacking in {', '.join(lacking)})", lambda n=name: self.add_variable(n))
            )
        return commands

    def toggle_dark(self) -> None:
        self.theme = "textual-light" if self.current_theme.dark else "textual-dark"


def run_studio(project: Project | None = None, path: Path | str | None = None) -> int:
    """Run the studio on ``project`` (discovered from the working directory when None).

    Returns the exit code: 0 after a normal quit, 1 if the studio crashed. After a crash, the
    text of every template with unsaved changes is written next to it as ``NAME.j2.unsaved``
    (not a ``*.j2`` file, so nothing checks or exports it), and the paths are printed.
    """
    import sys

    app = StudioApp(project, path)
    try:
        result = app.run()
    finally:
        if app.return_value is None and app.recovered is None:  # crashed or killed: keep the text
            for saved in app.write_recovery_files():
                print(f"tmplstudio: unsaved text of the crashed session kept in {saved}", file=sys.stderr)
    if result is None:
        return app.return_code or 1
    return int(result)
