"""`validate --format json`: the stable contract in docs/json-output.md.

JSON escapes every control character itself, so fields are written as they are.
"""

from __future__ import annotations

import json
from typing import TextIO

from tmplstudio import __version__
from tmplstudio.cli.formats import Format, Options, register

JSON_SCHEMA_VERSION = 1


def to_json(report) -> dict:
    c = report.counts()
    prints = report.fingerprints()
    return {
        "schema": JSON_SCHEMA_VERSION,
        "tool": "tmplstudio",
        "version": __version__,
        "templates": [
            {
                "path": path,
                "id": ev.template.meta.id,
                "locale": ev.template.meta.locale,
                "channel": ev.template.meta.channel,
                "config": report.configs.get(path),
                "packs": [p.id for p in ev.packs],
                "findings": [{**f.to_json(), "fingerprint": fp} for f, fp in zip(ev.findings, prints[i])],
                **({"narrowings": [{**a.narrowing.to_json(), "silenced": a.silenced} for a in ev.narrowings]}
                   if getattr(ev, "narrowings", None) else {}),
            }
            for i, (path, ev) in enumerate(report.evaluations)
        ],
        "errors": [
            {"path": e.path, "line": e.line, "column": e.column, "message": e.message} for e in report.input_errors
        ],
        "summary": {"templates": len(report.evaluations), "error": c["error"], "warning": c["warning"], "info": c["info"],
                    "suppressed": c["suppressed"], "baseline": report.baselined},
    }


def write(report, out: TextIO, options: Options) -> None:
    json.dump(to_json(report), out, ensure_ascii=False, indent=2)
    out.write("\n")


register(Format("json", "the stable JSON contract (docs/json-output.md)", write))
