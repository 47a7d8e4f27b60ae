"""`tmplstudio revoke PATH... --reason TEXT [--signer PRINCIPAL] [--key KEY | --by NAME]`: withdraw approvals."""

from __future__ import annotations

from tmplstudio.cli.common import EXIT_INPUT, EXIT_OK, display, project_and_templates
from tmplstudio.cli.signer import add_arguments, identity

ORDER = 42


def register(sub) -> None:
    p = sub.add_parser("revoke", help="withdraw the approval of templates (recorded, with the reason, in the approvals log)")
    p.add_argument("paths", nargs="+", metavar="PATH", help="template files or folders")
    p.add_argument("--reason", required=True, metavar="TEXT", help="why the approval is withdrawn (kept in the log)")
    p.add_argument("--signer", metavar="PRINCIPAL", help="withdraw only this signer's sign-off (e.g. after their key was revoked)")
    add_arguments(p, "revocations are")
    p.set_defaults(func=run)


def run(args) -> int:
    from tmplstudio.pack.approval import relative, revoke

    found = project_and_templates(args.paths)
    if found is None:
        return EXIT_INPUT
    proj, files = found
    rels = list(dict.fromkeys(relative(proj.templates_dir, p) for p in files))
    outcome = revoke(proj, rels, identity(args, proj), args.reason, args.signer)
    whose = f"{args.signer}'s sign-off" if args.signer else "approval"
    for rel in rels:
        print(f"revoked  {rel}: {whose} withdrawn by {outcome.by}")
    print(f"recorded in {display(outcome.ledger.log_path)}")
    return EXIT_OK
