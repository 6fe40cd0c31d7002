"""Invoices: the new-invoice wizard, PDF export in a worker, send and cancel with
confirmation, and a failing export that must not close the app.

Each test has its own FAKTURKA_HOME and database (conftest.py).
"""

from __future__ import annotations

from datetime import date

import pypdf
from helpers import plain, screen_text, table_cells
from textual.widgets import DataTable, Select, Static

from core.billing import invoicing
from core.billing import profile as profile_svc
from core.billing.clients import add_client, add_project
from core.billing.invoice_status import mark_sent
from core.billing.timesheet import EntryInput, add_entry
from core.store import paths
from core.store.models import Invoice, WorkEntry
from tui.app import FakturkaApp
from tui.i18n import money
from tui.screens.invoices import InvoicesScreen, NewInvoiceScreen
from tui.widgets.confirm import Confirm
from tui.widgets.paged_table import PagedTable

SIZE = (140, 44)
NBSP = "\u00a0"  # money and dates use no-break spaces; the screen text is compared with plain ones


# -- helpers -------------------------------------------------------------------------------


def set_up_business(with_entries: bool = True):
    profile_svc.update_profile(
        {
            "name": "Jana Nováková",
            "address": "Korunní 1\n120 00 Praha",
            "iban": "CZ6508000000192000145399",
            "bic": "GIBACZPX",
            "default_hourly_rate": "1000",
            "ico": "25596641",
        }
    )
    client = add_client(
        name="Acme s.r.o.", currency="CZK", hourly_rate="1200", ico="27082440", address="Náměstí 1\n110 00 Praha"
    )
    project = add_project(client, name="Website")
    entries = []
    if with_entries:
        entries = [
            add_entry(EntryInput(project=project, date=date.today(), duration="2h", description="Design")),
            add_entry(EntryInput(project=project, date=date.today(), duration="1h30m", description="Review")),
        ]
    return client, project, entries


def a_draft(client) -> Invoice:
    return invoicing.create_invoice(client)


async def open_invoices(pilot) -> PagedTable:
    await pilot.press("i")
    await pilot.pause()
    assert isinstance(pilot.app.screen, InvoicesScreen)
    return pilot.app.screen.query_one("#invoice-list", PagedTable)


# -- the wizard -------------------------------------------------------------------------------


async def test_wizard_previews_lines_and_total_then_creates_the_draft(database):
    client, _project, entries = set_up_business()
    expected = invoicing.preview_invoice(client, until=date.today())
    app = FakturkaApp(db_path=database, first_start_prompt=False)
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        table = await open_invoices(pilot)
        assert table.row_count == 0
        await pilot.press("n")
        await pilot.pause()
        assert isinstance(app.screen, NewInvoiceScreen)

        app.screen.query_one("#wizard-client", Select).value = client.id
        await pilot.pause()
        lines = table_cells(app.screen.query_one("#wizard-lines", DataTable))
        assert len(lines) == len(expected.lines) >= 1
        assert lines[0][5] == money(expected.lines[0].amount, "CZK")
        total = str(app.screen.query_one("#wizard-total", Static).render())
        assert f"Total: {money(expected.totals.total, 'CZK')}" in total
        assert "Entries: 2" in total
        text = screen_text(app)
        assert plain(f"Total: {money(expected.totals.total, 'CZK')}") in text
        assert Invoice.select().count() == 0  # a preview creates nothing

        await pilot.press("ctrl+s")
        await pilot.pause()
        assert isinstance(app.screen, InvoicesScreen)
        invoice = Invoice.get()
        assert invoice.status == "draft"
        assert invoice.client_id == client.id
        assert invoice.total == expected.totals.total == 420000  # 3.5 h at 1,200 CZK
        for entry in entries:
            assert WorkEntry.get_by_id(entry.id).invoice_line_id is not None
        rows = table_cells(table)
        assert len(rows) == 1 and rows[0][0] == invoice.number
        assert invoice.number in screen_text(app)
        assert any(f"Draft invoice {invoice.number} created" in n.message for n in app._notifications)


async def test_wizard_without_a_client_shows_a_message_and_creates_nothing(database):
    set_up_business()
    app = FakturkaApp(db_path=database, first_start_prompt=False)
    async with app.run_test(size=SIZE) as pilot:
        await open_invoices(pilot)
        await pilot.press("n")
        await pilot.pause()
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert isinstance(app.screen, NewInvoiceScreen)
        assert "Choose a client." in screen_text(app)
        assert Invoice.select().count() == 0
        await pilot.press("escape")
        await pilot.pause()
        assert isinstance(app.screen, InvoicesScreen)
        assert Invoice.select().count() == 0


# -- PDF export in a worker ---------------------------------------------------------------------


async def test_export_pdf_of_the_selected_invoice(database, fakturka_home):
    client, _project, _entries = set_up_business()
    invoice = a_draft(client)
    app = FakturkaApp(db_path=database, first_start_prompt=False)
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        table = await open_invoices(pilot)
        assert table.selected_key() == str(invoice.id)
        await pilot.press("e")
        await app.workers.wait_for_complete()
        await pilot.pause()

        pdf_path = fakturka_home / "exports" / f"invoice-{invoice.number}.pdf"
        assert pdf_path.parent == paths.exports_dir()
        assert pdf_path.is_file(), sorted(p.name for p in pdf_path.parent.iterdir())
        reader = pypdf.PdfReader(pdf_path)
        text = "".join(page.extract_text() for page in reader.pages)
        assert invoice.number in text
        assert "Acme" in text

        assert app.is_running
        messages = [n.message for n in app._notifications]
        assert any("Exported 1 PDF(s)" in m and str(pdf_path) in m for m in messages), messages
        assert "hidden" in app.screen.query_one("#export-progress").classes


async def test_export_failure_in_the_worker_does_not_quit_the_app(database, monkeypatch):
    client, _project, _entries = set_up_business()
    invoice = a_draft(client)

    import core.billing.pdf

    def broken_export(invoices, out_dir, progress=None):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(core.billing.pdf, "export_invoices", broken_export)
    app = FakturkaApp(db_path=database, first_start_prompt=False)
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await open_invoices(pilot)
        await pilot.press("e")
        await app.workers.wait_for_complete()
        await pilot.pause()

        assert app.is_running
        assert app.return_code is None
        errors = [n for n in app._notifications if n.severity == "error"]
        assert any("PDF export failed" in n.message and "No space left" in n.message for n in errors), [
            n.message for n in app._notifications
        ]
        assert "PDF export failed" in screen_text(app)
        assert "hidden" in app.screen.query_one("#export-progress").classes
        # The app still answers keys.
        await pilot.press("d")
        await pilot.pause()
        assert app.current_mode == "dashboard"
    assert Invoice.get_by_id(invoice.id).status == "draft"


async def test_export_all_listed_writes_one_pdf_per_invoice(database, fakturka_home):
    client, project, _entries = set_up_business()
    first = a_draft(client)
    add_entry(EntryInput(project=project, date=date.today(), duration="1h", description="More"))
    second = a_draft(client)
    app = FakturkaApp(db_path=database, first_start_prompt=False)
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await open_invoices(pilot)
        await pilot.press("E")
        await app.workers.wait_for_complete()
        await pilot.pause()
        names = sorted(p.name for p in (fakturka_home / "exports").iterdir())
        assert names == sorted([f"invoice-{first.number}.pdf", f"invoice-{second.number}.pdf"])
        assert any("Exported 2 PDF(s)" in n.message for n in app._notifications)


# -- status changes with confirmation -------------------------------------------------------------


async def test_mark_sent_then_cancel_each_ask_for_confirmation(database):
    client, _project, entries = set_up_business()
    invoice = a_draft(client)
    app = FakturkaApp(db_path=database, first_start_prompt=False)
    async with app.run_test(size=SIZE) as pilot:
        table = await open_invoices(pilot)

        # S asks first; escape leaves the draft alone.
        await pilot.press("S")
        await pilot.pause()
        assert isinstance(app.screen, Confirm)
        assert f"Mark invoice {invoice.number} for Acme s.r.o. as sent?" in screen_text(app)
        await pilot.press("escape")
        await pilot.pause()
        assert Invoice.get_by_id(invoice.id).status == "draft"

        await pilot.press("S")
        await pilot.pause()
        await pilot.press("y")
        await pilot.pause()
        assert isinstance(app.screen, InvoicesScreen)
        assert Invoice.get_by_id(invoice.id).status == "sent"
        assert table_cells(table)[0][2] == "sent"

        # X asks first; "n" keeps the invoice as it is.
        await pilot.press("X")
        await pilot.pause()
        assert isinstance(app.screen, Confirm)
        assert f"Cancel invoice {invoice.number}" in screen_text(app)
        await pilot.press("n")
        await pilot.pause()
        assert Invoice.get_by_id(invoice.id).status == "sent"

        await pilot.press("X")
        await pilot.pause()
        await pilot.press("y")
        await pilot.pause()
        assert isinstance(app.screen, InvoicesScreen)
        assert Invoice.get_by_id(invoice.id).status == "cancelled"
        assert table_cells(table)[0][2] == "cancelled"
        # Its entries are unbilled again.
        for entry in entries:
            assert WorkEntry.get_by_id(entry.id).invoice_line_id is None


async def test_invoice_detail_shows_lines_and_remaining_amount(database):
    client, _project, _entries = set_up_business()
    invoice = mark_sent(a_draft(client))  # a draft opens in the editor instead (test_tui_drafts.py)
    app = FakturkaApp(db_path=database, first_start_prompt=False)
    async with app.run_test(size=SIZE) as pilot:
        await open_invoices(pilot)
        await pilot.press("enter")
        await pilot.pause()
        text = screen_text(app)
        assert f"Invoice {invoice.number}" in text
        assert plain(f"Still due: {money(invoice.total, 'CZK')}") in text
        lines = table_cells(app.screen.query_one("#detail-lines", DataTable))
        assert len(lines) == len(invoicing.invoice_lines(invoice))
        await pilot.press("escape")
        await pilot.pause()
        assert isinstance(app.screen, InvoicesScreen)
