"""An audited bulk update: many rows, each with its own new values, in a few statements.

``Model.update()`` audits by reading the rows before and after; for
thousands of rows with different values (payment matching) that would be
thousands of statements and as many JSON documents built in Python. Here
the new values go into a temporary table with one ``executemany``; SQLite
then writes the audit records (old values read from the stored rows, the
JSON built by :mod:`core.store.audit_sql`) and the update, each in one statement,
in the caller's transaction (announced on ``statement_written``, whose audit receiver
runs the query). Still one audit record per changed row, with
the same content as the row-by-row path; rows that would not change are
neither written nor audited.
"""

from __future__ import annotations

import itertools
from typing import Any

from core.store.audit import AuditedModel, _check_writes_allowed, _db_converter
from core.store.audit_records import StatementWrite, announce
from core.store.audit_sql import updated_changes_sql
from core.values.timeutil import utcnow

_names = itertools.count()


def audited_bulk_update(model: type[AuditedModel], changes: dict[int, dict[str, Any]]) -> int:
    """Apply ``changes[id] = {field: new value}``; every row must change the same fields.

    Returns the number of rows that changed (and got an audit record each).
    """
    return len(audited_bulk_update_ids(model, changes))


def audited_bulk_update_ids(model: type[AuditedModel], changes: dict[int, dict[str, Any]]) -> list[int]:
    """As :func:`audited_bulk_update`, returning the ids of the rows that changed.

    A row whose given values equal what is stored is neither written nor audited nor returned, so a
    caller may pass every value it has (the sync engine passes all compared columns of a re-sent row).
    """
    _check_writes_allowed(model)
    if not changes:
        return []
    meta = model._meta
    names = sorted(next(iter(changes.values())))
    fields = [meta.fields[name] for name in names]
    built = updated_changes_sql(model, fields, "old", "new")
    if built is None:
        raise TypeError(f"audited_bulk_update cannot audit {model.__name__}.{', '.join(names)} in SQL")
    changes_sql, differs_sql = built
    convert = [_db_converter(field) for field in fields]
    params = []
    for row_id in sorted(changes):  # in key order: neighbouring pages, fewer B-tree seeks
        new = changes[row_id]
        if len(new) != len(names) or any(name not in new for name in names):
            raise ValueError("audited_bulk_update: every row must change the same fields")
        params.append([row_id] + [to_db(new[name]) for name, to_db in zip(names, convert, strict=False)])

    database = meta.database
    table, pk = meta.table_name, meta.primary_key.column_name
    staged = f"bulk_update_{next(_names)}"
    columns = [f.column_name for f in fields]
    quoted = ", ".join(f'"{c}"' for c in columns)
    now = utcnow()
    stamped = "updated_at" in meta.fields
    stamp_sql = ', "updated_at" = ?' if stamped else ""
    stamp_params = [meta.fields["updated_at"].db_value(now)] if stamped else []
    with database.atomic():
        database.execute_sql(f'CREATE TEMP TABLE "{staged}" ("{pk}" INTEGER PRIMARY KEY, {quoted})')
        try:
            database.cursor().executemany(
                f'INSERT INTO temp."{staged}" ("{pk}", {quoted}) VALUES ({", ".join("?" * (len(columns) + 1))})', params
            )
            # Announced before the UPDATE: the query reads the old values beside the staged new ones.
            changed = (
                f'SELECT old."{pk}" AS row_id, {changes_sql} AS changes '
                f'FROM "{table}" AS old JOIN temp."{staged}" AS new ON new."{pk}" = old."{pk}" '
                f'WHERE {differs_sql} ORDER BY old."{pk}"'
            )
            announce(StatementWrite(model, "update", changes_query=(changed, [])))
            cursor = database.execute_sql(
                f'UPDATE "{table}" AS old SET '
                + ", ".join(f'"{c}" = new."{c}"' for c in columns)
                + stamp_sql
                + f' FROM temp."{staged}" AS new WHERE new."{pk}" = old."{pk}" AND ({differs_sql})'
                + f' RETURNING "{pk}"',  # the updated table's column (FROM tables cannot be named here)
                stamp_params,
            )
            return sorted(row[0] for row in cursor)
        finally:
            database.execute_sql(f'DROP TABLE temp."{staged}"')
