"""What a plugin sees during ``sync(ctx)``: the SyncContext, whose write helpers only collect."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from functools import lru_cache
from typing import Any, Callable

from core.platform.sync_masking import Masker
from core.store.models import Client, Invoice, MoneyTransaction, Project
from core.store.states import InvoiceStatus
from core.values.money import to_minor
from core.values.validation import check_currency

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
    ):
        self.plugin_name = plugin_name
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

    # -- logging, progress, cancellation --
    @property
    def source(self) -> str:
        return self.plugin_name

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
        line = self._masker.text(f"{stamp} {level.upper():<7} {message}")
        self.lines.append(line)
        if self._on_log:
            self._on_log(line)

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
        # Each value as the column stores it (the rows are inserted as they are: core.store.audit.insert_stored_rows).
        values = {
            "source": self.plugin_name,
            "external_id": external_id,
            "transaction_type": transaction_type,
            "amount": minor,
            "currency": currency,
            "transacted_on": transacted_on,
            "description": _text(description),
            "counterparty": _text(counterparty),
            "counterparty_account": _text(counterparty_account),
            "reference": _text(reference),
            "raw_data": raw_data or {},
        }
        # Secrets never reach stored data, whatever a plugin copies into a description.
        if self._masking:
            for key in ("description", "counterparty", "counterparty_account", "reference", "raw_data"):
                values[key] = self._masker.data(values[key])
        if external_id is None:
            self._unkeyed_transactions.append(values)
            self.counts.processed += 1
        else:
            if external_id not in self._transactions:
                self.counts.processed += 1  # a record sent twice is one record
            self._transactions[external_id] = values  # the last word for an id wins

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
        values = {
            "project": project.id if isinstance(project, Project) else project,
            "date": date,
            "minutes": minutes,
            "description": self._masker.text(description or ""),
            "billable": bool(billable),
            "source": self.plugin_name,
            "external_id": None if external_id is None else str(external_id),
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


def _checked_movement(external_id, transaction_type: str, amount, currency, transacted_on) -> tuple[int, str, date]:
    """The amount in minor units, the currency code and the day, or ValueError naming the movement."""
    try:
        if transaction_type not in MoneyTransaction.TYPES:
            raise ValueError(f"transaction_type must be 'income' or 'expense', not {transaction_type!r}")
        currency = _currency_code(currency)
        minor = to_minor(amount, currency)  # a MoneyError (ValueError) names a bad amount
        if minor <= 0:
            raise ValueError(f"amount must be positive (use transaction_type for the direction), not {amount}")
        if type(transacted_on) is not date:
            if not isinstance(transacted_on, date):
                raise ValueError(f"transacted_on must be a date, not {transacted_on!r}")
            # A datetime (or another date subclass): its day, as the column keeps it.
            transacted_on = date(transacted_on.year, transacted_on.month, transacted_on.day)
    except ValueError as exc:
        # Which of thousands of movements it was: the error reaches the person and the run's history.
        raise type(exc)(f"transaction {external_id!r}: {exc}") from None
    return minor, currency, transacted_on


def _entry_label(external_id: str | None) -> str:
    """How an error names a work entry a plugin sent: by its id in the source, when it has one."""
    return "work entry" if external_id is None else f"work entry {external_id!r}"


@lru_cache(maxsize=64)
def _checked_currency(code: str) -> str:
    return check_currency(code)  # Babel's look-up, once per code: an import checks every movement


def _currency_code(currency: Any) -> str:
    """An ISO 4217 code in capitals, or ValueError ("EURO", "", None)."""
    if type(currency) is not str:
        raise ValueError(f"currency must be a code such as 'CZK' or 'EUR', not {currency!r}")
    return _checked_currency(currency)


_TEXT_FIELD = MoneyTransaction._meta.fields["description"]


def _text(value: Any) -> str:
    """A text column's value: "" for nothing, and what the column would make of anything else."""
    if type(value) is str:
        return value
    return _TEXT_FIELD.db_value(value) if value else ""


# The columns a plugin's transaction sets, besides raw_data (stored as JSON text).
