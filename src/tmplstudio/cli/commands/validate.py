"""`tmplstudio validate [PATH ...]`: check templates for CI.

Each template is checked under its own project: the nearest ``tmplstudio.toml`` (or
``pyproject.toml`` with ``[tool.tmplstudio]``) above the file, not above the working
directory, so pre-commit run from a repository root checks ``messaging/templates/*.j2`` with
``messaging/tmplstudio.toml``'s packs. ``--config FILE`` puts every template under one config.
"""

from __future__ import annotations

import io
import sys
from pathlib import Path

from tmplstudio.cli.common import add_color_option, collect, color_wanted, display, project
from tmplstudio.cli.parallel import AUTO_JOBS_FROM, auto_jobs, evaluate_files, positive_jobs
from tmplstudio.errors import InputError

ORDER = 10


def register(sub) -> None:
    from tmplstudio.cli.formats import formats

    known = formats()
    val = sub.add_parser("validate", help="check templates against the policy packs (for CI)")
    val.add_argument("paths", nargs="*", help="template files or folders (default: the project's templates folder)")
    val.add_argument("--format", choices=sorted(known), default="text", metavar="FORMAT",
                     help="report format: " + "; ".join(f"{name}: {known[name].help}" for name in sorted(known))
                          + " (docs/ci.md)")
    val.add_argument("--output", "-o", metavar="FILE",
                     help="write the report to FILE; the console still gets the text report")
    val.add_argument("--fail-on", choices=("error", "warning", "info"), default=None,
                     help="lowest severity that makes the exit code 1 (default: error, or the config's fail_on)")
    val.add_argument("--config", metavar="FILE",
                     help="use this tmplstudio.toml (or pyproject.toml) for every template, instead of the "
                          "nearest one above each template")
    val.add_argument("--baseline", metavar="REPORT.json",
                     help="report only findings that are not in this earlier `--format json` report")
    val.add_argument("--policies", action="append", default=[], metavar="PATH", help="extra policy pack file or folder (repeatable)")
    val.add_argument("--no-bundled", action="store_true", help="do not load the packs shipped with tmplstudio")
    val.add_argument("--show-suppressed", action="store_true", help="also list suppressed findings in text output")
    add_color_option(val)
    val.add_argument("--jobs", "-j", type=positive_jobs, default=None, metavar="N",
                     help="evaluate in N processes (0 or auto: one per core; default: one per core from "
                          f"{AUTO_JOBS_FROM} templates on, else 1); the report is identical to one process's")
    val.set_defaults(func=run)


def run(args) -> int:
    from tmplstudio.cli.formats import Options
    from tmplstudio.cli.formats import write as write_format
    from tmplstudio.cli.report import Report

    known = _read_baseline(args.baseline) if args.baseline else None
    groups, files_in_order, errors = _projects_and_files(args)
    report = Report(input_errors=errors)
    jobs = args.jobs if args.jobs is not None else auto_jobs(sum(len(files) for _, files in groups))
    for proj, files in groups:
        shown_config = display(proj.config.path) if proj.config.path else None
        before = len(report.evaluations)
        evaluate_files(proj, files, report, jobs, args.policies, args.no_bundled)  # reads, evaluates, in file order
        for path, _ev in report.evaluations[before:]:
            report.configs[path] = shown_config
            report.fail_on[path] = proj.config.fail_on
    if len(groups) > 1:  # back into the order the files were named in
        order = {display(f): i for i, f in enumerate(files_in_order)}
        report.evaluations.sort(key=lambda item: order.get(item[0], len(order)))
    if known is not None:
        report.drop_baseline(known)
    options = Options(fail_on=args.fail_on, show_suppressed=args.show_suppressed,
                      color=color_wanted(sys.stdout, args.color))
    if args.output:
        _write_report_file(args.format, report, Path(args.output), options)
        write_format("text", report, sys.stdout, options)
    else:
        write_format(args.format, report, sys.stdout, options if args.format == "text" else _plain(options))
    return report.exit_code(args.fail_on)


def _plain(options):
    from dataclasses import replace

    return replace(options, color=False)


def _projects_and_files(args) -> tuple[list[tuple[object, list[Path]]], list[Path], list[InputError]]:
    """(project, its templates) in first-seen order, every template in the order found, and
    the paths that could not be used."""
    if args.config or not args.paths:
        proj = project(args.policies, args.no_bundled, args.config)
        files, errors = collect(args.paths, proj)
        return [(proj, files)], files, errors
    from tmplstudio.project import config_for

    files, errors = collect(args.paths, None)
    cache: dict = {}
    by_config: dict[Path | None, list[Path]] = {}
    for f in files:
        by_config.setdefault(config_for(f, cache), []).append(f)
    home = config_for(Path.cwd(), cache)
    if None in by_config and home is not None:  # no config above these files: the working directory's project
        by_config.setdefault(home, []).extend(by_config.pop(None))
    groups = []
    for config, members in by_config.items():
        folder = config.parent if config else Path.cwd()
        groups.append((project(args.policies, args.no_bundled, config, folder), members))
    return groups, files, errors


def _read_baseline(path: str) -> list[str]:
    """The fingerprints of every finding in an earlier JSON report (docs/ci.md, "Baseline")."""
    import json

    target = Path(path)
    try:
        doc = json.loads(target.read_text(encoding="utf-8"))
    except OSError as exc:
        raise InputError(f"cannot read the baseline: {exc.strerror or exc}", target) from None
    except (UnicodeDecodeError, ValueError, RecursionError) as exc:
        raise InputError(f"the baseline is not a JSON report ({exc}); write one with --format json", target) from None
    if not isinstance(doc, dict) or doc.get("tool") != "tmplstudio" or not isinstance(doc.get("templates"), list):
        raise InputError("the baseline is not a tmplstudio JSON report; write one with --format json", target)
    prints = []
    for template in doc["templates"]:
        for finding in (template.get("findings") or []) if isinstance(template, dict) else []:
            fp = finding.get("fingerprint") if isinstance(finding, dict) else None
            if not isinstance(fp, str):
                raise InputError("the baseline's findings have no fingerprints (an older tmplstudio wrote it); "
                                 "write it again with --format json", target)
            prints.append(fp)
    return prints


def _write_report_file(fmt: str, report, target: Path, options) -> None:
    """The whole report is written first, then renamed into place: a CI step never uploads half a report."""
    from tmplstudio.cli.formats import write as write_format
    from tmplstudio.fileio import atomic_write_bytes

    folder = target.parent if str(target.parent) else Path(".")
    if not folder.is_dir():
        raise InputError("folder for --output does not exist", folder)
    buffer = io.StringIO(newline="\n")
    write_format(fmt, report, buffer, _plain(options))
    try:
        atomic_write_bytes(target, buffer.getvalue().encode("utf-8"))
    except OSError as exc:
        raise InputError(f"cannot write the report: {exc.strerror or exc}", target) from None
