"""Running the recurring rules: every occurrence due up to today, created once, audited as ``recurring``.

Each rule is handled in its own write transaction, which re-reads the rule first: two runs started at
once (``run-due`` from cron while the app runs it too) queue on SQLite's write lock, and the second
finds the occurrences already handled. The records carry their rule and occurrence in
``external_id`` (``rule:<id>:<date>``, unique with ``source = "recurring"``), so even a rule read
twice could not create an occurrence twice. A run that had something to do is one sync history row
named ``recurring`` with its created and skipped counts and a log line per occurrence; a run with
nothing due leaves no row (cron may start it every few minutes).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from peewee import DatabaseError

from core.automation.rules import SOURCE, occurrence_on_or_after, occurrences, period_of
from core.billing import invoice_status, invoicing
from core.billing.timesheet import EntryInput, add_entry
from core.errors import FakturkaError
from core.store.audit import audit_context
from core.store.db import describe_database_error
from core.store.models import MoneyTransaction, RecurringRule, SyncHistory, WorkEntry
from core.store.states import RunStatus
from core.store.write_lock import write_transaction
from core.values.messages import Amount, Message, in_language, message_of
from core.values.money import from_minor
from core.values.timeutil import utcnow

CREATED_WHAT = {"work": Message("work entry"), "income": Message("income"), "expense": Message("expense")}


@dataclass
class RecurringOutcome:
    created: int = 0
    skipped: int = 0
    invoices: list[str] = field(default_factory=list)  # numbers of the invoices the run issued
    failures: list[Message] = field(default_factory=list)  # one sentence per rule that failed
    run_id: int | None = None  # its sync history row; None when nothing was due
    log: list[str] = field(default_factory=list)


def record_id(rule_id: int, day: date) -> str:
    """The external id of what rule ``rule_id`` created for ``day``."""
    return f"rule:{rule_id}:{day.isoformat()}"


def _id_range(rule_id: int):
    """Bounds for the ids of one rule's records (``rule:5:`` up to ``rule:5;``, ';' sorting after ':')."""
    return f"rule:{rule_id}:", f"rule:{rule_id};"


def rule_records(rule: RecurringRule, limit: int = 5) -> list[tuple[date, str, int, str]]:
    """What the rule created, newest first: (day, "work" or the movement's type, amount, currency)."""
    low, high = _id_range(rule.id)
    found: list[tuple[date, str, int, str]] = []
    entries = (
        WorkEntry.select()
        .where((WorkEntry.source == SOURCE) & (WorkEntry.external_id >= low) & (WorkEntry.external_id < high))
        .order_by(WorkEntry.date.desc())
        .limit(limit)
    )
    found += [(e.date, "work", e.fixed_amount or 0, e.project.client.currency) for e in entries]
    movements = (
        MoneyTransaction.select()
        .where(
            (MoneyTransaction.source == SOURCE)
            & (MoneyTransaction.external_id >= low)
            & (MoneyTransaction.external_id < high)
        )
        .order_by(MoneyTransaction.transacted_on.desc())
        .limit(limit)
    )
    found += [(m.transacted_on, m.transaction_type, m.amount, m.currency) for m in movements]
    return sorted(found, reverse=True)[:limit]


def due_rules(today: date) -> list[RecurringRule]:
    """Enabled rules with an occurrence on or before ``today`` still to handle."""
    return list(
        RecurringRule.select()
        .where(
            RecurringRule.enabled
            & RecurringRule.next_on.is_null(False)
            & (RecurringRule.next_on <= today)
            & (RecurringRule.end_on.is_null() | (RecurringRule.next_on <= RecurringRule.end_on))
        )
        .order_by(RecurringRule.id)
    )


def _create(rule: RecurringRule, day: date) -> None:
    """The occurrence's record (and, for a retainer that issues them, the period's invoice)."""
    text = rule.description or rule.name
    if rule.creates == "work":
        amount = str(from_minor(rule.amount, rule.currency))
        data = EntryInput(project=rule.project, date=day, description=text, fixed=amount)
        add_entry(data, source=SOURCE, external_id=record_id(rule.id, day))
        return
    MoneyTransaction.create(
        source=SOURCE,
        external_id=record_id(rule.id, day),
        transaction_type=rule.creates,
        amount=rule.amount,
        currency=rule.currency,
        transacted_on=day,
        description=text,
        counterparty=rule.counterparty,
    )


def _issue_invoice(rule: RecurringRule, day: date) -> str:
    """The invoice of the occurrence's period for the project's client, from that period's unbilled work."""
    since, until = period_of(rule, day)
    invoice = invoicing.create_invoice(rule.project.client, since=since, until=min(until, day), issued_on=day)
    if rule.invoice == "sent":
        invoice_status.mark_sent(invoice, on=day)
    return invoice.number


def _handle(rule_id: int, today: date, outcome: RecurringOutcome, say) -> None:
    """Every due occurrence of one rule, in one transaction: all of them, or (on a failure) none."""
    with write_transaction():
        rule = RecurringRule.get_or_none(RecurringRule.id == rule_id)  # as it is now, not as listed
        if rule is None or not rule.enabled or rule.next_on is None or rule.next_on > today:
            return  # deleted, disabled or handled by another run meanwhile
        last = min(today, rule.end_on) if rule.end_on else today
        created = skipped = 0
        issued: list[str] = []
        handled = None
        for day in occurrences(rule, rule.next_on, last):
            handled = day
            if rule.amount == 0:
                skipped += 1
                say(Message("{rule}: {day} skipped (the amount is 0)", rule=rule.name, day=day.isoformat()))
                continue
            _create(rule, day)
            created += 1
            say(
                Message(
                    "{rule}: {day} created ({what}, {amount})",
                    rule=rule.name,
                    day=day.isoformat(),
                    what=CREATED_WHAT[rule.creates],
                    amount=Amount(rule.amount, rule.currency),
                )
            )
            if rule.creates == "work" and rule.invoice:
                number = _issue_invoice(rule, day)
                issued.append(number)
                say(
                    Message(
                        "{rule}: invoice {number} issued ({state})", rule=rule.name, number=number, state=rule.invoice
                    )
                )
        if handled is None:
            return
        rule.last_on = handled
        rule.next_on = occurrence_on_or_after(rule, handled + timedelta(days=1))
        rule.save()
    outcome.created += created
    outcome.skipped += skipped
    outcome.invoices += issued


def run_recurring(today: date | None = None, *, trigger: str = "cli", language: str = "en") -> RecurringOutcome:
    """Handle every due occurrence of every enabled rule; a failed rule is said and the others still run."""
    today = today or date.today()
    outcome = RecurringOutcome()
    rules = due_rules(today)
    if not rules:
        return outcome

    def say(message: Message) -> None:
        outcome.log.append(f"{datetime.now():%H:%M:%S} {'INFO':<7} {in_language(message, language)}")

    with write_transaction():
        run = SyncHistory.create(
            plugin_name=SOURCE, status=RunStatus.RUNNING, trigger=trigger, started_at=utcnow(), updated_at=utcnow()
        )
    outcome.run_id = run.id
    for rule in rules:
        try:
            with audit_context(SOURCE, run.id):
                _handle(rule.id, today, outcome, say)
        except (FakturkaError, DatabaseError) as exc:
            reason = message_of(exc) if isinstance(exc, FakturkaError) else describe_database_error(exc)
            failure = Message("Recurring rule {rule} failed: {reason}", rule=rule.name, reason=reason)
            outcome.failures.append(failure)
            outcome.log.append(f"{datetime.now():%H:%M:%S} {'ERROR':<7} {in_language(failure, language)}")
    with write_transaction():
        SyncHistory.update(
            status=RunStatus.FAILED if outcome.failures else RunStatus.COMPLETED,
            completed_at=utcnow(),
            updated_at=utcnow(),
            records_processed=outcome.created + outcome.skipped,
            records_created=outcome.created,
            records_skipped=outcome.skipped,
            error_message="\n".join(in_language(f, language) for f in outcome.failures) or None,
            metadata={"invoices": outcome.invoices} if outcome.invoices else {},
            log="\n".join(outcome.log),
        ).where(SyncHistory.id == run.id).execute()
    return outcome
