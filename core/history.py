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


def run_changes(run_id: int) -> list[AuditRecord]:
    """What a sync run changed: its audit records, in order."""
    return list(AuditRecord.select().where(AuditRecord.sync_run == run_id).order_by(AuditRecord.id))


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
    return [row[0] for row in AuditRecord.select(AuditRecord.source).distinct().order_by(AuditRecord.source).tuples()]


def audit_tables() -> list[str]:
    return [row[0] for row in AuditRecord.select(AuditRecord.table_name).distinct()
            .order_by(AuditRecord.table_name).tuples()]


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
