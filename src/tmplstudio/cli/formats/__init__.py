"""Report formats for CI systems, beside report.py's text and JSON.

Each module has ``write(report, out, fail_on)``: ``sarif`` (GitHub code scanning and other
SARIF 2.1.0 consumers), ``junit`` (GitLab/Jenkins test reports) and ``github`` (workflow
commands that become pull-request annotations).
"""

from __future__ import annotations

import importlib
from typing import TextIO

FORMATS = ("sarif", "junit", "github")


def write(name: str, report, out: TextIO, fail_on: str = "error") -> None:
    module = importlib.import_module(f"{__name__}.{name}")
    module.write(report, out, fail_on)


def shown_path(path: str | None) -> str | None:
    """A path as CI reports show it: relative to the working directory when below it."""
    if path is None:
        return None
    from pathlib import Path

    from tmplstudio.cli.common import display

    return display(Path(path))


def finding_message(f) -> str:
    """The finding's message with the context a reader of a CI report needs (sample, branch, file)."""
    extra = []
    if f.sample:
        extra.append(f"sample {f.sample}")
    if f.path:
        extra.append(f.path)
    text = f.message + (f" [{'; '.join(extra)}]" if extra else "")
    if f.suggestion and not f.suppressed:
        text += f" Suggestion: {f.suggestion}"
    return text
