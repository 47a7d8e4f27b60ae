"""Verifying an exported pack: every file, the manifest, its signature and each template's approvals.

Checks, each reported with the file it concerns:

* the pack is readable within bounds (packfiles.py: entry count, sizes, ratios, safe paths,
  regular files only) — else an InputError, exit 2;
* ``manifest.json`` is present, is JSON without duplicate keys, has a known schema, and its
  ``digest`` (SHA-256 of its canonical JSON without that field) matches;
* every file listed in the manifest is present with the recorded SHA-256 (``removed``,
  ``modified``), and no other file is present (``added``) but ``manifest.json.sig``;
* ``manifest.json.sig``, when present (required when the manifest says the project signs), is an
  SSH signature (namespace ``tmplstudio-pack``) of the manifest by a key in ``allowed_signers``;
* per template: its source file's hash equals the template's ``sha256`` and its approval's, the
  approval was given under the manifest's policy digest, and enough of its sign-offs count — each
  a log entry whose signature checks out for its principal at its time, for this path and these
  bytes, by someone who is not the template's author (``review`` in the manifest).

Signatures are checked against ``--allowed-signers FILE`` — the verifier's own, trusted copy —
or, without it, the copy inside the pack (``signers/allowed_signers``), which proves that the
pack is consistent, not who may be trusted: whoever rewrites a pack can replace that copy too.
"""

from __future__ import annotations

import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from tmplstudio.errors import InputError
from tmplstudio.pack.export import MANIFEST, MANIFEST_SCHEMA, REVOKED_IN_PACK, SIGNATURE, SIGNERS_IN_PACK, manifest_digest
from tmplstudio.pack.log import parse_time, strict_json
from tmplstudio.pack.names import member_problem
from tmplstudio.pack.packfiles import PackFiles


@dataclass
class Problem:
    file: str
    message: str

    def __str__(self) -> str:
        return f"{self.file}: {self.message}"


@dataclass
class SignoffCheck:
    by: str
    at: str
    counts: bool
    why: str = ""
    signed: bool = False


@dataclass
class TemplateApproval:
    path: str
    id: str
    required: int
    signoffs: list[SignoffCheck] = field(default_factory=list)

    @property
    def counted(self) -> list[SignoffCheck]:
        return [s for s in self.signoffs if s.counts]


@dataclass
class VerifyResult:
    problems: list[Problem] = field(default_factory=list)
    templates: int = 0
    files: int = 0
    approvals: list[TemplateApproval] = field(default_factory=list)
    signed_by: str | None = None
    trust: str = ""          # where allowed_signers came from
    manifest: dict = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return not self.problems


class _PackTrust:
    """allowed_signers (and revoked keys) for checking a pack's signatures, made on first use."""

    def __init__(self, files: PackFiles, allowed_signers: Path | None, tmp: Path):
        self.files, self.given, self.tmp = files, allowed_signers, tmp
        self._trust = None

    def get(self):
        from tmplstudio.pack.sshsig import Trust

        if self._trust is None:
            revoked = None
            if REVOKED_IN_PACK in self.files.sizes:
                revoked = self.tmp / "revoked_keys"
                revoked.write_bytes(self.files.read(REVOKED_IN_PACK))
            if self.given is not None:
                if not self.given.is_file():
                    raise InputError("no such allowed_signers file", self.given)
                self._trust = Trust(self.given, revoked)
            elif SIGNERS_IN_PACK in self.files.sizes:
                path = self.tmp / "allowed_signers"
                path.write_bytes(self.files.read(SIGNERS_IN_PACK))
                self._trust = Trust(path, revoked)
            else:
                raise InputError("the pack is signed but holds no signers/allowed_signers; pass --allowed-signers FILE",
                                 self.files.pack)
        return self._trust

    @property
    def source(self) -> str:
        return str(self.given) if self.given is not None else f"the pack's own {SIGNERS_IN_PACK}"


def _manifest(files: PackFiles, problems: list[Problem]) -> dict | None:
    if MANIFEST not in files.sizes:
        problems.append(Problem(MANIFEST, "missing: this is not a tmplstudio pack, or the manifest was removed"))
        return None
    raw = files.read(MANIFEST)
    try:
        manifest = strict_json(raw.decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError) as exc:
        problems.append(Problem(MANIFEST, f"not valid JSON ({exc}); the manifest was edited or damaged"))
        return None
    if not isinstance(manifest, dict):
        problems.append(Problem(MANIFEST, "not a JSON object; the manifest was edited or damaged"))
        return None
    if manifest.get("schema") != MANIFEST_SCHEMA:
        problems.append(Problem(MANIFEST, f"schema {manifest.get('schema')!r} is not {MANIFEST_SCHEMA}"))
        return None
    return manifest


def _check_signoffs(entry: dict, approval: dict, require_signature: bool, trust: _PackTrust) -> TemplateApproval:
    from tmplstudio.pack.authors import Author, author_of
    from tmplstudio.pack.foureyes import check_signature

    review = entry.get("review") if isinstance(entry.get("review"), dict) else {}
    required = review.get("required", 1) if isinstance(review.get("required", 1), int) else 1
    authors = [Author(str(a.get("name", "")), str(a.get("email", "")), str(a.get("source", "")))
               for a in review.get("authors", []) if isinstance(a, dict)]
    out = TemplateApproval(str(entry.get("path")), str(entry.get("id")), required)
    seen: set[str] = set()
    signoffs = approval.get("signoffs")
    if signoffs is None and "approved_by" in approval:  # a pack made before sign-offs: one unsigned approval
        legacy = {"seq": 0, "kind": "approve", "path": entry.get("path"), "data": {"sha256": approval.get("sha256")},
                  "by": approval.get("approved_by"), "signature": None}
        signoffs = [{"by": approval.get("approved_by"), "at": approval.get("approved_at"), "entry": legacy}]
    for s in signoffs or []:
        if not isinstance(s, dict):
            continue
        by, at, log_entry = str(s.get("by", "")), str(s.get("at", "")), s.get("entry")
        check = SignoffCheck(by, at, False)
        if not isinstance(log_entry, dict):
            check.why = "no log entry in the manifest"
        elif log_entry.get("signature"):
            check.signed = True
            data = log_entry.get("data") if isinstance(log_entry.get("data"), dict) else {}
            if log_entry.get("kind") != "approve" or log_entry.get("path") != entry.get("path") \
                    or data.get("sha256") != entry.get("sha256") or log_entry.get("by") != by \
                    or data.get("policy_digest") != approval.get("policy_digest"):
                check.why = "its log entry approved something else (another file, version or signer)"
            elif parse_time(log_entry.get("time")) is None:
                check.why = "its log entry has no valid time"
            else:
                verdict = check_signature(trust.get(), log_entry, by)
                check.why = "" if verdict.ok else verdict.reason
        elif require_signature:
            check.why = "unsigned, and the project requires signed approvals"
        if not check.why and author_of(by, authors):
            check.why = "is the template's author"
        if not check.why and by.lower() in seen:
            check.why = "signed twice; counted once"
        check.counts = not check.why
        if check.counts:
            seen.add(by.lower())
        out.signoffs.append(check)
    return out


def verify_files(files: PackFiles, allowed_signers: Path | None = None) -> VerifyResult:
    result = VerifyResult(files=len(files.sizes))
    problems = result.problems
    manifest = _manifest(files, problems)
    if manifest is None:
        return result
    result.manifest = manifest
    if manifest.get("digest") != manifest_digest(manifest):
        problems.append(Problem(MANIFEST, "edited: its digest does not match its content"))

    listed = manifest.get("files")
    if not isinstance(listed, dict):
        problems.append(Problem(MANIFEST, "has no 'files' table"))
        return result
    for name in listed:
        why = member_problem(str(name))
        if why:
            problems.append(Problem(str(name), f"listed in the manifest, but {why}"))
    present = {name for name in files.sizes if name not in (MANIFEST, SIGNATURE)}
    for name in sorted(set(listed) - present):
        problems.append(Problem(name, "removed: listed in the manifest but not in the pack"))
    for name in sorted(present - set(listed)):
        problems.append(Problem(name, "added: in the pack but not in the manifest"))
    for name in sorted(present & set(listed)):
        if files.sha256(name) != listed[name]:
            problems.append(Problem(name, "modified: its SHA-256 differs from the manifest"))

    settings = manifest.get("approval") if isinstance(manifest.get("approval"), dict) else {}
    require_signature = settings.get("require_signature") is True
    with tempfile.TemporaryDirectory(prefix="tmplstudio-verify-") as tmp:
        trust = _PackTrust(files, allowed_signers, Path(tmp))
        result.trust = trust.source
        _manifest_signature(files, trust, require_signature, result)
        _templates(manifest, files, listed, require_signature, trust, result)
    return result


def _manifest_signature(files: PackFiles, trust: _PackTrust, require_signature: bool, result: VerifyResult) -> None:
    from tmplstudio.pack.sshsig import PACK_NAMESPACE

    if SIGNATURE not in files.sizes:
        if require_signature:
            result.problems.append(Problem(SIGNATURE, "missing: the manifest says its project signs its packs"))
        return
    signature = files.read(SIGNATURE).decode("ascii", "replace")
    raw = files.read(MANIFEST)
    names, why = trust.get().principals(signature)
    if not names:
        check = trust.get().fingerprint(raw, signature, PACK_NAMESPACE)
        reason = check.reason if not check.ok else f"signed by a key that is not in {trust.source} ({check.fingerprint})"
        result.problems.append(Problem(SIGNATURE, f"does not check out: {reason}" + (f" ({why})" if why and check.ok else "")))
        return
    verdict = trust.get().verify(raw, signature, names[0], PACK_NAMESPACE)
    if verdict.ok:
        result.signed_by = names[0]
    else:
        result.problems.append(Problem(SIGNATURE, f"does not check out: {verdict.reason}"))


def _templates(manifest: dict, files: PackFiles, listed: dict, require_signature: bool, trust: _PackTrust,
               result: VerifyResult) -> None:
    problems = result.problems
    policy_digest = manifest.get("policy_digest")
    templates = manifest.get("templates")
    if not isinstance(templates, list):
        problems.append(Problem(MANIFEST, "has no 'templates' list"))
        return
    result.templates = len(templates)
    for entry in templates:
        if not isinstance(entry, dict):
            problems.append(Problem(MANIFEST, "a template entry is not an object"))
            continue
        where = f"templates/{entry.get('path')}"
        entry_files = entry.get("files") if isinstance(entry.get("files"), dict) else {}
        for role, names in entry_files.items():
            for name in (names if isinstance(names, list) else [names]):
                if name not in listed:
                    problems.append(Problem(str(name), f"{role} file of template '{entry.get('id')}' is not listed in the manifest's files"))
        partials = entry.get("partials") if isinstance(entry.get("partials"), dict) else {}
        for key, digest in partials.items():
            name = f"templates/{key}"
            if name in files.sizes and files.sha256(name) != digest:
                problems.append(Problem(name, f"does not match the partial of template '{entry.get('id')}' in the manifest"))
        source = entry_files.get("source")
        if isinstance(source, str) and source in files.sizes and files.sha256(source) != entry.get("sha256"):
            problems.append(Problem(source, f"does not match template '{entry.get('id')}' sha256 in the manifest"))
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
        checked = _check_signoffs(entry, approval, require_signature, trust)
        result.approvals.append(checked)
        for s in checked.signoffs:
            if not s.counts and s.signed:
                problems.append(Problem(where, f"sign-off by {s.by} at {s.at} does not check out: {s.why}"))
        if len(checked.counted) < checked.required:
            problems.append(Problem(where, f"{len(checked.counted)} of {checked.required} required approvals check out"))


def verify(pack: Path, allowed_signers: Path | None = None) -> VerifyResult:
    with PackFiles(pack) as files:
        return verify_files(files, allowed_signers)

