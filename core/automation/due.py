"""``run-due``: everything that is due, run once: recurring rules, then plugins whose schedule has come.

Made for cron and systemd timers, and run by the terminal app at start-up and while it stays open. Only
one runs at a time per database (a lock beside it): a second one started meanwhile, from cron or from
the app, finds it held and returns at once, as the first does the work. Each step is safe on its own as
well: a recurring occurrence is created once whatever runs it (core.automation.recurring), and a plugin
syncs once at a time (the engine's own lock).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime

from core.automation.recurring import RecurringOutcome, run_recurring
from core.automation.reminders import Reminder, reminders
from core.automation.schedule import due_plugins
from core.platform.sync_recovery import lock_name
from core.store.locks import FileLock, LockBusy, is_locked
from core.store.states import RunStatus
from core.values.messages import Message, message_of

LOCK_NAME = "run-due"


@dataclass
class PluginRun:
    name: str
    status: str  # completed | failed | busy (already syncing elsewhere) | refused
    created: int = 0
    updated: int = 0
    error: str | None = None


@dataclass
class DueReport:
    busy: bool = False  # another run-due was running: this one did nothing
    recurring: RecurringOutcome = field(default_factory=RecurringOutcome)
    plugins: list[PluginRun] = field(default_factory=list)
    failures: list[Message] = field(default_factory=list)  # one sentence per thing that failed
    reminders: list[Reminder] = field(default_factory=list)

    @property
    def did_something(self) -> bool:
        return bool(self.recurring.run_id or self.plugins)


def _run_plugin(name: str, language: str) -> PluginRun:
    from core.platform.sync import SyncRefused, run_sync  # the engine loads only when a plugin is due

    if is_locked(lock_name(name)):
        return PluginRun(name, "busy")  # syncing now (the app, a person): this period's run is that one
    try:
        outcome = run_sync(name, trigger="schedule", language=language)
    except SyncRefused as exc:
        return PluginRun(name, "refused", error=message_of(exc))
    return PluginRun(name, outcome.status, outcome.counts.created, outcome.counts.updated, outcome.error)


def run_due(
    today: date | None = None,
    now: datetime | None = None,
    *,
    trigger: str = "schedule",
    language: str = "en",
    with_reminders: bool = True,
) -> DueReport:
    """Run every due item; the report says what ran, what failed (one sentence each) and what needs you."""
    lock = FileLock(LOCK_NAME)
    try:
        lock.acquire()
    except LockBusy:
        return DueReport(busy=True)
    report = DueReport()
    try:
        report.recurring = run_recurring(today, trigger=trigger, language=language)
        report.failures += report.recurring.failures
        for name in due_plugins(now):
            run = _run_plugin(name, language)
            report.plugins.append(run)
            if run.status == RunStatus.FAILED or run.status == "refused":
                report.failures.append(
                    Message("Scheduled sync of {name} failed: {error}", name=name, error=run.error or "?")
                )
    finally:
        lock.release()
    if with_reminders:
        report.reminders = reminders(today)
    return report
