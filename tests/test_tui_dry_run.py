"""The Plugins screen's preview (``v``): a dry run with its live log, ending with what the sync would do.

Driven with Pilot on the demo data, whose bank-statement plugin reads a statement that pays some
invoices: the log names them, the database (every table but the run history) is unchanged, and the
run is listed as a preview on the Sync history screen.
"""

from __future__ import annotations

import asyncio

from helpers import highlight, notifications, screen_text
from test_dry_run import dump
from textual.widgets import Label, Log

from core.demo import load_demo
from core.plugins import use_plugins
from core.store.models import Invoice, SyncHistory
from core.store.states import InvoiceStatus
from tui.app import FakturkaApp
from tui.screens.history import HistoryScreen
from tui.screens.plugins import PluginsScreen
from tui.widgets.paged_table import PagedTable

SIZE = (120, 40)


async def test_v_previews_a_sync_in_the_log_and_saves_nothing(database):
    use_plugins(None)
    load_demo()
    sent = {i.number for i in Invoice.select().where(Invoice.status == InvoiceStatus.SENT)}
    before = dump()
    app = FakturkaApp(db_path=database, first_start_prompt=False)
    try:
        async with app.run_test(size=SIZE, notifications=True) as pilot:
            await pilot.press("p")
            await pilot.pause()
            assert isinstance(app.screen, PluginsScreen)
            table = app.screen.query_one("#plugin-list", PagedTable)
            await highlight(pilot, table, "bank-statement")
            await pilot.press("v")
            await asyncio.wait_for(app.workers.wait_for_complete(), timeout=20)
            await pilot.pause(0.3)

            session = app.current_sync
            assert session.dry_run and session.status == "completed", session.message
            lines = list(app.screen.query_one("#sync-log", Log).lines)
            assert lines == session.lines
            assert "Preview (dry run)" in lines[1]
            assert lines[-3].endswith("INFO    Preview: nothing was saved.")
            assert "Would create " in lines[-2] and "unchanged" in lines[-2]
            assert "Would mark paid: " in lines[-1]
            numbers = lines[-1].split("Would mark paid: ", 1)[1].split(", ")
            assert numbers == session.preview.invoices_paid and set(numbers) <= sent
            title = str(app.screen.query_one("#sync-title", Label).render())
            assert title == "Preview: bank-statement · completed"
            assert any("preview completed, nothing was saved" in n for n in notifications(app))
            # The plugin list's last result says it was a preview.
            assert "preview" in screen_text(app)

            assert dump() == before
            assert {i.number for i in Invoice.select().where(Invoice.status == InvoiceStatus.SENT)} == sent
            run = SyncHistory.get_by_id(session.run_id)
            assert run.preview is True and run.status == "completed" and run.trigger == "tui"

            await pilot.press("h")
            await pilot.pause()
            assert isinstance(app.screen, HistoryScreen)
            history = app.screen.query_one(PagedTable)
            assert str(history.get_cell(str(run.id), "status")) == "preview"
    finally:
        use_plugins(None)
