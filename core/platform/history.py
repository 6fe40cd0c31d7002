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


def get_run(run_id: int) -> SyncHistory | None:
    """The sync run with this id, or None."""
    return SyncHistory.get_or_none(SyncHistory.id == run_id)


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


def get_audit_record(record_id: int) -> AuditRecord | None:
    """The audit record with this id, or None."""
    return AuditRecord.get_or_none(AuditRecord.id == record_id)


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
# Per table: (id, currency) of rows, for "WHERE <id column> IN (...)".
_CURRENCY_OF_ROWS = {
    "money_transactions": ("SELECT id, currency FROM money_transactions", "id"),
    "invoices": ("SELECT id, currency FROM invoices", "id"),
    "invoice_lines": ("SELECT l.id, i.currency FROM invoice_lines l JOIN invoices i ON i.id = l.invoice_id", "l.id"),
    "clients": ("SELECT id, currency FROM clients", "id"),
    "projects": ("SELECT p.id, c.currency FROM projects p JOIN clients c ON c.id = p.client_id", "p.id"),
    "work_entries": (
        "SELECT e.id, c.currency FROM work_entries e JOIN projects p ON p.id = e.project_id "
        "JOIN clients c ON c.id = p.client_id",
        "e.id",
    ),
    "recurring_rules": (
        "SELECT r.id, c.currency FROM recurring_rules r JOIN projects p ON p.id = r.project_id "
        "JOIN clients c ON c.id = p.client_id",
        "r.id",
    ),
    "business_profile": ("SELECT id, default_currency FROM business_profile", "id"),
}
# What people know a referenced row by: per table, (id, label) of rows. Audit records keep the id;
# a row deleted since shows as "#12".
_LABEL_OF_ROWS = {
    "clients": ("SELECT id, name FROM clients", "id"),
    "projects": (
        "SELECT p.id, p.name || ' (' || c.name || ')' FROM projects p JOIN clients c ON c.id = p.client_id",
        "p.id",
    ),
    "invoices": ("SELECT id, number FROM invoices", "id"),
    "invoice_lines": (
        "SELECT l.id, i.number || ': ' || l.description FROM invoice_lines l JOIN invoices i ON i.id = l.invoice_id",
        "l.id",
    ),
}
# Per audited table: its reference columns (as audit records name them) -> the referenced table.
_REFERENCES = {
    model._meta.table_name: {
        f.name: f.rel_model._meta.table_name
        for f in model._meta.sorted_fields
        if isinstance(f, ForeignKeyField) and f.rel_model._meta.table_name in _LABEL_OF_ROWS
    }
    for model in AUDITED_MODELS
}


def _is_id(value) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _read_values(queries: dict[str, tuple[str, str]], wanted: dict[str, set[int]]) -> dict[tuple[str, int], str]:
    """``(table, id) -> text`` for the wanted rows of every table, in one statement (or none)."""
    parts: list[str] = []
    params: list[int] = []
    for table, wanted_ids in sorted(wanted.items()):
        if not wanted_ids:
            continue
        select, id_column = queries[table]
        ids = sorted(wanted_ids)
        parts.append(f"SELECT '{table}', * FROM ({select} WHERE {id_column} IN ({', '.join('?' * len(ids))}))")
        params += ids
    if not parts:
        return {}
    rows = AuditRecord._meta.database.execute_sql(" UNION ALL ".join(parts), params).fetchall()
    return {(table, row_id): value for table, row_id, value in rows}


class _Lookups:
    """The currencies and labels the changes of some audit records show, read for all of them at once:
    at most two statements however many records (a page of a list costs the same as one record)."""

    def __init__(self, records: list[AuditRecord]):
        currencies: dict[str, set[int]] = {}
        labels: dict[str, set[int]] = {}
        for record in records:
            if _changed_money(record) and _own_currency(record) is None and record.table_name in _CURRENCY_OF_ROWS:
                currencies.setdefault(record.table_name, set()).add(record.row_id)
            for name, table in _REFERENCES.get(record.table_name, {}).items():
                for value in record.changes.get(name, ()):
                    if _is_id(value):
                        labels.setdefault(table, set()).add(value)
        self.currencies = _read_values(_CURRENCY_OF_ROWS, currencies)
        self.labels = _read_values(_LABEL_OF_ROWS, labels)

    def currency(self, record: AuditRecord) -> str | None:
        # The record's own "currency" change if it has one, else the row's as it is now; the row is
        # gone: None, and the value stays as stored.
        return _own_currency(record) or self.currencies.get((record.table_name, record.row_id))

    def label(self, table: str, row_id) -> str:
        if not _is_id(row_id):
            return _text(row_id)
        label = self.labels.get((table, row_id))
        return label if label is not None else f"#{row_id}"


def _changed_money(record: AuditRecord) -> set[str]:
    return MONEY_FIELDS.get(record.table_name, set()) & set(record.changes)


def _own_currency(record: AuditRecord) -> str | None:
    for field in ("currency", "default_currency"):
        if field in record.changes:
            old, new = record.changes[field]
            if new or old:
                return new or old
    return None


def display_changes(record: AuditRecord, lookups: _Lookups | None = None) -> list[tuple[str, str, str]]:
    """``(field, old, new)`` as text for people: ∅ for nothing, money as an amount with its currency,
    a reference as what people know the row by (an invoice's number, a client's name)."""
    lookups = lookups or _Lookups([record])
    money = _changed_money(record)
    currency = lookups.currency(record) if money else None
    references = _REFERENCES.get(record.table_name, {})
    rows = []
    for name, (old, new) in record.changes.items():
        if name in money and currency:
            rows.append((name, _money(old, currency), _money(new, currency)))
        elif name in references:
            rows.append((name, lookups.label(references[name], old), lookups.label(references[name], new)))
        else:
            rows.append((name, _text(old), _text(new)))
    return rows


def format_changes(record: AuditRecord, limit: int | None = None, lookups: _Lookups | None = None) -> str:
    """A record's changes on one line: ``field: old → new; ...`` (values shortened)."""
    items = display_changes(record, lookups)
    shown = items if limit is None else items[:limit]
    text = "; ".join(f"{name}: {_short(old)} → {_short(new)}" for name, old, new in shown)
    if limit is not None and len(items) > limit:
        text += f"; … (+{len(items) - limit})"
    return text


def format_changes_many(records: list[AuditRecord], limit: int | None = None) -> list[str]:
    """``format_changes`` of each record, reading what they show in a fixed number of statements."""
    lookups = _Lookups(records)
    return [format_changes(record, limit, lookups) for record in records]


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
