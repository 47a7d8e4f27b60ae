"""`tmplstudio policy test|list|lint`: work with policy packs."""

from __future__ import annotations

import sys
from pathlib import Path

from tmplstudio.cli.common import EXIT_FINDINGS, EXIT_OK, add_color_option, color_wanted, display, project
from tmplstudio.errors import InputError

ORDER = 30


def register(sub) -> None:
    pol = sub.add_parser("policy", help="work with policy packs")
    pol.set_defaults(func=lambda args: (pol.print_help(), 2)[1])
    pol_sub = pol.add_subparsers(dest="policy_command", parser_class=type(pol))
    test = pol_sub.add_parser("test", help="run every rule's hit/ok examples")
    test.add_argument("packs", nargs="*", help="pack files or ids (default: every loaded pack)")
    test.add_argument("--verbose", "-v", action="store_true")
    add_color_option(test)
    test.set_defaults(func=run_test)
    lst = pol_sub.add_parser("list", help="list the loaded packs and their rules")
    lst.add_argument("--format", choices=("text", "json"), default="text")
    lst.set_defaults(func=run_list)
    lint = pol_sub.add_parser("lint", help="report every problem in policy packs (unknown keys, bad regexes, "
                                           "phrases that can never match, failing examples, ...)")
    lint.add_argument("packs", nargs="*", help="pack files, folders or ids (default: the bundled packs and the project's own)")
    add_color_option(lint)
    lint.set_defaults(func=run_lint)


def select_packs(proj, wanted: list[str]):
    from tmplstudio.policy.loader import load_pack

    if not wanted:
        return list(proj.packs)
    by_id = {p.id: p for p in proj.packs}
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


def run_test(args) -> int:
    from tmplstudio.cli.common import Style
    from tmplstudio.cli.report import underline
    from tmplstudio.policy.selftest import run_pack

    proj = project()
    packs = select_packs(proj, args.packs)
    style = Style(sys.stdout, color_wanted(sys.stdout, args.color))
    total = failed = 0
    for pack in packs:
        result = run_pack(pack)
        total += len(result.results)
        failed += len(result.failures)
        mark = style("ok", "1;32") if not result.failures else style("FAIL", "1;31")
        print(f"{mark} {pack.id} ({display(Path(pack.path))}): {len(result.results) - len(result.failures)}/{len(result.results)} examples pass")
        for rule in result.rules_without_examples:
            print(f"  {style('warning', '1;33')} {rule.id}: no examples; add [rules.examples] hit/ok so the rule is tested")
        for r in result.failures:
            where = f"{display(Path(pack.path))}:{r.example.line or r.rule.line or 0}"
            print(f"  {style('FAIL', '1;31')} {pack.id}/{r.rule.label} ({where})")
            if r.expect_hit and r.severity is not None:
                print(f"    expected the rule to report {r.example.severity.value}, but it reported {r.severity.value}:")
                print("      " + r.example.text.replace("\n", "\n      "))
                if r.example.meta:
                    print(f"    with front matter: {r.example.meta}")
            elif r.expect_hit:
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


def run_list(args) -> int:
    proj = project()
    if args.format == "json":
        import json

        data = [{"id": p.id, "title": p.title, "version": p.version, "path": p.path, "bundled": p.bundled,
                 "rules": [{"id": r.id, "kind": r.kind, "severity": r.severity.value, "message": r.message} for r in p.rules]}
                for p in proj.packs]
        print(json.dumps(data, ensure_ascii=False, indent=2))
        return EXIT_OK
    for pack in proj.packs:
        origin = "bundled" if pack.bundled else display(Path(pack.path))
        print(f"{pack.id} {pack.version} — {pack.title} ({origin})")
        for rule in pack.rules:
            state = "" if rule.enabled else " (disabled)"
            print(f"  {rule.id:<36} {rule.kind:<12} {rule.severity.value:<8}{state}")
    return EXIT_OK


def _default_pack_files() -> list[Path]:
    """The files `validate` would load, found without loading them (lint must read broken packs too)."""
    from tmplstudio.policy.loader import find_packs
    from tmplstudio.project import bundled_pack_dir, find_config, parse_config

    found = find_config(Path.cwd().resolve())
    config = parse_config(*found) if found else None
    files: list[Path] = []
    if config is None or config.bundled:
        files += find_packs(bundled_pack_dir())
    for entry in config.policies if config else []:
        if entry.is_dir():
            files += find_packs(entry)
        elif entry.is_file():
            files.append(entry)
        else:
            raise InputError("policy folder or file does not exist", entry)
    return files


def _pack_id_of(path: Path) -> str | None:
    import tomllib

    from tmplstudio import safe_toml

    try:
        header = safe_toml.loads(path.read_text(encoding="utf-8-sig")).get("pack")
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError):
        return None
    return header.get("id") if isinstance(header, dict) else None


def lint_targets(wanted: list[str]) -> list[Path]:
    from tmplstudio.policy.loader import find_packs

    if not wanted:
        return _default_pack_files()
    files: list[Path] = []
    by_id: dict[str, Path] | None = None
    for item in wanted:
        path = Path(item)
        if path.is_dir():
            found = find_packs(path)
            if not found:
                raise InputError("no policy packs (*.toml) in this folder", path)
            files += found
        elif path.is_file():
            files.append(path)
        else:
            if by_id is None:
                by_id = {pid: f for f in _default_pack_files() if (pid := _pack_id_of(f))}
            if item not in by_id:
                from tmplstudio.template.meta import did_you_mean

                raise InputError(f"no pack file, folder or id '{item}'{did_you_mean(item, list(by_id))}")
            files.append(by_id[item])
    return list(dict.fromkeys(files))


def run_lint(args) -> int:
    from tmplstudio.cli.common import Style
    from tmplstudio.policy.lint import lint_paths

    results = lint_paths(lint_targets(args.packs))
    style = Style(sys.stdout, color_wanted(sys.stdout, args.color))
    colours = {"error": "1;31", "warning": "1;33"}
    errors = warnings = 0
    for res in results:
        for p in res.problems:
            where = f"{display(Path(p.path))}:{p.line or 1}" + (f":{p.column}" if p.column else "")
            print(f"{where}: {style(p.level, colours[p.level])} {style(p.code, '35')} {p.message}")
        errors += res.errors
        warnings += res.warnings
    n = len(results)
    summary = f"{n} pack{'s' if n != 1 else ''} linted: {errors} error{'s' if errors != 1 else ''}, {warnings} warning{'s' if warnings != 1 else ''}"
    print(style(summary, "1;31" if errors else ("1;33" if warnings else "1;32")))
    return EXIT_FINDINGS if errors else EXIT_OK
