"""textual-serve's Server with a token, a session limit and only local page assets."""

from __future__ import annotations

import asyncio
import hmac
import ipaddress
import re
import secrets
import shlex
import sys
from pathlib import Path

import jinja2
from aiohttp import web
from textual_serve.server import Server

COOKIE = "tmplstudio_token"
TOKEN_ENV = "TMPLSTUDIO_SERVE_TOKEN"
# textual-serve's page asks Google Fonts for Roboto Mono; it ships the same font in its statics.
_FONT_LINK = re.compile(r"<link[^>]*fonts\.googleapis\.com[^>]*>", re.S)
_LOCAL_FONT = """<style>
      @font-face { font-family: "Roboto Mono"; font-style: normal;
        src: url("{{ config.static.url }}fonts/RobotoMono-VariableFont_wght.ttf") format("truetype"); }
      @font-face { font-family: "Roboto Mono"; font-style: italic;
        src: url("{{ config.static.url }}fonts/RobotoMono-Italic-VariableFont_wght.ttf") format("truetype"); }
    </style>"""
_REMOTE = re.compile(r"""(?:src|href)\s*=\s*["']?(?:https?:)?//""", re.I)


class LocalPageLoader(jinja2.BaseLoader):
    """textual-serve's own page template with the web-font link swapped for a local @font-face.
    Refuses to serve a page that would still fetch anything from another host (a later
    textual-serve that adds one fails loudly here, not quietly in a reviewer's browser)."""

    def __init__(self, folder: Path):
        self.folder = folder

    def get_source(self, environment, template):
        path = self.folder / template
        source = _FONT_LINK.sub(_LOCAL_FONT, path.read_text(encoding="utf-8"))
        if _REMOTE.search(source) or "url(http" in source:
            raise RuntimeError(f"textual-serve's {template} loads an asset from another host; refusing to serve it")
        return source, str(path), lambda: True


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


class StudioServer(Server):
    def __init__(self, command: str, host: str, port: int, token: str, max_sessions: int):
        super().__init__(command, host=host, port=port, title="tmplstudio")
        self.token = token
        self.max_sessions = max_sessions
        self.sessions = 0

    def initialize_logging(self) -> None:
        import logging

        super().initialize_logging()
        logging.getLogger("aiohttp.access").setLevel(logging.WARNING)  # its lines would repeat ?token=...

    async def _make_app(self) -> web.Application:
        import aiohttp_jinja2

        app = await super()._make_app()
        aiohttp_jinja2.setup(app, loader=LocalPageLoader(self.templates_path))
        app.middlewares.append(self._guard)
        return app

    def _authorised(self, request: web.Request) -> bool:
        offered = request.query.get("token") or request.cookies.get(COOKIE) or ""
        return hmac.compare_digest(offered.encode(), self.token.encode())

    @web.middleware
    async def _guard(self, request: web.Request, handler):
        if not self._authorised(request):
            return web.Response(status=403, text="tmplstudio serve: wrong or missing token. Open the address "
                                                 "printed when the server started (it ends in ?token=...).\n")
        if request.path == "/ws":
            origin = request.headers.get("Origin")
            if origin is not None and origin.split("://", 1)[-1] != request.host:
                return web.Response(status=403, text="tmplstudio serve: cross-origin websocket refused\n")
            if self.sessions >= self.max_sessions:
                return web.Response(status=503, text=f"tmplstudio serve: {self.max_sessions} sessions are open; "
                                                     "close one and reload\n")
            self.sessions += 1
            try:
                return await handler(request)
            finally:
                self.sessions -= 1
        response = await handler(request)
        if request.query.get("token"):  # the page's own requests (statics, websocket) carry the cookie
            response.set_cookie(COOKIE, self.token, httponly=True, samesite="Strict")
        return response

    async def on_startup(self, app: web.Application) -> None:
        """Nothing to say yet: startup runs before the socket listens (see ``serve``)."""

    def announce(self, *_args) -> None:
        print(f"tmplstudio serve: open http://{self.host}:{self.port}/?token={self.token}", flush=True)
        print(f"tmplstudio serve: at most {self.max_sessions} sessions at once; ctrl+c stops", flush=True)

    def serve(self, debug: bool = False) -> None:
        """textual-serve's ``serve``, announcing the address only once the socket listens (its
        startup hook runs before that, so a browser told to connect then could be refused)."""
        import signal

        self.debug = debug
        self.initialize_logging()
        loop = asyncio.get_event_loop()
        try:
            loop.add_signal_handler(signal.SIGINT, self.request_exit)
            loop.add_signal_handler(signal.SIGTERM, self.request_exit)
        except NotImplementedError:
            pass
        web.run_app(self._make_app(), host=self.host, port=self.port, handle_signals=False, loop=loop,
                    print=self.announce)


def studio_command(path: str | None) -> str:
    return shlex.join([sys.executable, "-m", "tmplstudio", "edit", *([path] if path else [])])


def serve(host: str, port: int, token: str | None, max_sessions: int, path: str | None) -> None:
    if not is_loopback(host):
        print(f"tmplstudio serve: warning: {host} is reachable from other machines; anyone with the token can "
              "edit and approve templates", file=sys.stderr, flush=True)
    server = StudioServer(studio_command(path), host, port, token or secrets.token_urlsafe(24), max_sessions)
    try:
        asyncio.get_event_loop()
    except RuntimeError:
        asyncio.set_event_loop(asyncio.new_event_loop())
    server.serve()
