"""`tmplstudio render FILE [--sample NAME]`: each sample's text with length, encoding and SMS parts."""

from __future__ import annotations

import sys
from pathlib import Path

from tmplstudio.cli.common import EXIT_FINDINGS, EXIT_OK, display, project
from tmplstudio.errors import InputError

ORDER = 20


def register(sub) -> None:
    ren = sub.add_parser("render", help="show each sample's rendering with length, encoding and SMS parts")
    ren.add_argument("file")
    ren.add_argument("--sample", help="only this sample")
    ren.set_defaults(func=run)


def run(args) -> int:
    from tmplstudio.cli.formats import clean
    from tmplstudio.template.source import read_template_file

    proj = project()
    path = Path(args.file)
    source = read_template_file(path)
    ev = proj.evaluate(source, path)
    samples = ev.renders
    if args.sample:
        if args.sample not in samples:
            from tmplstudio.template.meta import did_you_mean

            names = ", ".join(samples) or "none"
            raise InputError(f"no sample '{args.sample}'{did_you_mean(args.sample, list(samples))}; samples: {names}", path)
        samples = {args.sample: samples[args.sample]}
    if not samples:
        print(f"{display(path)}: no samples; add [samples.NAME] tables to the front matter to preview it", file=sys.stderr)
        return EXIT_FINDINGS
    failed = False
    for name, r in samples.items():
        if r.text is None:
            failed = True
            print(f"── {clean(name)}: cannot render: {clean(r.error)}")
            continue
        print(f"── {clean(name)} · {r.stats.describe()}")
        if r.subject is not None:
            print(f"Subject: {clean(r.subject)}")
        print(r.text.rstrip("\n"))
    return EXIT_FINDINGS if failed else EXIT_OK


