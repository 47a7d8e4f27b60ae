"""Who signs, from a command's --key / --by (approve, revoke, export)."""

from __future__ import annotations

from pathlib import Path

from tmplstudio.errors import InputError


def add_arguments(p, what: str) -> None:
    p.add_argument("--key", metavar="KEY", help="SSH key to sign with (default: git's user.signingKey when gpg.format = ssh, "
                                                f"else ~/.ssh/id_ed25519); {what} signed when approval.require_signature = true")
    p.add_argument("--by", metavar="NAME", help="unsigned only: who you are (default: git config user.name, else the login name)")


def identity(args, proj):
    """The signer: a key when the project requires signatures or --key is given, else a name."""
    from tmplstudio.pack.approval import Identity, default_approver
    from tmplstudio.pack.settings import settings
    from tmplstudio.pack.sshsig import default_key

    conf = settings(proj)
    key = getattr(args, "key", None)
    by = getattr(args, "by", None)
    if key is not None or conf.require_signature:
        if by is not None:
            raise InputError("--by is for unsigned approvals; a signed approval's name is the key's principal in allowed_signers")
        return Identity(key=key if key is not None else default_key(Path.cwd()))
    name = by if by is not None else default_approver(Path.cwd())
    if not name.strip():
        if by is not None:
            raise InputError("--by needs the approver's name")
        raise InputError("no approver name: pass --by NAME (git config user.name and the login name are empty)")
    return Identity(name=name)
