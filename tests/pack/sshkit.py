"""Real SSH keys for the signing tests: made with ``ssh-keygen -t ed25519`` in the test's folder,
and a project that requires signed approvals with those keys in its allowed_signers."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest
from packkit import make_project

SIGNED_CONFIG = """
[approval]
require_signature = true
required = {required}
"""


def keygen() -> str:
    found = shutil.which("ssh-keygen")
    assert found, "ssh-keygen is needed for the signing tests: .ci/run installs openssh-client when it is missing"
    return found


def make_key(folder: Path, name: str) -> Path:
    """A fresh ed25519 key without passphrase; returns the private key's path (``.pub`` beside it)."""
    folder.mkdir(parents=True, exist_ok=True)
    key = folder / name
    subprocess.run([keygen(), "-q", "-t", "ed25519", "-N", "", "-C", name, "-f", str(key)], check=True,
                   capture_output=True, timeout=30)
    return key


def signer_line(principal: str, key: Path, options: str = "") -> str:
    kind, blob = key.with_suffix(".pub").read_text(encoding="utf-8").split()[:2]
    return " ".join(x for x in (principal, options, kind, blob) if x) + "\n"


def signed_project(root: Path, people: dict[str, str], required: int = 2, extra_config: str = "") -> dict[str, Path]:
    """A packkit project requiring ``required`` signed approvals; ``people``: short name -> principal.
    Returns each person's key (kept outside the project, as a user's ~/.ssh would be)."""
    make_project(root)
    with (root / "tmplstudio.toml").open("a", encoding="utf-8") as cfg:
        cfg.write(SIGNED_CONFIG.format(required=required) + extra_config)
    keys = {name: make_key(root.parent / f"{root.name}-keys", name) for name in people}
    (root / "templates" / "allowed_signers").write_text(
        "".join(signer_line(principal, keys[name]) for name, principal in people.items()), encoding="utf-8")
    return keys


PEOPLE = {"author": "ann.author@bank.example", "li": "li.wei@bank.example", "wang": "wang.fang@bank.example"}


@pytest.fixture
def signed(tmp_path, monkeypatch) -> tuple[Path, dict[str, Path]]:
    """(project, keys): a project in tmp_path/proj requiring two signed approvals among PEOPLE."""
    root = tmp_path / "proj"
    root.mkdir()
    monkeypatch.chdir(root)
    monkeypatch.delenv("SOURCE_DATE_EPOCH", raising=False)
    return root, signed_project(root, PEOPLE)
