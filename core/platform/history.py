"""Reading the sync history and the audit trail (for the CLI and the screens)."""

from __future__ import annotations

import json
from datetime import date, datetime, time

from peewee import ForeignKeyField

from core.store.audit import AuditRecord
from core.store.models import AUDITED_MODELS, SyncHistory
from core.values.money import from_minor


def history_query(plugin_name: str | None = None):
    """Runs, newest first (pages on the primary key)."""
    query = SyncHistory.select().order_by(SyncHistory.id.desc())
    if plugin_name:
        query = query.where(SyncHistory.plugin_name == plugin_name)
    return query


def run_duration(run: SyncHistory) -> str | None:
    """How long a run took, for people: "1.4 s", "< 0.1 s" for a quick one (not "0.0 s");
    None while it has not finished."""
    if run.duration is None:
        return None
    seconds = run.duration.total_seconds()
    return "< 0.1 s" if seconds < 0.05 else f"{seconds:.1f} s"


def run_changes_query(run_id: int):
    """What a sync run changed: its audit records, in order (pages on the sync_run index)."""
    return AuditRecord.select().where(AuditRecord.sync_run == run_id).order_by(AuditRecord.id)


def run_changes(run_id: int) -> list[AuditRecord]:
    return list(run_changes_query(run_id))


def audit_query(
    *,
    source: str | None = None,
    table: str | None = None,
    row_id: int | None = None,
    since: date | None = None,
    until: date | None = None,
):
    """Audit records newest first, filtered; pages on the primary key."""
    query = AuditRecord.select().order_by(AuditRecord.id.desc())
    if source:
        query = query.where(AuditRecord.source == source)
    if table:
        query = query.where(AuditRecord.table_name == table)
    if row_id is not None:
        query = query.where(AuditRecord.row_id == row_id)
    if since:
        query = query.where(AuditRecord.created_at >= datetime.combine(since, time.min))
    if until:
        query = query.where(AuditRecord.created_at <= datetime.combine(until, time.max))
    return query


def audit_sources() -> list[str]:
    """The sources that appear in the audit trail, sorted (the Audit screen's filter)."""
    return _distinct_values("source")


def audit_tables() -> list[str]:
    """The tables that appear in the audit trail, sorted."""
    return _distinct_values("table_name")


def _distinct_values(column: str) -> list[str]:
    # A skip-scan: one index seek per distinct value (a handful) instead of SELECT DISTINCT reading
    # every index entry (about 50 ms per list at a million records, on every visit of the screen).
    # Both columns lead an index: audit_records_source and audit_records_table_name_row_id.
    assert column in ("source", "table_name")
    table = AuditRecord._meta.table_name
    sql = (
        f"WITH RECURSIVE seen(value) AS ("
        f'SELECT min("{column}") FROM "{table}" '
        f'UNION ALL SELECT (SELECT min("{column}") FROM "{table}" WHERE "{column}" > seen.value) '
        f"FROM seen WHERE seen.value IS NOT NULL) "
        f"SELECT value FROM seen WHERE value IS NOT NULL"
    )
    return [row[0] for row in AuditRecord._meta.database.execute_sql(sql)]


# Money columns hold integer minor units, and audit records keep values as stored. For people they
# are shown as amounts in the row's currency: the record's own "currency" change if it has one,
# else the currency of the row (or of its invoice / client) as it is now.
MONEY_FIELDS = {
    "money_transactions": {"amount"},
    "invoices": {"subtotal", "vat_total", "total"},
    "invoice_lines": {"unit_price", "amount"},
    "clients": {"hourly_rate"},
    "projects": {"hourly_rate"},
    "work_entries": {"fixed_amount", "hourly_rate", "billed_rate"},
    "recurring_rules": {"fixed_amount"},
    "business_profile": {"default_hourly_rate"},
}
_CURRENCY_OF_ROW = {
    "money_transactions": "SELECT currency FROM money_transactions WHERE id = ?",
    "invoices": "SELECT currency FROM invoices WHERE id = ?",
    "invoice_lines": "SELECT i.currency FROM invoice_lines l JOIN invoices i ON i.id = l.invoice_id WHERE l.id = ?",
    "clients": "SELECT currency FROM clients WHERE id = ?",
    "projects": "SELECT c.currency FROM projects p JOIN clients c ON c.id = p.client_id WHERE p.id = ?",
    "work_entries": "SELECT c.currency FROM work_entries e JOIN projects p ON p.id = e.project_id "
    "JOIN clients c ON c.id = p.client_id WHERE e.id = ?",
    "recurring_rules": "SELECT c.currency FROM recurring_rules r JOIN projects p ON p.id = r.project_id "
    "JOIN clients c ON c.id = p.client_id WHERE r.id = ?",
    "business_profile": "SELECT default_currency FROM business_profile WHERE id = ?",
}


def display_changes(record: AuditRecord) -> list[tuple[str, str, str]]:
    """``(field, old, new)`` as text for people: ∅ for nothing, money as an amount with its currency,
    a reference as what people know the row by (an invoice's number, a client's name)."""
    money = MONEY_FIELDS.get(record.table_name, set()) & set(record.changes)
    currency = _record_currency(record) if money else None
    references = _REFERENCES.get(record.table_name, {})
    rows = []
    for name, (old, new) in record.changes.items():
        if name in money and currency:
            rows.append((name, _money(old, currency), _money(new, currency)))
        elif name in references:
            rows.append((name, _reference(references[name], old), _reference(references[name], new)))
        else:
            rows.append((name, _text(old), _text(new)))
    return rows


# What people know a referenced row by. Audit records keep the id; a row deleted since shows as "#12".
_LABEL_SQL = {
    "clients": "SELECT name FROM clients WHERE id = ?",
    "projects": "SELECT p.name || ' (' || c.name || ')' FROM projects p JOIN clients c ON c.id = p.client_id "
    "WHERE p.id = ?",
    "invoices": "SELECT number FROM invoices WHERE id = ?",
    "invoice_lines": "SELECT i.number || ': ' || l.description FROM invoice_lines l "
    "JOIN invoices i ON i.id = l.invoice_id WHERE l.id = ?",
}
# Per audited table: its reference columns (as audit records name them) -> the referenced table.
_REFERENCES = {
    model._meta.table_name: {
        f.name: f.rel_model._meta.table_name
        for f in model._meta.sorted_fields
        if isinstance(f, ForeignKeyField) and f.rel_model._meta.table_name in _LABEL_SQL
    }
    for model in AUDITED_MODELS
}


def _reference(table: str, row_id) -> str:
    if not isinstance(row_id, int) or isinstance(row_id, bool):
        return _text(row_id)
    row = AuditRecord._meta.database.execute_sql(_LABEL_SQL[table], (row_id,)).fetchone()
    return row[0] if row and row[0] is not None else f"#{row_id}"


def format_changes(record: AuditRecord, limit: int | None = None) -> str:
    """A record's changes on one line: ``field: old → new; ...`` (values shortened)."""
    items = display_changes(record)
    shown = items if limit is None else items[:limit]
    text = "; ".join(f"{name}: {_short(old)} → {_short(new)}" for name, old, new in shown)
    if limit is not None and len(items) > limit:
        text += f"; … (+{len(items) - limit})"
    return text


def _record_currency(record: AuditRecord) -> str | None:
    for field in ("currency", "default_currency"):
        if field in record.changes:
            old, new = record.changes[field]
            if new or old:
                return new or old
    sql = _CURRENCY_OF_ROW.get(record.table_name)
    row = AuditRecord._meta.database.execute_sql(sql, (record.row_id,)).fetchone() if sql else None
    return row[0] if row else None  # the row is gone: the value stays as stored


def _money(value, currency: str) -> str:
    if value is None:
        return "∅"
    if not isinstance(value, int) or isinstance(value, bool):
        return str(value)
    return f"{from_minor(value, currency)} {currency}"


def _text(value) -> str:
    """A stored value as text: ∅ for nothing, and true/false, lists and objects as JSON writes them
    (the audit keeps values as JSON; Python's "True" and "{'a': 1}" would be a third notation)."""
    if value is None:
        return "∅"
    if value == "":
        return '""'
    if isinstance(value, (bool, dict, list)):
        return json.dumps(value, ensure_ascii=False)
    return str(value)


def _short(text: str) -> str:
    return text if len(text) <= 40 else text[:37] + "…"
