"""``fakturka recurring add|list|show|edit|enable|disable|delete|run``: rules that create records by themselves."""

from __future__ import annotations

import sys

from cli.base import CommandError, amount_arg, confirm, positive_int, print_json, print_table, say
from core.automation import rules as svc
from core.automation.recurring import rule_records, run_recurring
from core.billing.clients import project_label
from core.values.money import from_minor

# (option, the rule's field, help). Dates and choices are checked by the service, which names the field.
RULE_OPTIONS = [
    ("--name", "name", "the rule's name, e.g. 'Acme retainer'"),
    ("--creates", "creates", "what each occurrence creates: work (an entry on --project), income or expense"),
    ("--project", "project", "for work: project id, name, or Client/Project (its client's currency is used)"),
    ("--amount", "amount", "the amount of each occurrence, e.g. 20000 or '1 234,50'; 0 skips occurrences"),
    ("--currency", "currency", "for income and expense: e.g. CZK or EUR (default: the profile's)"),
    ("--counterparty", "counterparty", "for income and expense: who pays or is paid"),
    ("--description", "description", "the created record's description (default: the rule's name)"),
    ("--cadence", "cadence", "weekly, monthly or yearly"),
    (
        "--on",
        "on",
        "weekly: mon..sun; monthly: 1..31 (31 is the month's last day); yearly: MM-DD; empty: the start date's day",
    ),
    ("--start", "start_on", "the first day the rule may fall on (default today)"),
    ("--end", "end_on", "the last day it may fall on; empty: no end"),
    ("--invoice", "invoice", "for work: also issue the period's invoice, as draft or sent; none: no invoice"),
]


def register(commands) -> None:
    recurring = commands.add_parser("recurring", help="recurring rules: retainers, allowances, subscriptions")
    sub = recurring.add_subparsers(dest="action", metavar="ACTION", required=True)

    add = sub.add_parser(
        "add",
        help="add a rule",
        description="Add a rule that creates a work entry, an income or an expense on each occurrence. "
        "Example: fakturka recurring add --name 'Acme retainer' --creates work --project Acme/Support "
        "--amount 20000 --cadence monthly --on 31",
    )
    _rule_options(add)
    add.set_defaults(handler=rule_add)

    lst = sub.add_parser("list", help="list the rules with their next due date")
    lst.add_argument("--json", action="store_true", help="print JSON for scripts")
    lst.set_defaults(handler=rule_list)

    show = sub.add_parser("show", help="a rule in full, with the last records it created")
    show.add_argument("rule", help="rule id or name")
    show.add_argument("--limit", type=positive_int, default=10, help="how many created records (default 10)")
    show.add_argument("--json", action="store_true", help="print JSON for scripts")
    show.set_defaults(handler=rule_show)

    edit = sub.add_parser("edit", help="change a rule (only the options given)")
    edit.add_argument("rule", help="rule id or name")
    _rule_options(edit)
    edit.set_defaults(handler=rule_edit)

    for action, text in (
        ("enable", "enable a rule: the occurrences missed while disabled are created at the next run"),
        ("disable", "disable a rule: it creates nothing until enabled again, and keeps everything"),
    ):
        p = sub.add_parser(action, help=text)
        p.add_argument("rule", help="rule id or name")
        p.set_defaults(handler=rule_enable, enable=action == "enable")

    delete = sub.add_parser("delete", help="delete a rule (what it created stays)")
    delete.add_argument("rule", help="rule id or name")
    delete.add_argument("--yes", action="store_true", help="do not ask for confirmation")
    delete.set_defaults(handler=rule_delete)

    run = sub.add_parser("run", help="create what the enabled rules have due up to today")
    run.set_defaults(handler=rule_run)


def _rule_options(parser) -> None:
    for flag, _field, text in RULE_OPTIONS:
        parser.add_argument(flag, help=text, type=amount_arg if flag == "--amount" else None)


def _values(args) -> dict:
    values = {}
    for flag, field, _text in RULE_OPTIONS:
        value = getattr(args, flag.lstrip("-"))
        if value is None:
            continue
        if field == "invoice" and value.strip().lower() in ("none", "no"):
            value = ""
        values[field] = value
    return values


def _amount(minor: int, currency: str) -> str:
    return f"{from_minor(minor, currency)} {currency}"


def _next_text(rule) -> str:
    due = svc.next_due(rule)
    return due.isoformat() if due else "ended"


def _rule_dict(rule) -> dict:
    due = svc.next_due(rule)
    return {
        "id": rule.id,
        "name": rule.name,
        "creates": rule.creates,
        "project": project_label(rule.project) if rule.project_id else None,
        "amount": from_minor(rule.amount, rule.currency),
        "currency": rule.currency,
        "counterparty": rule.counterparty,
        "description": rule.description,
        "cadence": rule.cadence,
        "on": svc.on_text(rule),
        "cadence_text": str(svc.cadence_text(rule)),
        "start_on": rule.start_on,
        "end_on": rule.end_on,
        "invoice": rule.invoice or None,
        "enabled": rule.enabled,
        "next_due": due,
        "last_on": rule.last_on,
    }


def rule_add(args) -> int:
    rule = svc.add_rule(**_values(args))
    say(f"Added rule {rule.name} (id {rule.id}): {svc.cadence_text(rule)}, next due {_next_text(rule)}.")
    return 0


def rule_list(args) -> int:
    rows = svc.list_rules()
    if args.json:
        print_json([_rule_dict(r) for r in rows])
        return 0
    if not rows:
        say("No recurring rules yet. Add one: fakturka recurring add --name NAME --amount AMOUNT --cadence monthly ...")
        return 0
    print_table(
        ["ID", "NAME", "CREATES", "AMOUNT", "CADENCE", "NEXT DUE", "ENABLED"],
        [
            [
                r.id,
                r.name,
                r.creates,
                _amount(r.amount, r.currency),
                svc.cadence_text(r),
                _next_text(r),
                "yes" if r.enabled else "no",
            ]
            for r in rows
        ],
        right={0, 3},
    )
    return 0


def rule_show(args) -> int:
    rule = svc.find_rule(args.rule)
    data = _rule_dict(rule)
    records = rule_records(rule, args.limit)
    if args.json:
        data["records"] = [
            {"date": day, "type": kind, "amount": from_minor(amount, currency), "currency": currency}
            for day, kind, amount, currency in records
        ]
        print_json(data)
        return 0
    lines = [
        ("id", rule.id),
        ("name", rule.name),
        ("creates", rule.creates),
        ("project", data["project"]),
        ("amount", _amount(rule.amount, rule.currency) + (" (occurrences skipped)" if rule.amount == 0 else "")),
        ("counterparty", rule.counterparty),
        ("description", rule.description),
        ("cadence", svc.cadence_text(rule)),
        ("start", rule.start_on.isoformat()),
        ("end", rule.end_on.isoformat() if rule.end_on else None),
        ("invoice", rule.invoice),
        ("enabled", "yes" if rule.enabled else "no"),
        ("next due", _next_text(rule)),
        ("last handled", rule.last_on.isoformat() if rule.last_on else None),
    ]
    width = max(len(key) for key, _value in lines)
    for key, value in lines:
        say(f"{key.ljust(width)}  {value if value not in (None, '') else '-'}")
    say()
    if not records:
        say("It has created nothing yet.")
        return 0
    say("Last created:")
    print_table(
        ["DATE", "TYPE", "AMOUNT"],
        [[day.isoformat(), kind, _amount(amount, currency)] for day, kind, amount, currency in records],
        right={2},
    )
    return 0


def rule_edit(args) -> int:
    rule = svc.find_rule(args.rule)
    values = _values(args)
    if not values:
        raise CommandError("Nothing to change; give at least one option such as --amount or --cadence.")
    rule = svc.edit_rule(rule, **values)
    say(f"Updated rule {rule.name}: {svc.cadence_text(rule)}, next due {_next_text(rule)}.")
    return 0


def rule_enable(args) -> int:
    rule = svc.find_rule(args.rule)
    if rule.enabled == args.enable:
        say(f"Rule {rule.name} is already {'enabled' if rule.enabled else 'disabled'}.")
        return 0
    rule = svc.set_enabled(rule, args.enable)
    if args.enable:
        say(f"Enabled rule {rule.name}; next due {_next_text(rule)}.")
    else:
        say(f"Disabled rule {rule.name}; it creates nothing until 'fakturka recurring enable {rule.id}'.")
    return 0


def rule_delete(args) -> int:
    rule = svc.find_rule(args.rule)
    if not confirm(f"Delete recurring rule {rule.name}? What it created stays.", args.yes):
        say("Nothing changed.")
        return 1
    svc.delete_rule(rule)
    say(f"Deleted rule {rule.name}.")
    return 0


def rule_run(args) -> int:
    outcome = run_recurring(trigger="cli")
    if outcome.run_id is None:
        say("Nothing was due.")
        return 0
    for line in outcome.log:
        say(line)
    invoices = f"; issued invoice(s) {', '.join(outcome.invoices)}" if outcome.invoices else ""
    say(f"Created {outcome.created}, skipped {outcome.skipped}{invoices} (run {outcome.run_id}).")
    for failure in outcome.failures:
        say(f"fakturka: {failure}", file=sys.stderr)
    return 1 if outcome.failures else 0
