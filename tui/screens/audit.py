"""Audit log: every change, newest first, filterable by source, table, record and period."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.widgets import DataTable, Input, Select, Static

from core.billing.timesheet import PERIOD_CHOICES, period_bounds
from core.platform.history import (
    audit_query,
    audit_sources,
    audit_tables,
    display_changes,
    format_changes_many,
    get_audit_record,
)
from tui.i18n import _, pgettext
from tui.screens.base import SectionScreen
from tui.widgets.detail import DetailScreen
from tui.widgets.filters import chosen, refresh_choices
from tui.widgets.paged_table import Col, PagedTable
from tui.widgets.shown import LINE, label, plain
from tui.widgets.tables import PlainDataTable


# Audit values are stored in English ("manual", "invoices", "update"): shown from the catalog, where a
# plugin's name (a source) is not, so it stays as it is.
def source_shown(source: str) -> str:
    return pgettext("audit source", source)


def table_shown(table: str) -> str:
    return pgettext("audit table", table)


def action_shown(action: str) -> str:
    return pgettext("audit action", action)


class AuditDetailScreen(DetailScreen):
    def __init__(self, record):
        super().__init__()
        self.record = record

    def compose(self) -> ComposeResult:
        r = self.record
        with Vertical(classes="dialog detail-dialog"):
            yield Static(
                plain(f"{_('Audit record')} {r.id} · {action_shown(r.action)} {table_shown(r.table_name)} #{r.row_id}"),
                classes="dialog-title",
            )
            yield Static(
                plain(
                    f"{_('Source')}: {source_shown(r.source)}   {_('Sync run')}: {r.sync_run or '—'}   "
                    f"{_('Time')}: {r.created_at:%Y-%m-%d %H:%M:%S} UTC"
                )
            )
            # A value in full, up to the longest a field can hold (an older, longer one is cut).
            yield PlainDataTable(id="audit-fields", cursor_type="row", cell_limit=LINE)

    def on_mount(self) -> None:
        table = self.query_one(DataTable)
        table.add_columns(_("Field"), _("Old"), _("New"))
        for name, old, new in display_changes(self.record):
            table.add_row(name, old, new)


class AuditScreen(SectionScreen):
    SECTION = "audit"
    TITLE_MSGID = "Audit log"
    BINDINGS = [Binding("r", "refresh", "Refresh")]

    def body(self) -> ComposeResult:
        with Vertical(id="audit"):
            with Horizontal(classes="filters"):
                yield Select(
                    [(_("All sources"), "")] + [(label(source_shown(s)), s) for s in audit_sources()],
                    value="",
                    allow_blank=False,
                    id="filter-source",
                )
                yield Select(
                    [(_("All tables"), "")] + [(label(table_shown(t)), t) for t in audit_tables()],
                    value="",
                    allow_blank=False,
                    id="filter-table",
                )
                yield Input(placeholder=_("Record id"), type="integer", id="filter-record")
                yield Select(
                    [(_(label), value) for label, value in PERIOD_CHOICES],
                    value="all",
                    allow_blank=False,
                    id="filter-period",
                )
            yield PagedTable(
                self.fetch,
                [
                    Col(_("Time"), "time"),
                    Col(_("Source"), "source", cut_to=8),
                    Col(_("Table"), "table", cut_to=12),
                    Col(_("Record"), "row"),
                    Col(_("Action"), "action"),
                    Col(_("Changes"), "changes", cut_to=12, fill=True),  # what a person opens the audit for
                ],
                signature=("", "", None, "all"),
                id="audit-list",
            )

    def on_mount(self) -> None:
        super().on_mount()
        self.query_one(PagedTable).focus()

    @staticmethod
    def EXTRA_HELP_ROWS():
        return [("enter", _("Detail"))]

    def _filters(self) -> tuple:
        record = self.query_one("#filter-record", Input).value.strip()
        return (
            chosen(self.query_one("#filter-source", Select)),
            chosen(self.query_one("#filter-table", Select)),
            int(record) if record.isdigit() else None,
            chosen(self.query_one("#filter-period", Select), "all"),
        )

    def fetch(self, offset: int, limit: int):
        source, table, record, period = self._filters()
        since, until = period_bounds(period)
        query = audit_query(source=source or None, table=table or None, row_id=record, since=since, until=until)
        records = list(query.limit(limit).offset(offset))
        return [
            (
                r.id,
                [
                    f"{r.created_at:%Y-%m-%d %H:%M:%S}",
                    source_shown(r.source),
                    table_shown(r.table_name),
                    str(r.row_id),
                    action_shown(r.action),
                    changes,
                ],
            )
            for r, changes in zip(records, format_changes_many(records, limit=3), strict=True)
        ]

    def _refilter(self) -> None:
        self.query_one(PagedTable).set_fetch(self.fetch, self._filters())

    def on_select_changed(self, event) -> None:
        self._refilter()

    def on_input_changed(self, event) -> None:
        self._refilter()

    def refresh_data(self) -> None:
        # New sources and tables appear as plugins run: refresh the filter choices too.
        refresh_choices(self.query_one("#filter-source", Select), _("All sources"), audit_sources(), source_shown)
        refresh_choices(self.query_one("#filter-table", Select), _("All tables"), audit_tables(), table_shown)
        self.query_one(PagedTable).reload()

    def action_refresh(self) -> None:
        self.refresh_data()

    def on_data_table_row_selected(self, event) -> None:
        if event.data_table.id != "audit-list":
            return
        key = self.query_one(PagedTable).selected_key()
        record = get_audit_record(int(key)) if key else None
        if record:
            self.app.push_screen(AuditDetailScreen(record))
