"""The language server: pygls over stdio, the engine's ``Project.evaluate`` behind it.

* open and save check at once; a change is checked after ``debounce`` seconds without another
  change to the same document, so typing does not queue one evaluation per keystroke;
* evaluations run one at a time on a worker thread (the engine's per-project reuse is shared,
  as in the studio); a result for a version the editor has already moved past is dropped;
* each document is checked under the project of its own folder (the nearest tmplstudio.toml
  above it, loaded once per config file), like ``validate``;
* a broken config or pack becomes one diagnostic at the top of the document, never a crash.
"""

from __future__ import annotations

import asyncio
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from lsprotocol import types
from pygls.lsp.server import LanguageServer

from tmplstudio import __version__
from tmplstudio.errors import InputError
from tmplstudio.lsp.convert import Positions, code_actions, diagnostic, hover_text

DEBOUNCE = 0.15  # seconds of quiet after a change before it is checked


@dataclass
class Checked:
    version: int | None
    positions: Positions
    findings: list
    project: object | None


class TemplateServer(LanguageServer):
    def __init__(self, debounce: float = DEBOUNCE):
        super().__init__("tmplstudio", __version__, text_document_sync_kind=types.TextDocumentSyncKind.Incremental)
        self.debounce = debounce
        self.projects: dict[Path | None, object] = {}
        self.config_cache: dict = {}
        self.checked: dict[str, Checked] = {}
        self.pending: dict[str, asyncio.Task] = {}
        self.evaluator = ThreadPoolExecutor(max_workers=1, thread_name_prefix="tmplstudio-eval")

    # ------------------------------------------------------------------ projects

    def project_for(self, path: Path | None):
        from tmplstudio.project import Project, config_for, keep_out_of_gc

        folder = path.parent if path is not None else Path.cwd()
        config = config_for(folder, self.config_cache)
        if config not in self.projects:
            self.projects[config] = Project.discover(config.parent if config else folder, config_file=config)
            keep_out_of_gc()
        return self.projects[config]

    # ------------------------------------------------------------------ checking

    def schedule(self, uri: str, delay: float) -> None:
        previous = self.pending.pop(uri, None)
        if previous is not None:
            previous.cancel()
        self.pending[uri] = asyncio.get_running_loop().create_task(self._check_later(uri, delay))

    async def _check_later(self, uri: str, delay: float) -> None:
        if delay:
            await asyncio.sleep(delay)
        doc = self.workspace.get_text_document(uri)
        version, source = doc.version, doc.source
        path = Path(doc.path) if uri.startswith("file:") else None
        loop = asyncio.get_running_loop()
        project, findings = await loop.run_in_executor(self.evaluator, self._evaluate, path, source)
        if self.workspace.get_text_document(uri).version != version:
            return  # the editor moved on; the newer change has its own check scheduled
        positions = Positions(source, doc.position_codec)
        self.checked[uri] = Checked(version, positions, findings, project)
        if project is None:  # the config or a pack is broken: say so at the top of the document
            diagnostics = [types.Diagnostic(range=types.Range(types.Position(0, 0), types.Position(0, 0)),
                                            message=findings[0], severity=types.DiagnosticSeverity.Error,
                                            source="tmplstudio")]
        else:
            diagnostics = [diagnostic(positions, f) for f in findings if not f.suppressed]
        self.text_document_publish_diagnostics(types.PublishDiagnosticsParams(uri=uri, version=version,
                                                                              diagnostics=diagnostics))
        if self.pending.get(uri) is asyncio.current_task():
            del self.pending[uri]

    def _evaluate(self, path: Path | None, source: str):
        try:
            project = self.project_for(path)
        except InputError as exc:
            return None, [f"tmplstudio: {exc}"]
        return project, project.evaluate(source, path or "<untitled>.j2").findings

    def forget(self, uri: str) -> None:
        task = self.pending.pop(uri, None)
        if task is not None:
            task.cancel()
        self.checked.pop(uri, None)
        self.text_document_publish_diagnostics(types.PublishDiagnosticsParams(uri=uri, diagnostics=[]))


def _is_template(uri: str) -> bool:
    return uri.split("?", 1)[0].endswith(".j2")


def build(debounce: float = DEBOUNCE) -> TemplateServer:
    server = TemplateServer(debounce)

    @server.feature(types.TEXT_DOCUMENT_DID_OPEN)
    async def did_open(ls: TemplateServer, params: types.DidOpenTextDocumentParams):
        if _is_template(params.text_document.uri):
            ls.schedule(params.text_document.uri, 0)

    @server.feature(types.TEXT_DOCUMENT_DID_CHANGE)
    async def did_change(ls: TemplateServer, params: types.DidChangeTextDocumentParams):
        if _is_template(params.text_document.uri):
            ls.schedule(params.text_document.uri, ls.debounce)

    @server.feature(types.TEXT_DOCUMENT_DID_SAVE)
    async def did_save(ls: TemplateServer, params: types.DidSaveTextDocumentParams):
        if _is_template(params.text_document.uri):
            ls.schedule(params.text_document.uri, 0)

    @server.feature(types.TEXT_DOCUMENT_DID_CLOSE)
    def did_close(ls: TemplateServer, params: types.DidCloseTextDocumentParams):
        if _is_template(params.text_document.uri):
            ls.forget(params.text_document.uri)

    @server.feature(types.TEXT_DOCUMENT_CODE_ACTION,
                    types.CodeActionOptions(code_action_kinds=[types.CodeActionKind.QuickFix]))
    def code_action(ls: TemplateServer, params: types.CodeActionParams):
        checked = ls.checked.get(params.text_document.uri)
        if checked is None:
            return []
        return code_actions(checked.positions, params.text_document.uri, list(params.context.diagnostics))

    @server.feature(types.TEXT_DOCUMENT_HOVER)
    def hover(ls: TemplateServer, params: types.HoverParams):
        checked = ls.checked.get(params.text_document.uri)
        if checked is None or checked.project is None:
            return None
        offset = checked.positions.offset(params.position)
        here = [f for f in checked.findings if not f.suppressed and not f.file and f.start <= offset < max(f.end, f.start + 1)]
        if not here:
            return None
        rules = lambda rule_id, pack: [r for r in checked.project.rules_by_id(rule_id) if r.pack_id == pack]  # noqa: E731
        start, end = min(f.start for f in here), max(f.end for f in here)
        return types.Hover(contents=types.MarkupContent(kind=types.MarkupKind.Markdown, value=hover_text(here, rules)),
                           range=types.Range(checked.positions.position(start), checked.positions.position(end)))

    return server


def serve_stdio(debounce: float = DEBOUNCE) -> None:
    build(debounce).start_io()
