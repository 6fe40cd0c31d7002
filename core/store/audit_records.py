"""The audit records, written by receivers of Peewee signals.

Every write to an audited row is announced on a signal, inside the write's
transaction, and the receivers here turn each announcement into audit
records in that same transaction:

- one row: ``playhouse.signals`` ``post_save`` (a create or an update) and
  ``post_delete``, sent by :class:`core.store.audit.AuditedModel`'s ``save()``
  and ``delete_instance()``;
- a bulk statement (``insert_many``, ``update()``, ``delete()``, the sync
  engine's stored-row inserts, ``core.store.bulk``): :data:`statement_written`,
  sent once per statement with a :class:`StatementWrite` that says which rows
  changed and how, either as ``(row id, changes)`` pairs or as an SQL query
  that yields them (so 100,000 "create" records are built by SQLite, not in
  Python).

Anything else may subscribe to the same stream (a search index, a
notification): ``statement_written.connect(fn)`` and the ``post_save`` /
``post_delete`` signals of ``playhouse.signals``.

Who made a change comes from two ContextVars, ``audit_source`` ("manual"
unless set, a plugin's name inside a sync, "recurring" for automation) and
``audit_sync_run`` (the ``sync_histories`` id while a sync writes). Thread
workers do not inherit ContextVars: set them inside the worker with
:func:`audit_context`.
"""

from __future__ import annotations

import contextlib
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any, Iterator

from peewee import AutoField, CharField, DateTimeField, IntegerField, ModelInsert
from playhouse.signals import Signal, post_delete, post_save

from core.errors import FakturkaError
from core.store.base import BaseModel, JSONField, json_text
from core.values.messages import Message
from core.values.timeutil import utcnow

audit_source: ContextVar[str] = ContextVar("audit_source", default="manual")
audit_sync_run: ContextVar[int | None] = ContextVar("audit_sync_run", default=None)

REDACTED = "***"
# Bookkeeping columns: their change alone is not news.
UNTRACKED_FIELDS = frozenset({"id", "created_at", "updated_at"})


@contextlib.contextmanager
def audit_context(source: str, sync_run: int | None = None) -> Iterator[None]:
    """Attribute every write inside the block to ``source`` (and a sync run)."""
    source_token = audit_source.set(source)
    run_token = audit_sync_run.set(sync_run)
    try:
        yield
    finally:
        audit_sync_run.reset(run_token)
        audit_source.reset(source_token)


class AuditRewriteError(FakturkaError):
    """A write that would change, replace or remove an audit record already written."""


def _refuse_rewrite(what: str):
    raise AuditRewriteError(
        Message(
            "Audit records are append-only: {what} is refused, because it could change or remove a recorded "
            "change; a correction is a new change of the row, which gets a record of its own.",
            what=what,
        )
    )


class AppendOnlyInsert(ModelInsert):
    """An insert into the audit table that cannot turn into an overwrite (no REPLACE, no ON CONFLICT)."""

    def on_conflict(self, *args, **kwargs):
        _refuse_rewrite(Message("an insert with ON CONFLICT"))

    def on_conflict_replace(self, replace=True):
        _refuse_rewrite("INSERT OR REPLACE")

    def on_conflict_ignore(self, ignore=True):
        _refuse_rewrite("INSERT OR IGNORE")

    def _execute(self, database):
        if self._on_conflict is not None:  # set without the methods above (a copied query, a subclass)
            _refuse_rewrite(Message("an insert with a conflict clause"))
        return super()._execute(database)


class AuditRecord(BaseModel):
    """One create/update/delete of one domain row. Append-only: SQLite triggers refuse UPDATE, DELETE
    and an INSERT onto an existing id (REPLACE); this model refuses replace, on-conflict, update and
    delete queries and a second save() before any SQL is sent.
    """

    id = AutoField()
    table_name = CharField()  # indexed with row_id (below), which also serves table_name alone
    row_id = IntegerField()
    action = CharField()  # create | update | delete
    changes = JSONField()  # {field: [old, new]}
    source = CharField(index=True)
    sync_run = IntegerField(null=True, index=True)  # sync_histories.id
    created_at = DateTimeField(default=utcnow, index=True)

    class Meta:
        table_name = "audit_records"
        indexes = ((("table_name", "row_id"), False),)

    @classmethod
    def insert(cls, __data=None, **insert):
        return AppendOnlyInsert(cls, cls._normalize_data(__data, insert))

    @classmethod
    def insert_many(cls, rows, fields=None):
        return AppendOnlyInsert(cls, insert=rows, columns=fields)

    @classmethod
    def insert_from(cls, query, fields):
        columns = [getattr(cls, field) if isinstance(field, str) else field for field in fields]
        return AppendOnlyInsert(cls, insert=query, columns=columns)

    @classmethod
    def replace(cls, __data=None, **insert):
        _refuse_rewrite("AuditRecord.replace()")

    @classmethod
    def replace_many(cls, rows, fields=None):
        _refuse_rewrite("AuditRecord.replace_many()")

    @classmethod
    def update(cls, __data=None, **update):
        _refuse_rewrite("AuditRecord.update()")

    @classmethod
    def delete(cls):
        _refuse_rewrite("AuditRecord.delete()")

    def save(self, force_insert: bool = False, only=None):
        if self._pk is not None and not force_insert:
            _refuse_rewrite(Message("saving audit record {id} again", id=self._pk))
        return super().save(force_insert=force_insert, only=only)

    def delete_instance(self, recursive: bool = False, delete_nullable: bool = False):
        _refuse_rewrite(Message("deleting audit record {id}", id=self._pk))


# -- what a change looks like -------------------------------------------------------------


def _json_safe(value: Any) -> Any:
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, (bytes, bytearray, memoryview)):
        return REDACTED
    return value


def _redact(model, field_name: str, value: Any) -> Any:
    if field_name in model.redacted_fields:
        return None if value in (None, b"", "") else REDACTED
    return _json_safe(value)


def diff(model, old: dict | None, new: dict | None) -> dict[str, list]:
    """``{field: [old, new]}`` for the tracked fields that differ; secrets redacted."""
    changes: dict[str, list] = {}
    for field in model._meta.sorted_fields:
        name = field.name
        if name in UNTRACKED_FIELDS:
            continue
        before = old.get(name) if old else None
        after = new.get(name) if new else None
        if before == after:
            continue
        changes[name] = [_redact(model, name, before), _redact(model, name, after)]
    return changes


def stored_row(model, row_id) -> dict | None:
    """The row as stored (what the record describes), or None once it is gone."""
    return model.select().where(model._meta.primary_key == row_id).dicts().get_or_none()


# -- the bulk stream ----------------------------------------------------------------------


@dataclass(frozen=True)
class StatementWrite:
    """What one audited bulk statement changes; sent on :data:`statement_written` in its transaction.

    Exactly one of ``entries`` and ``changes_query`` is set:

    - ``entries``: ``(row id, changes)`` pairs worked out in Python;
    - ``changes_query``: ``(sql, params)`` of a SELECT yielding ``(row id, changes JSON text)``
      rows in id order, built by ``core.store.audit_sql``. It reads the table as the statement
      leaves it for inserts (sent after them) and old beside new values for a bulk update (sent
      just before the UPDATE runs), so a receiver runs it at once, inside the transaction.
    """

    model: type
    action: str  # create | update | delete
    entries: list[tuple[int, dict]] | None = None
    changes_query: tuple[str, list] | None = None


statement_written = Signal()


def announce(write: StatementWrite) -> None:
    """Send one bulk statement's changes to every receiver (the audit writer first)."""
    statement_written.send(write)


# -- the receivers that write the records -------------------------------------------------

_RECORD_COLUMNS = ("table_name", "row_id", "action", "changes", "source", "sync_run", "created_at")
_COLUMNS_SQL = ", ".join(f'"{c}"' for c in _RECORD_COLUMNS)
_AUDIT_TABLE = AuditRecord._meta.table_name


def record(model, row_id: int, action: str, changes: dict) -> None:
    """One audit record for one row, attributed to the current source and sync run."""
    AuditRecord.insert(
        table_name=model._meta.table_name,
        row_id=row_id,
        action=action,
        changes=changes,
        source=audit_source.get(),
        sync_run=audit_sync_run.get(),
        created_at=utcnow(),
    ).execute()


def bound_form(value):
    """A datetime/date as the text sqlite3's default adapter binds, so it is converted once, not per row."""
    if isinstance(value, datetime):
        return value.isoformat(" ")
    if isinstance(value, date):
        return value.isoformat()
    return value


# Records per multi-row INSERT (SQLite binds at most 32766 values per statement).
_RECORDS_PER_STATEMENT = 32000 // len(_RECORD_COLUMNS)
_RECORD_VALUES = "(" + ", ".join("?" * len(_RECORD_COLUMNS)) + ")"


def _record_many(model, action: str, entries: list[tuple[int, dict]]) -> None:
    """One audit record per entry, written with multi-row INSERTs (in the caller's transaction).

    The values go through the same conversions as ``AuditRecord.insert`` would
    apply; only Peewee's per-value SQL building is skipped. Not ``executemany``:
    with the append-only insert trigger each statement run costs about 6 us
    more (2x the whole write, one record per run), so a few thousand go in each.
    """
    if not entries:
        return
    table = model._meta.table_name
    source, run = audit_source.get(), audit_sync_run.get()
    created_at = bound_form(AuditRecord.created_at.db_value(utcnow()))
    database = AuditRecord._meta.database
    for start in range(0, len(entries), _RECORDS_PER_STATEMENT):
        chunk = entries[start : start + _RECORDS_PER_STATEMENT]
        params = []
        for row_id, changes in chunk:
            params += (table, row_id, action, json_text(changes), source, run, created_at)
        values = ", ".join([_RECORD_VALUES] * len(chunk))
        database.execute_sql(f'INSERT INTO "{_AUDIT_TABLE}" ({_COLUMNS_SQL}) VALUES {values}', params)


def _record_from_query(model, action: str, query: tuple[str, list]) -> None:
    """The records of a statement whose changes SQLite builds: one INSERT ... SELECT."""
    sql, params = query
    head = [model._meta.table_name, action, audit_source.get(), audit_sync_run.get()]
    created_at = AuditRecord.created_at.db_value(utcnow())
    AuditRecord._meta.database.execute_sql(
        f'INSERT INTO "{_AUDIT_TABLE}" ({_COLUMNS_SQL}) '
        f"SELECT ?, changed.row_id, ?, changed.changes, ?, ?, ? FROM ({sql}) AS changed",
        [head[0], head[1], head[2], head[3], created_at, *params],
    )


def audit_statement(sender, write: StatementWrite) -> None:
    if write.changes_query is not None:
        _record_from_query(write.model, write.action, write.changes_query)
    else:
        _record_many(write.model, write.action, [(i, c) for i, c in write.entries or () if c])


def audit_saved(sender, instance, created: bool) -> None:
    """A created row is recorded as stored; an update as the difference from what was stored before."""
    model = type(instance)
    after = stored_row(model, instance._pk)
    if created:
        record(model, instance._pk, "create", diff(model, None, after))
        return
    changes = diff(model, instance._audit_before, after)
    if changes:
        record(model, instance._pk, "update", changes)


def audit_deleted(sender, instance) -> None:
    before = instance._audit_before
    if before is not None:
        record(type(instance), instance._pk, "delete", diff(type(instance), before, None))


def connect_audit_writer(audited_model: type) -> None:
    """Subscribe the record writers; the audit writer is the first receiver of every signal."""
    statement_written.connect(audit_statement)
    post_save.connect(audit_saved, sender=audited_model)
    post_delete.connect(audit_deleted, sender=audited_model)
