"""The partials a template loads (include / import / from … import / extends), so an approval
covers them too: editing a partial that an approved template includes makes it stale.

Names are read from the Jinja AST and resolved with the project's own partial loader
(``Project.load_partial``), recursively. A computed name (``{% include name_var %}``) cannot be
resolved before rendering, so a template that has one cannot be approved: its approval could
not say which partial text was approved.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from jinja2 import nodes

from tmplstudio.pack.digest import sha256_bytes

MAX_PARTIALS = 200


@dataclass
class Dependencies:
    partials: dict[str, str] = field(default_factory=dict)   # key (path under the templates root) -> sha256
    dynamic: list[str] = field(default_factory=list)         # why a dependency cannot be known
    data: dict[str, bytes] = field(default_factory=dict)     # key -> the bytes that were hashed


def _body(source: str) -> tuple[str, int]:
    """The Jinja body and the number of lines before it (front matter)."""
    from tmplstudio.template.frontmatter import split

    sp = split(source)
    start = sp.body_start if sp.has_front_matter else 0
    return source[start:], source[:start].count("\n")


def _names(source: str, where: str, dynamic: list[str]) -> list[str]:
    from tmplstudio.render.sandbox import environment

    body, offset = _body(source)
    try:
        tree = environment().parse(body)
    except Exception:  # noqa: BLE001 - a syntax error is the engine's finding; nothing to follow here
        return []
    out: list[str] = []
    for node in tree.find_all((nodes.Include, nodes.Import, nodes.FromImport, nodes.Extends)):
        target = node.template
        consts = target.items if isinstance(target, (nodes.List, nodes.Tuple)) else [target]
        for item in consts:
            if isinstance(item, nodes.Const) and isinstance(item.value, str):
                out.append(item.value)
            else:
                kind = {nodes.Include: "include", nodes.Import: "import", nodes.FromImport: "from … import",
                        nodes.Extends: "extends"}[type(node)]
                dynamic.append(f"{where} line {node.lineno + offset}: {{% {kind} %}} with a computed name")
    return out


def _key(root: Path, path: Path) -> str:
    try:
        return path.resolve().relative_to(root.resolve()).as_posix()
    except (ValueError, OSError):
        return str(path)


def dependencies(project, path: Path, source: str) -> Dependencies:
    """Every partial ``source`` (the text of ``path``) loads, directly or through other partials."""
    root = Path(project.templates_dir)
    deps = Dependencies()
    loader = getattr(project, "load_partial", None)
    if loader is None:
        return deps
    queue = [(str(path), source, path.name)]
    seen = {str(Path(path).resolve())}
    while queue and len(deps.partials) < MAX_PARTIALS:
        including, text, label = queue.pop(0)
        for name in _names(text, label, deps.dynamic):
            found = loader(name, including)
            if found is None:
                continue  # a missing partial is an error finding of the engine
            ppath, psource = found
            resolved = str(Path(ppath).resolve())
            if resolved in seen:
                continue
            seen.add(resolved)
            try:
                data = Path(ppath).read_bytes()
            except OSError:
                continue
            key = _key(root, Path(ppath))
            deps.partials[key] = sha256_bytes(data)
            deps.data[key] = data
            queue.append((ppath, psource, key))
    deps.partials = dict(sorted(deps.partials.items()))
    return deps
