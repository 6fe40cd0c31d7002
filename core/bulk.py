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

from core.audit import AuditedModel, _check_writes_allowed, _record_many, diff
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
    for row_id, new in changes.items():
        if sorted(new) != names:
            raise ValueError("audited_bulk_update: every row must change the same fields")
        values = [field.db_value(new[field.name]) for field in fields]
        if has_updated_at:
            values.append(model._meta.fields["updated_at"].db_value(now))
        params.append(values + [row_id])
        old = before[row_id]
        after = dict(old)
        after.update({name: fields[i].python_value(fields[i].db_value(new[name])) for i, name in enumerate(names)})
        changed = diff(model, old, after)
        if changed:
            entries.append((row_id, "update", changed))
    with database.atomic():
        database.cursor().executemany(sql, params)
        _record_many(model, entries)
    return len(params)
