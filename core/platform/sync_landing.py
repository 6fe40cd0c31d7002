"""Landing what a run collected: one transaction, audited under the plugin and the run, all or nothing."""

from __future__ import annotations

import json
import operator
from typing import Any, Callable, Collection, Iterable

from core.platform.sync_context import (
    BOOKED_FACTS,
    ApplyResult,
    Preview,
    SyncContext,
    _entry_label,
    collision_id,
    collision_note,
    same_booking,
    stored_raw_data,
)
from core.store.audit import audit_context, insert_stored_rows
from core.store.base import json_text
from core.store.bulk import audited_bulk_update_ids
from core.store.db import db
from core.store.models import Invoice, MoneyTransaction, PluginConfiguration, Project, SyncHistory, WorkEntry
from core.store.states import InvoiceStatus, RunStatus
from core.store.write_lock import write_transaction
from core.values.messages import Message, in_language
from core.values.timeutil import utcnow

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
    if report.paid_invoices and not ctx.dry_run:  # a preview says "Would mark paid" once it has rolled back
        ctx._emit(Message("Invoices now paid: {numbers}", numbers=", ".join(report.paid_invoices)))
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
    collisions = _land_transactions(ctx, result, pending, list(ctx._unkeyed_transactions))
    if not collisions:
        return
    # A stored movement holds the id with other booked facts (a bank reference reused in another file):
    # never an overwrite. Each newcomer is kept under an id derived from its facts, which a re-run finds.
    rekeyed: dict[str, dict] = {}
    for external_id, stored in collisions.items():
        values = pending[external_id]
        kept = {"external_id": external_id, **dict(zip(BOOKED_FACTS, stored, strict=True))}
        values["external_id"] = collision_id(external_id, values)
        ctx._emit(collision_note(kept, values), "warning")
        rekeyed[values["external_id"]] = values
    if _land_transactions(ctx, result, rekeyed, []):
        raise RuntimeError("a movement collided under the id derived from its own booked facts")


def _land_transactions(
    ctx: SyncContext, result: ApplyResult, pending: dict[str, dict], unkeyed: list[dict]
) -> dict[str, tuple]:
    """Write ``pending`` (by external id) and ``unkeyed``: new ones inserted, changed ones updated,
    unchanged ones counted. Returns the ids stored with other booked facts (``BOOKED_FACTS`` as stored),
    which are not written."""
    meta = MoneyTransaction._meta
    # The quick check, per row: the plain columns as one tuple, the date as its ISO text, raw_data as a
    # decoded document (decoding is cheaper than encoding). upsert_transaction stored each value as the
    # column keeps it, so equal means unchanged; a failed quick check goes to the exact check below.
    # (Comparing in SQLite, with the new values staged in a temporary table, was measured slower.)
    plain = tuple(name for name in TX_COMPARED if name not in ("transacted_on", "raw_data"))
    picked = operator.itemgetter(*plain)
    booked = operator.itemgetter(*(name for name in BOOKED_FACTS if name != "transacted_on"))
    booked_at = slice(2 + plain.index("transaction_type"), 2 + plain.index("currency") + 1)
    columns = ", ".join(f'"{meta.fields[name].column_name}"' for name in (*plain, "transacted_on", "raw_data"))
    seen: list[str] = []  # external ids this run sent that are stored
    differing: dict[str, int] = {}  # external id -> row id, for the exact check
    collisions: dict[str, tuple] = {}  # external id -> the stored booked facts
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
            if stored[booked_at] != booked(values) or stored[-2] != values["transacted_on"].isoformat():
                collisions[stored[1]] = (*stored[booked_at], stored[-2])
            else:
                differing[stored[1]] = stored[0]
    ctx.counts.skipped += len(seen) - len(differing) - len(collisions)
    new_rows: list[dict] = unkeyed
    if len(seen) < len(pending):
        missing = pending.keys() - set(seen)
        fresh = [values for external_id, values in pending.items() if external_id in missing]
        new_rows.extend(_not_imported_elsewhere(ctx, fresh))
    if differing:
        _update_changed(ctx, result, {differing[external_id]: pending[external_id] for external_id in differing})
    if new_rows:
        inserted = operator.itemgetter(*TX_INSERTED)
        ids = insert_stored_rows(
            MoneyTransaction,
            (*TX_INSERTED, "raw_data"),
            [
                (*inserted(values), json_text(stored_raw_data(values["raw_data"], values["external_id"])))
                for values in new_rows
            ],
        )
        result.created_transactions.extend(ids)
        ctx.counts.created += len(ids)
    return collisions


def _not_imported_elsewhere(ctx: SyncContext, fresh: list[dict]) -> list[dict]:
    """``fresh`` without the movements another plugin already stored: the same external id with the same
    booked facts (the Fio API and a Fio CSV export both name a movement ``fio:<id>``). They are counted
    as unchanged and logged, so one payment is never stored, or matched to an invoice, twice."""
    others = [
        row[0]
        for row in db.execute_sql(
            f'SELECT DISTINCT "source" FROM "{MoneyTransaction._meta.table_name}" WHERE "source" != ?',
            (ctx.plugin_name,),
        )
    ]
    if not others:
        return fresh
    by_id = {values["external_id"]: values for values in fresh}
    known: dict[str, str] = {}  # external id -> the other plugin that stored the same movement
    ids = list(by_id)
    for source in others:
        for start in range(0, len(ids), _LOOKUP_CHUNK):
            chunk = ids[start : start + _LOOKUP_CHUNK]
            query = (
                MoneyTransaction.select(
                    MoneyTransaction.external_id,
                    MoneyTransaction.transaction_type,
                    MoneyTransaction.amount,
                    MoneyTransaction.currency,
                    MoneyTransaction.transacted_on,
                )
                .where((MoneyTransaction.source == source) & MoneyTransaction.external_id.in_(chunk))
                .dicts()
            )
            for row in query:
                if row["external_id"] not in known and same_booking(row, by_id[row["external_id"]]):
                    known[row["external_id"]] = source
    if not known:
        return fresh
    ctx.counts.skipped += len(known)
    for source in sorted(set(known.values())):
        same = sorted(external_id for external_id, by in known.items() if by == source)
        ctx._emit(
            Message(
                "{count} movement(s) were already imported by {source} (the same bank movement, e.g. "
                "{example}); they were not imported again.",
                count=len(same),
                source=source,
                example=same[0],
            ),
            "warning",
        )
    return [values for values in fresh if values["external_id"] not in known]


def _update_changed(ctx: SyncContext, result: ApplyResult, rows: dict[int, dict]) -> None:
    """The exact check and the update of the rows the quick check could not call unchanged, in bulk.

    All compared columns go to one audited bulk update; SQLite writes (and audits) only the rows
    whose stored values differ, and says which. A row at a time (look-up, save, audit record) held
    the write lock for about 55 s on a 40,000-changed-row re-sync; this is the same work as inserts.
    """
    for values in rows.values():
        values["raw_data"] = stored_raw_data(values["raw_data"], values["external_id"])
    changed_ids = audited_bulk_update_ids(
        MoneyTransaction, {row_id: {name: values[name] for name in TX_COMPARED} for row_id, values in rows.items()}
    )
    ctx.counts.updated += len(changed_ids)
    ctx.counts.skipped += len(rows) - len(changed_ids)
    result.updated_transactions.extend(changed_ids)


ENTRY_COMPARED = ("project", "date", "minutes", "description", "billable")


def _stored_entries(plugin_name: str, external_ids: list[str]) -> dict[str, tuple[int, int | None]]:
    """``external id -> (row id, invoice line id)`` of this plugin's stored entries among ``external_ids``."""
    stored: dict[str, tuple[int, int | None]] = {}
    for start in range(0, len(external_ids), _LOOKUP_CHUNK):
        chunk = external_ids[start : start + _LOOKUP_CHUNK]
        query = WorkEntry.select(WorkEntry.id, WorkEntry.external_id, WorkEntry.invoice_line).where(
            (WorkEntry.source == plugin_name) & WorkEntry.external_id.in_(chunk)
        )
        for row_id, external_id, line_id in query.tuples():
            stored[external_id] = (row_id, line_id)
    return stored


def _apply_entries(ctx: SyncContext) -> None:
    """The run's work entries: new ones inserted, changed ones updated, each in batches, all audited."""
    entries = list(ctx._entries.values())
    if not entries:
        return
    wanted = {values["project"] for values in entries}
    known = {row[0] for row in Project.select(Project.id).where(Project.id.in_(list(wanted))).tuples()}
    for values in entries:
        if values["project"] not in known:  # named here, not as SQLite's bare "FOREIGN KEY constraint failed"
            raise ValueError(
                Message(
                    "{entry}: there is no project with the id {id}",
                    entry=_entry_label(values["external_id"]),
                    id=values["project"],
                )
            )
    keyed = {values["external_id"]: values for values in entries if values["external_id"] is not None}
    stored = _stored_entries(ctx.plugin_name, list(keyed))
    new_rows = [values for values in entries if values["external_id"] not in stored]
    if new_rows:
        WorkEntry.insert_many(new_rows).execute()
        ctx.counts.created += len(new_rows)
    updates: dict[int, dict] = {}
    for external_id, (row_id, line_id) in stored.items():
        if line_id is not None:
            ctx.counts.skipped += 1  # billed: an import never changes an invoiced entry
            continue
        updates[row_id] = {name: keyed[external_id][name] for name in ENTRY_COMPARED}
    changed = audited_bulk_update_ids(WorkEntry, updates)
    ctx.counts.updated += len(changed)
    ctx.counts.skipped += len(updates) - len(changed)


def _land(ctx: SyncContext) -> None:
    """Everything the run collected, then the after-apply hooks; inside the commit's transaction."""
    result = ApplyResult()
    _apply_transactions(ctx, result)
    _apply_entries(ctx)
    for write in ctx._deferred:
        write()
    for hook in AFTER_APPLY:
        hook(ctx, result)
    summary = ctx._skip_summary()
    if summary is not None:
        ctx._emit(summary)


def commit(ctx: SyncContext, run_id: int, config_id: int, on_wait: Callable[[float], None] | None = None) -> None:
    """Land the run: one transaction, begun when the write lock is free (``on_wait`` hears the wait)."""
    with write_transaction(on_wait=on_wait), audit_context(ctx.plugin_name, run_id):
        _land(ctx)
        counts = ctx.counts
        ctx._emit(
            Message(
                "Done: {processed} processed, {created} created, {updated} updated, {skipped} unchanged.",
                processed=counts.processed,
                created=counts.created,
                updated=counts.updated,
                skipped=counts.skipped,
            )
        )
        config = PluginConfiguration.get_by_id(config_id)
        # Compare what would be stored: a date in the state is kept as its ISO text.
        state = json.loads(json.dumps(ctx.state, default=str))
        if config.state != state:
            config.state = state
            config.save()
        _complete_row(ctx, run_id, ctx.metadata)


class _RolledBack(Exception):
    """Raised at the end of a preview's transaction so that it rolls back; carries what was learnt."""

    def __init__(self, paid: list[str]):
        super().__init__("preview: rolled back")
        self.paid = paid


def _paid_invoices() -> dict[int, str]:
    """Paid invoices, id -> number (a preview compares them before and after landing)."""
    query = Invoice.select(Invoice.id, Invoice.number).where(Invoice.status == InvoiceStatus.PAID)
    return dict(query.tuples())


def preview(ctx: SyncContext, run_id: int, on_wait: Callable[[float], None] | None = None) -> Preview:
    """Land the run exactly as :func:`commit` would (counts, matching, hooks), then roll all of it back and
    record the run as a preview: only its history row is written. Returns what it would have done."""
    try:
        with write_transaction(on_wait=on_wait), audit_context(ctx.plugin_name, run_id):
            paid_before = _paid_invoices()
            _land(ctx)
            paid = [number for id_, number in sorted(_paid_invoices().items()) if id_ not in paid_before]
            raise _RolledBack(paid)
    except _RolledBack as rolled_back:
        paid = rolled_back.paid
    counts = ctx.counts
    result = Preview(
        processed=counts.processed,
        created=counts.created,
        updated=counts.updated,
        unchanged=counts.skipped,
        skipped=sum(ctx._skips.values()),
        skip_reasons=[(in_language(reason, ctx.language), count) for reason, count in ctx._skips.items()],
        invoices_paid=paid,
    )
    # Short lines: the Plugins screen's log panel is about 60 characters wide at 80 columns.
    ctx._emit(Message("Preview: nothing was saved."))
    ctx._emit(
        Message(
            "Would create {created}, update {updated}; {unchanged} unchanged, {skipped} skipped.",
            created=result.created,
            updated=result.updated,
            unchanged=result.unchanged,
            skipped=result.skipped,
        )
    )
    if paid:
        ctx._emit(Message("Would mark paid: {numbers}", numbers=", ".join(paid)))
    else:
        ctx._emit(Message("It would mark no invoice paid."))
    with write_transaction(on_wait=on_wait):
        _complete_row(ctx, run_id, {**ctx.metadata, "preview": _preview_metadata(result)})
    return result


def _complete_row(ctx: SyncContext, run_id: int, metadata: dict) -> None:
    """The run's history row, completed: its counts, metadata (secrets masked) and log."""
    counts = ctx.counts
    SyncHistory.update(
        status=RunStatus.COMPLETED,
        completed_at=utcnow(),
        updated_at=utcnow(),
        records_processed=counts.processed,
        records_created=counts.created,
        records_updated=counts.updated,
        records_skipped=counts.skipped,
        metadata=ctx._masker.data(metadata),
        log="\n".join(ctx.lines),
    ).where(SyncHistory.id == run_id).execute()


def _preview_metadata(result: Preview) -> dict:
    """What a preview would have done, kept with its run (the counts are the row's own columns)."""
    found: dict[str, Any] = {"skipped": result.skipped, "invoices_paid": result.invoices_paid}
    if result.skip_reasons:
        found["skip_reasons"] = dict(result.skip_reasons)
    return found
