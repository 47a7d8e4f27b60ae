"""A project: its config, templates folder and policy packs.

Config is found by walking up from a template's folder (the working directory for commands
that take no file) to the first ``tmplstudio.toml`` or ``pyproject.toml`` with a
``[tool.tmplstudio]`` table, so a template in ``messaging/templates/`` is checked under
``messaging/tmplstudio.toml`` wherever the command runs from (``config_for``)::

    templates = "templates"          # templates folder, relative to the config file
    policies = ["policies"]          # the project's own pack folders or files
    bundled = true                   # also use the packs shipped with tmplstudio
    locale = "zh-CN"                 # default locale for templates that do not say
    fail_on = "error"                # default threshold for `validate`
    link_roots = ["../shared"]       # folders outside the project that symbolic links may lead into
    [rules]                          # ([tool.tmplstudio.rules] in pyproject.toml)
    visit-threat = "error"           # raise a rule's severity everywhere...
    "zh-collections/platform-restricted-topic" = { severity = "off", reason = "..." }  # ...lowering needs a reason
    [gate]                           # packs no front matter can switch off (policy/gate.py)
    packs = ["common"]
    [gate.folders."production"]      # templates under templates/production/
    packs = ["zh-collections"]
    [gate.locales."zh"]              # a language, or a full tag
    packs = ["zh-collections", "sms-cn"]
    [gate.jurisdictions."HK"]        # also declares the jurisdiction covered
    packs = ["zh-collections"]
    [[gate.narrow]]                  # a rule off (or lower) for some templates, with the reason
    templates = ["marketing/*.j2"]
    rules = ["opt-out-required"]
    reason = "..."

Without a config, the templates folder is ``./templates`` and only the bundled packs apply.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path

from tmplstudio import safe_toml
from tmplstudio.errors import InputError
from tmplstudio.policy.engine import Evaluation, evaluate
from tmplstudio.policy.gate import Gate, Narrowing, real_reason
from tmplstudio.policy.ruleset import RuleSet, ruleset_key
from tmplstudio.policy.loader import find_packs, load_pack
from tmplstudio.policy.model import Pack, Rule
from tmplstudio.template.meta import did_you_mean

CONFIG_KEYS = ("templates", "policies", "bundled", "locale", "fail_on", "rules", "approval", "link_roots", "gate")


def bundled_pack_dir() -> Path:
    """The packs shipped in the wheel, or the repository's policies/ when run from a checkout."""
    try:
        shipped = Path(str(resources.files("tmplstudio") / "_bundled_policies"))
        if shipped.is_dir():
            return shipped
    except (ModuleNotFoundError, TypeError):
        pass
    return Path(__file__).resolve().parents[2] / "policies"


@dataclass
class Config:
    path: Path | None = None
    root: Path = field(default_factory=Path.cwd)
    templates: Path = Path("templates")
    policies: list[Path] = field(default_factory=list)
    bundled: bool = True
    locale: str | None = None
    fail_on: str = "error"
    rules: dict[str, str] = field(default_factory=dict)
    approval: dict = field(default_factory=dict)   # read by tmplstudio.pack.settings
    link_roots: list[Path] = field(default_factory=list)
    rule_reasons: dict[str, str] = field(default_factory=dict)   # why a [rules] entry lowers or turns off a rule
    gate: Gate = field(default_factory=Gate)

    def roots(self) -> list[Path]:
        """Folders that symbolic links in the project may lead into (``list_templates``)."""
        return [self.root.resolve(), *(p.resolve() for p in self.link_roots)]


def _load_config_table(path: Path) -> dict | None:
    try:
        data = safe_toml.loads(path.read_text(encoding="utf-8-sig"))
    except tomllib.TOMLDecodeError as exc:
        raise InputError(f"config is not valid TOML: {exc}", path) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(f"cannot read config: {exc}", path) from None
    if path.name == "pyproject.toml":
        return data.get("tool", {}).get("tmplstudio")
    return data


def find_config(start: Path) -> tuple[Path, dict] | None:
    """The nearest config at or above the folder ``start``, with its table."""
    start = Path(start).resolve()
    for folder in [start, *start.parents]:
        for name in ("tmplstudio.toml", "pyproject.toml"):
            candidate = folder / name
            if candidate.is_file():
                table = _load_config_table(candidate)
                if table is not None:
                    return candidate, table
    return None


def config_for(path: Path, cache: dict[Path, Path | None] | None = None) -> Path | None:
    """The config file that governs a template file (or folder): the nearest one above it.
    ``cache`` (folder -> answer) saves re-reading the same files for many templates."""
    path = Path(path).resolve()
    folder = path if path.is_dir() else path.parent
    if cache is not None and folder in cache:
        return cache[folder]
    found = find_config(folder)
    answer = found[0] if found else None
    if cache is not None:
        cache[folder] = answer
    return answer


def read_config(path: Path) -> Config:
    """A config named on the command line (``--config FILE``)."""
    path = Path(path)
    if not path.is_file():
        raise InputError("config file does not exist", path)
    table = _load_config_table(path)
    if table is None:
        raise InputError("no [tool.tmplstudio] table in this file", path)
    return parse_config(path.resolve(), table)


def parse_config(path: Path, table: dict) -> Config:
    root = path.parent
    for key in table:
        if key not in CONFIG_KEYS:
            raise InputError(f"unknown config key '{key}'{did_you_mean(key, CONFIG_KEYS)}", path)
    cfg = Config(path=path, root=root)
    cfg.templates = root / str(table.get("templates", "templates"))
    pols = table.get("policies", [])
    pols = [pols] if isinstance(pols, str) else pols
    if not isinstance(pols, list) or not all(isinstance(p, str) for p in pols):
        raise InputError("'policies' must be a list of folders or files", path)
    cfg.policies = [root / p for p in pols]
    cfg.bundled = bool(table.get("bundled", True))
    cfg.locale = table.get("locale")
    cfg.fail_on = str(table.get("fail_on", "error"))
    if cfg.fail_on not in ("error", "warning", "info"):
        raise InputError("'fail_on' must be error, warning or info", path)
    cfg.rules, cfg.rule_reasons = _parse_rules(table.get("rules", {}), path)
    cfg.gate = _parse_gate(table.get("gate", {}), path, cfg.templates)
    cfg.approval = table.get("approval", {})
    links = table.get("link_roots", [])
    if not isinstance(links, list) or not all(isinstance(p, str) for p in links):
        raise InputError("'link_roots' must be a list of folders (relative to the config) that symbolic links may lead into", path)
    cfg.link_roots = [root / p for p in links]
    return cfg


SEVERITIES = ("error", "warning", "info", "off")


def _parse_rules(rules, path: Path) -> tuple[dict[str, str], dict[str, str]]:
    """``[rules]``: rule id -> severity, and the reasons given with them."""
    if not isinstance(rules, dict):
        raise InputError("'rules' must be a table of rule-id = \"error\" | \"warning\" | \"info\" | "
                         "{ severity = \"off\", reason = \"...\" }", path)
    severities: dict[str, str] = {}
    reasons: dict[str, str] = {}
    for rid, value in rules.items():
        if isinstance(value, dict):
            extra = set(value) - {"severity", "reason"}
            if extra:
                raise InputError(f"rule '{rid}': unknown key '{sorted(extra)[0]}' (a rule takes severity and reason)", path)
            value, reason = value.get("severity"), value.get("reason")
            if not isinstance(reason, str) or not real_reason(reason):
                raise InputError(f"rule '{rid}': the reason must be words saying why (at least a few letters), "
                                 f"not {reason!r}", path)
            reasons[rid] = reason.strip()
        if value not in SEVERITIES:
            raise InputError(f"rule '{rid}': '{value}' is not error, warning, info or off", path)
        severities[rid] = value
    return severities, reasons


def _pack_list(value, where: str, path: Path) -> tuple[str, ...]:
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise InputError(f"{where} must be a list of pack ids", path)
    return tuple(value)


def _parse_gate(table, path: Path, templates: Path) -> Gate:
    """``[gate]``: mandatory packs by folder, locale and jurisdiction, and ``[[gate.narrow]]``."""
    if not isinstance(table, dict):
        raise InputError("'gate' must be a table ([gate])", path)
    keys = ("packs", "folders", "locales", "jurisdictions", "narrow")
    for key in table:
        if key not in keys:
            raise InputError(f"unknown key 'gate.{key}'{did_you_mean(key, keys)}", path)

    def scopes(name: str) -> tuple[tuple[str, tuple[str, ...]], ...]:
        value = table.get(name, {})
        if not isinstance(value, dict):
            raise InputError(f"'gate.{name}' must be tables: [gate.{name}.\"NAME\"] with packs = [...]", path)
        out = []
        for scope, spec in value.items():
            if not isinstance(spec, dict) or set(spec) - {"packs"}:
                raise InputError(f"[gate.{name}.\"{scope}\"] takes one key: packs = [...]", path)
            out.append((str(scope), _pack_list(spec.get("packs", []), f"gate.{name}.\"{scope}\".packs", path)))
        return tuple(out)

    narrowings = []
    entries = table.get("narrow", [])
    if not isinstance(entries, list) or not all(isinstance(e, dict) for e in entries):
        raise InputError("'gate.narrow' must be [[gate.narrow]] tables (templates, rules, reason)", path)
    for n, entry in enumerate(entries, start=1):
        where = f"[[gate.narrow]] number {n}"
        extra = set(entry) - {"templates", "rules", "reason", "severity"}
        if extra:
            raise InputError(f"{where}: unknown key '{sorted(extra)[0]}' (it takes templates, rules, severity and reason)", path)
        globs, rules, reason = entry.get("templates"), entry.get("rules"), entry.get("reason")
        severity = entry.get("severity", "off")
        if not isinstance(globs, list) or not globs or not all(isinstance(g, str) and g for g in globs):
            raise InputError(f"{where}: 'templates' must list the templates it covers (globs under the templates "
                             "folder, e.g. \"marketing/*.j2\"); a rule off everywhere belongs in [rules]", path)
        if not isinstance(rules, list) or not rules or not all(isinstance(r, str) and r for r in rules):
            raise InputError(f"{where}: 'rules' must list rule ids (or pack/rule)", path)
        if severity not in SEVERITIES:
            raise InputError(f"{where}: severity '{severity}' is not error, warning, info or off", path)
        if not isinstance(reason, str) or not real_reason(reason):
            raise InputError(f"{where}: a narrowing needs a reason in words (it is shown by validate and recorded "
                             f"with each approval), not {reason!r}", path)
        narrowings.append(Narrowing(tuple(rules), reason.strip(), tuple(globs), severity,
                                    f"{path.name} [[gate.narrow]] {n}"))
    return Gate(_pack_list(table.get("packs", []), "gate.packs", path), scopes("folders"), scopes("locales"),
                scopes("jurisdictions"), tuple(narrowings), str(templates))


class Project:
    def __init__(self, config: Config, packs: list[Pack], ruleset: RuleSet | None = None):
        self.config = config
        self.packs: tuple[Pack, ...] = tuple(packs)
        self._ruleset_cache: dict = {}
        if ruleset is not None:
            self._ruleset_cache[ruleset_key(self.packs, config.rules)] = ruleset
        known = {r.id for p in packs for r in p.rules} | {f"{p.id}/{r.id}" for p in packs for r in p.rules}
        from tmplstudio.policy.engine import ENGINE_RULES

        known |= set(ENGINE_RULES)
        for rid in config.rules:
            if rid not in known:
                raise InputError(f"config overrides unknown rule '{rid}'{did_you_mean(rid, sorted(known))}", config.path)
        self.gate = self._gate(known)

    def _gate(self, known: set[str]) -> Gate:
        """The config's gate, checked against the loaded packs, with the [rules] entries that
        lower or turn off a rule as narrowings of every template."""
        config = self.config
        gate = config.gate
        ids = [p.id for p in self.packs]
        named = [*gate.packs, *(p for _k, packs in (*gate.folders, *gate.locales, *gate.jurisdictions) for p in packs)]
        for pid in named:
            if pid not in ids:
                raise InputError(f"[gate] names unknown pack '{pid}'{did_you_mean(pid, ids)}", config.path)
        for n in gate.narrowings:
            for rid in n.rules:
                if rid not in known:
                    raise InputError(f"{n.origin} names unknown rule '{rid}'{did_you_mean(rid, sorted(known))}", config.path)
        ranks = {"error": 3, "warning": 2, "info": 1, "off": 0}
        from_rules = []
        for rid, severity in config.rules.items():
            own = [r.severity.value for r in self.packs_rules(rid)] or ["warning"]  # an engine rule
            if not own or all(ranks[severity] >= ranks[s] for s in own):
                continue  # raises a rule (or an engine rule's default): nothing is weakened
            reason = config.rule_reasons.get(rid)
            if reason is None:
                raise InputError(f"[rules] {'turns' if severity == 'off' else 'lowers'} rule '{rid}' "
                                 f"{'off' if severity == 'off' else 'to ' + severity} without a reason: write "
                                 f"\"{rid}\" = {{ severity = \"{severity}\", reason = \"...\" }} (validate shows it "
                                 "and every approval records it)", config.path)
            from_rules.append(Narrowing((rid,), reason, (), severity, "rules"))
        return Gate(gate.packs, gate.folders, gate.locales, gate.jurisdictions, (*from_rules, *gate.narrowings),
                    str(config.templates))

    def packs_rules(self, rule_id: str) -> list[Rule]:
        """Rules a [rules] key names: a bare id (every pack's) or pack/id."""
        return [r for p in self.packs for r in p.rules if rule_id in (r.id, r.key)]

    @classmethod
    def discover(cls, cwd: Path | None = None, extra_packs: list[Path] | None = None, no_bundled: bool = False,
                 config_file: Path | None = None) -> "Project":
        """The project of the folder ``cwd`` (its nearest config), or of ``config_file`` when given."""
        from tmplstudio.render import pool

        pool.prestart()  # the render worker starts while the packs load
        cwd = Path(cwd or Path.cwd()).resolve()
        if config_file is not None:
            config = read_config(config_file)
        else:
            found = find_config(cwd)
            config = parse_config(*found) if found else Config(root=cwd, templates=cwd / "templates")
        if no_bundled:
            config.bundled = False
        pack_files: list[tuple[Path, bool]] = []
        if config.bundled:
            pack_files += [(p, True) for p in find_packs(bundled_pack_dir())]
        for entry in [*config.policies, *(extra_packs or [])]:
            if entry.is_dir():
                pack_files += [(p, False) for p in find_packs(entry)]
            elif entry.is_file():
                pack_files.append((entry, False))
            else:
                raise InputError("policy folder or file does not exist", entry)
        from tmplstudio.policy import cache

        packs, ruleset = cache.load(pack_files, config.rules, lambda path, bundled: load_pack(path, bundled=bundled))
        seen: dict[str, str] = {}
        for (path, _bundled), pack in zip(pack_files, packs):
            if pack.id in seen:
                raise InputError(f"pack id '{pack.id}' is also used by {seen[pack.id]}", path)
            seen[pack.id] = str(path)
        return cls(config, packs, ruleset)

    @property
    def root(self) -> Path:
        return self.config.root

    @property
    def templates_dir(self) -> Path:
        return self.config.templates

    def template_paths(self, folder: Path | None = None, problems: list[InputError] | None = None) -> list[Path]:
        return list_templates(folder or self.templates_dir, self.config.roots(), problems)

    def evaluate(self, source: str, path: Path | str) -> Evaluation:
        return evaluate(source, str(path), self.packs, self.config.rules, self.config.locale, self._ruleset_cache,
                        loader=self.load_partial, gate=self.gate)

    def load_partial(self, name: str, including: str) -> tuple[str, str] | None:
        """A partial named in include/import/extends: looked up in the templates folder, then
        next to the including file; never outside those folders."""
        from tmplstudio.template.source import read_template_file

        roots = [self.templates_dir]
        if including and not including.startswith("<"):
            roots.append(Path(including).parent)
        for root in roots:
            try:
                root = root.resolve()
                candidate = (root / name).resolve()
            except (OSError, RuntimeError):
                continue
            if not candidate.is_relative_to(root) or not candidate.is_file():
                continue
            try:
                return str(candidate), read_template_file(candidate)
            except InputError:
                return None
        return None

    def rules_by_id(self, rule_id: str) -> list[Rule]:
        return [r for p in self.packs for r in p.rules if r.id == rule_id]


def keep_out_of_gc() -> None:
    """Called by the applications (CLI, studio) once a project is loaded, not by the library:
    move everything alive now (the loaded packs, the automaton, the imported modules) out of
    the garbage collector's sight. These objects live as long as the process, and every full
    collection walked all of them: an evaluation that met one took 16-29 ms instead of ~2
    (bench/engine.py's worst case drops to ~5 ms), and forked --jobs workers no longer copy the
    pages the collector would touch. On a reload (the studio, when a pack changes) the previous
    packs are unfrozen and collected first."""
    import gc

    if gc.get_freeze_count():
        gc.unfreeze()
        gc.collect()
    gc.freeze()


def is_partial(path: Path, root: Path) -> bool:
    try:
        parts = path.relative_to(root).parts
    except ValueError:
        parts = path.parts[-1:]
    return any(part.startswith("_") for part in parts)


def link_roots(folder: Path) -> list[Path]:
    """Where symbolic links under ``folder`` may lead: its project's folder (the nearest config's,
    else ``folder``'s parent) and the config's ``link_roots``."""
    found = find_config(Path(folder).resolve())
    if found is None:
        return [Path(folder).resolve().parent]
    return parse_config(*found).roots()


def outside_link(path: Path, roots: list[Path]) -> str | None:
    """Why ``path`` must not be read: a symbolic link that leads out of ``roots``; else None."""
    path = Path(path)
    try:
        if not path.is_symlink():
            return None
        target = path.resolve()
    except (OSError, RuntimeError):
        return "is a symbolic link that cannot be followed (a loop?)"
    if any(target.is_relative_to(root) for root in roots):
        return None
    return (f"is a symbolic link to {target}, outside the project ({roots[0]}); it was not read "
            "(to allow links into a shared folder, list it in link_roots in tmplstudio.toml)")


def list_templates(folder: Path, roots: list[Path] | None = None, problems: list[InputError] | None = None) -> list[Path]:
    """Message templates under ``folder`` (recursive *.j2), skipping partials (names starting with _).

    The walk never follows a symbolic link out of ``roots`` (default: ``link_roots(folder)``):
    a link to ``/etc/passwd`` or ``templates/root -> /`` is not read but reported in
    ``problems`` (when given), as is a folder or entry that cannot be read.
    """
    folder = Path(folder)
    if not folder.exists():
        return []
    roots = [Path(r).resolve() for r in (roots if roots is not None else link_roots(folder))]
    report = problems.append if problems is not None else (lambda _problem: None)
    out = []
    seen_dirs: set[tuple[int, int]] = set()
    stack = [folder]
    while stack:
        current = stack.pop()
        try:
            st = current.stat()
        except OSError:
            continue
        key = (st.st_dev, st.st_ino)
        if key in seen_dirs:
            continue  # symlink loop
        seen_dirs.add(key)
        try:
            entries = sorted(current.iterdir())
        except PermissionError:
            report(InputError("permission denied: this folder cannot be listed", current))
            continue
        except OSError as exc:
            report(InputError(f"cannot list this folder: {exc.strerror or exc}", current))
            continue
        for entry in entries:
            if entry.name.startswith("_") or entry.name.startswith("."):
                continue
            try:
                why = outside_link(entry, roots)
                if why is not None:
                    if entry.suffix == ".j2" or entry.is_dir():
                        report(InputError(why, entry))
                    continue
                if entry.is_dir():
                    stack.append(entry)
                elif entry.suffix == ".j2":
                    out.append(entry)
            except PermissionError:
                report(InputError("permission denied", entry))
            except OSError as exc:
                report(InputError(f"cannot be read: {exc.strerror or exc}", entry))
    return sorted(out)
