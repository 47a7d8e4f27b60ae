"""What the auditor reads: one self-contained page per pack (`tmplstudio report`).

The page is built from the pack alone — what was released — after verifying it (verify.py), so
it shows what the sending system received and whether it checks out: each template's text, its
rendered samples, the findings accepted with the approval, the suppressions with their reasons,
the signers and when they signed, the policy packs' versions and digests, and the manifest's
digest and signer.

Rendered with Jinja (``report_templates/``), never by string concatenation: HTML with
autoescaping and an inline stylesheet, a Content-Security-Policy that forbids every fetch (the
page is viewable offline and loads nothing), and Markdown with every cell escaped. Control
characters in any field (a sample name holding a newline and ``::error …::``) are shown as
``\\u000a`` escapes in both.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from tmplstudio.errors import InputError
from tmplstudio.pack.packfiles import PackFiles
from tmplstudio.pack.verify import VerifyResult, verify_files

FORMATS = ("html", "md")
TEMPLATES = Path(__file__).with_name("report_templates")
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f\u0080-\u009f\u200b-\u200f\u2028-\u202e\u2060-\u2064\ufeff]")
_CONTROL_ALL = re.compile(r"[\x00-\x1f\x7f\u0080-\u009f\u200b-\u200f\u2028-\u202e\u2060-\u2064\ufeff]")
_MD_SPECIAL = re.compile(r"([\\`*_\[\]<>|~]|^[#+\-])")


def visible(value: Any, keep_newlines: bool = False) -> str:
    """Text with control and invisible formatting characters written as \\uXXXX escapes."""
    pattern = _CONTROL if keep_newlines else _CONTROL_ALL
    return pattern.sub(lambda m: f"\\u{ord(m.group()):04x}", "" if value is None else str(value))


def md_cell(value: Any) -> str:
    """Escaped for one line of Markdown (a table cell or a list item)."""
    return _MD_SPECIAL.sub(r"\\\1", visible(value))


def md_fence(text: Any) -> str:
    """A fenced code block that the text cannot close early."""
    body = visible(text, keep_newlines=True)
    longest = max((len(m) for m in re.findall(r"`+", body)), default=0)
    fence = "`" * max(3, longest + 1)
    return f"{fence}text\n{body.rstrip(chr(10))}\n{fence}"


def context(files: PackFiles, result: VerifyResult, pack_sha256: str | None) -> dict[str, Any]:
    manifest = result.manifest
    checked = {a.path: a for a in result.approvals}
    templates = []
    for entry in manifest.get("templates") or []:
        if not isinstance(entry, dict):
            continue
        source_name = (entry.get("files") or {}).get("source")
        source = ""
        if isinstance(source_name, str) and source_name in files.sizes:
            source = files.read(source_name).decode("utf-8", "replace")
        approval = entry.get("approval") if isinstance(entry.get("approval"), dict) else {}
        review = checked.get(str(entry.get("path")))
        templates.append({
            "entry": entry, "source": source, "approval": approval,
            "previews": entry.get("previews") if isinstance(entry.get("previews"), dict) else {},
            "signoffs": review.signoffs if review is not None else [],
            "required": review.required if review is not None else 1,
            "counted": len(review.counted) if review is not None else 0,
            "authors": (entry.get("review") or {}).get("authors", []) if isinstance(entry.get("review"), dict) else [],
        })
    versions = manifest.get("policy_versions") if isinstance(manifest.get("policy_versions"), dict) else {}
    packs = [{"id": pid, "version": versions.get(pid, ""), "digest": digest}
             for pid, digest in sorted((manifest.get("policy_packs") or {}).items())]
    return {"pack": files.pack.name, "pack_sha256": pack_sha256, "manifest": manifest, "result": result,
            "templates": templates, "packs": packs}


def render(pack: Path, fmt: str, allowed_signers: Path | None = None) -> tuple[str, VerifyResult]:
    """The page, and the verification it reports."""
    from jinja2 import Environment, FileSystemLoader, StrictUndefined

    from tmplstudio.pack.digest import sha256_file

    if fmt not in FORMATS:
        raise InputError(f"unknown report format '{fmt}' (choose from {', '.join(FORMATS)})")
    with PackFiles(pack) as files:
        result = verify_files(files, allowed_signers)
        if not result.manifest:
            raise InputError("no readable manifest.json, so there is nothing to report: "
                             + "; ".join(str(p) for p in result.problems), pack)
        data = context(files, result, sha256_file(pack) if Path(pack).is_file() else None)
    env = Environment(loader=FileSystemLoader(str(TEMPLATES)), autoescape=(fmt == "html"),
                      undefined=StrictUndefined, trim_blocks=True, lstrip_blocks=True, keep_trailing_newline=True)
    env.filters.update(visible=visible, md=md_cell, fence=md_fence)
    return env.get_template(f"report.{fmt}.j2").render(**data), result
