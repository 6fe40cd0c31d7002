"""An audited bulk update for callers that already hold the rows' old values.

``Model.update()`` audits by reading rows before and after; for thousands of
rows with different values (payment matching) that is thousands of
statements. Here the caller gives the old values it loaded and the new
values per row; one ``executemany`` writes them and one batch writes the
audit records, in the caller's transaction. Still audited, still one record
per changed row, just without the round trips.
"""
from __future__ import annotations

from typing import Any

from core.audit import AuditedModel, _check_writes_allowed, _record_many, _redact
from core.timeutil import utcnow


def audited_bulk_update(model: type[AuditedModel], before: dict[int, dict[str, Any]],
                        changes: dict[int, dict[str, Any]]) -> int:
    """Apply ``changes[id] = {field: new}`` to rows whose current values are ``before[id]``.

    Every row must change the same set of fields (one statement shape); call
    it once per shape. Returns the number of rows written.
    """
    _check_writes_allowed(model)
    if not changes:
        return 0
    database = model._meta.database
    names = sorted(next(iter(changes.values())))
    fields = [model._meta.fields[name] for name in names]
    has_updated_at = "updated_at" in model._meta.fields
    columns = [f.column_name for f in fields] + (["updated_at"] if has_updated_at else [])
    now = utcnow()
    table = model._meta.table_name
    sql = (f'UPDATE "{table}" SET ' + ", ".join(f'"{c}" = ?' for c in columns) +
           f' WHERE "{model._meta.primary_key.column_name}" = ?')
    params, entries = [], []
    stamp = model._meta.fields["updated_at"].db_value(now) if has_updated_at else None
    for row_id in sorted(changes):  # in key order: neighbouring pages, fewer B-tree seeks
        new = changes[row_id]
        if len(new) != len(names) or any(name not in new for name in names):
            raise ValueError("audited_bulk_update: every row must change the same fields")
        stored = [field.db_value(new[field.name]) for field in fields]
        params.append(stored + ([stamp] if has_updated_at else []) + [row_id])
        old = before[row_id]
        changed = {}
        for field, value in zip(fields, stored):
            after = field.python_value(value)
            if old.get(field.name) != after:
                changed[field.name] = [_redact(model, field.name, old.get(field.name)),
                                       _redact(model, field.name, after)]
        if changed:
            entries.append((row_id, "update", changed))
    with database.atomic():
        database.cursor().executemany(sql, params)
        _record_many(model, entries)
    return len(params)
