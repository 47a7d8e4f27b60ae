"""The `tmplstudio` command line. Never imports Textual unless the studio is launched.

Each command lives in its own module under ``tmplstudio.cli.commands`` with a ``register``
function; adding a command means adding a module. Exit codes: 0 clean, 1 findings at or
above --fail-on (or failing policy tests), 2 usage, config or input error.
"""

from __future__ import annotations

import argparse
import importlib
import pkgutil
import sys

from tmplstudio import __version__
from tmplstudio.cli.common import EXIT_INPUT, EXIT_OK
from tmplstudio.errors import InputError


class _Parser(argparse.ArgumentParser):
    def error(self, message: str):  # argparse's exit code 2 is ours too; keep the message short
        self.print_usage(sys.stderr)
        self.exit(EXIT_INPUT, f"tmplstudio: error: {message}\n")


def build_parser() -> argparse.ArgumentParser:
    from tmplstudio.cli import commands

    parser = _Parser(prog="tmplstudio", description="Compliance checks for debt-collection message templates.")
    parser.add_argument("--version", action="version", version=f"tmplstudio {__version__}")
    sub = parser.add_subparsers(dest="command", parser_class=_Parser)
    modules = [importlib.import_module(f"{commands.__name__}.{m.name}") for m in pkgutil.iter_modules(commands.__path__)]
    for module in sorted(modules, key=lambda m: getattr(m, "ORDER", 100)):
        module.register(sub)
    return parser


def safe_console() -> None:
    """A console that cannot encode a character (a cp1252 Windows console, PYTHONIOENCODING=ascii)
    gets ``\\u4e0a``-style escapes instead of a UnicodeEncodeError: a traceback and exit 1 would
    read as "findings" in CI."""
    for stream in (sys.stdout, sys.stderr):
        reconfigure = getattr(stream, "reconfigure", None)
        if reconfigure is not None and (stream.errors or "strict") == "strict":
            try:
                reconfigure(errors="backslashreplace")
            except (ValueError, OSError):  # a closed or detached stream
                pass


def main(argv: list[str] | None = None) -> int:
    safe_console()
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        if args.command is None:
            from tmplstudio.cli.commands import edit

            return edit.run(args)
        return args.func(args)
    except InputError as exc:
        if exc.path:
            from pathlib import Path

            from tmplstudio.cli.common import display

            exc.path = display(Path(exc.path))  # relative to the working directory, like findings
        print(f"tmplstudio: error: {exc}", file=sys.stderr)
        return EXIT_INPUT
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        return EXIT_OK


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
