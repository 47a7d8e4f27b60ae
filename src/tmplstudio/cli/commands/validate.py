"""`tmplstudio validate [PATH ...]`: check templates for CI."""

from __future__ import annotations

import sys

from tmplstudio.cli.common import collect, display, project
from tmplstudio.errors import InputError

ORDER = 10


def register(sub) -> None:
    val = sub.add_parser("validate", help="check templates against the policy packs (for CI)")
    val.add_argument("paths", nargs="*", help="template files or folders (default: the project's templates folder)")
    val.add_argument("--format", choices=("text", "json"), default="text")
    val.add_argument("--fail-on", choices=("error", "warning", "info"), default=None,
                     help="lowest severity that makes the exit code 1 (default: error, or the config's fail_on)")
    val.add_argument("--policies", action="append", default=[], metavar="PATH", help="extra policy pack file or folder (repeatable)")
    val.add_argument("--no-bundled", action="store_true", help="do not load the packs shipped with tmplstudio")
    val.add_argument("--show-suppressed", action="store_true", help="also list suppressed findings in text output")
    val.add_argument("--color", choices=("auto", "always", "never"), default="auto")
    val.set_defaults(func=run)


def run(args) -> int:
    from tmplstudio.cli.report import Report, write_json, write_text
    from tmplstudio.template.source import read_template_file

    proj = project(args.policies, args.no_bundled)
    files, errors = collect(args.paths, proj)
    report = Report(input_errors=errors)
    for path in files:
        try:
            source = read_template_file(path)
        except InputError as exc:
            report.input_errors.append(exc)
            continue
        report.evaluations.append((display(path), proj.evaluate(source, path)))
    fail_on = args.fail_on or proj.config.fail_on
    if args.format == "json":
        write_json(report, sys.stdout)
    else:
        color = {"always": True, "never": False}.get(args.color)
        write_text(report, sys.stdout, args.show_suppressed, color)
    return report.exit_code(fail_on)
