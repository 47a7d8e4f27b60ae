"""Errors for bad input that the CLI reports as one line and exit code 2."""

from __future__ import annotations

from pathlib import Path


class InputError(Exception):
    """A user-facing problem with a file we were asked to read (never a bug in tmplstudio).

    Carries the file and, where known, the 1-based line and column so the message can be
    printed as ``path:line:col: message`` like a compiler error.
    """

    def __init__(self, message: str, path: str | Path | None = None, line: int | None = None, column: int | None = None):
        super().__init__(message)
        self.message = message
        self.path = str(path) if path is not None else None
        self.line = line
        self.column = column

    def __str__(self) -> str:
        where = ""
        if self.path:
            where = self.path
            if self.line is not None:
                where += f":{self.line}"
                if self.column is not None:
                    where += f":{self.column}"
            where += ": "
        return f"{where}{self.message}"
