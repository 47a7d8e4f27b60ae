"""Who wrote a template version, so that they cannot also approve it (maker-checker).

The author of a template's current bytes is, when known, each of:

* the author of the last git commit that touched the file (name and e-mail);
* whoever saved exactly these bytes in the studio (an ``author`` entry in the approvals log,
  written by :func:`record_save`).

A signer is the author when their principal (or, unsigned, their name) equals the author's
e-mail or name, ignoring case. This keeps honest people from approving their own wording; it is
no proof against someone who commits under another name — the signatures are the proof of who
approved.
"""

from __future__ import annotations

import getpass
import subprocess
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Author:
    name: str
    email: str = ""
    source: str = "git"   # "git" (last commit author) or "studio" (saved these bytes in the studio)

    def matches(self, who: str) -> bool:
        who = who.strip().lower()
        return bool(who) and who in {self.name.strip().lower(), self.email.strip().lower()} - {""}

    def describe(self) -> str:
        where = "last git commit author" if self.source == "git" else "saved this version in the studio"
        who = f"{self.name} <{self.email}>" if self.email and self.name and self.email != self.name else (self.email or self.name)
        return f"{who} ({where})"


_GIT_AUTHORS: dict[tuple, "Author | None"] = {}
GIT_MEMO_SECONDS = 30  # the studio asks every few seconds; a commit shows within this long


def git_author(path: Path) -> Author | None:
    import time

    try:
        st = path.stat()
    except OSError:
        return None
    key = (str(path.resolve()), st.st_mtime_ns, st.st_size, int(time.monotonic() // GIT_MEMO_SECONDS))
    if key not in _GIT_AUTHORS:
        if len(_GIT_AUTHORS) > 4096:
            _GIT_AUTHORS.clear()
        _GIT_AUTHORS[key] = _git_author(path)
    return _GIT_AUTHORS[key]


def _git_author(path: Path) -> Author | None:
    try:
        out = subprocess.run(["git", "log", "-1", "--format=%an%x00%ae", "--", path.name], cwd=path.parent,
                             capture_output=True, text=True, timeout=10)
    except (OSError, subprocess.SubprocessError):
        return None
    if out.returncode != 0 or "\x00" not in out.stdout:
        return None  # not in a repository, or never committed
    name, email = out.stdout.strip().split("\x00", 1)
    return Author(name, email, "git")


def authors(ledger, rel: str, path: Path, sha256: str) -> list[Author]:
    found = []
    git = git_author(path)
    if git is not None:
        found.append(git)
    saved = ledger.authors.get((rel, sha256))
    if saved:
        found.append(Author(saved, saved if "@" in saved else "", "studio"))
    return found


def author_of(who: str, found: list[Author]) -> Author | None:
    return next((a for a in found if a.matches(who)), None)


def current_user(cwd: Path | None = None) -> str:
    """Who is working here: ``git config user.email``, else ``user.name``, else the login name."""
    for key in ("user.email", "user.name"):
        try:
            out = subprocess.run(["git", "config", key], cwd=cwd, capture_output=True, text=True, timeout=5)
        except (OSError, subprocess.SubprocessError):
            continue
        if out.returncode == 0 and out.stdout.strip():
            return out.stdout.strip()
    try:
        return getpass.getuser()
    except Exception:  # noqa: BLE001 - no login name in some containers
        return ""


def record_save(project, path: Path, who: str) -> None:
    """Note in the approvals log that ``who`` saved ``path``'s current bytes (the studio calls this
    after each save). Nothing is written when the same person is already recorded for them."""
    from tmplstudio.pack.approval import relative
    from tmplstudio.pack.digest import sha256_bytes
    from tmplstudio.pack.ledger import append

    who = who.strip()
    root = Path(project.templates_dir)
    if not who or not (root / "approvals.log.jsonl").exists() and not (root / "approvals.toml").exists():
        return  # a project that approves nothing needs no authorship trail
    rel = relative(root, path)
    digest = sha256_bytes(path.read_bytes())

    def drafts(ledger):
        if ledger.authors.get((rel, digest)) == who:
            return []
        return [{"kind": "author", "path": rel, "by": who, "data": {"sha256": digest}}]

    append(root, drafts)
