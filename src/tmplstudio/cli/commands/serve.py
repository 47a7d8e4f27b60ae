"""`tmplstudio serve [PATH]`: the studio in a web browser (textual-serve), for reviewers."""

from __future__ import annotations

import os

from tmplstudio.errors import InputError

ORDER = 5


def register(sub) -> None:
    p = sub.add_parser("serve", help="run the studio in a web browser for reviewers (127.0.0.1, with a token)")
    p.add_argument("path", nargs="?", help="a template file or folder to open (default: the project's templates)")
    p.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1: this machine only)")
    p.add_argument("--port", type=int, default=8000)
    p.add_argument("--token", default=None,
                   help="the access token (default: $TMPLSTUDIO_SERVE_TOKEN, else a new random one printed at start)")
    p.add_argument("--max-sessions", type=int, default=4, metavar="N", help="browser sessions open at once (default 4)")
    p.set_defaults(func=run)


def run(args) -> int:
    token = args.token or os.environ.get("TMPLSTUDIO_SERVE_TOKEN")
    if token is not None and len(token) < 16:
        raise InputError("the token must be at least 16 characters")
    if args.max_sessions < 1:
        raise InputError("--max-sessions must be at least 1")
    from tmplstudio.serve.server import serve  # textual-serve and aiohttp are imported only here

    serve(args.host, args.port, token, args.max_sessions, args.path)
    return 0
