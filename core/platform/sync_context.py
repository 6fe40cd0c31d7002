"""What a plugin sees during ``sync(ctx)``: the SyncContext, whose write helpers only collect."""

from __future__ import annotations

import hashlib
import threading
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import Any, Callable

from core.platform.sync_masking import Masker
from core.platform.sync_values import (  # noqa: F401 - RefusedValue and stored_raw_data: public here too
    _CURRENCIES,
    _TRANSACTION_TYPES,
    RefusedValue,
    _currency_code,
    _entry_label,
    _id_text,
    _movement_label,
    _one_line,
    _text,
    stored_raw_data,
)
from core.store.models import Client, Invoice, Project
from core.store.states import InvoiceStatus
from core.values.limits import (
    EARLIEST_DATE,
    LATEST_DATE,
    MAX_LOG_LINE,
    MAX_TEXT_LENGTH,
    check_date_span,
    check_entry_minutes,
)
from core.values.messages import Message, in_language, message_of
from core.values.money import MoneyError, from_minor, to_minor
from core.values.text import ELLIPSIS, clean_text
from core.values.validation import ValidationError

LOG_LEVELS = ("debug", "info", "warning", "error")
_date = date  # add_work_entry's keyword argument "date" hides the type there
LogCallback = Callable[[str], None]
ProgressCallback = Callable[[int, int], None]


class SyncCancelled(BaseException):
    """Raised inside a plugin at its next ctx call after the person cancelled."""


# -- what a plugin sees --------------------------------------------------------------------


@dataclass
class Counts:
    processed: int = 0
    created: int = 0
    updated: int = 0
    skipped: int = 0


@dataclass
class Preview:
    """What a dry run would have done (``run_sync(..., dry_run=True)``); nothing of it was saved.

    ``unchanged`` are records the source sent again as they are stored; ``skipped`` are records the plugin
    left out (``ctx.skip``), ``skip_reasons`` each reason (in the run's language) with its count.
    ``invoices_paid`` are the numbers of the invoices the run would have marked paid."""

    processed: int = 0
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    skipped: int = 0
    skip_reasons: list[tuple[str, int]] = field(default_factory=list)
    invoices_paid: list[str] = field(default_factory=list)


@dataclass
class ApplyResult:
    """What the commit step did; after-apply hooks (matching) read and add to it."""

    created_transactions: list[int] = field(default_factory=list)
    updated_transactions: list[int] = field(default_factory=list)


class SyncContext:
    """Everything a plugin may use during ``sync(ctx)``. See docs/plugins.md."""

    def __init__(
        self,
        plugin_name: str,
        run_id: int,
        credentials: dict,
        settings: dict,
        state: dict,
        masker: Masker,
        on_log: LogCallback | None = None,
        on_progress: ProgressCallback | None = None,
        cancel_event: threading.Event | None = None,
        language: str = "en",
        dry_run: bool = False,
    ):
        self.plugin_name = plugin_name
        self._dry_run = dry_run
        # The log is written in the language of whoever started the run (a Message is translated).
        self.language = language
        self.run_id = run_id
        self.credentials = dict(credentials)
        self.settings = dict(settings)
        self.state: dict[str, Any] = dict(state or {})
        self.metadata: dict[str, Any] = {}
        self.counts = Counts()
        self._masker = masker
        self._masking = masker.active  # read once: upsert_transaction runs per movement
        self._on_log = on_log
        self._on_progress = on_progress
        self._cancel = cancel_event or threading.Event()
        self.lines: list[str] = []
        self._transactions: dict[str, dict[str, Any]] = {}  # by external_id: the last word for an id wins
        self._unkeyed_transactions: list[dict[str, Any]] = []
        # Keyed by external_id (the last word for an id wins, as for transactions); unkeyed ones by order.
        self._entries: dict[Any, dict[str, Any]] = {}
        self._deferred: list[Callable[[], Any]] = []
        self._skips: dict[str, int] = {}  # reason -> records left out for it (ctx.skip)

    # -- logging, progress, cancellation --
    @property
    def source(self) -> str:
        return self.plugin_name

    @property
    def dry_run(self) -> bool:
        """True in a preview: the run's writes are rolled back at the end (the plugin need not care)."""
        return self._dry_run

    @property
    def cancelled(self) -> bool:
        return self._cancel.is_set()

    def check_cancelled(self) -> None:
        if self._cancel.is_set():
            raise SyncCancelled("Cancelled by the user.")

    def log(self, message: str, level: str = "info") -> None:
        self.check_cancelled()
        if level not in LOG_LEVELS:
            raise ValueError(f"log level {level!r} is not one of {', '.join(LOG_LEVELS)}")
        self._emit(message, level)

    def _emit(self, message: str, level: str = "info") -> None:
        stamp = datetime.now().strftime("%H:%M:%S")
        text = message if type(message) is str else in_language(message, self.language)
        if not text.isprintable():  # a control character (or a mark that only looks like one): one clean line
            text = clean_text(text)
        # Masked before it is cut: a cut through a secret would leave its first half in the clear.
        line = self._masker.text(f"{stamp} {level.upper():<7} {text}")
        if len(line) > MAX_LOG_LINE:
            line = line[: MAX_LOG_LINE - 1] + ELLIPSIS
        self.lines.append(line)
        if self._on_log:
            self._on_log(line)

    def skip(self, reason: str, count: int = 1) -> None:
        """Say that ``count`` records of the source were left out, and why (a short phrase, e.g.
        "not billable"). The run's log ends with each reason and its count; a preview lists them."""
        self.check_cancelled()
        if not isinstance(count, int) or isinstance(count, bool) or count < 0:
            raise ValueError(f"skip count must be a whole number of records, not {count!r}")
        if count:
            self._skips[reason] = self._skips.get(reason, 0) + count

    def _skip_summary(self) -> Message | None:
        """The log line of the records the plugin left out, each reason with its count; None when none were."""
        if not self._skips:
            return None
        reasons = Listed(
            (Message("{reason} ({count})", reason=reason, count=count) for reason, count in self._skips.items()),
            "; ",
        )
        return Message("Skipped {count}: {reasons}.", count=sum(self._skips.values()), reasons=reasons)

    def progress(self, done: int, total: int) -> None:
        self.check_cancelled()
        if self._on_progress:
            self._on_progress(done, total)

    # -- write helpers (collected now, applied at the end in one transaction) --
    def upsert_transaction(
        self,
        *,
        external_id: str | None,
        transaction_type: str,
        amount: Decimal | str | int,
        currency: str,
        transacted_on: date,
        description: str = "",
        counterparty: str = "",
        counterparty_account: str = "",
        reference: str = "",
        raw_data: dict | None = None,
    ) -> None:
        """Create or update a money transaction identified by ``(plugin name, external_id)``.

        ``amount`` is positive; ``transaction_type`` says which way it went
        ("income" or "expense"). Re-sending an unchanged one counts as skipped.
        """
        # Called once per bank movement (100,000 in a large import): kept to plain statements.
        if self._cancel.is_set():
            raise SyncCancelled("Cancelled by the user.")
        minor, currency, transacted_on = _checked_movement(
            external_id, transaction_type, amount, currency, transacted_on
        )
        if external_id is not None and type(external_id) is not str:
            external_id = str(external_id)
        # The usual movement (short printable strings, a flat raw_data) passes on a few C-level tests; anything
        # else is cleaned, or refused, field by field. Only text has isprintable(): None or a number goes the
        # long way (AttributeError).
        try:
            plain = (
                description.isprintable()
                and counterparty.isprintable()
                and counterparty_account.isprintable()
                and reference.isprintable()
                and len(description) + len(counterparty) + len(counterparty_account) + len(reference) <= MAX_TEXT_LENGTH
                and (external_id is None or (external_id.isprintable() and len(external_id) <= MAX_TEXT_LENGTH))
            )
        except AttributeError:
            plain = False
        if not plain:
            where = _movement_label(external_id)
            if external_id is not None:
                external_id = _one_line(external_id, Message("id"), where)
            description = _one_line(_text(description), Message("description"), where)
            counterparty = _one_line(_text(counterparty), Message("counterparty"), where)
            counterparty_account = _one_line(_text(counterparty_account), Message("counterparty account"), where)
            reference = _one_line(_text(reference), Message("reference"), where)
        if not raw_data:
            raw_data = {}
        # raw_data is cleaned (or refused) when the row is written, by stored_raw_data(): a re-run's
        # unchanged documents equal their stored, already clean, copies and need no look (0.8 us each).
        # Each value as the column stores it (the rows are inserted as they are: core.store.audit.insert_stored_rows).
        values = {
            "source": self.plugin_name,
            "external_id": external_id,
            "transaction_type": transaction_type,
            "amount": minor,
            "currency": currency,
            "transacted_on": transacted_on,
            "description": description,
            "counterparty": counterparty,
            "counterparty_account": counterparty_account,
            "reference": reference,
            "raw_data": raw_data,
        }
        # Secrets never reach stored data, whatever a plugin copies into a description.
        if self._masking:
            for key in ("description", "counterparty", "counterparty_account", "reference", "raw_data"):
                values[key] = self._masker.data(values[key])
        if external_id is None:
            self._unkeyed_transactions.append(values)
            self.counts.processed += 1
            return
        earlier = self._transactions.get(external_id)
        if earlier is None:
            self.counts.processed += 1
        elif not same_booking(earlier, values):
            # The id is taken by a different movement (another file reusing a bank reference): both are kept.
            external_id = values["external_id"] = collision_id(external_id, values)
            self._emit(collision_note(earlier, values), "warning")
            if external_id not in self._transactions:
                self.counts.processed += 1
        self._transactions[external_id] = values  # the same movement sent again: the last word wins

    def add_work_entry(
        self,
        *,
        project: Project,
        date: date,
        minutes: int,
        description: str = "",
        billable: bool = True,
        external_id: str | None = None,
    ) -> None:
        """Add a time entry; with ``external_id`` it is upserted by ``(plugin name, external_id)``."""
        self.check_cancelled()
        where = _entry_label(external_id)
        if not isinstance(minutes, int) or isinstance(minutes, bool) or minutes <= 0:
            raise ValueError(f"{where}: minutes must be a positive whole number, not {minutes!r}")
        if not isinstance(date, _date):
            raise ValueError(f"{where}: date must be a date, not {date!r}")
        if type(date) is not _date:  # a datetime: its day, as the column keeps it
            date = _date(date.year, date.month, date.day)
        if not isinstance(project, Project) and (not isinstance(project, int) or isinstance(project, bool)):
            raise ValueError(f"{where}: project must be a Project from ctx.projects() or its id, not {project!r}")
        # The same ranges the command line and the form keep (a 99,999,999-hour entry, the year 9999).
        try:
            check_entry_minutes(minutes)
            check_date_span(date)
        except ValidationError as exc:
            if external_id is None:
                raise RefusedValue(Message("work entry: {error}", error=message_of(exc))) from None
            raise RefusedValue(
                Message("work entry {id}: {error}", id=_id_text(external_id), error=message_of(exc))
            ) from None
        if external_id is not None:
            external_id = _one_line(str(external_id), Message("id"), where)
        values = {
            "project": project.id if isinstance(project, Project) else project,
            "date": date,
            "minutes": minutes,
            "description": self._masker.text(_one_line(_text(description), Message("description"), where)),
            "billable": bool(billable),
            "source": self.plugin_name,
            "external_id": external_id,
            "kind": "time",
        }
        key = values["external_id"] if values["external_id"] is not None else (None, len(self._entries))
        if key not in self._entries:
            self.counts.processed += 1
        self._entries[key] = values

    def apply(self, write: Callable[[], Any]) -> None:
        """Run ``write()`` (direct model writes) inside the run's final transaction."""
        self.check_cancelled()
        self._deferred.append(write)

    # -- reads --
    def clients(self) -> list[Client]:
        return list(Client.select().where(Client.archived == False))  # noqa: E712

    def projects(self) -> list[Project]:
        return list(Project.select(Project, Client).join(Client).where(Project.archived == False))  # noqa: E712

    def open_invoices(self) -> list[Invoice]:
        return list(Invoice.select().where(Invoice.status == InvoiceStatus.SENT))


class Listed(Message):
    """Messages in a row, separated by ``separator``: a list inside a sentence, each item said in the face's
    language."""

    def __new__(cls, items, separator: str = ", ") -> Listed:
        items = tuple(items)
        self = str.__new__(cls, separator.join(items))
        self.msgid, self.params, self.items, self.separator = str.__str__(self), {}, items, separator
        return self

    def translated(self, lang: str) -> str:
        return self.separator.join(in_language(item, lang) for item in self.items)

    def __reduce__(self):
        return (Listed, (self.items, self.separator))


def _checked_movement(external_id, transaction_type: str, amount, currency, transacted_on) -> tuple[int, str, date]:
    """The amount in minor units, the currency code and the day, or ValueError naming the movement."""
    try:
        if transaction_type not in _TRANSACTION_TYPES:
            raise ValueError(f"transaction_type must be 'income' or 'expense', not {transaction_type!r}")
        checked = _CURRENCIES.get(currency) if type(currency) is str else None
        currency = checked if checked is not None else _currency_code(currency)
        minor = to_minor(amount, currency)  # a MoneyError (ValueError) names a bad amount
        if minor <= 0:
            raise ValueError(f"amount must be positive (use transaction_type for the direction), not {amount}")
        if type(transacted_on) is not date:
            if not isinstance(transacted_on, date):
                raise ValueError(f"transacted_on must be a date, not {transacted_on!r}")
            # A datetime (or another date subclass): its day, as the column keeps it.
            transacted_on = date(transacted_on.year, transacted_on.month, transacted_on.day)
        if not EARLIEST_DATE <= transacted_on <= LATEST_DATE:
            check_date_span(transacted_on, "transacted_on")  # the sentence
    except (ValidationError, MoneyError) as exc:
        # The source's data is wrong (a year 9999, currency XXX, 1e30 CZK): a sentence, not a plugin bug.
        raise RefusedValue(
            Message("transaction {id}: {error}", id=_id_text(external_id), error=message_of(exc))
        ) from None
    except ValueError as exc:
        # Which of thousands of movements it was: the error reaches the person and the run's history.
        raise type(exc)(f"{_movement_label(external_id)}: {exc}") from None
    return minor, currency, transacted_on


# What a booked movement never changes: the same id with other values here is another movement.
BOOKED_FACTS = ("transaction_type", "amount", "currency", "transacted_on")


def same_booking(one: dict, other: dict) -> bool:
    return (
        one["amount"] == other["amount"]
        and one["transacted_on"] == other["transacted_on"]
        and one["transaction_type"] == other["transaction_type"]
        and one["currency"] == other["currency"]
    )


def collision_id(external_id: str, values: dict) -> str:
    """The id a movement is kept under when its own id is taken by a different movement: derived from
    its booked facts, so a re-run finds it again (and it cannot collide itself)."""
    facts = "|".join(str(values[name]) for name in BOOKED_FACTS)
    return f"{external_id}#{hashlib.sha256(facts.encode()).hexdigest()[:10]}"


def booking_text(values: dict) -> Message:
    sign = "-" if values["transaction_type"] == "expense" else ""
    amount = from_minor(values["amount"], values["currency"])
    return Message(
        "{amount} {currency} on {day}",
        amount=f"{sign}{amount}",
        currency=values["currency"],
        day=values["transacted_on"],
    )


def collision_note(kept: dict, other: dict) -> Message:
    """The log line for a reused bank reference: both movements, and the id the second one is kept under."""
    return Message(
        "transaction {id} is {booking}, but another movement with the same id is {other}: a booked movement never "
        "changes, so both are kept, the other one as {other_id}.",
        id=_id_text(kept["external_id"]),
        booking=booking_text(kept),
        other=booking_text(other),
        other_id=_id_text(other["external_id"]),
    )
