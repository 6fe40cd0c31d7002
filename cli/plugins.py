"""``fakturka plugins ...``, ``fakturka sync NAME`` and ``fakturka history ...``."""

from __future__ import annotations

import argparse
import getpass
import sys

from cli.base import (
    CommandError,
    not_utf8,
    parse_assignments,
    positive_int,
    print_json,
    print_table,
    quoted,
    read_stdin_line,
    record_id,
    say,
)
from core.automation.rules import SOURCE as RECURRING
from core.platform import plugin_config
from core.platform.history import display_changes, history_query, run_changes, run_duration
from core.platform.sync import Preview, SyncRefused, run_sync
from core.plugins import get_plugin
from core.store.models import SyncHistory
from core.store.states import RunStatus
from core.values.limits import MAX_LOG_LINE
from core.values.text import for_terminal, lines_for_terminal


def register(commands) -> None:
    plugins = commands.add_parser("plugins", help="list, enable, configure and inspect integrations")
    plugins.add_argument("--json", action="store_true", help="print JSON for scripts")
    plugins.set_defaults(handler=plugins_list)
    sub = plugins.add_subparsers(dest="action", metavar="ACTION")
    for action, text in (("enable", "allow a plugin to sync"), ("disable", "stop a plugin from syncing")):
        p = sub.add_parser(action, help=text)
        p.add_argument("name")
        p.set_defaults(handler=plugins_enable)
    configure = sub.add_parser(
        "configure",
        help="set a plugin's settings and secrets",
        description="Settings with --set KEY=VALUE. Secrets are never given on the command line: each "
        "--secret KEY reads one line from standard input, or asks without echo on a terminal; an empty line "
        "keeps the stored secret. --clear-secret KEY removes a stored secret.",
    )
    configure.add_argument("name")
    configure.add_argument("--set", action="append", metavar="KEY=VALUE", dest="assignments", help="a setting")
    configure.add_argument("--secret", action="append", metavar="KEY", dest="secrets", help="a secret to read")
    configure.add_argument(
        "--clear-secret", action="append", metavar="KEY", dest="clear", help="remove a stored secret"
    )
    configure.set_defaults(handler=plugins_configure)
    show = sub.add_parser("show", help="a plugin's fields and current configuration (secrets masked)")
    show.add_argument("name")
    show.add_argument("--json", action="store_true", help="print JSON for scripts")
    show.set_defaults(handler=plugins_show)

    sync = commands.add_parser("sync", help="run a plugin now, with its log live in the terminal")
    sync.add_argument("name")
    sync.add_argument(
        "--dry-run",
        action="store_true",
        help="preview: show what the sync would create, update, skip and mark paid, and save nothing",
    )
    sync.set_defaults(handler=sync_run)

    history = commands.add_parser(
        "history",
        help="past sync runs; 'history show ID' for one run",
        usage="fakturka history [NAME] [--limit N] [--json]\n       fakturka history show ID [--json]",
    )
    history.add_argument("name", nargs="?", help="only this plugin's runs (or 'show')")
    history.add_argument("run_id", nargs="?", metavar="ID", type=record_id("sync run id"), help=argparse.SUPPRESS)
    history.add_argument("--limit", type=positive_int, default=30, help="how many runs, newest first (default 30)")
    history.add_argument("--json", action="store_true", help="print JSON for scripts")
    history.set_defaults(handler=history_cmd)


def _status_dict(status) -> dict:
    last = status.last_run
    return {
        "name": status.name,
        "version": status.version,
        "enabled": status.enabled,
        "configured": status.configured,
        "missing": status.missing,
        "problem": status.problem,
        **({"broken": True} if status.broken else {}),  # failed its start-up check: the reason is in "problem"
        "last_run": None
        if last is None
        else {"id": last.id, "status": last.status, "started_at": last.started_at, "completed_at": last.completed_at},
    }


def plugins_list(args) -> int:
    statuses = plugin_config.all_statuses()
    if args.json:
        print_json([_status_dict(s) for s in statuses])
        return 0
    working = [s for s in statuses if not s.broken]
    print_table(
        ["NAME", "VERSION", "ENABLED", "CONFIGURED", "LAST RUN", "STATUS"],
        [
            [
                s.name,
                s.version,
                "yes" if s.enabled else "no",
                "yes"
                if s.configured
                else "no (secrets unreadable)"
                if s.secrets_unreadable
                else f"no (missing {', '.join(s.missing)})"
                if s.missing
                else "no",
                s.last_run.started_at.strftime("%Y-%m-%d %H:%M") + " UTC"
                if s.last_run and s.last_run.started_at
                else "-",
                s.last_run.status if s.last_run else "-",
            ]
            for s in working
        ]
        + [[s.name, "?", "-", "-", "-", "BROKEN"] for s in statuses if s.broken],
    )
    for s in statuses:
        if s.broken:
            say(f"{s.name} is broken and cannot be used: {s.problem}")
        elif s.secrets_unreadable:
            say(f"{s.name}: {s.problem}")
    return 0


def plugins_enable(args) -> int:
    enabled = args.action == "enable"
    plugin_config.set_enabled(args.name, enabled)
    status = plugin_config.plugin_status(args.name)
    note = "" if status.configured or not enabled else f" It still needs: {', '.join(status.missing)}."
    say(f"{args.name} {'enabled' if enabled else 'disabled'}.{note}")
    return 0


def _read_secret(plugin_name: str, key: str, label: str) -> str:
    if sys.stdin.isatty():
        secret = getpass.getpass(f"{label} for {plugin_name} (not shown): ")
        if not_utf8(secret):
            raise CommandError(f"The secret {quoted(key)} is not valid UTF-8 text; nothing was changed.")
        return secret
    line = read_stdin_line(f"the secret {quoted(key)}")
    if not line:
        raise CommandError(f"Standard input ended before the secret {quoted(key)}; give one line per --secret.")
    return line.rstrip("\r\n")


def plugins_configure(args) -> int:
    plugin = get_plugin(args.name)
    by_key = {f.key: f for f in plugin.fields}
    values = parse_assignments(args.assignments)
    for key in values:
        if key in by_key and by_key[key].secret:
            raise CommandError(
                f"{key} is a secret: give it with --secret {key} (read from standard input), never on the command line."
            )
    secrets = {}
    for key in args.secrets or []:
        if key not in by_key:
            raise CommandError(f"{args.name} has no setting {quoted(key)}; see 'fakturka plugins show {args.name}'.")
        secrets[key] = _read_secret(args.name, key, by_key[key].label)
    clear = list(args.clear or [])
    for key in clear:
        if key not in by_key:
            raise CommandError(f"{args.name} has no setting {quoted(key)}; see 'fakturka plugins show {args.name}'.")
        if key in secrets:
            raise CommandError(f"{key}: give either --secret {key} or --clear-secret {key}, not both.")
    kept = [key for key, value in secrets.items() if value == ""]
    if not values and not secrets and not clear:
        raise CommandError(
            f"Nothing to change; use --set KEY=VALUE, --secret KEY or --clear-secret KEY "
            f"(see 'fakturka plugins show {args.name}')."
        )
    plugin_config.configure(args.name, values, secrets, clear_secrets=clear)
    for key in kept:
        say(f"{key}: empty line, the stored secret was kept (remove it with --clear-secret {key}).")
    for key in clear:
        say(f"{key} cleared.")
    status = plugin_config.plugin_status(args.name)
    if status.configured:
        say(f"{args.name} configured." + ("" if status.enabled else f" Enable it: fakturka plugins enable {args.name}"))
    else:
        say(f"{args.name} saved; still missing: {', '.join(status.missing)}.")
    return 0


def plugins_show(args) -> int:
    plugin = get_plugin(args.name)
    view = plugin_config.masked_view(args.name)
    status = plugin_config.plugin_status(args.name)
    if args.json:
        print_json(
            {
                **_status_dict(status),
                "settings": view,
                "fields": [
                    {
                        "key": f.key,
                        "label": f.label,
                        "kind": f.kind,
                        "required": f.required,
                        "default": f.default,
                        "help": f.help,
                        "choices": list(f.choices),
                    }
                    for f in plugin.fields
                ],
            }
        )
        return 0
    say(
        f"{plugin.name} {plugin.version}  enabled: {'yes' if status.enabled else 'no'}  "
        f"configured: {'yes' if status.configured else 'no'}"
    )
    if status.problem:
        say(f"problem: {status.problem}")
    say()
    print_table(
        ["KEY", "LABEL", "KIND", "REQUIRED", "VALUE", "HELP"],
        [
            [f.key, f.label, f.kind, "yes" if f.required else "", "" if view[f.key] is None else view[f.key], f.help]
            for f in plugin.fields
        ],
    )
    return 0


def _print_log_line(line: str) -> None:
    """A sync's live log line: the plugin's text, shown as text (at most MAX_LOG_LINE per line)."""
    print(lines_for_terminal(line, MAX_LOG_LINE), flush=True)


def sync_run(args) -> int:
    try:
        outcome = run_sync(args.name, trigger="cli", on_log=_print_log_line, dry_run=args.dry_run)
    except SyncRefused as exc:
        raise CommandError(str(exc)) from None
    if outcome.status == RunStatus.COMPLETED:
        if outcome.preview is not None:
            _print_preview(args.name, outcome.preview)
            say(f"Preview {outcome.run_id} completed. Details: fakturka history show {outcome.run_id}")
            return 0
        say(f"Sync {outcome.run_id} completed. Details: fakturka history show {outcome.run_id}")
        return 0
    what = "preview" if args.dry_run else "sync"
    say(f"fakturka: {what} {outcome.run_id} failed: {outcome.error}", file=sys.stderr)
    return 1


def _print_preview(name: str, preview: Preview) -> None:
    """What a dry run would have done: the counts, each reason for a skip, the invoices it would mark paid."""
    say(
        f"Preview of {name} (nothing was saved): {preview.created} would be created, {preview.updated} updated, "
        f"{preview.unchanged} unchanged, {preview.skipped} skipped ({preview.processed} processed)."
    )
    for reason, count in preview.skip_reasons:
        say(f"  skipped {count}: {reason}")
    if preview.invoices_paid:
        say(f"Would mark paid: {', '.join(preview.invoices_paid)}")
    else:
        say("Would mark no invoice paid.")


def _run_dict(run: SyncHistory) -> dict:
    return {
        "id": run.id,
        "plugin": run.plugin_name,
        "status": run.status,
        "trigger": run.trigger,
        "started_at": run.started_at,
        "completed_at": run.completed_at,
        "duration_seconds": run.duration.total_seconds() if run.duration is not None else None,
        "processed": run.records_processed,
        "created": run.records_created,
        "updated": run.records_updated,
        "skipped": run.records_skipped,
        "error": run.error_message,
        "preview": run.preview,
    }


def history_cmd(args) -> int:
    if args.name == "show":
        if args.run_id is None:
            raise CommandError("Give the run's id: fakturka history show ID")
        return history_show(args.run_id, args.json)
    if args.run_id is not None:
        raise CommandError("Use 'fakturka history show ID' for one run.")
    if args.name and args.name != RECURRING:  # the recurring rules' runs have a history of their own
        get_plugin(args.name)
    runs = list(history_query(args.name).limit(args.limit))
    if args.json:
        print_json([_run_dict(r) for r in runs])
        return 0
    if not runs:
        say("No sync runs yet.")
        return 0
    print_table(
        ["ID", "PLUGIN", "STATUS", "STARTED (UTC)", "DURATION", "PROCESSED", "CREATED", "UPDATED", "UNCHANGED"],
        [
            [
                r.id,
                r.plugin_name,
                f"{r.status} (preview)" if r.preview else r.status,
                r.started_at.strftime("%Y-%m-%d %H:%M:%S") if r.started_at else "-",
                run_duration(r) or "-",
                r.records_processed,
                r.records_created,
                r.records_updated,
                r.records_skipped,
            ]
            for r in runs
        ],
        right={0, 4, 5, 6, 7, 8},
    )
    return 0


def history_show(run_id: int, as_json: bool) -> int:
    run = SyncHistory.get_or_none(SyncHistory.id == run_id)
    if run is None:
        raise CommandError(f"There is no sync run {run_id}; see 'fakturka history'.")
    changes = run_changes(run.id)
    if as_json:
        print_json(
            {
                **_run_dict(run),
                "metadata": run.metadata,
                "log": run.log.splitlines(),
                "backtrace": run.error_backtrace,
                "changes": [
                    {"table": c.table_name, "row": c.row_id, "action": c.action, "changes": c.changes} for c in changes
                ],
            }
        )
        return 0
    status = f"{run.status}, preview: nothing was saved" if run.preview else run.status
    say(f"Run {run.id}: {run.plugin_name} [{status}] by {run.trigger}, {run_duration(run) or 'not finished'}")
    say(
        f"processed {run.records_processed}, created {run.records_created}, updated {run.records_updated}, "
        f"unchanged {run.records_skipped}"
    )
    if run.error_message:
        say(f"error: {run.error_message}")
    if run.metadata:
        say(f"metadata: {run.metadata}")
    print("\nlog:")
    for line in run.log.splitlines():
        print(f"  {for_terminal(line, MAX_LOG_LINE)}")
    if run.error_backtrace:
        print("\nbacktrace:")
        print(lines_for_terminal(run.error_backtrace.rstrip(), MAX_LOG_LINE))
    print()
    say(f"what changed ({len(changes)} audit records):")
    for c in changes:
        detail = ", ".join(f"{name}: {old} -> {new}" for name, old, new in display_changes(c)[:6])
        say(f"  {c.action:6} {c.table_name} #{c.row_id}  {detail}")
    return 0
