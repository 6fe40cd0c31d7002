"""Drafts in the terminal app: enter on a draft opens the editor; lines, dates and the customer's
details change only on ctrl+s; escape with edits asks; Mark paid is not offered for a draft; cancelling
an invoice with a payment says so and unlinks it only when confirmed."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

from helpers import db_state, screen_text, table_cells
from test_tui_invoices import SIZE, a_draft, open_invoices, set_up_business
from textual.widgets import DataTable, Input

from core.billing import invoicing
from core.billing.invoice_status import mark_sent
from core.store.models import Invoice, MoneyTransaction, WorkEntry
from core.store.states import MatchStatus
from tui.app import FakturkaApp
from tui.screens.draft_editor import DraftEditor
from tui.screens.invoices import InvoicesScreen
from tui.widgets.confirm import Confirm
from tui.widgets.form import FormScreen
from tui.widgets.unsaved import UnsavedChanges


async def open_editor(pilot) -> DraftEditor:
    await open_invoices(pilot)
    await pilot.press("enter")
    await pilot.pause()
    assert isinstance(pilot.app.screen, DraftEditor)
    return pilot.app.screen


async def replace_text(pilot, field: str, text: str) -> None:
    widget = pilot.app.screen.query_one(f"#field-{field}")
    widget.focus()
    await pilot.pause()
    if isinstance(widget, Input):
        widget.value = ""
        await pilot.press(*text) if text else None
    else:  # a TextArea: select all, then type over it
        widget.select_all()
        await pilot.press("backspace", *text)
    await pilot.pause()


async def test_editing_a_draft_changes_its_lines_dates_and_customer_on_save(database):
    client, _project, entries = set_up_business()
    invoice = a_draft(client)
    app = FakturkaApp(db_path=database, first_start_prompt=False)
    async with app.run_test(size=SIZE) as pilot:
        editor = await open_editor(pilot)
        assert f"{invoice.number}" in screen_text(app)
        # The due date, the customer's name as issued.
        due = (invoice.issued_on + timedelta(days=30)).isoformat()
        await replace_text(pilot, "due_on", due)
        await replace_text(pilot, "customer_name", "Acme Europe s.r.o.")
        # The first line: quantity 3, through its dialog (enter on the lines table).
        editor.query_one("#draft-lines", DataTable).focus()
        await pilot.pause()
        await pilot.press("enter")
        await pilot.pause()
        assert isinstance(app.screen, FormScreen)
        await replace_text(pilot, "quantity", "3")
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert isinstance(app.screen, DraftEditor)
        # A new line: travel, 1 pcs at 800.
        await pilot.press("a")
        await pilot.pause()
        await replace_text(pilot, "description", "Travel")
        await replace_text(pilot, "unit_price", "800")
        await pilot.press("ctrl+s")
        await pilot.pause()
        rows = table_cells(editor.query_one("#draft-lines", DataTable))
        assert [row[0] for row in rows][-1] == "Travel"
        # Nothing is written before ctrl+s on the editor.
        assert Invoice.get_by_id(invoice.id).total == invoice.total
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert isinstance(app.screen, InvoicesScreen)

    saved = Invoice.get_by_id(invoice.id)
    lines = invoicing.invoice_lines(saved)
    assert saved.due_on.isoformat() == due
    assert saved.customer["name"] == "Acme Europe s.r.o."
    assert lines[0].quantity == Decimal(3)
    assert (lines[-1].description, lines[-1].unit_price) == ("Travel", 80000)
    assert saved.total == sum(line.amount for line in lines)
    # The work stays billed on the draft.
    assert all(WorkEntry.get_by_id(e.id).invoice_line_id is not None for e in entries)


async def test_removing_a_line_unbills_its_entries_and_escape_with_edits_asks(database):
    client, _project, entries = set_up_business()
    invoice = invoicing.create_invoice(client, per_entry=True)
    before = db_state()
    app = FakturkaApp(db_path=database, first_start_prompt=False)
    async with app.run_test(size=SIZE) as pilot:
        editor = await open_editor(pilot)
        editor.query_one("#draft-lines", DataTable).focus()
        await pilot.pause()
        await pilot.press("delete")
        await pilot.pause()
        assert len(editor.lines) == 1
        # Escape asks; "stay" (escape) keeps the editor with the edit; "discard" leaves, saving nothing.
        await pilot.press("escape")
        await pilot.pause()
        assert isinstance(app.screen, UnsavedChanges)
        await pilot.press("escape")
        await pilot.pause()
        assert app.screen is editor and len(editor.lines) == 1
        await pilot.press("escape")
        await pilot.pause()
        await pilot.press("d")
        await pilot.pause()
        assert isinstance(app.screen, InvoicesScreen)
        assert db_state() == before
        # Again, and save this time: the removed line's entry is unbilled.
        editor = await open_editor(pilot)
        editor.query_one("#draft-lines", DataTable).focus()
        await pilot.pause()
        await pilot.press("delete", "ctrl+s")
        await pilot.pause()
        assert isinstance(app.screen, InvoicesScreen)
    assert len(invoicing.invoice_lines(Invoice.get_by_id(invoice.id))) == 1
    assert sorted(WorkEntry.get_by_id(e.id).invoice_line_id is None for e in entries) == [False, True]


async def test_a_refused_edit_keeps_the_editor_open_with_the_message(database):
    client, _project, _entries = set_up_business()
    invoice = a_draft(client)
    app = FakturkaApp(db_path=database, first_start_prompt=False)
    async with app.run_test(size=SIZE) as pilot:
        await open_editor(pilot)
        before = (invoice.issued_on - timedelta(days=1)).isoformat()
        await replace_text(pilot, "due_on", before)  # due before issued: refused by core
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert isinstance(app.screen, DraftEditor)
        assert "before the issue date" in screen_text(app)
    assert Invoice.get_by_id(invoice.id).due_on == invoice.due_on


async def test_mark_paid_is_not_offered_for_a_draft_and_mark_sent_not_for_a_sent_invoice(database):
    client, _project, _entries = set_up_business()
    invoice = a_draft(client)
    app = FakturkaApp(db_path=database, first_start_prompt=False)
    async with app.run_test(size=SIZE) as pilot:
        await open_invoices(pilot)
        footer = screen_text(app).splitlines()[-1]
        assert "Mark sent" in footer and "Mark paid" not in footer
        assert "Leave field" not in footer  # the screen's own check still decides the section's other keys
        await pilot.press("P")  # the key does nothing for a draft
        await pilot.pause()
        assert not isinstance(app.screen, Confirm)
        mark_sent(invoice)
        app.screen.refresh_data()
        await pilot.pause()
        footer = screen_text(app).splitlines()[-1]
        assert "Mark paid" in footer and "Mark sent" not in footer


async def test_cancelling_an_invoice_with_a_payment_says_so_and_unlinks_it(database):
    client, _project, _entries = set_up_business()
    invoice = mark_sent(a_draft(client))
    movement = MoneyTransaction.create(
        source="manual",
        external_id="m1",
        transacted_on=date.today(),
        amount=10000,
        currency="CZK",
        transaction_type="income",
        invoice=invoice,
        match_status=MatchStatus.MATCHED,
    )
    app = FakturkaApp(db_path=database, first_start_prompt=False)
    async with app.run_test(size=SIZE) as pilot:
        await open_invoices(pilot)
        await pilot.press("X")
        await pilot.pause()
        assert isinstance(app.screen, Confirm)
        question = " ".join(app.screen.question.split())
        assert "100.00 is linked to it from 1 bank movement" in question
        assert "back to review" in question
        await pilot.press("y")
        await pilot.pause()
    assert Invoice.get_by_id(invoice.id).status == "cancelled"
    unlinked = MoneyTransaction.get_by_id(movement.id)
    assert (unlinked.invoice_id, unlinked.match_status) == (None, MatchStatus.REVIEW)
