"""What needs the person: overdue invoices, movements to review, a plugin whose last run failed, a secret
about to expire. The dashboard shows them; ``fakturka run-due -v`` prints them.

A secret's expiry comes from its plugin's fields (core.plugins.base.Field): ``expires_after_days`` counts
from the day it was entered (``PluginConfiguration.secrets_entered``, kept by plugin_config.configure),
and a date field with ``expiry_of`` holds the day itself when the person entered it. The warning starts
``WARN_DAYS`` ahead, and stays once the day has passed.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from core.billing.invoicing import overdue_condition
from core.billing.payments import amount_due_sql
from core.plugins import registry
from core.store.db import db
from core.store.models import Client, Invoice, MoneyTransaction, PluginConfiguration, SyncHistory
from core.store.states import MatchStatus, RunStatus
from core.values.messages import Amount, Message

WARN_DAYS = 14
SHOWN_OVERDUE = 5  # overdue invoices named one by one; the rest are counted


@dataclass
class Reminder:
    kind: str  # overdue | review | failed | expiring
    text: Message
    fix: Message | None = None  # what to do about it


def _overdue(today: date) -> list[Reminder]:
    rows = list(
        Invoice.select(Invoice.number, Invoice.due_on, Invoice.currency, Client.name, amount_due_sql().alias("due"))
        .join(Client)
        .where(overdue_condition(today))
        .order_by(Invoice.due_on, Invoice.id)
        .limit(SHOWN_OVERDUE)  # the oldest few, named; the rest counted (thousands in a big book)
        .dicts()
    )
    found = [
        Reminder(
            "overdue",
            Message(
                "Invoice {number} to {client} is {days} days overdue ({amount} due).",
                number=row["number"],
                client=row["name"],
                days=(today - row["due_on"]).days,
                amount=Amount(row["due"], row["currency"]),
            ),
            Message("Send a reminder, or mark it paid when the money came ('fakturka invoice pay NUMBER')."),
        )
        for row in rows
    ]
    if len(rows) == SHOWN_OVERDUE:
        more = Invoice.select().where(overdue_condition(today)).count() - SHOWN_OVERDUE
        if more > 0:
            found.append(Reminder("overdue", Message("{count} more invoices are overdue.", count=more)))
    return found


def _review() -> list[Reminder]:
    count = MoneyTransaction.select().where(MoneyTransaction.match_status == MatchStatus.REVIEW).count()
    if not count:
        return []
    return [
        Reminder(
            "review",
            Message("{count} bank movements wait for you to say which invoice they pay.", count=count),
            Message("Open Bank transactions (b) and link or ignore them."),
        )
    ]


def _failed() -> list[Reminder]:
    found = []
    for config in (
        PluginConfiguration.select().where(PluginConfiguration.enabled).order_by(PluginConfiguration.plugin_name)
    ):
        last = (
            SyncHistory.select()
            .where((SyncHistory.plugin_name == config.plugin_name) & ~SyncHistory.preview)
            .order_by(SyncHistory.id.desc())
            .first()
        )
        if last is not None and last.status == RunStatus.FAILED:
            found.append(
                Reminder(
                    "failed",
                    Message(
                        "The last sync of {name} failed: {error}",
                        name=config.plugin_name,
                        error=(last.error_message or "").splitlines()[0] if last.error_message else "?",
                    ),
                    Message("Open Sync history (h) for its log, fix the cause, then sync again (p)."),
                )
            )
    return found


def expiry_day(config: PluginConfiguration, key: str) -> date | None:
    """The day secret ``key`` of a configured plugin stops working, when its plugin declares one."""
    plugin = registry().get(config.plugin_name)
    if plugin is None:
        return None
    fields = {field.key: field for field in plugin.fields}
    for field in fields.values():
        if field.expiry_of == key and (config.settings or {}).get(field.key):
            try:
                return date.fromisoformat(str(config.settings[field.key]))
            except ValueError:
                pass
    days = fields[key].expires_after_days if key in fields else None
    entered = (config.secrets_entered or {}).get(key)
    if days and entered:
        try:
            return date.fromisoformat(entered) + timedelta(days=days)
        except ValueError:
            return None
    return None


def _expiring(today: date) -> list[Reminder]:
    found = []
    for config in PluginConfiguration.select().order_by(PluginConfiguration.plugin_name):
        plugin = registry().get(config.plugin_name)
        if plugin is None or not config.credentials:
            continue
        for field in plugin.fields:
            if not field.secret:
                continue
            day = expiry_day(config, field.key)
            if day is None or (day - today).days > WARN_DAYS:
                continue
            left = (day - today).days
            if left > 0:
                text = Message(
                    "The {label} of {name} expires in {days} days ({day}).",
                    label=Message(field.label),
                    name=config.plugin_name,
                    days=left,
                    day=day.isoformat(),
                )
            elif left == 0:
                text = Message(
                    "The {label} of {name} expires today.", label=Message(field.label), name=config.plugin_name
                )
            else:
                text = Message(
                    "The {label} of {name} expired {days} days ago ({day}).",
                    label=Message(field.label),
                    name=config.plugin_name,
                    days=-left,
                    day=day.isoformat(),
                )
            found.append(
                Reminder(
                    "expiring",
                    text,
                    Message(
                        "Make a new one and enter it: Plugins (p), {name}, e; or "
                        "'fakturka plugins configure {name} --secret {key}'.",
                        name=config.plugin_name,
                        key=field.key,
                    ),
                )
            )
    return found


def reminders(today: date | None = None) -> list[Reminder]:
    """Everything that needs the person today, the most pressing kinds first."""
    today = today or date.today()
    return _expiring(today) + _failed() + _overdue(today) + _review()


def read_reminders(today: date | None = None) -> list[Reminder]:
    """:func:`reminders` for a thread of its own (a screen's worker): with a connection of its own, closed
    when done, so the screen shows its figures at once and these a moment later."""
    with db.connection_context():
        return reminders(today)
