"""``fakturka audit verify``: replay the audit trail and compare it with the stored rows."""

from __future__ import annotations

import sys

from cli.base import print_json, say

# Enough lines to see what kind of damage it is; --json lists every finding.
SHOWN_FINDINGS = 20


def register(commands) -> None:
    audit = commands.add_parser("audit", help="check the audit trail")
    actions = audit.add_subparsers(dest="audit_command", metavar="ACTION", required=True)
    verify = actions.add_parser(
        "verify",
        help="replay every audit record and compare the result with the stored rows",
        description="Replays every audit record in order and compares the result with every stored row; "
        "reports values changed behind the audit, rows without an audit trail, records that do not follow "
        "from each other, deleted records and missing append-only triggers. Exit 0 when all agree, 1 when not.",
    )
    verify.add_argument("--json", action="store_true", help="print the full report as JSON for scripts")
    verify.set_defaults(handler=audit_verify)


def audit_verify(args) -> int:
    from core.store.audit_verify import describe, verify_audit

    report = verify_audit()
    if args.json:
        print_json(report.as_dict())
        return 0 if report.clean else 1
    if report.clean:
        say(f"Audit verified: {report.records} records, {report.rows} rows, no differences.")
        return 0
    for finding in report.findings[:SHOWN_FINDINGS]:
        say(describe(finding))  # quotes stored values: one safe line each
    hidden = report.findings_total - min(len(report.findings), SHOWN_FINDINGS)
    if hidden:
        say(f"... and {hidden} more (fakturka audit verify --json lists them).")
    say(
        f"fakturka: the audit trail does not match the database: {report.findings_total} finding(s) "
        f"in {report.records} records and {report.rows} rows.",
        file=sys.stderr,
    )
    return 1
