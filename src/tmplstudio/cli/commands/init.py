"""`tmplstudio init`: scaffold a project in the current folder.

Writes ``tmplstudio.toml`` (commented), ``templates/`` with one compliant starter template per
locale, and ``policies/team.toml``: the team's own pack with one example rule and its
examples. Existing files are never overwritten unless ``--force``; ``tmplstudio validate``
passes right after.
"""

from __future__ import annotations

import datetime
import re
from pathlib import Path

from tmplstudio.cli.common import EXIT_INPUT, EXIT_OK, display
from tmplstudio.errors import InputError

ORDER = 5

DEFAULT_LOCALES = ("zh-CN", "en-US")
_LOCALE = re.compile(r"^(zh|en)(-[A-Za-z]{2,4})*$", re.IGNORECASE)

CONFIG = '''# tmplstudio project configuration (found by walking up from the working directory).
# Reference: README.md "Project configuration" and docs/policy-format.md.

# Folder of message templates (*.j2), relative to this file. Names starting with "_" are
# partials (included by other templates) and are not checked on their own.
templates = "templates"

# Your own policy packs (folders or files), used on top of the packs bundled with tmplstudio.
policies = ["policies"]

# Set to false to use only your own packs.
bundled = true

# Locale of templates whose front matter does not say.
locale = "{locale}"

# Lowest severity that makes `tmplstudio validate` exit 1: "error", "warning" or "info".
fail_on = "error"

[rules]
# Change a rule's severity, or turn it off, for every template of this project:
# visit-threat = "error"
# "zh-collections/platform-restricted-topic" = "off"

[approval]
# Approvals are signed with each reviewer's SSH key (docs/approval.md). Reviewers are listed in
# templates/allowed_signers, git's format: "li.wei@bank.example ssh-ed25519 AAAA...".
require_signature = true
# Distinct reviewers per template; the template's author never counts.
required = 1

[approval.folders."production"]
# Templates under templates/production/ need two reviewers (four eyes).
required = 2
'''

TEAM_PACK = '''# The team's own policy pack: rules on top of the bundled packs.
# Format: docs/policy-format.md. Check it with `tmplstudio policy lint` and
# `tmplstudio policy test` (every example below must behave as stated).

[pack]
id = "team"
title = "Our team's wording rules"
version = "0.1.0"
description = "House rules of our collections team, on top of the legal packs bundled with tmplstudio."
locales = []          # empty: applies to every locale
channels = []         # empty: every channel
# A source names the document, the section the rule rests on and the date someone last checked it.
sources = [{ title = "Collections style guide (replace with your own document and version)", article = "whole guide", verified = "{today}" }]

[[rules]]
id = "no-final-notice"
kind = "phrases"
severity = "error"
message = "Do not call a reminder a final notice or last warning (最后通牒 / final notice)."
explanation = """A reminder that calls itself a final notice or last warning pressures the customer with a
deadline that does not exist; our style guide forbids it in every channel."""
source = [{ title = "Collections style guide (replace with your own reference)", article = "§2.1", verified = "{today}" }]
suggestion = "State the due date and how to pay instead."
phrases = ["最后通牒", "最后警告", "final notice", "final warning", "last warning"]
allow = ["不是最后通牒"]

[rules.examples]
hit = ["这是最后通牒，请立即还款。", "FINAL NOTICE: pay today."]
ok = ["您本期账单应还100元，最后还款日为6月15日。", "Your final payment of $20 is due June 15."]
'''


def register(sub) -> None:
    p = sub.add_parser("init", help="scaffold a project here: config, starter templates and your own policy pack")
    p.add_argument("--locale", action="append", metavar="TAG",
                   help="locale of a starter template (repeatable; zh-* or en-*; default: zh-CN and en-US)")
    p.add_argument("--force", action="store_true", help="overwrite files that already exist")
    p.set_defaults(func=run)


def plan(locales: list[str]) -> dict[Path, str]:
    from tmplstudio.template.starter import starter_source

    files: dict[Path, str] = {Path("tmplstudio.toml"): CONFIG.format(locale=locales[0])}
    for locale in locales:
        template_id = f"{locale.lower()}-payment-reminder"
        files[Path("templates") / f"{template_id}.j2"] = starter_source(template_id, locale, "sms")
    files[Path("policies") / "team.toml"] = TEAM_PACK.replace("{today}", datetime.date.today().isoformat())
    return files


def run(args) -> int:
    import sys

    locales = list(dict.fromkeys(args.locale or DEFAULT_LOCALES))
    for locale in locales:
        if not _LOCALE.match(locale):
            raise InputError(f"--locale {locale!r}: starter templates exist for Chinese (zh-CN, zh-TW, ...) "
                             "and English (en-US, en-GB, ...) locales")
    files = plan(locales)
    root = Path.cwd()
    existing = [p for p in files if (root / p).exists() or (root / p).is_symlink()]
    if existing and not args.force:
        names = ", ".join(str(p) for p in existing)
        print(f"tmplstudio: error: {names} already exist{'s' if len(existing) == 1 else ''}; "
              "nothing was written (use --force to overwrite)", file=sys.stderr)
        return EXIT_INPUT
    for rel, text in files.items():
        path = root / rel
        if path.is_dir():
            raise InputError("is a folder; cannot write a file there", display(path))
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
        print(f"{'overwrote' if rel in existing else 'created'} {rel}")
    print("next: tmplstudio validate   (check the templates)\n"
          "      tmplstudio policy test   (run your pack's examples)\n"
          "      tmplstudio               (open the studio)")
    return EXIT_OK
