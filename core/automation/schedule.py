"""Plugin schedules: off, daily or weekly at a time of day (local time), one scheduled run per period.

A schedule is kept on the plugin's configuration row (``schedule``: ``{}`` is off, else
``{"every": "daily"|"weekly", "at": "HH:MM", "weekday": 0-6}``). A plugin is due when the latest
scheduled moment has come and no scheduled run (history trigger ``schedule``) started since: a run that
failed counts, so a failing plugin is tried once per period, not at every ``run-due``, and the
dashboard says it failed.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, time, timedelta, timezone

from core.automation.rules import WEEKDAYS
from core.plugins import get_plugin
from core.store.db import db
from core.store.models import PluginConfiguration, SyncHistory
from core.values import validation as v
from core.values.messages import Message

EVERY = ("off", "daily", "weekly")
DEFAULT_AT = "06:00"


@dataclass(frozen=True)
class Schedule:
    every: str = "off"
    at: time = time(6, 0)
    weekday: int = 0  # weekly: 0 (Monday) to 6

    def as_stored(self) -> dict:
        if self.every == "off":
            return {}
        stored = {"every": self.every, "at": self.at.strftime("%H:%M")}
        if self.every == "weekly":
            stored["weekday"] = self.weekday
        return stored

    def text(self) -> Message:
        if self.every == "off":
            return Message("off")
        if self.every == "daily":
            return Message("daily at {at}", at=self.at.strftime("%H:%M"))
        return Message("weekly on {weekday} at {at}", weekday=WEEKDAYS[self.weekday], at=self.at.strftime("%H:%M"))


def _from_stored(stored: dict | None) -> Schedule:
    stored = stored or {}
    every = stored.get("every", "off")
    if every not in EVERY:
        return Schedule()
    try:
        at = time.fromisoformat(stored.get("at", DEFAULT_AT))
    except (TypeError, ValueError):
        at = time(6, 0)
    weekday = stored.get("weekday", 0)
    return Schedule(every, at, weekday if isinstance(weekday, int) and 0 <= weekday <= 6 else 0)


def get_schedule(name: str) -> Schedule:
    row = PluginConfiguration.get_or_none(PluginConfiguration.plugin_name == name)
    return _from_stored(row.schedule if row else None)


def parse_schedule(every: str, at: str | None = None, weekday: str | int | None = None) -> Schedule:
    """What a person typed ("daily", "07:30", "fri") as a Schedule, or a ValidationError naming the field."""
    every = str(every or "").strip().lower()
    if every not in EVERY:
        raise v.ValidationError(Message("A schedule is off, daily or weekly, not {value}.", value=repr(every)), "every")
    text = str(at or DEFAULT_AT).strip()
    try:
        moment = time.fromisoformat(text if len(text) != 4 else "0" + text)
    except ValueError:
        raise v.ValidationError(
            Message("A time of day is written HH:MM (07:30), not {value}.", value=repr(text)), "at"
        ) from None
    day = 0
    if every == "weekly":
        wanted = str(weekday if weekday is not None else "mon").strip().lower()[:3]
        if wanted.isdigit() and 1 <= int(wanted) <= 7:
            day = int(wanted) - 1
        elif wanted in WEEKDAYS:
            day = WEEKDAYS.index(wanted)
        else:
            raise v.ValidationError(
                Message(
                    "A weekly schedule runs on mon, tue, wed, thu, fri, sat or sun, not {value}.", value=repr(wanted)
                ),
                "weekday",
            )
    return Schedule(every, moment.replace(second=0, microsecond=0), day)


def set_schedule(name: str, schedule: Schedule) -> Schedule:
    """Store ``schedule`` for plugin ``name`` (audited, as any configuration change)."""
    get_plugin(name)  # an unknown plugin is refused with its sentence
    with db.atomic():
        row = PluginConfiguration.get_or_none(PluginConfiguration.plugin_name == name)
        row = row or PluginConfiguration(plugin_name=name)
        if row.schedule != schedule.as_stored() or row.id is None:
            row.schedule = schedule.as_stored()
            row.save()
    return schedule


def latest_moment(schedule: Schedule, now: datetime) -> datetime | None:
    """The latest scheduled moment at or before ``now`` (local, naive), or None when off."""
    if schedule.every == "off":
        return None
    today_at = datetime.combine(now.date(), schedule.at)
    if schedule.every == "daily":
        return today_at if today_at <= now else today_at - timedelta(days=1)
    back = (now.weekday() - schedule.weekday) % 7
    moment = datetime.combine(now.date() - timedelta(days=back), schedule.at)
    return moment if moment <= now else moment - timedelta(days=7)


def _utc(local: datetime) -> datetime:
    """A naive local time as the naive UTC the history stores."""
    return local.astimezone(timezone.utc).replace(tzinfo=None)


def due_plugins(now: datetime | None = None) -> list[str]:
    """Enabled plugins whose scheduled moment has come with no scheduled run started since, by name."""
    now = now or datetime.now()
    due = []
    rows = PluginConfiguration.select().where(PluginConfiguration.enabled).order_by(PluginConfiguration.plugin_name)
    for row in rows:
        moment = latest_moment(_from_stored(row.schedule), now)
        if moment is None:
            continue
        ran = (
            SyncHistory.select()
            .where(
                (SyncHistory.plugin_name == row.plugin_name)
                & (SyncHistory.trigger == "schedule")
                & ~SyncHistory.preview
                & (SyncHistory.started_at >= _utc(moment))
            )
            .exists()
        )
        if not ran:
            due.append(row.plugin_name)
    return due


def next_moment(schedule: Schedule, now: datetime | None = None) -> datetime | None:
    """When the schedule comes next after ``now`` (local), for showing it."""
    now = now or datetime.now()
    latest = latest_moment(schedule, now)
    if latest is None:
        return None
    return latest + timedelta(days=1 if schedule.every == "daily" else 7)
