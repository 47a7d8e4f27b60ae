"""`tmplstudio lsp` end to end over stdio, driven by pytest-lsp's client as an editor would."""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path

import pytest
import pytest_lsp
from lsprotocol import types
from pytest_lsp import ClientServerConfig, LanguageClient

from tests.ci.cikit import DEMO_PACK, make_project, write

FIX_PACK = DEMO_PACK.replace('suggestion = "Invite the customer to call instead."',
                             'suggestion = "Invite the customer to call instead."\nfix = { replace = "联系" }')
PUBLISH = types.TEXT_DOCUMENT_PUBLISH_DIAGNOSTICS


@pytest_lsp.fixture(config=ClientServerConfig(server_command=[sys.executable, "-m", "tmplstudio", "lsp", "--debounce", "50"]))
async def client(lsp_client: LanguageClient, tmp_path_factory):
    root = tmp_path_factory.mktemp("workspace")
    await lsp_client.initialize_session(types.InitializeParams(
        capabilities=pytest_lsp.client_capabilities("visual-studio-code"), root_uri=root.as_uri()))
    lsp_client.root = root
    yield
    await lsp_client.shutdown_session()


async def published(client: LanguageClient, uri: str, send) -> list[types.Diagnostic]:
    """Send a notification and return the diagnostics the server then publishes for ``uri``."""
    waiting = client.wait_for_notification(PUBLISH)
    send()
    params = await asyncio.wait_for(waiting, timeout=30)
    assert params.uri == uri
    return list(params.diagnostics)


def open_doc(client: LanguageClient, path: Path, version: int = 1):
    client.text_document_did_open(types.DidOpenTextDocumentParams(text_document=types.TextDocumentItem(
        uri=path.as_uri(), language_id="jinja", version=version, text=path.read_text(encoding="utf-8"))))


def change(client: LanguageClient, uri: str, version: int, start, end, text: str):
    client.text_document_did_change(types.DidChangeTextDocumentParams(
        text_document=types.VersionedTextDocumentIdentifier(uri=uri, version=version),
        content_changes=[types.TextDocumentContentChangePartial(
            range=types.Range(types.Position(*start), types.Position(*end)), text=text)]))


def apply(client: LanguageClient, uri: str, version: int, edit: types.WorkspaceEdit):
    [text_edit] = edit.changes[uri]
    r = text_edit.range
    change(client, uri, version, (r.start.line, r.start.character), (r.end.line, r.end.character), text_edit.new_text)


@pytest.fixture
def project(client: LanguageClient) -> Path:
    root = make_project(client.root, FIX_PACK)
    return root


async def test_open_reports_findings_in_utf16_positions(client, project):
    path = write(project / "templates" / "bad.j2", "+++\nid = \"bad\"\n+++\n🙂我们将上门催收，请立即还款\n")
    diags = await published(client, path.as_uri(), lambda: open_doc(client, path))
    by_rule = {d.code: d for d in diags}
    visit = by_rule["visit-threat"]
    # 🙂 is two UTF-16 code units: 上 is code point 4 but character 5 on line 3.
    assert (visit.range.start.line, visit.range.start.character, visit.range.end.character) == (3, 5, 9)
    assert visit.severity == types.DiagnosticSeverity.Error and visit.source == "tmplstudio"
    tone = by_rule["tone"]
    assert (tone.range.start.character, tone.range.end.character) == (11, 13)
    assert tone.severity == types.DiagnosticSeverity.Warning


async def test_change_fix_suppress_hover_and_close(client, project):
    path = write(project / "templates" / "a.j2", "您好\n我们将上门催收\n")
    uri = path.as_uri()
    [diag] = await published(client, uri, lambda: open_doc(client, path))
    assert diag.code == "visit-threat" and (diag.range.start.line, diag.range.start.character) == (1, 3)

    # Hover on the finding: the rule's explanation and its sources.
    hover = await client.text_document_hover_async(types.HoverParams(
        text_document=types.TextDocumentIdentifier(uri=uri), position=types.Position(1, 4)))
    assert "Announcing a visit to the home is intimidation." in hover.contents.value
    assert "刑法 293-1" in hover.contents.value
    assert await client.text_document_hover_async(types.HoverParams(
        text_document=types.TextDocumentIdentifier(uri=uri), position=types.Position(0, 0))) is None

    # Typing another violation on line 0 (before the hit): both reported, the old one moved right.
    diags = await published(client, uri, lambda: change(client, uri, 2, (0, 0), (0, 0), "立即"))
    assert sorted((d.code, d.range.start.line, d.range.start.character) for d in diags) == [
        ("tone", 0, 0), ("visit-threat", 1, 3)]

    # The quick fix, applied as the editor would, clears the visit finding.
    visit = next(d for d in diags if d.code == "visit-threat")
    actions = await client.text_document_code_action_async(types.CodeActionParams(
        text_document=types.TextDocumentIdentifier(uri=uri), range=visit.range,
        context=types.CodeActionContext(diagnostics=[visit])))
    titles = [a.title for a in actions]
    assert titles == ["Fix visit-threat: replace with “联系”", "Suppress visit-threat on this line (give the reason)"]
    diags = await published(client, uri, lambda: apply(client, uri, 3, actions[0].edit))
    assert [d.code for d in diags] == ["tone"]

    # The suppression action puts a comment with a reason to fill in on the line above.
    [tone] = diags
    actions = await client.text_document_code_action_async(types.CodeActionParams(
        text_document=types.TextDocumentIdentifier(uri=uri), range=tone.range,
        context=types.CodeActionContext(diagnostics=[tone])))
    [suppress] = actions
    assert suppress.edit.changes[uri][0].new_text == "{# tmplstudio: allow tone -- <reason: who approved it, ticket> #}\n"
    assert await published(client, uri, lambda: apply(client, uri, 4, suppress.edit)) == []

    # Closing clears the document's diagnostics.
    assert await published(client, uri, lambda: client.text_document_did_close(
        types.DidCloseTextDocumentParams(text_document=types.TextDocumentIdentifier(uri=uri)))) == []


async def test_rapid_changes_are_checked_once_after_the_pause(client, project):
    path = write(project / "templates" / "typing.j2", "您好\n")
    uri = path.as_uri()
    assert await published(client, uri, lambda: open_doc(client, path)) == []
    text = "我们将上门催收"

    def type_all():
        for i, ch in enumerate(text):
            change(client, uri, 2 + i, (1, i), (1, i), ch)

    diags = await published(client, uri, type_all)
    assert [d.code for d in diags] == ["visit-threat"]  # the first publish is already of the whole word
    # Seven keystrokes within the debounce: one evaluation, so no second publish follows.
    with pytest.raises(TimeoutError):
        await asyncio.wait_for(client.wait_for_notification(PUBLISH), timeout=0.5)


async def test_each_document_uses_the_config_of_its_own_folder(client):
    root = client.root
    team = DEMO_PACK.replace('id = "demo"', 'id = "team"').replace('phrases = ["上门催收", "arrest*"]', 'phrases = ["团队禁语"]')
    (root / "messaging").mkdir()
    (root / "billing").mkdir()
    make_project(root / "messaging", team)
    make_project(root / "billing")
    a = write(root / "messaging" / "templates" / "a.j2", "团队禁语，上门催收\n")
    b = write(root / "billing" / "templates" / "b.j2", "团队禁语，上门催收\n")
    diag_a = await published(client, a.as_uri(), lambda: open_doc(client, a))
    diag_b = await published(client, b.as_uri(), lambda: open_doc(client, b))
    assert [(d.code, d.range.start.character) for d in diag_a] == [("visit-threat", 0)]
    assert [(d.code, d.range.start.character) for d in diag_b] == [("visit-threat", 5)]


async def test_a_broken_pack_is_one_diagnostic_not_a_crash(client):
    (client.root / "broken").mkdir()
    root = make_project(client.root / "broken")
    (root / "policies" / "demo.toml").write_text("[pack]\nid = 'demo'\n[[rules]]\nid = 'x'\nalow = 1\n", encoding="utf-8")
    path = write(root / "templates" / "x.j2", "您好\n")
    [diag] = await published(client, path.as_uri(), lambda: open_doc(client, path))
    assert diag.message.startswith("tmplstudio: ") and "demo.toml" in diag.message
    assert diag.severity == types.DiagnosticSeverity.Error
