"""Audited writes: every write to a domain row is announced, and so recorded, in its transaction.

How it cannot be bypassed: an :class:`AuditedModel` is a ``playhouse.signals``
model, so ``save()`` and ``delete_instance()`` send ``post_save`` /
``post_delete``; its ``update()``, ``delete()`` and ``insert()``/``insert_many()``
return query classes that announce each statement on
``core.store.audit_records.statement_written``. The receivers that write the
audit records live in :mod:`core.store.audit_records`. Writes whose effect
cannot be known row by row (``insert_from``, ``replace``, ``on_conflict``
upserts) raise :class:`AuditBypassError` instead.
"""

from __future__ import annotations

import json
from contextvars import ContextVar
from typing import Iterable, Sequence

from peewee import (
    AutoField,
    CharField,
    IntegerField,
    Model,
    ModelDelete,
    ModelInsert,
    ModelUpdate,
    Node,
    TextField,
    classmethod_only,
)
from playhouse import signals

from core.store.audit_records import (
    REDACTED,
    UNTRACKED_FIELDS,
    AuditRecord,
    StatementWrite,
    announce,
    audit_context,
    audit_source,
    audit_sync_run,
    bound_form,
    connect_audit_writer,
    diff,
    record,
    stored_row,
)
from core.store.audit_sql import created_changes_sql
from core.store.base import BaseModel, JSONField, json_text
from core.values.timeutil import utcnow

__all__ = [
    "REDACTED", "UNTRACKED_FIELDS", "AuditBypassError", "AuditRecord", "AuditedModel", "audit_context",
    "audit_source", "audit_sync_run", "diff", "insert_stored_rows", "record", "write_block",
]  # fmt: skip

# Set while a plugin's sync() collects its changes: a direct write then would
# land outside the run's all-or-nothing transaction, so it is refused.
write_block: ContextVar[str | None] = ContextVar("write_block", default=None)
# Set while save()/delete_instance() runs its one query: that row is announced by
# post_save/post_delete, so the query itself announces nothing.
_single_row: ContextVar[bool] = ContextVar("_single_row", default=False)


class AuditBypassError(TypeError):
    """Raised for a bulk write on an audited model whose per-row effect cannot be audited."""


def _row_dicts(model, ids) -> dict[int, dict]:
    pk = model._meta.primary_key
    rows: dict[int, dict] = {}
    ids = list(ids)
    # Chunked: SQLite limits the number of bound parameters per statement.
    for start in range(0, len(ids), 500):
        chunk = ids[start : start + 500]
        for row in model.select().where(pk.in_(chunk)).dicts():
            rows[row[pk.name]] = row
    return rows


def _db_converter(field):
    if type(field) is JSONField:
        return lambda value: None if value is None else json_text(value)
    return field.db_value


# SQLite (3.32+) allows 32766 bound parameters per statement.
_MAX_VARIABLES = 32000


def _plain_rows(query) -> list[dict] | None:
    """The rows of an ``insert_many`` the fast path takes: a list of dicts, all with the same field names."""
    rows = query._insert
    if query._columns or not isinstance(rows, (list, tuple)) or not rows or not isinstance(rows[0], dict):
        return None
    keys = rows[0].keys()
    fields = query.model._meta.fields
    if not all(isinstance(key, str) and key in fields for key in keys):
        return None
    for row in rows:
        if type(row) is not dict or row.keys() != keys:
            return None
    return rows


def _passthrough_type(field) -> type | None:
    """The Python type whose values this field stores and reads back unchanged (no conversion call needed)."""
    if type(field) in (CharField, TextField):
        return str
    if type(field) in (IntegerField, AutoField):
        return int
    return None


_BATCH_CONSTANT_DEFAULTS = (utcnow, dict, list)


def _defaults(model, given: Iterable[str]) -> tuple[list, list, list, list]:
    """The fields an insert of ``given`` leaves to their defaults, as stored values.

    Returns ``(fixed_fields, fixed_values, per_row_fields, per_row_makers)``:
    defaults that give the same stored value for every row (a batch's
    creation time, empty JSON containers, constants) are computed once; any
    other callable default is called per row (``maker()`` gives the stored value).
    """
    meta = model._meta
    given = set(given)
    fixed_fields, fixed_values, per_row_fields, per_row_makers = [], [], [], []
    for f, default in meta.defaults.items():
        if f.name in given:
            continue
        convert = _db_converter(f)
        if not callable(default) or default in _BATCH_CONSTANT_DEFAULTS:
            fixed_fields.append(f)
            fixed_values.append(bound_form(convert(default() if callable(default) else default)))
        else:
            per_row_fields.append(f)
            per_row_makers.append(lambda default=default, convert=convert: convert(default()))
    return fixed_fields, fixed_values, per_row_fields, per_row_makers


def _insert_many_fast(database, model, rows: list[dict]) -> list[int] | None:
    """Insert ``rows`` with multi-row ``INSERT ... RETURNING`` and audit them; None if it cannot.

    Same values as Peewee would write (each field's ``db_value``, defaults for
    missing fields) and the same audit records as the general path (the stored
    row diffed against nothing), built by SQLite from the stored rows
    (core.store.audit_sql); it skips Peewee's per-value SQL generation, conversion
    calls for values that need none, and reading the rows back.
    """
    changes_sql = _created_changes_sql(model)
    if changes_sql is None:
        return None  # a field type core.store.audit_sql does not render: the general path audits in Python
    meta = model._meta
    names = list(rows[0])
    given = [(name, _passthrough_type(meta.fields[name]), _db_converter(meta.fields[name])) for name in names]
    fixed_fields, fixed, per_row_fields, per_row = _defaults(model, names)
    fields = [meta.fields[name] for name in names] + per_row_fields + fixed_fields  # the order of each row's values
    params: list = []
    for row in rows:
        values = []
        for name, kind, convert in given:
            value = row[name]
            if type(value) is not kind:
                if isinstance(value, Node) and not isinstance(value, Model):
                    return None  # an SQL expression as a value: the general path knows how to render it
                value = convert(value)
            values.append(value)
        for make in per_row:
            values.append(make())
        values.extend(fixed)
        params.append(values)
    return _insert_audited_in_sql(database, model, fields, params, changes_sql)


def insert_stored_rows(model, names: Sequence[str], rows: Iterable[Sequence]) -> list[int]:
    """Insert rows given as stored values, audited as creates like ``insert_many``; returns the new ids.

    ``names`` are field names; each row holds, in that order, exactly what
    each field's ``db_value`` gives (text, an int, a date, JSON as
    ``core.store.base.json_text`` text, a foreign key's id). Other fields take their
    defaults. For a caller that has already checked and converted its values
    (the sync engine's upserts, 100,000 in a large import), so that no value
    is looked at twice; the rows and audit records are the ones ``insert_many``
    would write (tests/test_audit.py compares them).
    """
    _check_writes_allowed(model)
    changes_sql = _created_changes_sql(model)
    if changes_sql is None:
        raise TypeError(f"{model.__name__} has a field type core.store.audit_sql cannot audit; use insert_many")
    meta = model._meta
    fixed_fields, fixed, per_row_fields, per_row = _defaults(model, names)
    fields = [meta.fields[name] for name in names] + per_row_fields + fixed_fields
    if per_row:
        params = [[*row, *[make() for make in per_row], *fixed] for row in rows]
    else:
        params = [[*row, *fixed] for row in rows]
    if not params:
        return []
    database = meta.database
    with database.atomic():
        return _insert_audited_in_sql(database, model, fields, params, changes_sql)


_CHANGES_SQL: dict[type, str | None] = {}


def _created_changes_sql(model) -> str | None:
    if model not in _CHANGES_SQL:
        _CHANGES_SQL[model] = created_changes_sql(model, UNTRACKED_FIELDS)
    return _CHANGES_SQL[model]


def _insert_audited_in_sql(database, model, fields, params: list[list], changes_sql: str) -> list[int]:
    """Insert ``params`` and announce each statement's new rows with the query that builds their changes."""
    meta = model._meta
    pk = meta.primary_key.column_name
    table = meta.table_name
    columns = ", ".join(f'"{f.column_name}"' for f in fields)
    placeholder = "(" + ", ".join("?" * len(fields)) + ")"
    changes = f'SELECT "{pk}" AS row_id, {changes_sql} AS changes FROM "{table}" '
    per_statement = max(1, _MAX_VARIABLES // len(fields))
    ids: list[int] = []
    for start in range(0, len(params), per_statement):
        chunk = params[start : start + per_statement]
        sql = (
            f'INSERT INTO "{table}" ({columns}) VALUES ' + ", ".join([placeholder] * len(chunk)) + f' RETURNING "{pk}"'
        )
        new_ids = [row[0] for row in database.execute_sql(sql, [v for values in chunk for v in values])]
        low, high = min(new_ids), max(new_ids)
        if high - low + 1 == len(new_ids):  # the usual case: the new rows are exactly one run of ids
            query = (changes + f'WHERE "{pk}" BETWEEN ? AND ? ORDER BY "{pk}"', [low, high])
        else:
            query = (
                changes + f'WHERE "{pk}" IN (SELECT value FROM json_each(?)) ORDER BY "{pk}"',
                [json.dumps(new_ids)],
            )
        announce(StatementWrite(model, "create", changes_query=query))
        ids.extend(new_ids)
    return ids


class AuditedUpdate(ModelUpdate):
    def _execute(self, database):
        model = self.model
        _check_writes_allowed(model)
        if _single_row.get():
            return super()._execute(database)
        if self._from is not None or self._returning:
            raise AuditBypassError(
                f"UPDATE ... FROM/RETURNING on {model.__name__} cannot be audited; update rows one by one"
            )
        pk = model._meta.primary_key
        with database.atomic():
            select = model.select(pk)
            if self._where is not None:
                select = select.where(self._where)
            ids = [row[0] for row in select.tuples()]
            if not ids:
                return 0
            before = _row_dicts(model, ids)
            count = super()._execute(database)
            after = _row_dicts(model, ids)
            entries = [(row_id, diff(model, before.get(row_id), after.get(row_id))) for row_id in ids]
            announce(StatementWrite(model, "update", entries=[entry for entry in entries if entry[1]]))
            return count


class AuditedDelete(ModelDelete):
    def _execute(self, database):
        model = self.model
        _check_writes_allowed(model)
        if _single_row.get():
            return super()._execute(database)
        if self._returning:
            raise AuditBypassError(f"DELETE ... RETURNING on {model.__name__} cannot be audited")
        pk = model._meta.primary_key
        with database.atomic():
            select = model.select()
            if self._where is not None:
                select = select.where(self._where)
            rows = list(select.dicts())
            if not rows:
                return 0
            entries = [(row[pk.name], diff(model, row, None)) for row in rows]
            count = super()._execute(database)
            announce(StatementWrite(model, "delete", entries=entries))
            return count


class AuditedInsert(ModelInsert):
    def _execute(self, database):
        model = self.model
        _check_writes_allowed(model)
        if _single_row.get() and self._query_type == ModelInsert.SIMPLE and self._on_conflict is None:
            return super()._execute(database)
        if self._on_conflict is not None:
            raise AuditBypassError(
                f"INSERT OR REPLACE / ON CONFLICT on {model.__name__} cannot be audited row by row; "
                "look the row up and save() it instead"
            )
        if self._query_type == ModelInsert.QUERY:
            raise AuditBypassError(f"INSERT ... SELECT on {model.__name__} cannot be audited; insert rows instead")
        pk = model._meta.primary_key
        if self._query_type == ModelInsert.MULTI and pk in model._meta.sorted_fields:
            rows = _plain_rows(self)
            if rows is not None:
                with database.atomic():
                    ids = _insert_many_fast(database, model, rows)
                if ids is not None:
                    return ids
        with database.atomic():
            # RETURNING gives us the ids of every inserted row, also for multi-row inserts.
            self._returning = (pk,)
            self._return_cursor = True
            cursor = super()._execute(database)
            ids = [row[0] for row in cursor]
            after = _row_dicts(model, ids)
            announce(StatementWrite(model, "create", entries=[(i, diff(model, None, after.get(i))) for i in ids]))
        if self._query_type == ModelInsert.SIMPLE:
            return ids[0] if ids else None
        return ids


def _check_writes_allowed(model) -> None:
    reason = write_block.get()
    if reason:
        raise AuditBypassError(f"writing {model.__name__} directly is not allowed here: {reason}")


def _refuse(model, what: str):
    raise AuditBypassError(f"{model.__name__}.{what}() would bypass the audit trail")


class AuditedModel(BaseModel, signals.Model):
    """Base for every domain model whose writes are audited.

    Subclasses list columns whose values must never reach an audit record in
    ``redacted_fields`` (recorded as ``"***"`` when set, ``None`` when empty).
    """

    redacted_fields: frozenset[str] = frozenset()

    @classmethod
    def update(cls, __data=None, **update):
        return AuditedUpdate(cls, cls._normalize_data(__data, update))

    @classmethod
    def insert(cls, __data=None, **insert):
        return AuditedInsert(cls, cls._normalize_data(__data, insert))

    @classmethod
    def insert_many(cls, rows, fields=None):
        return AuditedInsert(cls, insert=rows, columns=fields)

    @classmethod
    def insert_from(cls, query, fields):
        _refuse(cls, "insert_from")

    @classmethod
    def replace(cls, __data=None, **insert):
        _refuse(cls, "replace")

    @classmethod
    def replace_many(cls, rows, fields=None):
        _refuse(cls, "replace_many")

    @classmethod_only
    def delete(cls):
        return AuditedDelete(cls)

    def save(self, force_insert: bool = False, only=None):
        """Save and send ``post_save``; an update that changes nothing writes and sends nothing."""
        pk = self._pk
        if pk is not None and not force_insert:
            with self._meta.database.atomic():
                current = stored_row(type(self), pk)
                if current is not None and not self._differs_from(current, only):
                    self._dirty.clear()
                    return 0
                if hasattr(self, "updated_at"):
                    self.updated_at = utcnow()
                self._audit_before = current
                return self._one_row(super().save, force_insert=force_insert, only=only)
        with self._meta.database.atomic():
            return self._one_row(super().save, force_insert=force_insert, only=only)

    def _one_row(self, write, **kwargs):
        """Run ``write`` (Peewee's save/delete_instance, which sends the signal) with its query unannounced."""
        token = _single_row.set(True)
        try:
            return write(**kwargs)
        finally:
            _single_row.reset(token)

    def _differs_from(self, current: dict, only) -> bool:
        names = {f.name if hasattr(f, "name") else f for f in only} if only else None
        for field in self._meta.sorted_fields:
            name = field.name
            if name in UNTRACKED_FIELDS or (names is not None and name not in names):
                continue
            mine = field.python_value(field.db_value(self.__data__.get(name)))
            if mine != current.get(name):
                return True
        return False

    def delete_instance(self, recursive: bool = False, delete_nullable: bool = False):
        if recursive:
            # Peewee's recursive delete walks dependents with bulk queries; we
            # want each dependent's removal decided (and audited) by a service.
            raise AuditBypassError(
                f"{type(self).__name__}.delete_instance(recursive=True) is not supported; delete dependents explicitly"
            )
        _check_writes_allowed(type(self))
        with self._meta.database.atomic():
            self._audit_before = stored_row(type(self), self._pk)
            return self._one_row(super().delete_instance)


connect_audit_writer(AuditedModel)
