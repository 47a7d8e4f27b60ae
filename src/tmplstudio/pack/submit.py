"""Submitting an exported pack's request bodies to the provider, and polling its review.

``plan`` reads and verifies the pack (a tampered pack is never submitted) and lists the
request bodies exactly as exported. ``submit`` sends each through the target's client (the
official SDK), at most one call per ``Target.min_interval`` seconds (Alibaba Cloud asks for
30 s between template requests, Tencent Cloud allows 2 per second), and records each code as it
comes back, so an interrupted run keeps what it got. ``poll`` asks the provider for the review
of every recorded submission. ``wait`` and ``clock`` are parameters so tests need not sleep.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from tmplstudio.errors import InputError
from tmplstudio.pack import submitted
from tmplstudio.pack.targets.base import FAILED, REJECTED, SubmitError, Target


@dataclass
class Planned:
    path: str          # the template, relative to the templates root
    id: str
    sha256: str
    file: str          # the request body's path inside the pack
    body: dict


def plan(pack: Path, target: Target) -> list[Planned]:
    from tmplstudio.pack.export import MANIFEST
    from tmplstudio.pack.packfiles import PackFiles
    from tmplstudio.pack.verify import verify_files

    if target.connect is None:
        raise InputError(f"the {target.name} target has nothing to submit (it exports the Jinja source)")
    with PackFiles(pack) as files:
        checked = verify_files(files)
        if not checked.ok:
            raise InputError("the pack does not verify (run `tmplstudio verify` for details): "
                             + "; ".join(str(p) for p in checked.problems[:3]), pack)
        manifest = json.loads(files.read(MANIFEST))
        if manifest.get("target") != target.name:
            raise InputError(f"the pack was exported for target '{manifest.get('target')}', not '{target.name}'", pack)
        out = []
        for entry in manifest.get("templates", []):
            name = (entry.get("files") or {}).get("target")
            if name:
                out.append(Planned(entry["path"], entry["id"], entry["sha256"], name, json.loads(files.read(name))))
    return out


class Pacer:
    """At least ``interval`` seconds between the starts of two calls."""

    def __init__(self, interval: float, wait: Callable[[float], None] = time.sleep,
                 clock: Callable[[], float] = time.monotonic):
        self.interval, self.wait, self.clock = interval, wait, clock
        self.last: float | None = None

    def __call__(self) -> None:
        if self.last is not None:
            left = self.interval - (self.clock() - self.last)
            if left > 0:
                self.wait(left)
        self.last = self.clock()


@dataclass
class Outcome:
    planned: Planned
    record: submitted.Submission | None   # None when skipped
    message: str


def submit(root: Path, items: list[Planned], target: Target, client, pacer: Pacer | None = None,
           report: Callable[[Outcome], None] = lambda o: None) -> list[Outcome]:
    """Create each template at the provider; a template already submitted in this version, and
    not rejected, is skipped."""
    pacer = pacer or Pacer(target.min_interval)
    known = submitted.Submissions.load(root)
    outcomes = []
    for item in items:
        before = known.get(item.path, target.name)
        if before is not None and before.sha256 == item.sha256 and before.status not in (REJECTED, FAILED):
            outcome = Outcome(item, None, f"already submitted as {before.code} ({before.status})")
        else:
            pacer()
            try:
                review = client.create(item.body)
                record = submitted.Submission(item.path, target.name, item.id, review.code, item.sha256,
                                              submitted.now(), review.status, review.reason, None, review.query)
                message = f"{target.name} {review.code} ({review.status})"
            except SubmitError as exc:
                record = submitted.Submission(item.path, target.name, item.id, before.code if before else "",
                                              item.sha256, submitted.now(), FAILED, str(exc))
                message = f"failed: {exc}"
            submitted.record(root, [record])
            outcome = Outcome(item, record, message)
        report(outcome)
        outcomes.append(outcome)
    return outcomes


def poll(root: Path, target: Target, client, paths: list[str] | None = None,
         report: Callable[[submitted.Submission, str | None], None] = lambda s, e: None) -> list[submitted.Submission]:
    """Ask the provider for the review of each recorded submission to ``target``."""
    known = submitted.Submissions.load(root)
    updated = []
    for (rel, name), sub in sorted(known.records.items()):
        if name != target.name or not sub.code or (paths is not None and rel not in paths):
            continue
        try:
            review = client.review(sub.code, sub.query)
        except SubmitError as exc:
            report(sub, str(exc))
            continue
        sub.status, sub.reason, sub.checked_at = review.status, review.reason, submitted.now()
        updated.append(sub)
        report(sub, None)
    if updated:
        submitted.record(root, updated)
    return updated
