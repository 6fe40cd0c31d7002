"""The sync engine: runs one plugin, records the run, lands its writes all-or-nothing.

A run, step by step (``run_sync``):

1. Refuse before anything runs: unknown plugin, disabled, missing required
   fields, credentials that cannot be decrypted, or the plugin already
   syncing in any process (a ``flock`` per plugin, released by the OS if the
   process dies).
2. A ``sync_histories`` row goes pending -> running.
3. The plugin's ``sync(ctx)`` runs with no transaction open: it downloads
   and calls the ``ctx`` write helpers, which only collect. A direct model
   write here is refused (it would escape the all-or-nothing guarantee);
   ``ctx.apply(fn)`` defers one to the commit instead.
4. One IMMEDIATE transaction applies everything, with audit rows under the
   plugin's name and the run's id, runs the after-apply hooks (payment
   matching), saves the new ``state`` and completes the history row. The
   write lock is held only for this step, never across a network wait.
5. On any error or a cancel, nothing of the run is written; the history row
   becomes failed with the message (and the backtrace of an unexpected error).

Every string stored or shown from a run has the plugin's secret values
replaced by ``***``, including URL-encoded forms.
"""

from __future__ import annotations

import asyncio
import contextvars
import inspect
import json
import operator
import re
import threading
import traceback
from dataclasses import dataclass, field
from datetime import date, datetime, timezone
from decimal import Decimal
from functools import lru_cache
from typing import Any, Callable, Collection, Iterable

from core.errors import FakturkaError
from core.platform import credentials as creds
from core.platform import plugin_config
from core.plugins import UnknownPlugin, get_plugin
from core.plugins.base import SyncError
from core.store.audit import audit_context, insert_stored_rows, write_block
from core.store.base import json_text
from core.store.db import db
from core.store.gcpause import gc_paused
from core.store.locks import FileLock, LockBusy, is_locked
from core.store.models import Client, Invoice, MoneyTransaction, PluginConfiguration, Project, SyncHistory, WorkEntry
from core.values.money import to_minor
from core.values.timeutil import utcnow
from core.values.validation import check_currency

MASK = "***"
LOG_LEVELS = ("debug", "info", "warning", "error")
_date = date  # add_work_entry's keyword argument "date" hides the type there
TRIGGER_LABELS = {"tui": "the TUI", "cli": "the command line", "schedule": "the scheduler"}
LogCallback = Callable[[str], None]
ProgressCallback = Callable[[int, int], None]


class SyncRefused(FakturkaError):
    """The run was refused before it started; the message says why and what to do."""


class SyncCancelled(BaseException):
    """Raised inside a plugin at its next ctx call after the person cancelled."""


# -- secrets never leave the run --------------------------------------------------------

# Only for scanning a document for secrets (Masker): keys as given, anything unknown as its str().
_json_for_scan = json.JSONEncoder(ensure_ascii=False, default=str).encode


class Masker:
    """Replaces every form of the secret values with ``***`` in strings and nested data.

    Each character of a secret may appear as itself or percent-encoded (either
    hex case; a space also as ``+``), because HTTP clients encode URLs
    differently: httpx keeps ``+&=`` in a path but encodes the space, a query
    string encodes them all. One regular expression per run matches every mix.
    """

    def __init__(self, secrets: Iterable[str]):
        patterns: set[str] = set()
        self._literals: list[str] = []
        for secret in secrets:
            if not isinstance(secret, str) or len(secret) < 3:
                continue  # too short to mask without mangling ordinary text
            patterns.add("".join(self._char_pattern(ch) for ch in secret))
            self._literals.append(secret)
        self._escaped_literals = [_json_for_scan(secret)[1:-1] for secret in self._literals]
        self._plus_for_space = any(" " in secret for secret in self._literals)
        self._regex = re.compile("|".join(sorted(patterns, key=len, reverse=True))) if patterns else None

    @staticmethod
    def _char_pattern(ch: str) -> str:
        encoded = "".join(f"%{byte:02X}" for byte in ch.encode("utf-8"))
        options = [re.escape(ch), f"(?i:{re.escape(encoded)})"]
        if ch == " ":
            options.append(r"\+")
        return f"(?:{'|'.join(options)})"

    @property
    def active(self) -> bool:
        """False when there is no secret to mask (the plugin has no credentials)."""
        return self._regex is not None

    def text(self, value: str) -> str:
        if self._regex is None:
            return value
        # Without an encoded form only the secret as written can occur: a substring test rules most text
        # out (every field of every imported movement passes here, and the regular expression is slow).
        if not self._encoded(value) and not any(secret in value for secret in self._literals):
            return value
        return self._regex.sub(MASK, value)

    def data(self, value: Any) -> Any:
        if self._regex is None:
            return value  # no secrets to mask: nothing to walk
        if isinstance(value, str):
            return self.text(value)
        if isinstance(value, (dict, list, tuple)) and not self._may_hold_secret(value):
            return value
        return self._walk(value)

    def _may_hold_secret(self, value: dict | list | tuple) -> bool:
        """One substring test over the whole document instead of one per value (a bank movement has
        dozens). JSON escapes character by character, so a secret inside reads as its own escaped form."""
        try:
            blob = _json_for_scan(value)
        except (TypeError, ValueError):  # not JSON-like (e.g. a cycle): walk it
            return True
        return self._encoded(blob) or any(secret in blob for secret in self._escaped_literals)

    def _encoded(self, text: str) -> bool:
        """Whether ``text`` could hold a secret in encoded form (percent-encoded, or "+" for a space)."""
        return "%" in text or (self._plus_for_space and "+" in text)

    def _walk(self, value: Any) -> Any:
        if isinstance(value, str):
            return self.text(value)
        if isinstance(value, dict):
            return {self._walk(k): self._walk(v) for k, v in value.items()}
        if isinstance(value, (list, tuple)):
            return [self._walk(v) for v in value]
        return value


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
        return list(Invoice.select().where(Invoice.status == "sent"))


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


# -- applying what a run collected -------------------------------------------------------

_TEXT_FIELD = MoneyTransaction._meta.fields["description"]


def _text(value: Any) -> str:
    """A text column's value: "" for nothing, and what the column would make of anything else."""
    if type(value) is str:
        return value
    return _TEXT_FIELD.db_value(value) if value else ""


# The columns a plugin's transaction sets, besides raw_data (stored as JSON text).
TX_INSERTED = (
    "source",
    "external_id",
    "transaction_type",
    "amount",
    "currency",
    "transacted_on",
    "description",
    "counterparty",
    "counterparty_account",
    "reference",
)
TX_COMPARED = (
    "transaction_type",
    "amount",
    "currency",
    "description",
    "transacted_on",
    "counterparty",
    "counterparty_account",
    "reference",
    "raw_data",
)


# Called inside the commit transaction after the plugin's writes: (ctx, result).
def match_new_payments(ctx: SyncContext, result: ApplyResult) -> None:
    """After a sync that brought transactions: match incoming ones to invoices, in the same
    transaction (so the matches are audited under the plugin and the run, and land atomically),
    and say in the log what was matched and what needs review."""
    from core.banking.matching import match_transactions

    ids = result.created_transactions + result.updated_transactions
    if not ids:
        return
    report = match_transactions(ids)
    for line in report.lines():
        ctx._emit(line)
    if report.paid_invoices:
        ctx._emit(f"Invoices now paid: {', '.join(report.paid_invoices)}")
    if report.matched or report.review:
        ctx.metadata["matched"] = len(report.matched)
        ctx.metadata["needs_review"] = len(report.review)
        ctx.metadata["paid_invoices"] = report.paid_invoices


AFTER_APPLY: list[Callable[[SyncContext, ApplyResult], None]] = [match_new_payments]


def _normalised(model, name: str, value: Any) -> Any:
    field_ = model._meta.fields[name]
    return field_.python_value(field_.db_value(value))


_scan_json = json.JSONDecoder().scan_once  # the C scanner, without decode()'s whitespace regexes


def _same_document(text: str | None, value: Any) -> bool:
    """Whether stored JSON ``text`` (written by JSONField: compact, nothing around it) equals ``value``."""
    if text is None:
        return False
    try:
        document, end = _scan_json(text, 0)
    except StopIteration:
        return False
    return end == len(text) and document == value


_LOOKUP_CHUNK = 1000  # external ids per "IN (...)" look-up


def _stored_transactions(plugin_name: str, external_ids: Collection[str], columns: str) -> Iterable[tuple]:
    """The stored rows of this plugin (``id, external_id, columns``) among ``external_ids``, possibly more.

    When a run sends most of what the plugin has stored (a re-import of the
    whole history, the usual way a bank plugin starts), one pass over the
    plugin's rows costs less than a look-up per id; otherwise the ids are
    looked up in chunks. The caller ignores rows it did not send.
    """
    meta = MoneyTransaction._meta
    select = f'SELECT "id", "external_id", {columns} FROM "{meta.table_name}" WHERE "source" = ?'
    stored = db.execute_sql(f'SELECT count(*) FROM "{meta.table_name}" WHERE "source" = ?', (plugin_name,)).fetchone()[
        0
    ]
    if stored == 0:
        return
    # Measured (bench/sync_engine.py): a look-up costs about 1.4 stored rows passed over.
    if stored <= len(external_ids) * 1.4:
        yield from db.execute_sql(select, (plugin_name,))
        return
    external_ids = list(external_ids)
    for start in range(0, len(external_ids), _LOOKUP_CHUNK):
        chunk = external_ids[start : start + _LOOKUP_CHUNK]
        yield from db.execute_sql(
            f'{select} AND "external_id" IN ({", ".join("?" * len(chunk))})', [plugin_name, *chunk]
        )


def _apply_transactions(ctx: SyncContext, result: ApplyResult) -> None:
    pending = ctx._transactions
    meta = MoneyTransaction._meta
    # The quick check, per row: the plain columns as one tuple, the date as its ISO text, raw_data as a
    # decoded document (decoding is cheaper than encoding). upsert_transaction stored each value as the
    # column keeps it, so equal means unchanged; a failed quick check goes to the exact check below.
    # (Comparing in SQLite, with the new values staged in a temporary table, was measured slower.)
    plain = tuple(name for name in TX_COMPARED if name not in ("transacted_on", "raw_data"))
    picked = operator.itemgetter(*plain)
    columns = ", ".join(f'"{meta.fields[name].column_name}"' for name in (*plain, "transacted_on", "raw_data"))
    seen: list[str] = []  # external ids this run sent that are stored
    differing: dict[str, int] = {}  # external id -> row id, for the exact check
    sent, was_seen, same_document = pending.get, seen.append, _same_document  # locals: a 100,000-row loop
    for stored in _stored_transactions(ctx.plugin_name, pending, columns):
        values = sent(stored[1])
        if values is None:
            continue  # stored, but not in this run
        was_seen(stored[1])
        if (
            stored[2:-2] != picked(values)
            or stored[-2] != values["transacted_on"].isoformat()
            or not same_document(stored[-1], values["raw_data"])
        ):
            differing[stored[1]] = stored[0]
    ctx.counts.skipped += len(seen) - len(differing)
    new_rows: list[dict] = list(ctx._unkeyed_transactions)
    if differing or len(seen) < len(pending):
        missing = pending.keys() - set(seen)
        for external_id, values in pending.items():  # in the order the plugin sent them
            if external_id in missing:
                new_rows.append(values)
            elif external_id in differing:
                _update_if_changed(ctx, result, differing[external_id], values)
    if new_rows:
        inserted = operator.itemgetter(*TX_INSERTED)
        ids = insert_stored_rows(
            MoneyTransaction,
            (*TX_INSERTED, "raw_data"),
            [(*inserted(values), json_text(values["raw_data"])) for values in new_rows],
        )
        result.created_transactions.extend(ids)
        ctx.counts.created += len(ids)


def _update_if_changed(ctx: SyncContext, result: ApplyResult, row_id: int, values: dict) -> None:
    """The exact check, with a model, for a row the quick check could not call unchanged."""
    row = MoneyTransaction.get_by_id(row_id)
    changed = {
        name: values[name]
        for name in TX_COMPARED
        if _normalised(MoneyTransaction, name, values[name]) != getattr(row, name)
    }
    if not changed:
        ctx.counts.skipped += 1
        return
    for name, value in changed.items():
        setattr(row, name, value)
    row.save()
    ctx.counts.updated += 1
    result.updated_transactions.append(row.id)


def _apply_entries(ctx: SyncContext) -> None:
    wanted = {values["project"] for values in ctx._entries.values()}
    if wanted:
        known = {row[0] for row in Project.select(Project.id).where(Project.id.in_(list(wanted))).tuples()}
        for values in ctx._entries.values():
            if values["project"] not in known:  # named here, not as SQLite's bare "FOREIGN KEY constraint failed"
                raise ValueError(
                    f"{_entry_label(values['external_id'])}: there is no project with the id {values['project']}"
                )
    for values in ctx._entries.values():
        row = None
        if values["external_id"] is not None:
            row = WorkEntry.get_or_none(
                (WorkEntry.source == values["source"]) & (WorkEntry.external_id == values["external_id"])
            )
        if row is None:
            WorkEntry.create(**values)
            ctx.counts.created += 1
            continue
        if row.invoice_line_id is not None:
            ctx.counts.skipped += 1  # billed: an import never changes an invoiced entry
            continue
        changed = False
        for name in ("project", "date", "minutes", "description", "billable"):
            current = row.project_id if name == "project" else getattr(row, name)
            if _normalised(WorkEntry, name, values[name]) != current:
                setattr(row, name, values[name])
                changed = True
        if changed:
            row.save()
            ctx.counts.updated += 1
        else:
            ctx.counts.skipped += 1


# -- running -------------------------------------------------------------------------------


@dataclass
class SyncOutcome:
    run_id: int
    status: str
    counts: Counts
    error: str | None
    metadata: dict
    log: list[str]


def _lock_name(plugin_name: str) -> str:
    return f"sync-{plugin_name}"


def _local_time(ts: datetime | None) -> str:
    if ts is None:
        return "?"
    return ts.replace(tzinfo=timezone.utc).astimezone().strftime("%H:%M:%S")


def recover_interrupted_runs() -> int:
    """Mark runs left pending/running by a process that died as failed ("interrupted")."""
    count = 0
    for run in SyncHistory.select().where(SyncHistory.status.in_(("pending", "running"))):
        if is_locked(_lock_name(run.plugin_name)):
            continue  # still running somewhere
        SyncHistory.update(
            status="failed",
            completed_at=utcnow(),
            updated_at=utcnow(),
            error_message="Interrupted: the process running this sync stopped before it finished; "
            "nothing of it was saved. Run it again.",
        ).where((SyncHistory.id == run.id) & SyncHistory.status.in_(("pending", "running"))).execute()
        count += 1
    return count


def check_runnable(name: str) -> tuple[type, PluginConfiguration, dict]:
    """The plugin class, its configuration and decrypted credentials, or SyncRefused."""
    try:
        plugin = get_plugin(name)
    except UnknownPlugin as exc:
        raise SyncRefused(str(exc)) from None
    row = plugin_config.get_config(name)
    if row is None or not row.enabled:
        raise SyncRefused(
            f"{name} is disabled; enable it first ('fakturka plugins enable {name}', or space on the Plugins screen)."
        )
    try:
        secrets = creds.get_credentials(name)
    except creds.CredentialError as exc:
        raise SyncRefused(f"{exc}.") from None
    missing = plugin_config.missing_fields(plugin, row.settings, {k for k, v in secrets.items() if v})
    if missing:
        names = ", ".join(f"{f.label} ({f.key})" for f in missing)
        raise SyncRefused(
            f"{name} is not fully configured: missing {names}. "
            f"Configure it with 'fakturka plugins configure {name}' or on the Plugins screen."
        )
    return plugin, row, secrets


def run_sync(
    name: str,
    *,
    trigger: str = "cli",
    on_log: LogCallback | None = None,
    on_progress: ProgressCallback | None = None,
    cancel_event: threading.Event | None = None,
    on_started: Callable[[int], None] | None = None,
) -> SyncOutcome:
    """Run plugin ``name`` once. Raises SyncRefused before starting; otherwise returns the outcome."""
    recover_interrupted_runs()
    plugin_cls, config, secrets = check_runnable(name)
    lock = FileLock(_lock_name(name))
    try:
        lock.acquire()
    except LockBusy:
        running = (
            SyncHistory.select()
            .where((SyncHistory.plugin_name == name) & SyncHistory.status.in_(("pending", "running")))
            .order_by(SyncHistory.id.desc())
            .first()
        )
        if running is not None:
            by = TRIGGER_LABELS.get(running.trigger, running.trigger)
            raise SyncRefused(
                f"{name} is already syncing (started {_local_time(running.started_at)} by {by})."
            ) from None
        raise SyncRefused(f"{name} is already syncing in another process.") from None
    try:
        with gc_paused():  # a large import builds many objects that live until the run ends
            return _run_locked(plugin_cls, config, secrets, trigger, on_log, on_progress, cancel_event, on_started)
    finally:
        lock.release()


def _run_locked(plugin_cls, config, secrets, trigger, on_log, on_progress, cancel_event, on_started) -> SyncOutcome:
    name = plugin_cls.name
    masker = Masker(v for v in secrets.values() if isinstance(v, str))
    history = SyncHistory.create(plugin_name=name, status="pending", trigger=trigger)
    SyncHistory.update(status="running", started_at=utcnow(), updated_at=utcnow()).where(
        SyncHistory.id == history.id
    ).execute()
    if on_started:
        on_started(history.id)
    settings = plugin_config.effective_settings(plugin_cls, config.settings)
    ctx = SyncContext(name, history.id, secrets, settings, config.state, masker, on_log, on_progress, cancel_event)
    ctx._emit(f"{name} {plugin_cls.version}: sync started")
    try:
        token = write_block.set(f"a plugin's sync() writes through ctx helpers or ctx.apply() (plugin {name})")
        try:
            plugin = plugin_cls()
            outcome = plugin.sync(ctx)
            if inspect.isawaitable(outcome):
                _run_coroutine(outcome)
        finally:
            write_block.reset(token)
        ctx.check_cancelled()
        _commit(ctx, history.id, config.id)
    except SyncCancelled:
        ctx._emit("Cancelled by the user; nothing was saved.", "warning")
        return _fail(ctx, history.id, "Cancelled by the user; nothing was saved.", None)
    except KeyboardInterrupt:
        # ctrl+c at `fakturka sync`: close the run now, with its log, rather than leave it "running"
        # for the next start to call interrupted.
        ctx._emit("Interrupted (ctrl+c); nothing was saved.", "warning")
        _fail(ctx, history.id, "Interrupted (ctrl+c); nothing was saved.", None)
        raise
    except SyncError as exc:
        ctx._emit(str(exc), "error")
        return _fail(ctx, history.id, str(exc), None)
    except Exception as exc:  # noqa: BLE001 - a plugin bug must become a failed run, not a crash
        message = f"{name} failed: {type(exc).__name__}: {exc}"
        ctx._emit(message, "error")
        return _fail(ctx, history.id, message, traceback.format_exc())
    return SyncOutcome(history.id, "completed", ctx.counts, None, masker.data(ctx.metadata), ctx.lines)


async def _await(awaitable):
    # asyncio.run takes a coroutine; a plugin's sync may return any awaitable.
    return await awaitable


def _run_coroutine(awaitable) -> None:
    """Run an async plugin's sync to completion from this (synchronous) engine.

    Normally there is no event loop in this thread (CLI, a Textual thread
    worker) and asyncio.run is enough; when the caller already runs one, the
    coroutine gets its own thread, with this context (source, write guard).
    """
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        asyncio.run(_await(awaitable))
        return
    context = contextvars.copy_context()
    errors: list[BaseException] = []

    def target() -> None:
        try:
            context.run(asyncio.run, _await(awaitable))
        except BaseException as exc:  # noqa: BLE001 - re-raised below in the caller's thread
            errors.append(exc)

    thread = threading.Thread(target=target, name="fakturka-async-plugin")
    thread.start()
    thread.join()
    if errors:
        raise errors[0]


def _commit(ctx: SyncContext, run_id: int, config_id: int) -> None:
    result = ApplyResult()
    with db.atomic(), audit_context(ctx.plugin_name, run_id):
        _apply_transactions(ctx, result)
        _apply_entries(ctx)
        for write in ctx._deferred:
            write()
        for hook in AFTER_APPLY:
            hook(ctx, result)
        counts = ctx.counts
        ctx._emit(
            f"Done: {counts.processed} processed, {counts.created} created, {counts.updated} updated, "
            f"{counts.skipped} unchanged."
        )
        config = PluginConfiguration.get_by_id(config_id)
        # Compare what would be stored: a date in the state is kept as its ISO text.
        state = json.loads(json.dumps(ctx.state, default=str))
        if config.state != state:
            config.state = state
            config.save()
        SyncHistory.update(
            status="completed",
            completed_at=utcnow(),
            updated_at=utcnow(),
            records_processed=counts.processed,
            records_created=counts.created,
            records_updated=counts.updated,
            records_skipped=counts.skipped,
            metadata=ctx._masker.data(ctx.metadata),
            log="\n".join(ctx.lines),
        ).where(SyncHistory.id == run_id).execute()


def _fail(ctx: SyncContext, run_id: int, message: str, backtrace: str | None) -> SyncOutcome:
    masker = ctx._masker
    SyncHistory.update(
        status="failed",
        completed_at=utcnow(),
        updated_at=utcnow(),
        records_processed=ctx.counts.processed,
        records_created=0,
        records_updated=0,
        records_skipped=0,
        error_message=masker.text(message),
        error_backtrace=masker.text(backtrace) if backtrace else None,
        metadata=masker.data(ctx.metadata),
        log="\n".join(ctx.lines),
    ).where(SyncHistory.id == run_id).execute()
    return SyncOutcome(
        run_id,
        "failed",
        Counts(processed=ctx.counts.processed),
        masker.text(message),
        masker.data(ctx.metadata),
        ctx.lines,
    )
