"""`tmplstudio serve`: the studio in a browser, for reviewers who never open a terminal.

Each browser session runs the ordinary studio (``tmplstudio edit``) in its own process through
textual-serve, so saving, the draft-with-errors question and approval behave exactly as in the
terminal. ``server.py`` adds what textual-serve leaves to its users: a token, a limit on
concurrent sessions, a same-origin check on the websocket, and a page that loads nothing from
outside the machine (its web-font link is replaced by the font textual-serve ships).
"""
