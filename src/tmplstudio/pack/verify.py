"""Verifying an exported pack: every file against the manifest, and the manifest against itself.

Checks, each reported with the file it concerns:

* ``manifest.json`` is present, is JSON, has a known schema, and its ``digest`` (SHA-256 of
  its canonical JSON without that field) matches — any edit to the manifest shows here;
* every file listed in the manifest is present with the recorded SHA-256 (``removed``,
  ``modified``), and no other file is present (``added``);
* per template: its source file's hash equals the template's ``sha256`` and its approval's
  ``sha256``, its approval was given under the manifest's policy digest, and its files are
  listed in the manifest.

The digest detects changes, not who made them: someone who rewrites files *and* recomputes
every hash produces a consistent pack. Keep the pack's own SHA-256 (printed by ``export``)
with the release record, or sign the pack, when that matters.
"""

from __future__ import annotations

import json
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

from tmplstudio.errors import InputError
from tmplstudio.pack.digest import sha256_bytes
from tmplstudio.pack.export import MANIFEST, MANIFEST_SCHEMA, manifest_digest


@dataclass
class Problem:
    file: str
    message: str

    def __str__(self) -> str:
        return f"{self.file}: {self.message}"


@dataclass
class VerifyResult:
    problems: list[Problem] = field(default_factory=list)
    templates: int = 0
    files: int = 0

    @property
    def ok(self) -> bool:
        return not self.problems


def read_pack(pack: Path) -> dict[str, bytes]:
    """Every file of a pack (zip or folder), by its path inside the pack."""
    pack = Path(pack)
    if not pack.exists():
        raise InputError("no such pack (zip file or folder)", pack)
    files: dict[str, bytes] = {}
    if pack.is_dir():
        for path in sorted(pack.rglob("*")):
            if path.is_file() or path.is_symlink():
                rel = path.relative_to(pack).as_posix()
                try:
                    files[rel] = path.read_bytes()
                except OSError as exc:
                    raise InputError(f"cannot read: {exc.strerror or exc}", path) from None
        return files
    try:
        with zipfile.ZipFile(pack) as zf:
            names = [i.filename for i in zf.infolist() if not i.is_dir()]
            dupes = sorted({n for n in names if names.count(n) > 1})
            if dupes:
                raise InputError(f"the zip holds duplicate entries: {', '.join(dupes)}", pack)
            for name in names:
                files[name] = zf.read(name)
    except zipfile.BadZipFile:
        raise InputError("not a zip file (and not a folder)", pack) from None
    except (OSError, RuntimeError, zipfile.LargeZipFile) as exc:
        raise InputError(f"cannot read the zip: {exc}", pack) from None
    return files


def verify_files(files: dict[str, bytes]) -> VerifyResult:
    result = VerifyResult(files=len(files))
    problems = result.problems
    raw = files.get(MANIFEST)
    if raw is None:
        problems.append(Problem(MANIFEST, "missing: this is not a tmplstudio pack, or the manifest was removed"))
        return result
    try:
        manifest = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        problems.append(Problem(MANIFEST, f"not valid JSON ({exc}); the manifest was edited or damaged"))
        return result
    if not isinstance(manifest, dict):
        problems.append(Problem(MANIFEST, "not a JSON object; the manifest was edited or damaged"))
        return result
    if manifest.get("schema") != MANIFEST_SCHEMA:
        problems.append(Problem(MANIFEST, f"schema {manifest.get('schema')!r} is not {MANIFEST_SCHEMA}"))
        return result
    if manifest.get("digest") != manifest_digest(manifest):
        problems.append(Problem(MANIFEST, "edited: its digest does not match its content"))

    listed = manifest.get("files")
    if not isinstance(listed, dict):
        problems.append(Problem(MANIFEST, "has no 'files' table"))
        return result
    present = {name for name in files if name != MANIFEST}
    for name in sorted(set(listed) - present):
        problems.append(Problem(name, "removed: listed in the manifest but not in the pack"))
    for name in sorted(present - set(listed)):
        problems.append(Problem(name, "added: in the pack but not in the manifest"))
    for name in sorted(present & set(listed)):
        if sha256_bytes(files[name]) != listed[name]:
            problems.append(Problem(name, "modified: its SHA-256 differs from the manifest"))

    policy_digest = manifest.get("policy_digest")
    templates = manifest.get("templates")
    if not isinstance(templates, list):
        problems.append(Problem(MANIFEST, "has no 'templates' list"))
        return result
    result.templates = len(templates)
    for entry in templates:
        if not isinstance(entry, dict):
            problems.append(Problem(MANIFEST, "a template entry is not an object"))
            continue
        where = f"templates/{entry.get('path')}"
        entry_files = entry.get("files") or {}
        for role, names in entry_files.items():
            for name in (names if isinstance(names, list) else [names]):
                if name not in listed:
                    problems.append(Problem(str(name), f"{role} file of template '{entry.get('id')}' is not listed in the manifest's files"))
        partials = entry.get("partials") or {}
        for key, digest in partials.items():
            name = f"templates/{key}"
            if name in files and sha256_bytes(files[name]) != digest:
                problems.append(Problem(name, f"does not match the partial of template '{entry.get('id')}' in the manifest"))
        source = entry_files.get("source")
        if source in files and sha256_bytes(files[source]) != entry.get("sha256"):
            problems.append(Problem(str(source), f"does not match template '{entry.get('id')}' sha256 in the manifest"))
        approval = entry.get("approval")
        if not isinstance(approval, dict):
            problems.append(Problem(where, "has no approval record in the manifest"))
            continue
        if approval.get("sha256") != entry.get("sha256"):
            problems.append(Problem(where, "its sha256 is not the one that was approved"))
        if (approval.get("partials") or {}) != partials:
            problems.append(Problem(where, "its partials are not the ones that were approved"))
        if approval.get("policy_digest") != policy_digest:
            problems.append(Problem(where, "was approved under a different policy set than the pack declares"))
    return result


def verify(pack: Path) -> VerifyResult:
    return verify_files(read_pack(pack))
