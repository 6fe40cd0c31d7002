"""Audit records built by SQLite from the stored rows (bulk inserts, core.store.bulk updates).

A bulk insert of 100,000 bank movements needs 100,000 "create" records whose
``changes`` are the stored row as ``{field: [null, value]}``. Reading every
row back into Python and encoding JSON there costs more than the insert
itself; SQLite's JSON functions build the same document in C, in one
``INSERT ... SELECT``. The record must equal what :func:`core.store.audit.diff`
would give for the same row (a test compares the two for every audited
model), so only field types whose stored form maps exactly are built here;
a model with any other tracked field type returns ``None`` and keeps the
Python path.
"""

from __future__ import annotations

from peewee import (
    AutoField,
    BooleanField,
    CharField,
    DateField,
    DateTimeField,
    ForeignKeyField,
    IntegerField,
    TextField,
)

from core.store.base import JSONField

_TEXT = (CharField, TextField)  # includes DecimalTextField: str(Decimal(text)) is the stored text
_INTEGER = (IntegerField, AutoField)


def value_sql(model, field, column: str) -> str | None:
    """What ``diff`` records for ``field`` (read from the SQL expression ``column``), as a JSON-valued
    SQL expression; None for a field type this module does not know."""
    if field.name in model.redacted_fields:
        return f"CASE WHEN {column} IS NULL OR {column} = '' OR {column} = x'' THEN NULL ELSE '***' END"
    if isinstance(field, ForeignKeyField):
        return column if isinstance(field.rel_field, _INTEGER) else None
    kind = type(field)
    if kind is JSONField:
        return f"json({column})"
    if kind is BooleanField:
        return f"CASE WHEN {column} IS NULL THEN NULL WHEN {column} THEN json('true') ELSE json('false') END"
    if kind is DateField:
        return column  # stored as ISO text, which is what date.isoformat() gives back
    if kind is DateTimeField:
        # Stored as str(datetime) ("2026-11-21 10:00:00.5"); the record holds isoformat() ("...T10:...").
        return (
            f"CASE WHEN substr({column}, 11, 1) = ' ' "
            f"THEN substr({column}, 1, 10) || 'T' || substr({column}, 12) ELSE {column} END"
        )
    if issubclass(kind, _TEXT) or kind in _INTEGER:
        return column
    return None


def _object_sql(members: list[tuple[str, str, str | None]]) -> str:
    """A JSON object text from ``(name, JSON value expression, condition to leave it out)`` members.

    Concatenated rather than built with json_object(): members have to be left
    out (json_patch() could drop them, but re-parses every document and costs
    a third more), and the text is the same as Python's compact encoding.
    """
    pieces = []
    for name, value, omit in members:
        piece = f"',\"{name}\":' || {value}"
        pieces.append(f"CASE WHEN {omit} THEN '' ELSE {piece} END" if omit else piece)
    if not pieces:
        return "'{}'"
    return "'{' || substr(" + " || ".join(pieces) + ", 2) || '}'"


def created_changes_sql(model, untracked: frozenset[str]) -> str | None:
    """An SQL expression over ``model``'s table giving a new row's audit ``changes`` JSON, or None.

    Fields that are NULL are left out, as ``diff`` leaves out values that did
    not change from nothing.
    """
    members = []
    for field in sorted(model._meta.sorted_fields, key=lambda f: f.name):
        if field.name in untracked:
            continue
        column = f'"{field.column_name}"'
        value = value_sql(model, field, column)
        if value is None:
            return None
        members.append((field.name, f"json_array(NULL, {value})", f"{column} IS NULL" if field.null else None))
    return _object_sql(members)


def updated_changes_sql(model, fields, old: str, new: str) -> tuple[str, str] | None:
    """For an update from the row aliased ``old`` to the values aliased ``new`` (same column names):
    the audit ``changes`` JSON and a condition true when any of ``fields`` differs. None if unknown types."""
    members, differs = [], []
    for field in sorted(fields, key=lambda f: f.name):
        before, after = f'{old}."{field.column_name}"', f'{new}."{field.column_name}"'
        old_value, new_value = value_sql(model, field, before), value_sql(model, field, after)
        if old_value is None or new_value is None:
            return None
        # JSON compared as documents: text written by an older encoder (with spaces) is the same value.
        same = f"json({before}) IS json({after})" if type(field) is JSONField else f"{before} IS {after}"
        members.append((field.name, f"json_array({old_value}, {new_value})", same))
        differs.append(f"NOT ({same})")
    return _object_sql(members), " OR ".join(differs)
