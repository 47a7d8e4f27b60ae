"""`tmplstudio lsp`: the policy checks in any editor, over the Language Server Protocol (stdio).

A thin client of the engine, like the studio: ``server.py`` speaks LSP through pygls and keeps
one :class:`~tmplstudio.project.Project` per config file; ``convert.py`` turns findings into
diagnostics, code actions and hover text. Setup per editor: docs/editors.md.
"""
