"""The `tmplstudio` command line. Never imports Textual unless the studio is launched.

Exit codes: 0 clean, 1 findings at or above --fail-on (or failing policy tests), 2 usage,
config or input error.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from tmplstudio import __version__
from tmplstudio.errors import InputError

EXIT_OK, EXIT_FINDINGS, EXIT_INPUT = 0, 1, 2


class _Parser(argparse.ArgumentParser):
    def error(self, message: str):  # argparse's default exit code 2 is what we want; keep it short
        self.print_usage(sys.stderr)
        self.exit(EXIT_INPUT, f"tmplstudio: error: {message}\n")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="tmplstudio", description="Compliance checks for debt-collection message templates.")
    parser.add_argument("--version", action="version", version=f"tmplstudio {__version__}")
    sub = parser.add_subparsers(dest="command", parser_class=_Parser)

    edit = sub.add_parser("edit", help="open the studio (the default command)")
    edit.add_argument("path", nargs="?", help="a template file or folder to open")

    val = sub.add_parser("validate", help="check templates against the policy packs (for CI)")
    val.add_argument("paths", nargs="*", help="template files or folders (default: the project's templates folder)")
    val.add_argument("--format", choices=("text", "json"), default="text")
    val.add_argument("--fail-on", choices=("error", "warning", "info"), default=None,
                     help="lowest severity that makes the exit code 1 (default: error, or the config's fail_on)")
    val.add_argument("--policies", action="append", default=[], metavar="PATH", help="extra policy pack file or folder (repeatable)")
    val.add_argument("--no-bundled", action="store_true", help="do not load the packs shipped with tmplstudio")
    val.add_argument("--show-suppressed", action="store_true", help="also list suppressed findings in text output")
    val.add_argument("--color", choices=("auto", "always", "never"), default="auto")

    ren = sub.add_parser("render", help="show each sample's rendering with length, encoding and SMS parts")
    ren.add_argument("file")
    ren.add_argument("--sample", help="only this sample")

    pol = sub.add_parser("policy", help="work with policy packs")
    pol_sub = pol.add_subparsers(dest="policy_command", parser_class=_Parser)
    test = pol_sub.add_parser("test", help="run every rule's hit/ok examples")
    test.add_argument("packs", nargs="*", help="pack files or ids (default: every loaded pack)")
    test.add_argument("--verbose", "-v", action="store_true")
    lst = pol_sub.add_parser("list", help="list the loaded packs and their rules")
    lst.add_argument("--format", choices=("text", "json"), default="text")
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        if args.command in (None, "edit"):
            return _cmd_edit(getattr(args, "path", None))
        if args.command == "validate":
            return _cmd_validate(args)
        if args.command == "render":
            return _cmd_render(args)
        if args.command == "policy":
            if args.policy_command == "test":
                return _cmd_policy_test(args)
            if args.policy_command == "list":
                return _cmd_policy_list(args)
            parser.parse_args(["policy", "--help"])
        return EXIT_INPUT
    except InputError as exc:
        print(f"tmplstudio: error: {exc}", file=sys.stderr)
        return EXIT_INPUT
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        return EXIT_OK


def _project(policies: list[str] | None = None, no_bundled: bool = False):
    from tmplstudio.project import Project

    return Project.discover(Path.cwd(), [Path(p) for p in (policies or [])], no_bundled)


def _cmd_edit(path: str | None) -> int:
    project = _project()
    target = Path(path) if path else None
    if target is not None and not target.exists() and target.suffix != ".j2":
        raise InputError("no such file or folder", target)
    from tmplstudio.tui.app import run_studio  # Textual is imported only here

    return run_studio(project, target) or 0


def _collect(paths: list[str], project) -> tuple[list[Path], list[InputError]]:
    from tmplstudio.project import list_templates

    files: list[Path] = []
    errors: list[InputError] = []
    targets = [Path(p) for p in paths] if paths else [project.templates_dir]
    for target in targets:
        if target.is_dir():
            found = list_templates(target)
            if not found:
                errors.append(InputError("no templates (*.j2) in this folder", target))
            files.extend(found)
        elif target.exists():
            files.append(target)
        elif target.is_symlink():
            errors.append(InputError("broken symbolic link", target))
        else:
            hint = " (no templates folder here; pass a path or create templates/)" if not paths else ""
            errors.append(InputError(f"no such file or folder{hint}", target))
    return files, errors


def _display(path: Path) -> str:
    try:
        return str(path.resolve().relative_to(Path.cwd().resolve()))
    except ValueError:
        return str(path)


def _cmd_validate(args) -> int:
    from tmplstudio.cli.report import Report, write_json, write_text
    from tmplstudio.template.source import read_template_file

    project = _project(args.policies, args.no_bundled)
    files, errors = _collect(args.paths, project)
    report = Report(input_errors=errors)
    for path in files:
        try:
            source = read_template_file(path)
        except InputError as exc:
            report.input_errors.append(exc)
            continue
        report.evaluations.append((_display(path), project.evaluate(source, path)))
    fail_on = args.fail_on or project.config.fail_on
    if args.format == "json":
        write_json(report, sys.stdout)
    else:
        color = {"always": True, "never": False}.get(args.color)
        write_text(report, sys.stdout, args.show_suppressed, color)
    return report.exit_code(fail_on)


def _cmd_render(args) -> int:
    from tmplstudio.template.source import read_template_file

    project = _project()
    path = Path(args.file)
    source = read_template_file(path)
    ev = project.evaluate(source, path)
    samples = ev.renders
    if args.sample:
        if args.sample not in samples:
            from tmplstudio.template.meta import did_you_mean

            names = ", ".join(samples) or "none"
            raise InputError(f"no sample '{args.sample}'{did_you_mean(args.sample, list(samples))}; samples: {names}", path)
        samples = {args.sample: samples[args.sample]}
    if not samples:
        print(f"{_display(path)}: no samples; add [samples.NAME] tables to the front matter to preview it", file=sys.stderr)
        return EXIT_FINDINGS
    failed = False
    for name, r in samples.items():
        if r.text is None:
            failed = True
            print(f"── {name}: cannot render: {r.error}")
            continue
        print(f"── {name} · {r.stats.describe()}")
        if r.subject is not None:
            print(f"Subject: {r.subject}")
        print(r.text.rstrip("\n"))
    return EXIT_FINDINGS if failed else EXIT_OK


def _select_packs(project, wanted: list[str]):
    from tmplstudio.policy.loader import load_pack

    if not wanted:
        return list(project.packs)
    by_id = {p.id: p for p in project.packs}
    out = []
    for item in wanted:
        if item in by_id:
            out.append(by_id[item])
        elif Path(item).exists():
            out.append(load_pack(Path(item)))
        else:
            from tmplstudio.template.meta import did_you_mean

            raise InputError(f"no pack file or id '{item}'{did_you_mean(item, list(by_id))}")
    return out


def _cmd_policy_test(args) -> int:
    from tmplstudio.cli.report import Style, underline
    from tmplstudio.policy.selftest import run_pack

    project = _project()
    packs = _select_packs(project, args.packs)
    style = Style(sys.stdout)
    total = failed = 0
    for pack in packs:
        result = run_pack(pack)
        total += len(result.results)
        failed += len(result.failures)
        mark = style("ok", "1;32") if not result.failures else style("FAIL", "1;31")
        print(f"{mark} {pack.id} ({_display(Path(pack.path))}): {len(result.results) - len(result.failures)}/{len(result.results)} examples pass")
        for rule in result.rules_without_examples:
            print(f"  {style('warning', '1;33')} {rule.id}: no examples; add [rules.examples] hit/ok so the rule is tested")
        for r in result.failures:
            where = f"{_display(Path(pack.path))}:{r.example.line or r.rule.line or 0}"
            print(f"  {style('FAIL', '1;31')} {pack.id}/{r.rule.id} ({where})")
            if r.expect_hit:
                print("    expected the rule to fire on this text, but it did not:")
                print("      " + r.example.text.replace("\n", "\n      "))
                others = sorted({f.rule for f in r.evaluation.findings if not f.suppressed})
                print(f"    rules that did fire: {', '.join(others) or 'none'}")
                if r.example.meta:
                    print(f"    with front matter: {r.example.meta}")
            else:
                print("    expected no finding, but the rule fired:")
                src = r.evaluation.template.source
                for f in r.rule_findings:
                    print(underline(src, f.start, f.end, "      "))
                    print(f"      {f.message}" + (f" [sample {f.sample}]" if f.sample else ""))
        if args.verbose:
            for r in result.results:
                if r.passed:
                    print(f"  ok {r.rule.id} {'hit' if r.expect_hit else 'ok '} {r.example.text[:60]!r}")
    print(f"{total - failed} passed, {failed} failed")
    return EXIT_FINDINGS if failed else EXIT_OK


def _cmd_policy_list(args) -> int:
    project = _project()
    if args.format == "json":
        import json

        data = [{"id": p.id, "title": p.title, "version": p.version, "path": p.path, "bundled": p.bundled,
                 "rules": [{"id": r.id, "kind": r.kind, "severity": r.severity.value, "message": r.message} for r in p.rules]}
                for p in project.packs]
        print(json.dumps(data, ensure_ascii=False, indent=2))
        return EXIT_OK
    for pack in project.packs:
        origin = "bundled" if pack.bundled else _display(Path(pack.path))
        print(f"{pack.id} {pack.version} — {pack.title} ({origin})")
        for rule in pack.rules:
            state = "" if rule.enabled else " (disabled)"
            print(f"  {rule.id:<36} {rule.kind:<12} {rule.severity.value:<8}{state}")
    return EXIT_OK


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
