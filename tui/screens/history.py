"""Sync history: every run, newest first; detail with log, error, backtrace and what changed."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical, VerticalScroll
from textual.widgets import Label, Log, Static

from core.platform.history import format_changes_many, get_run, history_query, run_changes_query, run_duration
from core.store.states import RunStatus
from tui.i18n import _
from tui.screens.base import SectionScreen
from tui.sync_session import status_text
from tui.widgets.detail import DetailScreen
from tui.widgets.paged_table import Col, PagedTable
from tui.widgets.shown import log_lines, markup, plain, plain_lines, shown
from tui.widgets.tables import styled

LOG_LINES = 5000  # a run's log lines the detail keeps (the last ones)


def _when(ts) -> str:
    return ts.strftime("%Y-%m-%d %H:%M:%S") if ts else "—"


def status_cell(run):
    """A run's status for the list: a failed run in red, a preview (a dry run, which saved nothing) as such."""
    text = status_text(run)
    return styled(text, "bold red") if run.status == RunStatus.FAILED else text


class RunDetailScreen(DetailScreen):
    def __init__(self, run):
        super().__init__()
        self.run = run

    def compose(self) -> ComposeResult:
        r = self.run
        with Vertical(classes="dialog detail-dialog"):
            title = f"{_('Sync run')} {r.id} · {r.plugin_name} · {_(r.status)}"
            if r.preview:
                title += " · " + _("preview: nothing was saved")
            yield Static(plain(title), classes="dialog-title")
            with VerticalScroll():
                duration = run_duration(r) or "—"
                yield Static(
                    markup(
                        f"{_('Started')}: {_when(r.started_at)} UTC   {_('Duration')}: {duration}   "
                        f"{_('Trigger')}: $trigger\n"
                        f"{_('Processed')}: {r.records_processed}   {_('Created')}: {r.records_created}   "
                        f"{_('Updated')}: {r.records_updated}   {_('Unchanged')}: {r.records_skipped}"
                        + (f"\n[b red]{_('Error')}:[/] $error" if r.error_message else ""),
                        error=r.error_message or "",
                        trigger=r.trigger,
                    )
                )
                yield Label(_("Log"), classes="pane-title")
                log = Log(id="run-log", max_lines=LOG_LINES, auto_scroll=False, classes="run-log")
                yield log
                if r.error_backtrace:
                    yield Label(_("Backtrace"), classes="pane-title")
                    yield Static(plain_lines(r.error_backtrace), classes="backtrace")
                yield Label(_("What changed"), classes="pane-title")
                # Paged: an import of 50,000 movements leaves more than 50,000 records.
                yield PagedTable(
                    self.fetch_changes,
                    [_("Action"), _("Table"), _("Record"), _("Changes")],
                    id="run-changes",
                    zebra_stripes=False,
                )

    def on_mount(self) -> None:
        # The last lines only, as the Log keeps them: an old run's log may be huge, and each line is made safe.
        lines = self.run.log.splitlines()[-LOG_LINES:]
        self.query_one("#run-log", Log).write_lines(log_lines(lines) or [_("(no log)")])

    def fetch_changes(self, offset: int, limit: int):
        changes = list(run_changes_query(self.run.id).limit(limit).offset(offset))
        rows = [
            (c.id, [c.action, c.table_name, str(c.row_id), text])
            for c, text in zip(changes, format_changes_many(changes, limit=4), strict=True)
        ]
        if not rows and offset == 0:
            rows = [("nothing", ["—", _("nothing"), "", ""])]
        return rows


class HistoryScreen(SectionScreen):
    SECTION = "history"
    TITLE_MSGID = "Sync history"
    BINDINGS = [Binding("r", "refresh", "Refresh")]

    def body(self) -> ComposeResult:
        yield PagedTable(
            self.fetch,
            [
                Col(_("Run"), "id"),
                Col(_("Plugin"), "plugin", cut_to=10),
                Col(_("Status"), "status"),
                Col(_("Started"), "started"),
                Col(_("Duration"), "duration", give=2),
                Col(_("Processed"), "processed", give=3),
                Col(_("Created"), "created"),
                Col(_("Updated"), "updated"),
                Col(_("Unchanged"), "skipped", give=1),
                Col(_("Error"), "error", cut_to=12, fill=True),
            ],
            id="history-list",
        )

    def on_mount(self) -> None:
        super().on_mount()
        self.query_one(PagedTable).focus()

    @staticmethod
    def EXTRA_HELP_ROWS():
        return [("enter", _("Detail"))]

    def fetch(self, offset: int, limit: int):
        rows = []
        for r in history_query().limit(limit).offset(offset):
            status = status_cell(r)
            rows.append(
                (
                    r.id,
                    [
                        str(r.id),
                        r.plugin_name,
                        status,
                        _when(r.started_at),
                        run_duration(r) or "—",
                        str(r.records_processed),
                        str(r.records_created),
                        str(r.records_updated),
                        str(r.records_skipped),
                        shown(r.error_message, 60),
                    ],
                )
            )
        return rows

    def refresh_data(self) -> None:
        self.query_one(PagedTable).reload()

    def action_refresh(self) -> None:
        self.refresh_data()

    def on_data_table_row_selected(self, event) -> None:
        key = self.query_one(PagedTable).selected_key()
        run = get_run(int(key)) if key else None
        if run:
            self.app.push_screen(RunDetailScreen(run))
