"""Every list screen reads a page in a fixed number of SQL statements, however many rows the page holds.

For each list, the database is filled with 3 rows and then (in another test run) with 30; the
screen is opened headless with Pilot and the statements executed while its list loads one page
(``PagedTable.reload``) are counted through Peewee's query hooks (``Database.query_hooks``, called
for every ``execute_sql``). The count must be the same for both sizes, and is the number stated
in ``PAGE_QUERIES``: a query per row (an invoice's amount still due, a transaction's invoice, the
profile's rate of an entry, the currency or label an audit record shows) would make it grow.

Each test has its own FAKTURKA_HOME and database (conftest.py).
"""

from __future__ import annotations

import contextlib
from datetime import date, timedelta

import pytest

from core.billing import clients as client_svc
from core.billing import invoice_status, invoicing, payments
from core.billing import profile as profile_svc
from core.billing import timesheet as ts
from core.store.audit import audit_context
from core.store.db import db
from core.store.models import MoneyTransaction, SyncHistory
from core.values.timeutil import utcnow
from tui.app import FakturkaApp
from tui.screens.history import RunDetailScreen
from tui.widgets.paged_table import PagedTable

SIZE = (140, 44)
SIZES = (3, 30)
TODAY = date.today()

# Statements per page load, by list (the table's id). See each fill_* for what the rows hold.
PAGE_QUERIES = {
    "entries": 2,  # the page (entries with project and client) + the profile, for rates that fall back to it
    "clients": 1,  # the page
    "projects": 2,  # the selected client + the page of its projects
    "invoice-list": 1,  # the page, with each invoice's client and amount still due
    "tx-list": 1,  # the page, with each transaction's invoice
    "history-list": 1,  # the page
    "audit-list": 3,  # the page + the currencies of money changes + the labels of references
    "run-changes": 3,  # the same, for the records of one sync run
}


@contextlib.contextmanager
def counting_queries():
    """Count every statement Peewee executes on ``db`` inside the block (``.count`` afterwards)."""

    class Counter:
        count = 0
        statements: list[str] = []

    counter = Counter()
    counter.statements = []

    def hook(event) -> None:
        counter.count += 1
        counter.statements.append(event.sql)

    db.query_hooks.append(hook)
    try:
        yield counter
    finally:
        db.query_hooks.remove(hook)


# -- filling the database with n rows per list ------------------------------------------------


def set_up_profile() -> None:
    profile_svc.update_profile(
        {
            "name": "Jana Nováková",
            "address": "Korunní 1\n120 00 Praha",
            "iban": "CZ6508000000192000145399",
            "default_hourly_rate": "1000",
            "ico": "25596641",
        }
    )


def a_project(name: str = "Acme s.r.o.", rate: str | None = None):
    client = client_svc.add_client(name=name, currency="CZK", hourly_rate=rate)
    return client_svc.add_project(client, name="Website")


def fill_entries(n: int) -> None:
    """n time entries whose rate comes from the profile (no rate on entry, project or client)."""
    set_up_profile()
    project = a_project()
    for i in range(n):
        ts.add_entry(ts.EntryInput(project=project, date=TODAY - timedelta(days=i % 5), duration=f"{i + 1}0m"))


def fill_clients(n: int) -> None:
    """n clients with a rate; the first (the selected one) has n projects."""
    set_up_profile()
    clients = [client_svc.add_client(name=f"Client {i:02d}", currency="CZK", hourly_rate="900") for i in range(n)]
    for i in range(n):
        client_svc.add_project(clients[0], name=f"Project {i:02d}", hourly_rate="1100")


def fill_invoices(n: int) -> None:
    """n sent invoices of one client, each paid in part by a linked payment."""
    set_up_profile()
    project = a_project(rate="1200")
    client = project.client
    for i in range(n):
        ts.add_entry(ts.EntryInput(project=project, date=TODAY, duration="1h", description=f"Work {i}"))
        invoice = invoicing.create_invoice(client)
        invoice_status.mark_sent(invoice)
        MoneyTransaction.create(
            source="manual",
            transaction_type="income",
            amount=50_000,
            currency="CZK",
            transacted_on=TODAY,
            reference=invoice.variable_symbol,
            invoice=invoice,
            match_status="matched",
        )


def fill_transactions(n: int) -> None:
    """n transactions, every other one paying one of three invoices."""
    fill_invoices(3)
    invoices = list(invoicing.invoices_query())
    for i in range(n - 3):
        MoneyTransaction.create(
            source="bank",
            transaction_type="income" if i % 3 else "expense",
            amount=1000 + i,
            currency="CZK",
            transacted_on=TODAY - timedelta(days=i),
            description=f"Movement {i}",
            invoice=invoices[i % 3] if i % 3 and i % 2 else None,
            match_status="matched" if i % 3 and i % 2 else "unmatched",
        )


def fill_history(n: int) -> None:
    """n sync runs, finished or failed."""
    for i in range(n):
        now = utcnow()
        SyncHistory.create(
            plugin_name="bank",
            status="failed" if i % 4 == 0 else "completed",
            started_at=now - timedelta(seconds=i + 1),
            completed_at=now,
            records_processed=i,
            error_message="timeout" if i % 4 == 0 else None,
        )


def fill_audit(n: int) -> int:
    """About n audit records (under one sync run, whose id is returned), each showing money or a
    reference: clients with a rate (money in the client's currency), projects (their client's name),
    work entries (their project's name, money)."""
    set_up_profile()
    run = SyncHistory.create(plugin_name="timecsv", status="completed", started_at=utcnow(), completed_at=utcnow())
    with audit_context("timecsv", sync_run=run.id):
        for i in range(n // 3):
            client = client_svc.add_client(name=f"Client {i:02d}", currency="EUR", hourly_rate="80")
            project = client_svc.add_project(client, name="Work", hourly_rate="90")
            ts.add_entry(ts.EntryInput(project=project, date=TODAY, duration="1h", hourly_rate="95"))
    return run.id


# -- opening a list and counting ------------------------------------------------------------


async def page_load_count(database, key: str, table_id: str, prepare=None) -> int:
    """Open the section (``key``), then count the statements of loading its list's first page again."""
    app = FakturkaApp(db_path=database, first_start_prompt=False)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press(key)
        await pilot.pause()
        if prepare is not None:
            await prepare(pilot)
        table = pilot.app.screen.query_one(f"#{table_id}", PagedTable)
        assert table.row_count > 0, f"{table_id} shows nothing"
        shown = table.row_count
        with counting_queries() as counter:
            table.reload()
        assert table.row_count == shown
        return counter.count


async def select_first_client(pilot) -> None:
    clients = pilot.app.screen.query_one("#clients", PagedTable)
    clients.focus()
    await pilot.press("ctrl+home")
    await pilot.pause()


async def open_first_run(pilot) -> None:
    history = pilot.app.screen.query_one("#history-list", PagedTable)
    history.focus()
    await pilot.press("ctrl+home", "enter")
    await pilot.pause()
    assert isinstance(pilot.app.screen, RunDetailScreen)


LISTS = {
    # table id: (fill, section key, what to do before counting)
    "entries": (fill_entries, "t", None),
    "clients": (fill_clients, "c", None),
    "projects": (fill_clients, "c", select_first_client),
    "invoice-list": (fill_invoices, "i", None),
    "tx-list": (fill_transactions, "b", None),
    "history-list": (fill_history, "h", None),
    "audit-list": (fill_audit, "a", None),
    "run-changes": (fill_audit, "h", open_first_run),
}


@pytest.mark.parametrize("table_id", list(LISTS))
@pytest.mark.parametrize("rows", SIZES)
async def test_a_page_costs_a_fixed_number_of_queries(database, table_id, rows):
    fill, key, prepare = LISTS[table_id]
    fill(rows)
    count = await page_load_count(database, key, table_id, prepare)
    assert count == PAGE_QUERIES[table_id], f"{table_id} with {rows} rows: {count} statements"


# -- the rules the pages compute in SQL are the rules for one row ----------------------------------


def test_the_page_query_computes_what_is_due_as_amount_due_does(database):
    """``still_due`` of the invoices list (SQL over the page) equals ``amount_due`` of each invoice,
    for a draft, an unpaid, a partly paid, an overpaid, a paid and a cancelled invoice."""
    fill_invoices(6)
    invoices = list(invoicing.invoices_query())
    draft, unpaid, partly, overpaid, paid, cancelled = invoices
    MoneyTransaction.update(invoice=None, match_status="unmatched").where(MoneyTransaction.invoice == unpaid).execute()
    MoneyTransaction.create(
        source="manual",
        transaction_type="income",
        amount=overpaid.total,
        currency="CZK",
        transacted_on=TODAY,
        invoice=overpaid,
        match_status="matched",
    )
    invoice_status.mark_paid(paid)
    invoice_status.cancel_invoice(cancelled, unlink_payments=True)
    draft_invoice = invoicing.get_invoice(draft.id)
    draft_invoice.status = "draft"
    draft_invoice.save()
    page = {inv.id: inv.still_due for inv in invoicing.invoices_query()}
    single = {inv.id: payments.amount_due(invoicing.get_invoice(inv.id)) for inv in invoices}
    assert page == single
    assert single[unpaid.id] == unpaid.total
    assert single[partly.id] == partly.total - 50_000
    assert single[overpaid.id] == single[paid.id] == single[cancelled.id] == 0
