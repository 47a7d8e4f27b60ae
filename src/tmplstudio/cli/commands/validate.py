"""`tmplstudio validate [PATH ...]`: check templates for CI."""

from __future__ import annotations

import sys

from tmplstudio.cli.common import collect, project
from tmplstudio.cli.parallel import AUTO_JOBS_FROM, auto_jobs, evaluate_files, positive_jobs
from tmplstudio.errors import InputError

ORDER = 10


def register(sub) -> None:
    val = sub.add_parser("validate", help="check templates against the policy packs (for CI)")
    val.add_argument("paths", nargs="*", help="template files or folders (default: the project's templates folder)")
    val.add_argument("--format", choices=("text", "json", "sarif", "junit", "github"), default="text",
                     help="report format: text (default), json (docs/json-output.md), sarif (code scanning), "
                          "junit (test reports), github (pull-request annotations); see docs/ci.md")
    val.add_argument("--output", "-o", metavar="FILE",
                     help="write the report to FILE; the console still gets the text report")
    val.add_argument("--fail-on", choices=("error", "warning", "info"), default=None,
                     help="lowest severity that makes the exit code 1 (default: error, or the config's fail_on)")
    val.add_argument("--policies", action="append", default=[], metavar="PATH", help="extra policy pack file or folder (repeatable)")
    val.add_argument("--no-bundled", action="store_true", help="do not load the packs shipped with tmplstudio")
    val.add_argument("--show-suppressed", action="store_true", help="also list suppressed findings in text output")
    val.add_argument("--color", choices=("auto", "always", "never"), default="auto")
    val.add_argument("--jobs", "-j", type=positive_jobs, default=None, metavar="N",
                     help="evaluate in N processes (0 or auto: one per core; default: one per core from "
                          f"{AUTO_JOBS_FROM} templates on, else 1); the report is identical to one process's")
    val.set_defaults(func=run)


def run(args) -> int:
    from tmplstudio.cli.report import Report, write_text

    proj = project(args.policies, args.no_bundled)
    files, errors = collect(args.paths, proj)
    report = Report(input_errors=errors)
    jobs = args.jobs if args.jobs is not None else auto_jobs(len(files))
    evaluate_files(proj, files, report, jobs, args.policies, args.no_bundled)  # reads, evaluates, in file order
    fail_on = args.fail_on or proj.config.fail_on
    color = {"always": True, "never": False}.get(args.color)
    if args.output:
        _write_report_file(args, report, fail_on)
        write_text(report, sys.stdout, args.show_suppressed, color)
    else:
        _write_format(args.format, report, sys.stdout, fail_on, args.show_suppressed, color)
    return report.exit_code(fail_on)


def _write_format(fmt: str, report, out, fail_on: str, show_suppressed: bool = False, color: bool | None = None) -> None:
    from tmplstudio.cli.report import write_json, write_text

    if fmt == "json":
        write_json(report, out)
    elif fmt == "text":
        write_text(report, out, show_suppressed, color=False if out is not sys.stdout else color)
    else:
        from tmplstudio.cli import formats

        formats.write(fmt, report, out, fail_on)


def _write_report_file(args, report, fail_on: str) -> None:
    """Write the whole report first to a temporary file, then rename: a CI step never uploads half a report."""
    import os
    import tempfile
    from pathlib import Path

    target = Path(args.output)
    folder = target.parent if str(target.parent) else Path(".")
    if not folder.is_dir():
        raise InputError("folder for --output does not exist", folder)
    try:
        fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", dir=folder)
        try:
            with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as out:
                _write_format(args.format, report, out, fail_on, args.show_suppressed, False)
            umask = os.umask(0)
            os.umask(umask)
            os.chmod(tmp, 0o666 & ~umask)  # mkstemp makes it private; a report is an ordinary file
            os.replace(tmp, target)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
    except OSError as exc:
        raise InputError(f"cannot write the report: {exc.strerror or exc}", target) from None
