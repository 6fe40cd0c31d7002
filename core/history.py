"""Reading the sync history and the audit trail (for the CLI and the screens)."""
from __future__ import annotations

from datetime import date, datetime, time

from core.audit import AuditRecord
from core.models import SyncHistory


def history_query(plugin_name: str | None = None):
    """Runs, newest first (pages on the primary key)."""
    query = SyncHistory.select().order_by(SyncHistory.id.desc())
    if plugin_name:
        query = query.where(SyncHistory.plugin_name == plugin_name)
    return query


def run_changes_query(run_id: int):
    """What a sync run changed: its audit records, in order (pages on the sync_run index)."""
    return AuditRecord.select().where(AuditRecord.sync_run == run_id).order_by(AuditRecord.id)


def run_changes(run_id: int) -> list[AuditRecord]:
    return list(run_changes_query(run_id))


def audit_query(*, source: str | None = None, table: str | None = None, row_id: int | None = None,
                since: date | None = None, until: date | None = None):
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
    sql = (f'WITH RECURSIVE seen(value) AS ('
           f'SELECT min("{column}") FROM "{table}" '
           f'UNION ALL SELECT (SELECT min("{column}") FROM "{table}" WHERE "{column}" > seen.value) '
           f'FROM seen WHERE seen.value IS NOT NULL) '
           f'SELECT value FROM seen WHERE value IS NOT NULL')
    return [row[0] for row in AuditRecord._meta.database.execute_sql(sql)]


def format_changes(changes: dict, limit: int | None = None) -> str:
    """``{field: [old, new]}`` -> ``field: old → new; ...``."""
    items = list(changes.items())
    if limit is not None:
        items = items[:limit]
    text = "; ".join(f"{name}: {_short(old)} → {_short(new)}" for name, (old, new) in items)
    if limit is not None and len(changes) > limit:
        text += f"; … (+{len(changes) - limit})"
    return text


def _short(value) -> str:
    if value is None:
        return "∅"
    text = str(value)
    return text if len(text) <= 40 else text[:37] + "…"
