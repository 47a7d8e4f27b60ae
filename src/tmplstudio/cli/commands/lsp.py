"""`tmplstudio lsp`: the language server on stdin/stdout, for editors (docs/editors.md)."""

from __future__ import annotations

ORDER = 60


def register(sub) -> None:
    p = sub.add_parser("lsp", help="run the language server on stdio (diagnostics, quick fixes, hover in your editor)")
    p.add_argument("--debounce", type=float, default=150, metavar="MS",
                   help="milliseconds without typing before a change is checked (default 150)")
    p.set_defaults(func=run)


def run(args) -> int:
    from tmplstudio.lsp.server import serve_stdio  # pygls is imported only here

    serve_stdio(max(0.0, args.debounce) / 1000)
    return 0
