"""The bank transactions screen (``b``), driven with Pilot after syncing the demo statement:
filters, linking by hand through the invoice picker, unlinking, ignoring, "match now", the
detail with the raw movement, and the invoice's remaining amount following along in the
Invoices screen. Every manual action is confirmed and audited as "manual".

The bank sync may or may not run the matching itself (an after-apply hook); the tests work
either way: where they need an unmatched income they unlink it first.

Each test has its own FAKTURKA_HOME and database (conftest.py).
"""

from __future__ import annotations

from helpers import last_audit_id, notifications, plain, reload, screen_text, table_cells
from textual.widgets import DataTable, Select

from core.banking import matching
from core.billing import payments
from core.billing.timesheet import period_bounds
from core.demo import load_demo
from core.platform.sync import run_sync
from core.store.audit import AuditRecord
from core.store.models import Invoice, MoneyTransaction
from tui.app import FakturkaApp
from tui.i18n import money
from tui.screens.bank import BankScreen, InvoicePickerScreen, TransactionDetailScreen
from tui.screens.invoices import InvoiceDetailScreen, InvoicesScreen
from tui.widgets.confirm import Confirm
from tui.widgets.paged_table import PagedTable

SIZE = (140, 40)
NBSP = "\u00a0"  # money and dates use no-break spaces; the screen text is compared with plain ones
STATUS, INVOICE = 6, 7  # columns of the transactions list
STILL_DUE = 6  # column of the invoices list


# -- helpers -------------------------------------------------------------------------------


def row_keys(table: DataTable) -> list[str]:
    return [table.coordinate_to_cell_key((i, 0)).row_key.value for i in range(table.row_count)]


def statement(description: str) -> MoneyTransaction:
    return MoneyTransaction.get(
        (MoneyTransaction.source == "bank-statement") & (MoneyTransaction.description == description)
    )


def demo_synced():
    """The demo data and its bank statement synced: the four movements, whatever the sync matched."""
    load_demo()
    outcome = run_sync("bank-statement")
    assert outcome.status == "completed", outcome.error
    assert MoneyTransaction.select().where(MoneyTransaction.source == "bank-statement").count() == 4
    return outcome


async def open_bank(pilot) -> PagedTable:
    await pilot.press("b")
    await pilot.pause()
    assert isinstance(pilot.app.screen, BankScreen)
    return pilot.app.screen.query_one("#tx-list", PagedTable)


async def set_filter(pilot, selector: str, value: str) -> None:
    pilot.app.screen.query_one(selector, Select).value = value
    await pilot.pause()


async def highlight(pilot, table: DataTable, key) -> None:
    table.move_cursor(row=table.get_row_index(str(key)))
    await pilot.pause()
    assert table.selected_key() == str(key)


async def confirm(pilot, question: str) -> None:
    """The Confirm dialog is up with ``question``; answer yes."""
    assert isinstance(pilot.app.screen, Confirm), type(pilot.app.screen).__name__
    assert plain(question) in screen_text(pilot.app)
    await pilot.press("y")
    await pilot.pause()


async def unlink_on_screen(pilot, table: PagedTable, tx: MoneyTransaction) -> None:
    number = reload(tx).invoice.number
    await highlight(pilot, table, tx.id)
    await pilot.press("u")
    await pilot.pause()
    await confirm(pilot, f"Remove this payment from invoice {number}?")
    assert isinstance(pilot.app.screen, BankScreen)
    assert reload(tx).invoice_id is None


async def still_due_in_invoices_screen(pilot, invoice: Invoice) -> tuple[str, str]:
    """Switch to Invoices: (the "Still due" cell of the invoice's row, the detail's text); back to Bank."""
    await pilot.press("i")
    await pilot.pause()
    assert isinstance(pilot.app.screen, InvoicesScreen)
    table = pilot.app.screen.query_one("#invoice-list", PagedTable)
    await highlight(pilot, table, invoice.id)
    cell = table_cells(table)[table.get_row_index(str(invoice.id))][STILL_DUE]
    await pilot.press("enter")
    await pilot.pause()
    assert isinstance(pilot.app.screen, InvoiceDetailScreen)
    payments = table_cells(pilot.app.screen.query_one("#detail-payments", DataTable))
    text = screen_text(pilot.app) + "\n" + "\n".join(" | ".join(r) for r in payments)
    await pilot.press("escape")
    await pilot.pause()
    assert isinstance(pilot.app.screen, InvoicesScreen)
    await pilot.press("b")
    await pilot.pause()
    assert isinstance(pilot.app.screen, BankScreen)
    return plain(cell), text


# -- the loop: filter, link by hand, unlink -----------------------------------------------------


async def test_link_by_hand_then_unlink_and_the_remaining_amount_follows(database):
    demo_synced()
    partial = statement("Záloha")  # half of an open CZK invoice, with its VS
    invoice = Invoice.get(Invoice.variable_symbol == partial.reference)
    total = invoice.total
    assert partial.amount < total
    app = FakturkaApp(db_path=database, first_start_prompt=False)
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        table = await open_bank(pilot)
        assert table.row_count == MoneyTransaction.select().count()
        if reload(partial).invoice_id is not None:  # the sync matched it: take it back first
            await unlink_on_screen(pilot, table, partial)
        assert payments.amount_due(reload(invoice)) == total
        mark = last_audit_id()

        # Only the unmatched ones.
        await set_filter(pilot, "#filter-status", "unmatched")
        expected = [str(t.id) for t in matching.transactions_query(status="unmatched")]
        assert row_keys(table) == expected and str(partial.id) in expected
        assert {row[STATUS] for row in table_cells(table)} == {"unmatched"}
        assert "Záloha" in screen_text(app)

        # l: the picker, best candidate first with its evidence; enter picks it; y confirms.
        await highlight(pilot, table, partial.id)
        await pilot.press("l")
        await pilot.pause()
        assert isinstance(app.screen, InvoicePickerScreen)
        picker = app.screen.query_one("#picker", DataTable)
        assert row_keys(picker)[0] == str(invoice.id)
        best = table_cells(picker)[0]
        assert best[0] == invoice.number
        assert f"VS {invoice.variable_symbol}" in best[5]
        text = screen_text(app)
        assert "Which invoice does this pay?" in text and f"VS {partial.reference}" in text
        await pilot.press("enter")
        await pilot.pause()
        await confirm(pilot, f"Record {money(partial.amount, 'CZK')} as a payment of invoice {invoice.number}?")

        assert isinstance(app.screen, BankScreen)
        linked = reload(partial)
        assert (linked.match_status, linked.invoice_id) == ("matched", invoice.id)
        due = total - partial.amount
        invoice = reload(invoice)
        assert invoice.status == "sent"
        assert payments.amount_due(invoice) == due
        assert str(partial.id) not in row_keys(table)  # no longer unmatched
        assert f"Transaction linked to invoice {invoice.number}." in notifications(app)

        cell, detail = await still_due_in_invoices_screen(pilot, invoice)
        assert cell == plain(money(due, "CZK"))
        assert plain(f"Still due: {money(due, 'CZK')}") in detail
        assert plain(money(partial.amount, "CZK")) in detail and "bank-statement" in detail

        # u on the matched row: confirmed, and the invoice is owed in full again.
        table = app.screen.query_one("#tx-list", PagedTable)
        assert app.screen.query_one("#filter-status", Select).value == "unmatched"
        await set_filter(pilot, "#filter-status", "matched")
        assert {row[STATUS] for row in table_cells(table)} == {"matched"}
        row = table_cells(table)[table.get_row_index(str(partial.id))]
        assert row[INVOICE] == invoice.number
        await unlink_on_screen(pilot, table, partial)
        unlinked = reload(partial)
        assert (unlinked.match_status, unlinked.invoice_id) == ("unmatched", None)
        assert payments.amount_due(reload(invoice)) == total
        assert str(partial.id) not in row_keys(table)
        assert f"Unlinked from invoice {invoice.number}." in notifications(app)

        cell, detail = await still_due_in_invoices_screen(pilot, invoice)
        assert cell == plain(money(total, "CZK"))
        assert plain(f"Still due: {money(total, 'CZK')}") in detail
        assert "no payments yet" in detail

    records = list(AuditRecord.select().where(AuditRecord.id > mark))
    tx_changes = [
        r.changes["match_status"] for r in records if (r.table_name, r.row_id) == ("money_transactions", partial.id)
    ]
    assert tx_changes == [["unmatched", "matched"], ["matched", "unmatched"]]
    assert {(r.source, r.sync_run) for r in records} == {("manual", None)}


async def test_linking_the_exact_payment_by_hand_turns_the_invoice_paid_and_back(database):
    demo_synced()
    exact = statement(
        next(
            t.description
            for t in MoneyTransaction.select().where(
                (MoneyTransaction.source == "bank-statement") & MoneyTransaction.description.startswith("Faktura ")
            )
        )
    )
    invoice = Invoice.get(Invoice.variable_symbol == exact.reference)
    app = FakturkaApp(db_path=database, first_start_prompt=False)
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        table = await open_bank(pilot)
        if reload(exact).invoice_id is not None:
            await unlink_on_screen(pilot, table, exact)
        assert reload(invoice).status == "sent"
        mark = last_audit_id()

        await highlight(pilot, table, exact.id)
        await pilot.press("l")
        await pilot.pause()
        assert isinstance(app.screen, InvoicePickerScreen)
        best = table_cells(app.screen.query_one("#picker", DataTable))[0]
        assert best[0] == invoice.number and "amount equals what is owed" in best[5]
        # escape in the picker changes nothing
        await pilot.press("escape")
        await pilot.pause()
        assert isinstance(app.screen, BankScreen)
        assert reload(exact).invoice_id is None
        # n in the confirmation changes nothing either
        await pilot.press("l")
        await pilot.pause()
        await pilot.press("enter")
        await pilot.pause()
        assert isinstance(app.screen, Confirm)
        await pilot.press("n")
        await pilot.pause()
        assert reload(exact).invoice_id is None
        assert last_audit_id() == mark

        await pilot.press("l")
        await pilot.pause()
        await pilot.press("enter")
        await pilot.pause()
        await confirm(pilot, f"as a payment of invoice {invoice.number}?")
        invoice = reload(invoice)
        assert (invoice.status, invoice.paid_on) == ("paid", exact.transacted_on)
        row = table_cells(table)[table.get_row_index(str(exact.id))]
        assert (row[STATUS], row[INVOICE]) == ("matched", invoice.number)
        cell, detail = await still_due_in_invoices_screen(pilot, invoice)
        assert cell == plain(money(0, "CZK"))
        assert f"Invoice {invoice.number} · paid" in detail

        # l on a linked transaction says to unlink first and opens nothing.
        table = app.screen.query_one("#tx-list", PagedTable)
        await highlight(pilot, table, exact.id)
        await pilot.press("l")
        await pilot.pause()
        assert isinstance(app.screen, BankScreen)
        assert any("unlink it first" in m for m in notifications(app))

        await unlink_on_screen(pilot, table, exact)
        invoice = reload(invoice)
        assert (invoice.status, invoice.paid_on) == ("sent", None)

    records = list(AuditRecord.select().where(AuditRecord.id > mark))
    assert [r.changes["status"] for r in records if r.table_name == "invoices"] == [["sent", "paid"], ["paid", "sent"]]
    assert {(r.source, r.sync_run) for r in records} == {("manual", None)}


# -- ignore, the detail with the raw movement, filters, match now -----------------------------------


async def test_ignore_then_filter_ignored_and_the_detail_shows_the_raw_movement(database):
    demo_synced()
    expense = statement("Nákup: USB-C hub")
    app = FakturkaApp(db_path=database, first_start_prompt=False)
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        table = await open_bank(pilot)
        row = table_cells(table)[table.get_row_index(str(expense.id))]
        assert row[2] == "-" + money(expense.amount, "CZK")
        mark = last_audit_id()

        await highlight(pilot, table, expense.id)
        await pilot.press("g")
        await pilot.pause()
        await confirm(pilot, "Mark this transaction as not an invoice payment?")
        assert reload(expense).match_status == "ignored"
        assert "Ignored." in notifications(app)

        await set_filter(pilot, "#filter-status", "ignored")
        assert row_keys(table) == [str(expense.id)]
        assert table_cells(table)[0][STATUS] == "ignored"

        # enter: the detail, with how it was matched and the raw movement from the statement.
        await pilot.press("enter")
        await pilot.pause()
        assert isinstance(app.screen, TransactionDetailScreen)
        text = screen_text(app)
        assert f"Transaction {expense.id} · bank-statement · ignored" in text
        assert "Alza.cz a.s." in text and "Nákup: USB-C hub" in text
        assert "not an invoice payment" in text
        assert "Raw movement" in text
        raw = reload(expense).raw_data
        assert raw, "the statement plugin keeps the raw movement"
        visible = [key for key in raw if f'"{key}"' in text]
        assert "acct_svcr_ref" in visible and "booking_date" in visible, visible
        assert "DEMO-3" in text
        await pilot.press("escape")
        await pilot.pause()
        assert isinstance(app.screen, BankScreen)

        # g again restores it.
        await pilot.press("g")
        await pilot.pause()
        await confirm(pilot, "Make this transaction unmatched again?")
        assert reload(expense).match_status == "unmatched"
        assert row_keys(table) == []

    records = list(AuditRecord.select().where(AuditRecord.id > mark))
    assert [r.changes["match_status"] for r in records] == [["unmatched", "ignored"], ["ignored", "unmatched"]]
    assert {(r.table_name, r.row_id, r.source) for r in records} == {("money_transactions", expense.id, "manual")}


async def test_ignoring_a_linked_transaction_is_refused_on_screen(database):
    demo_synced()
    partial = statement("Záloha")
    if partial.invoice_id is None:
        matching.link(partial, Invoice.get(Invoice.variable_symbol == partial.reference))
    app = FakturkaApp(db_path=database, first_start_prompt=False)
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        table = await open_bank(pilot)
        await highlight(pilot, table, partial.id)
        mark = last_audit_id()
        await pilot.press("g")
        await pilot.pause()
        await pilot.press("y")
        await pilot.pause()
        assert isinstance(app.screen, BankScreen)
        assert any("unlink it first" in m for m in notifications(app))
        assert reload(partial).match_status == "matched"
        assert last_audit_id() == mark


async def test_source_and_period_filters(database):
    demo_synced()
    app = FakturkaApp(db_path=database, first_start_prompt=False)
    async with app.run_test(size=SIZE) as pilot:
        table = await open_bank(pilot)
        assert table.row_count == MoneyTransaction.select().count() > 4  # the demo's older payments too
        await set_filter(pilot, "#filter-source", "bank-statement")
        assert table.row_count == 4
        assert {row[1] for row in table_cells(table)} == {"bank-statement"}
        await set_filter(pilot, "#filter-period", "month")
        since, until = period_bounds("month")
        assert row_keys(table) == [
            str(t.id) for t in matching.transactions_query(source="bank-statement", since=since, until=until)
        ]
        await set_filter(pilot, "#filter-source", "demo")
        await set_filter(pilot, "#filter-period", "all")
        assert {row[1] for row in table_cells(table)} == {"demo"}
        assert table.row_count == MoneyTransaction.select().where(MoneyTransaction.source == "demo").count()


async def test_match_now_matches_the_statement(database):
    demo_synced()
    # Whatever the sync did, start from unmatched movements.
    for tx in MoneyTransaction.select().where(
        (MoneyTransaction.source == "bank-statement") & MoneyTransaction.invoice.is_null(False)
    ):
        matching.unlink(tx)
    exact = next(
        t
        for t in MoneyTransaction.select().where(MoneyTransaction.source == "bank-statement")
        if t.description.startswith("Faktura ")
    )
    foreign = next(
        t
        for t in MoneyTransaction.select().where(MoneyTransaction.source == "bank-statement")
        if t.description.startswith("Invoice ")
    )
    paid = sorted(
        [Invoice.get(Invoice.variable_symbol == exact.reference).number, foreign.description.split()[1].rstrip(",")]
    )
    app = FakturkaApp(db_path=database, first_start_prompt=False)
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        table = await open_bank(pilot)
        await set_filter(pilot, "#filter-status", "unmatched")
        assert table.row_count == 4
        mark = last_audit_id()
        await pilot.press("m")
        await pilot.pause()
        message = next(m for m in notifications(app) if m.startswith("Matched "))
        assert message.startswith("Matched 3, 0 need review; paid: ")
        assert sorted(message.rsplit(": ", 1)[1].rstrip(".").split(", ")) == paid
        assert row_keys(table) == [str(statement("Nákup: USB-C hub").id)]
    for number in paid:
        assert Invoice.get(Invoice.number == number).status == "paid"
    assert {r.source for r in AuditRecord.select().where(AuditRecord.id > mark)} == {"manual"}
