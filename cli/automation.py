"""``fakturka run-due``: run what is due (recurring rules, scheduled plugin syncs) and say what needs you.

Made for cron and systemd timers: quiet when all is well (unless ``-v``); otherwise one sentence per
failure on stderr and exit code 1. ``fakturka schedule NAME ...`` sets a plugin's schedule.
"""

from __future__ import annotations

import sys

from cli.base import print_json, say
from core.automation.due import run_due
from core.automation.schedule import get_schedule, next_moment, parse_schedule, set_schedule


def register(commands) -> None:
    due = commands.add_parser(
        "run-due",
        help="run what is due: recurring rules and scheduled syncs (for cron)",
        description="Runs every recurring rule's due occurrences and every plugin whose schedule has come. "
        "Quiet when all is well; a failure is one sentence on stderr and exit code 1. Safe to start while "
        "the app is open or another run-due runs (the second one does nothing).",
    )
    due.add_argument("-v", "--verbose", action="store_true", help="say what ran and what needs you")
    due.add_argument("--json", action="store_true", help="print JSON for scripts")
    due.set_defaults(handler=run_due_command)
    schedule = commands.add_parser(
        "schedule",
        help="show or set when a plugin syncs by itself (run by run-due and the app)",
        description="Without EVERY: show the plugin's schedule. EVERY is off, daily or weekly; the time of "
        "day is local (default 06:00).",
    )
    schedule.add_argument("name", help="the plugin")
    schedule.add_argument("every", nargs="?", choices=("off", "daily", "weekly"), help="how often")
    schedule.add_argument("--at", metavar="HH:MM", help="the time of day (default 06:00)")
    schedule.add_argument("--on", metavar="WEEKDAY", dest="weekday", help="for weekly: mon ... sun (default mon)")
    schedule.set_defaults(handler=schedule_command)


def run_due_command(args) -> int:
    report = run_due(trigger="schedule")
    if args.json:
        print_json(
            {
                "busy": report.busy,
                "recurring": {
                    "run_id": report.recurring.run_id,
                    "created": report.recurring.created,
                    "skipped": report.recurring.skipped,
                    "invoices": report.recurring.invoices,
                },
                "plugins": [vars(run) for run in report.plugins],
                "failures": [str(f) for f in report.failures],
                "reminders": [
                    {"kind": r.kind, "text": str(r.text), "fix": str(r.fix) if r.fix else None}
                    for r in report.reminders
                ],
            }
        )
    elif args.verbose:
        if report.busy:
            say("Another run-due is running; this one did nothing.")
        else:
            outcome = report.recurring
            say(f"Recurring rules: {outcome.created} created, {outcome.skipped} skipped.")
            for line in outcome.log:
                say(f"  {line}")
            for run in report.plugins:
                if run.status == "busy":
                    say(f"Scheduled sync of {run.name}: already syncing, left to that run.")
                else:
                    say(f"Scheduled sync of {run.name}: {run.status}, {run.created} created, {run.updated} updated.")
            if not report.plugins:
                say("No plugin's schedule has come.")
        if report.reminders:
            say("Needs you:")
            for reminder in report.reminders:
                say(f"  - {reminder.text}" + (f" {reminder.fix}" if reminder.fix else ""))
        else:
            say("Nothing needs you.")
    for failure in report.failures:
        say(f"fakturka: {failure}", file=sys.stderr)
    return 1 if report.failures else 0


def schedule_command(args) -> int:
    if args.every is None:
        schedule = get_schedule(args.name)
        upcoming = next_moment(schedule)
        say(f"{args.name}: {schedule.text()}" + (f" (next: {upcoming:%Y-%m-%d %H:%M})" if upcoming else ""))
        return 0
    schedule = set_schedule(args.name, parse_schedule(args.every, args.at, args.weekday))
    upcoming = next_moment(schedule)
    say(f"{args.name}: {schedule.text()}" + (f" (next: {upcoming:%Y-%m-%d %H:%M})" if upcoming else ""))
    return 0
