"""Exporting approved templates as a verifiable pack (a reproducible zip, or a folder).

A template is included only when it is approved, its approval is not stale (same file bytes,
same policy-set digest), it has no error finding now, and the target can express it: a
provider target (pack/targets/) evaluates it again with its provider pack applied and refuses
what that pack or the provider's template rules reject. Every other template is reported as
excluded with its reason.

Layout of a pack::

    manifest.json                 schema, tool, policy digest, per-template records, file hashes
    templates/<path>.j2           each template exactly as approved (its SHA-256 is in the ledger)
    <target>/<id>.json            the provider's request body (aliyun, tencent, twilio targets)

The zip is reproducible: entries sorted by name, every timestamp set to SOURCE_DATE_EPOCH
(or 1980-01-01 00:00:00 UTC, the earliest a zip can hold, when unset), permissions 0644,
deflate at a fixed level, no extra fields or comment. ``manifest.json`` carries no wall-clock
time, so the same inputs give a byte-identical file.
"""

from __future__ import annotations

import datetime as _dt
import io
import json
import os
import shutil
import tempfile
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tmplstudio import __version__
from tmplstudio.errors import InputError
from tmplstudio.fileio import atomic_write_bytes
from tmplstudio.pack.digest import canonical_digest, policy_set, sha256_bytes
from tmplstudio.pack.ledger import Ledger
from tmplstudio.pack.names import id_problem, safe_member
from tmplstudio.pack.status import APPROVED, template_status
from tmplstudio.pack import targets
from tmplstudio.pack.targets.base import Refused, prepare, refusal_text

MANIFEST = "manifest.json"
SIGNATURE = "manifest.json.sig"                  # SSH signature of manifest.json (not listed in it)
SIGNERS_IN_PACK = "signers/allowed_signers"      # the project's allowed_signers when the pack was made
REVOKED_IN_PACK = "signers/revoked_keys"
MANIFEST_SCHEMA = 1
ZIP_EPOCH_MIN = 315532800  # 1980-01-01T00:00:00Z
ZIP_EPOCH_MAX = 4354819198  # 2107-12-31T23:59:58Z: a zip stores the year in 7 bits from 1980
FILE_MODE = 0o644


@dataclass
class Excluded:
    path: str
    reason: str


@dataclass
class ExportResult:
    files: dict[str, bytes] = field(default_factory=dict)   # pack path -> content (manifest included)
    included: list[str] = field(default_factory=list)
    excluded: list[Excluded] = field(default_factory=list)
    notes: list[Excluded] = field(default_factory=list)   # what the target's provider pack reports short of an error
    manifest: dict[str, Any] = field(default_factory=dict)
    signature_problems: list[str] = field(default_factory=list)   # sign-offs whose signature does not check out
    signed_by: str | None = None


def source_date_epoch() -> int | None:
    raw = os.environ.get("SOURCE_DATE_EPOCH")
    if raw is None or raw.strip() == "":
        return None
    try:
        value = int(raw.strip())
    except ValueError:
        raise InputError(f"SOURCE_DATE_EPOCH must be an integer number of seconds, not {raw!r}") from None
    if value < 0:
        raise InputError("SOURCE_DATE_EPOCH must not be negative")
    if value > ZIP_EPOCH_MAX:
        raise InputError(f"SOURCE_DATE_EPOCH={value} is after 2107-12-31, the latest date a zip file can hold")
    return value


def _preview(rendering) -> dict[str, Any]:
    stats = rendering.stats
    out: dict[str, Any] = {"text": rendering.text}
    if rendering.subject is not None:
        out["subject"] = rendering.subject
    if stats is not None:
        out.update({"chars": stats.chars, "encoding": stats.encoding, "segments": stats.segments})
    return out


def _json_value(value: Any) -> Any:
    if isinstance(value, (str, int, float, bool)) or value is None:
        return value
    if isinstance(value, (list, tuple)):
        return [_json_value(v) for v in value]
    if isinstance(value, dict):
        return {str(k): _json_value(v) for k, v in value.items()}
    if isinstance(value, (_dt.datetime, _dt.date, _dt.time)):
        return value.isoformat()
    return str(value)


def manifest_digest(manifest: dict[str, Any]) -> str:
    """SHA-256 of the manifest's canonical JSON without its own ``digest`` field."""
    return canonical_digest({k: v for k, v in manifest.items() if k != "digest"})


def build(project, target: str = "generic", paths: list[Path] | None = None) -> ExportResult:
    """Decide what goes into the pack and produce every file's bytes (nothing is written)."""
    from tmplstudio.pack.approval import read_template, relative
    from tmplstudio.pack.foureyes import FourEyes
    from tmplstudio.pack.partials import dependencies
    from tmplstudio.pack.settings import settings

    tgt = targets.get(target)
    if tgt.pack is not None and tgt.pack not in {p.id for p in project.packs}:
        raise InputError(f"the {tgt.name} target checks templates with the provider pack '{tgt.pack}', which this "
                         "project does not load (it is bundled; bundled = false leaves it out)", project.config.path)
    epoch = source_date_epoch()  # a bad value stops the export before anything is evaluated
    root = Path(project.templates_dir)
    ledger = Ledger.load(root)
    policies = policy_set(project)
    conf = settings(project)
    eyes = FourEyes(conf, ledger.log_path)
    result = ExportResult()
    candidates = []
    seen: set[str] = set()
    for path in (paths if paths is not None else project.template_paths()):
        rel = relative(root, path)
        if rel in seen:
            continue  # named twice (a file and its folder)
        seen.add(rel)
        data, text = read_template(path)
        ev = project.evaluate(text, path)
        deps = dependencies(project, path, text)
        st = template_status(ledger, rel, path, data, ev, policies, eyes, deps.partials)
        if st.review is not None:
            result.signature_problems += [f"{rel}: {r.describe()}" for r in st.review.signature_problems]
        if st.state != APPROVED:
            reason = {"draft": "not approved (draft)", "stale": "approval is stale: " + st.describe(),
                      "pending": "not enough approvals: " + st.describe(),
                      "failing": "fails validation now: " + st.describe()}.get(st.state, st.state)
            result.excluded.append(Excluded(rel, reason))
            continue
        bad_id = id_problem(ev.template.meta.id)
        if bad_id:
            result.excluded.append(Excluded(rel, bad_id))
            continue
        if deps.dynamic:
            result.excluded.append(Excluded(rel, "loads a partial whose name is computed: " + "; ".join(deps.dynamic)))
            continue
        outside = [k for k in deps.partials if k.startswith("/") or k.startswith("..")]
        if outside:
            result.excluded.append(Excluded(rel, f"partial {outside[0]} is outside the templates folder"))
            continue
        try:
            converted, notes = prepare(project, tgt, text, path, ev, "; ".join(x.note for x in st.approval.signoffs if x.note) if st.approval else "")
        except Refused as exc:
            result.excluded.append(Excluded(rel, refusal_text(tgt, ev.template, exc)))
            continue
        result.notes.extend(Excluded(rel, note) for note in notes)
        candidates.append((rel, data, ev, st, converted, deps))

    by_id: dict[str, list[str]] = {}
    for rel, _, ev, _, _, _ in candidates:
        by_id.setdefault(ev.template.meta.id, []).append(rel)
    entries = []
    for rel, data, ev, st, converted, deps in candidates:
        same = [r for r in by_id[ev.template.meta.id] if r != rel]
        if same:
            result.excluded.append(Excluded(rel, f"template id '{ev.template.meta.id}' is also used by {', '.join(same)}"))
            continue
        meta = ev.template.meta
        files: dict[str, str] = {}
        name = f"templates/{rel}"
        result.files[name] = data
        files["source"] = name
        if deps.partials:
            for key, content in deps.data.items():
                result.files[f"templates/{key}"] = content
            files["partials"] = [f"templates/{key}" for key in deps.partials]
        if converted.filename is not None:
            payload = converted.file_bytes()
            result.files[converted.filename] = payload
            files["target"] = converted.filename
        variables = [
            {"name": v, "samples": {s: _json_value(vals.get(v)) for s, vals in meta.samples.items()}}
            for v in ev.variables
        ]
        entry: dict[str, Any] = {
            "id": meta.id,
            "path": rel,
            "sha256": sha256_bytes(data),
            "partials": dict(deps.partials),
            "title": meta.title,
            "locale": meta.locale,
            "channel": meta.channel,
            "category": meta.category,
            "providers": list(meta.providers),
            "variables": variables,
            "approval": st.approval.to_json() if st.approval is not None else None,
            "review": {"required": st.review.required, "authors": [
                {"name": a.name, "email": a.email, "source": a.source} for a in st.review.authors]},
            "previews": {name_: _preview(r) for name_, r in ev.renders.items()},
            "files": files,
        }
        if converted.filename is not None:
            entry["target"] = {"name": tgt.name, **converted.manifest}
        entries.append(entry)
        result.included.append(rel)
    result.excluded.sort(key=lambda e: e.path)

    for source, name in ((conf.allowed_signers, SIGNERS_IN_PACK), (conf.revoked_keys, REVOKED_IN_PACK)):
        if source is not None and source.is_file() and any(e["approval"]["signoffs"] for e in entries):
            result.files[name] = _small_file(source)
    manifest: dict[str, Any] = {
        "schema": MANIFEST_SCHEMA,
        "tool": "tmplstudio",
        "version": __version__,
        "target": tgt.name,
        "policy_digest": policies.digest,
        "policy_packs": dict(policies.packs),
        "policy_versions": dict(policies.versions),
        "config_digest": policies.config_digest,
        "approval": {"require_signature": conf.require_signature},
        "templates": sorted(entries, key=lambda e: e["path"]),
        "files": {name: sha256_bytes(content) for name, content in sorted(result.files.items())},
    }
    if epoch is not None:
        manifest["source_date_epoch"] = epoch
    manifest["digest"] = manifest_digest(manifest)
    result.manifest = manifest
    result.files[MANIFEST] = (json.dumps(manifest, ensure_ascii=False, indent=2) + "\n").encode("utf-8")
    return result


def _small_file(path: Path) -> bytes:
    from tmplstudio.template.source import read_template_file

    return read_template_file(path).encode("utf-8")  # regular file, bounded size, UTF-8: as for a template


def sign(result: ExportResult, identity, settings) -> None:
    """Add ``manifest.json.sig``: the exporter's SSH signature of the manifest's exact bytes."""
    from tmplstudio.pack.approval import principal
    from tmplstudio.pack.sshsig import PACK_NAMESPACE
    from tmplstudio.pack.sshsig import sign as ssh_sign

    result.signed_by = principal(identity, settings)
    signature = ssh_sign(result.files[MANIFEST], identity.key, PACK_NAMESPACE, identity.interactive)
    result.files[SIGNATURE] = signature.encode("ascii")


def zip_bytes(files: dict[str, bytes], epoch: int | None = None) -> bytes:
    """A reproducible zip of ``files``: sorted entries, fixed timestamps and permissions."""
    when = max(epoch if epoch is not None else ZIP_EPOCH_MIN, ZIP_EPOCH_MIN)
    date_time = _dt.datetime.fromtimestamp(when, _dt.timezone.utc).timetuple()[:6]
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=9) as zf:
        for name in sorted(files):
            info = zipfile.ZipInfo(safe_member(name), date_time=date_time)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.create_system = 3  # Unix, so the permission bits below are meaningful
            info.external_attr = (0o100000 | FILE_MODE) << 16
            zf.writestr(info, files[name], compress_type=zipfile.ZIP_DEFLATED, compresslevel=9)
    return buffer.getvalue()


def is_zip_target(out: Path) -> bool:
    return out.suffix.lower() == ".zip"


def write(result: ExportResult, out: Path) -> None:
    """Write the pack atomically: a zip via one atomic file write, a folder via a swap."""
    out = Path(out)
    for name in result.files:
        safe_member(name)  # before anything is written: no entry may point outside the pack
    if is_zip_target(out):
        if out.is_dir():
            raise InputError("is a folder; give a .zip file name or a folder without .zip", out)
        if not out.parent.exists():
            raise InputError("the folder for the pack does not exist", out.parent)
        try:
            atomic_write_bytes(out, zip_bytes(result.files, source_date_epoch()))
        except OSError as exc:
            raise InputError(f"cannot write the pack: {exc.strerror or exc}", out) from None
        return
    _write_folder(result.files, out)


def _write_folder(files: dict[str, bytes], out: Path) -> None:
    if out.exists() and not out.is_dir():
        raise InputError("exists and is not a folder", out)
    if out.is_dir() and any(out.iterdir()) and not (out / MANIFEST).is_file():
        raise InputError("folder is not empty and holds no previous export (manifest.json); choose another", out)
    parent = out.parent if str(out.parent) else Path(".")
    if not parent.exists():
        raise InputError("the parent folder does not exist", parent)
    try:
        staging = Path(tempfile.mkdtemp(prefix=f".{out.name}.", suffix=".tmp", dir=parent))
    except OSError as exc:
        raise InputError(f"cannot write the pack: {exc.strerror or exc}", out) from None
    old = None
    try:
        for name, content in sorted(files.items()):
            target = staging / safe_member(name)
            if not Path(os.path.abspath(target)).is_relative_to(Path(os.path.abspath(staging))):
                raise InputError(f"refusing to write {name!r} outside the pack folder", out)
            target.parent.mkdir(parents=True, exist_ok=True)
            atomic_write_bytes(target, content)
            os.chmod(target, FILE_MODE)
        os.chmod(staging, 0o755)
        if out.exists():
            old = parent / f".{out.name}.old-{os.getpid()}"
            os.replace(out, old)
        os.replace(staging, out)
    except OSError as exc:
        shutil.rmtree(staging, ignore_errors=True)
        if old is not None and old.exists() and not out.exists():
            os.replace(old, out)
        raise InputError(f"cannot write the pack: {exc.strerror or exc}", out) from None
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)
