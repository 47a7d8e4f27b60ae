"""Digests: SHA-256 of files, and a canonical digest of the effective policy set.

The policy-set digest answers "were these the policies the template was checked against?".
It is computed from the *parsed* TOML of every loaded pack, not from the files' bytes:

* each pack file is read with ``tomllib`` and the resulting data is serialised as canonical
  JSON (keys sorted, no whitespace, UTF-8, dates and times in ISO 8601), then hashed;
* so reformatting a pack (re-indenting, reflowing a phrase list over more lines, comments,
  quoting style, ``[rules.examples]`` written as an inline table, ``1_000`` for ``1000``) does
  not change its digest, while any change to what the pack *says* (a phrase, a severity, a
  pattern, a condition, an example, the version) does;
* packs are keyed by their pack id, never by their path, so the digest is the same whether
  the bundled packs come from an installed wheel or a source checkout;
* the project config's rule overrides (``[rules]``) and default ``locale`` are part of the
  set: both change which findings a template gets.

The set digest is the SHA-256 of the canonical JSON of ``{"schema", "packs": {id: digest},
"config": {...}}``; per-pack digests are kept alongside so a stale approval can say which
pack changed.
"""

from __future__ import annotations

import datetime as _dt
import hashlib
import json
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tmplstudio import safe_toml
from tmplstudio.errors import InputError

DIGEST_SCHEMA = 1


def sha256_bytes(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def sha256_file(path: str | Path) -> str:
    h = hashlib.sha256()
    try:
        with open(path, "rb") as handle:
            for chunk in iter(lambda: handle.read(1 << 16), b""):
                h.update(chunk)
    except FileNotFoundError:
        raise InputError("no such file", path) from None
    except OSError as exc:
        raise InputError(f"cannot read: {exc.strerror or exc}", path) from None
    return h.hexdigest()


def _plain(value: Any) -> Any:
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, (_dt.datetime, _dt.date, _dt.time)):
        return value.isoformat()
    return value


def canonical_json(value: Any) -> bytes:
    """Canonical JSON bytes: sorted keys, no insignificant whitespace, UTF-8."""
    return json.dumps(_plain(value), sort_keys=True, ensure_ascii=False, separators=(",", ":"),
                      allow_nan=False).encode("utf-8")


def canonical_digest(value: Any) -> str:
    return sha256_bytes(canonical_json(value))


def pack_data_digest(path: str | Path) -> str:
    """Digest of a pack file's parsed TOML (insensitive to formatting, sensitive to content)."""
    path = Path(path)
    try:
        text = path.read_bytes().decode("utf-8-sig")
        data = safe_toml.loads(text)
    except FileNotFoundError:
        raise InputError("policy pack disappeared since it was loaded", path) from None
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise InputError(f"cannot read policy pack for its digest: {exc}", path) from None
    return canonical_digest(data)


@dataclass(frozen=True)
class PolicySet:
    digest: str
    packs: dict[str, str] = field(default_factory=dict)   # pack id -> digest
    config: dict[str, Any] = field(default_factory=dict)  # rule overrides and default locale
    versions: dict[str, str] = field(default_factory=dict)  # pack id -> its declared version (not in the digest)

    def differences(self, packs: dict[str, str] | None, config_digest: str | None) -> list[str]:
        """What changed between an approval's recorded policy set and this one (readable phrases)."""
        out: list[str] = []
        if packs is not None:
            for pid in sorted(set(packs) | set(self.packs)):
                if pid not in self.packs:
                    out.append(f"pack {pid} removed")
                elif pid not in packs:
                    out.append(f"pack {pid} added")
                elif packs[pid] != self.packs[pid]:
                    out.append(f"pack {pid} changed")
        if config_digest is not None and config_digest != self.config_digest:
            out.append("config overrides changed")
        return out

    @property
    def config_digest(self) -> str:
        return canonical_digest(self.config)


def policy_set(project) -> PolicySet:
    """The effective policy set of a loaded Project: its packs (bundled and project) and overrides."""
    packs = {p.id: pack_data_digest(p.path) for p in project.packs}
    config = {"rules": dict(sorted(project.config.rules.items())), "locale": project.config.locale}
    gate = project.gate.to_json() if getattr(project, "gate", None) is not None else {}
    if gate or project.config.rule_reasons:  # only then: the digests of projects without either stay as they were
        config["gate"] = gate
        config["reasons"] = dict(sorted(project.config.rule_reasons.items()))
    digest = canonical_digest({"schema": DIGEST_SCHEMA, "packs": packs, "config": config})
    versions = {p.id: str(getattr(p, "version", "") or "") for p in project.packs}
    return PolicySet(digest, dict(sorted(packs.items())), config, dict(sorted(versions.items())))
