"""Names that become paths: template ids and the paths of files inside a pack.

A template id names files in a pack (``aliyun/<id>.json``) and in the sending system, so it is
held to a small, documented character set (docs/approval.md, "Template ids"): ASCII letters,
digits, ``_``, ``.`` and ``-``, starting with a letter, digit or ``_``, at most 128 characters.
``../../ESCAPED``, ``a/b``, ``.hidden`` and ``C:x`` are refused.

A pack path is relative, uses ``/``, and has no empty, ``.`` or ``..`` part, no backslash, no
drive letter and no control character — the same rule when a pack is written (export) and read
(verify), so no entry can land outside the pack's folder.
"""

from __future__ import annotations

import re

from tmplstudio.errors import InputError

ID_RULE = "letters A-Z a-z, digits, '_', '.' and '-', starting with a letter, digit or '_', at most 128 characters"
_ID = re.compile(r"[A-Za-z0-9_][A-Za-z0-9._-]{0,127}")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
MAX_MEMBER = 1024


def id_problem(template_id: str) -> str | None:
    if _ID.fullmatch(template_id):
        return None
    return f"template id {template_id!r} cannot name a file: ids use {ID_RULE} (docs/approval.md)"


def member_problem(name: str) -> str | None:
    """Why ``name`` is not a safe path inside a pack, or None."""
    if not name or len(name) > MAX_MEMBER:
        return "an empty or over-long path"
    if _CONTROL.search(name):
        return "a path with a control character"
    if "\\" in name:
        return "a path with a backslash"
    if name.startswith("/") or re.match(r"^[A-Za-z]:", name):
        return "an absolute path"
    if any(part in ("", ".", "..") for part in name.split("/")):
        return "a path with an empty, '.' or '..' part (it could point outside the pack)"
    return None


def safe_member(name: str) -> str:
    problem = member_problem(name)
    if problem:
        raise InputError(f"refusing to write {name!r} into the pack: {problem}")
    return name
