"""SSH signatures through OpenSSH's own ``ssh-keygen -Y`` (the mechanism git uses for commits).

Why ssh-keygen and not a Python library: the signature envelope (SSHSIG), the ``allowed_signers``
file (principal patterns, ``valid-after``/``valid-before``, ``namespaces=``, ``cert-authority``)
and revocation lists are OpenSSH's formats, and ssh-keygen is their reference implementation —
the one git runs for ``gpg.format = ssh``. ``cryptography`` has the Ed25519/ECDSA/RSA primitives
but neither SSHSIG nor allowed_signers, so using it would mean writing those by hand. ssh-keygen
also signs through ssh-agent and hardware keys, which approvers already use for git.

Every call has a time limit and never waits on a terminal it should not own: callers that
cannot show a passphrase prompt (the studio) pass ``interactive=False``.
"""

from __future__ import annotations

import datetime as _dt
import os
import re
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

from tmplstudio.errors import InputError

APPROVAL_NAMESPACE = "tmplstudio-approval"
PACK_NAMESPACE = "tmplstudio-pack"   # a manifest signature cannot be replayed as an approval, nor the reverse
TIMEOUT = 60.0                       # a passphrase prompt may take a while; nothing else does
MISSING = ("ssh-keygen was not found on PATH; approvals are signed and checked with OpenSSH's ssh-keygen "
           "(Debian/Ubuntu: apt-get install openssh-client; macOS and Windows 10+ ship it)")


def keygen() -> str:
    found = os.environ.get("TMPLSTUDIO_SSH_KEYGEN") or shutil.which("ssh-keygen")
    if not found:
        raise InputError(MISSING)
    return found


def _run(args: list[str], data: bytes | None = None, interactive: bool = True) -> subprocess.CompletedProcess:
    try:
        return subprocess.run([keygen(), *args], input=data if data is not None else b"", capture_output=True,
                              timeout=TIMEOUT, start_new_session=not interactive)
    except FileNotFoundError:
        raise InputError(MISSING) from None
    except subprocess.TimeoutExpired:
        raise InputError(f"ssh-keygen did not answer within {TIMEOUT:.0f} s (waiting for a passphrase?)") from None
    except OSError as exc:
        raise InputError(f"cannot run ssh-keygen: {exc.strerror or exc}") from None


def _stderr(proc: subprocess.CompletedProcess) -> str:
    lines = [ln.strip() for ln in proc.stderr.decode("utf-8", "replace").splitlines() if ln.strip()]
    noise = ("Signing data on standard input", "Signing file", "Write signature to")
    return "; ".join(ln for ln in lines if not ln.startswith(noise))


def verify_time(when: _dt.datetime) -> str:
    return when.astimezone(_dt.timezone.utc).strftime("%Y%m%d%H%M%SZ")


def default_key(cwd: Path | None = None) -> Path:
    """git's ``user.signingKey`` when ``gpg.format = ssh``, else ``~/.ssh/id_ed25519``."""

    def git(key: str) -> str:
        try:
            out = subprocess.run(["git", "config", key], cwd=cwd, capture_output=True, text=True, timeout=5)
        except (OSError, subprocess.SubprocessError):
            return ""
        return out.stdout.strip() if out.returncode == 0 else ""

    if git("gpg.format") == "ssh":
        configured = git("user.signingKey")
        if configured:
            return Path(os.path.expanduser(configured.removeprefix("key::")))
    return Path.home() / ".ssh" / "id_ed25519"


def _key_file(key: str | Path, folder: Path) -> Path:
    """A path ssh-keygen can sign with: the key file, or a literal public key (``ssh-ed25519 AAAA…``,
    as git's ``user.signingKey`` may hold for a key in ssh-agent) written to a file."""
    text = str(key).strip()
    if re.match(r"^(ssh-|ecdsa-|sk-)\S+ \S+", text):
        path = folder / "key.pub"
        path.write_text(text + "\n", encoding="utf-8")
        return path
    path = Path(os.path.expanduser(text))
    if not path.exists():
        raise InputError("no such SSH key (give one with --key, or set git's user.signingKey)", path)
    return path


def sign(payload: bytes, key: str | Path, namespace: str, interactive: bool = True) -> str:
    """The armored SSH signature of ``payload`` made with ``key``."""
    with tempfile.TemporaryDirectory(prefix="tmplstudio-sign-") as tmp:
        path = _key_file(key, Path(tmp))
        proc = _run(["-Y", "sign", "-q", "-n", namespace, "-f", str(path)], payload, interactive)
    out = proc.stdout.decode("ascii", "replace")
    if proc.returncode != 0 or "BEGIN SSH SIGNATURE" not in out:
        raise InputError(f"ssh-keygen could not sign with this key: {_stderr(proc) or 'no reason given'}", str(key))
    return out.strip() + "\n"


@dataclass(frozen=True)
class Verdict:
    ok: bool
    principal: str = ""
    reason: str = ""        # why not, in words (names the allowed_signers line when ssh-keygen does)
    fingerprint: str = ""   # of the key that made the signature, when it is a well-formed signature


@dataclass(frozen=True)
class Trust:
    """Who may sign: an ``allowed_signers`` file (git's format) and an optional revocation list."""

    allowed_signers: Path
    revoked: Path | None = None

    def _files(self) -> None:
        if not self.allowed_signers.is_file():
            raise InputError("no allowed_signers file: it lists who may approve (git's format: one "
                             "'principal key-type key' a line; see docs/approval.md)", self.allowed_signers)

    def fingerprint(self, payload: bytes, signature: str, namespace: str) -> Verdict:
        """Check the signature against the payload alone (no trust): its key's fingerprint, or why not."""
        with tempfile.TemporaryDirectory(prefix="tmplstudio-verify-") as tmp:
            sig = Path(tmp) / "sig"
            sig.write_text(signature, encoding="ascii", errors="replace")
            proc = _run(["-Y", "check-novalidate", "-n", namespace, "-s", str(sig)], payload)
        text = proc.stdout.decode("utf-8", "replace") + proc.stderr.decode("utf-8", "replace")
        found = re.search(r"key (SHA256:\S+)", text)
        if proc.returncode != 0:
            detail = _stderr(proc)
            if "namespace" in detail:
                return Verdict(False, reason=f"signed for another purpose ({detail})")
            return Verdict(False, reason="the signature does not match the signed text (the entry was edited after signing)")
        return Verdict(True, fingerprint=found.group(1) if found else "")

    def principals(self, signature: str, when: _dt.datetime | None = None) -> tuple[list[str], str]:
        """Principals of allowed_signers whose key made ``signature`` (valid at ``when``), and ssh-keygen's reason when none."""
        self._files()
        with tempfile.TemporaryDirectory(prefix="tmplstudio-verify-") as tmp:
            sig = Path(tmp) / "sig"
            sig.write_text(signature, encoding="ascii", errors="replace")
            args = ["-Y", "find-principals", "-s", str(sig), "-f", str(self.allowed_signers)]
            if when is not None:
                args.append(f"-Overify-time={verify_time(when)}")
            proc = _run(args)
        if proc.returncode != 0:
            return [], _stderr(proc)
        return [ln.strip() for ln in proc.stdout.decode("utf-8", "replace").splitlines() if ln.strip()], ""

    def verify(self, payload: bytes, signature: str, principal: str, namespace: str,
               when: _dt.datetime | None = None) -> Verdict:
        """Is ``signature`` over ``payload`` by ``principal``'s key, valid at ``when`` and not revoked?"""
        self._files()
        with tempfile.TemporaryDirectory(prefix="tmplstudio-verify-") as tmp:
            sig = Path(tmp) / "sig"
            sig.write_text(signature, encoding="ascii", errors="replace")
            base = ["-Y", "verify", "-f", str(self.allowed_signers), "-I", principal, "-n", namespace, "-s", str(sig)]
            if when is not None:
                base.append(f"-Overify-time={verify_time(when)}")
            revoked = self.revoked if self.revoked is not None and self.revoked.is_file() else None
            proc = _run(base + (["-r", str(revoked)] if revoked else []), payload)
            if proc.returncode == 0:
                return Verdict(True, principal)
            plain = _run(base, payload) if revoked else proc
        check = self.fingerprint(payload, signature, namespace)
        if not check.ok:
            return check
        fp = check.fingerprint
        if revoked and plain.returncode == 0:
            return Verdict(False, principal, f"signed with a revoked key ({fp}, listed in {revoked.name})", fp)
        names, why = self.principals(signature, when)
        if why and ("expired" in why or "not yet valid" in why):
            return Verdict(False, principal, f"the signer's key was not valid then ({why})", fp)
        if not names:
            return Verdict(False, principal, f"signed by a key that is not in {self.allowed_signers.name} ({fp})", fp)
        if principal not in names:
            return Verdict(False, principal, f"the key ({fp}) belongs to {', '.join(names)} in "
                                             f"{self.allowed_signers.name}, not to {principal}", fp)
        return Verdict(False, principal, _stderr(plain) or "ssh-keygen did not accept the signature", fp)
