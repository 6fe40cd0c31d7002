"""``fakturka log``, ``fakturka entries`` and ``fakturka timer ...``."""

from __future__ import annotations

import re

from cli.base import amount_arg, date_arg, positive_int, print_json, print_table, say
from core.billing import timesheet as svc
from core.billing.clients import find_client, find_project, project_label
from core.store.models import WorkEntry
from core.values.dates import format_minutes
from core.values.money import from_minor
from core.values.timeutil import utcnow


def register(commands) -> None:
    log = commands.add_parser("log", help="log time (or a fixed amount) on a project")
    log.add_argument("project", help="project id, name, or Client/Project")
    log.add_argument("duration", help="90, 90m, 1h30m, 1:30 or 1.5h (use 0 with --fixed)")
    log.add_argument("description")
    log.add_argument("--date", type=date_arg, help="the day of the work (default today)")
    log.add_argument("--fixed", metavar="AMOUNT", type=amount_arg, help="a fixed-price item instead of hours")
    log.add_argument("--rate", type=amount_arg, help="this entry's own hourly rate")
    log.add_argument("--non-billable", action="store_true", help="track it but never invoice it")
    log.set_defaults(handler=log_entry)
    # "-1h" is a (negative) duration, not an option: let the service say why it is refused.
    log._negative_number_matcher = re.compile(r"^-\d[\d.,:hm ]*$")

    entries = commands.add_parser("entries", help="list work entries")
    entries.add_argument("--project", help="only this project")
    entries.add_argument("--client", help="only this client")
    entries.add_argument("--unbilled", action="store_true", help="only entries not yet invoiced")
    entries.add_argument("--limit", type=positive_int, default=50, help="how many, newest first (default 50)")
    entries.add_argument("--json", action="store_true", help="print JSON for scripts")
    entries.set_defaults(handler=list_entries)

    timer = commands.add_parser("timer", help="start, stop or show the running timer")
    sub = timer.add_subparsers(dest="action", metavar="ACTION", required=True)
    start = sub.add_parser("start", help="start timing work on a project")
    start.add_argument("project", help="project id, name, or Client/Project")
    start.add_argument("description", nargs="?", default="")
    start.set_defaults(handler=timer_start)
    sub.add_parser("stop", help="stop the timer and keep the entry").set_defaults(handler=timer_stop)
    status = sub.add_parser("status", help="is a timer running, and for how long")
    status.add_argument("--json", action="store_true", help="print JSON for scripts")
    status.set_defaults(handler=timer_status)


def log_entry(args) -> int:
    project = find_project(args.project, include_archived=False)
    duration = args.duration
    if args.fixed is not None and duration.strip() in ("0", "-", ""):
        duration = None
    entry = svc.add_entry(
        svc.EntryInput(
            project=project,
            date=args.date,
            duration=duration,
            description=args.description,
            billable=not args.non_billable,
            fixed=args.fixed,
            hourly_rate=args.rate,
        )
    )
    what = (
        f"{from_minor(entry.fixed_amount, project.client.currency)} {project.client.currency}"
        if entry.kind == "fixed"
        else format_minutes(entry.minutes)
    )
    say(f"Logged {what} on {project_label(project)} for {entry.date.isoformat()} (entry {entry.id}).")
    return 0


def _entry_dict(e: WorkEntry) -> dict:
    currency = e.project.client.currency
    return {
        "id": e.id,
        "date": e.date,
        "client": e.project.client.name,
        "project": e.project.name,
        "kind": e.kind,
        "minutes": e.minutes,
        "description": e.description,
        "billable": e.billable,
        "amount": from_minor(svc.entry_amount(e), currency),
        "currency": currency,
        "state": svc.entry_billing_state(e),
        "source": e.source,  # "manual", a plugin's name, or "recurring" (made by a recurring rule)
    }


def list_entries(args) -> int:
    query = svc.entries_query(
        project=find_project(args.project) if args.project else None,
        client=find_client(args.client) if args.client else None,
        unbilled_only=args.unbilled,
    ).limit(args.limit)
    rows = [_entry_dict(e) for e in query]
    if args.json:
        print_json(rows)
        return 0
    if not rows:
        say("No entries match.")
        return 0
    print_table(
        ["ID", "DATE", "PROJECT", "TIME", "AMOUNT", "STATE", "DESCRIPTION"],
        [
            [
                r["id"],
                r["date"].isoformat(),
                f"{r['client']} / {r['project']}",
                format_minutes(r["minutes"]),
                f"{r['amount']} {r['currency']}",
                r["state"],
                ("↻ " if r["source"] == "recurring" else "") + r["description"],
            ]
            for r in rows
        ],
        right={0, 3, 4},
    )
    return 0


def timer_start(args) -> int:
    project = find_project(args.project, include_archived=False)
    entry = svc.start_timer(project, args.description)
    say(f"Timer started on {project_label(project)} at {entry.started_at:%H:%M} UTC.")
    return 0


def timer_stop(args) -> int:
    entry = svc.stop_timer()
    say(f"Timer stopped: {format_minutes(entry.minutes)} on {project_label(entry.project)} (entry {entry.id}).")
    return 0


def timer_status(args) -> int:
    entry = svc.running_timer()
    if args.json:
        print_json(
            None
            if entry is None
            else {
                "entry": entry.id,
                "client": entry.project.client.name,
                "project": entry.project.name,
                "description": entry.description,
                "started_at": entry.started_at.isoformat() + "Z",
                "elapsed_minutes": svc.elapsed_minutes(entry, now=utcnow()),
            }
        )
        return 0
    if entry is None:
        say("No timer is running.")
        return 0
    say(
        f"Running on {project_label(entry.project)} for {format_minutes(svc.elapsed_minutes(entry))}"
        f"{': ' + entry.description if entry.description else ''} (since {entry.started_at:%H:%M} UTC)."
    )
    return 0
