"""Invoice numbers: the profile's pattern, a yearly sequence, variable symbols, and two processes at once."""

from __future__ import annotations

import multiprocessing
import queue
from datetime import date

import pytest

from core.billing import clients as client_svc
from core.billing import invoice_status
from core.billing import invoicing as inv_svc
from core.billing import profile as profile_svc
from core.billing import timesheet as ts
from core.store.db import close_database
from core.store.models import Client, Invoice, InvoiceLine, WorkEntry


def set_up(pattern: str | None = None):
    values = {"name": "Jana Nováková", "iban": "CZ6508000000192000145399", "default_hourly_rate": "1000"}
    if pattern:
        values["invoice_number_pattern"] = pattern
    profile_svc.update_profile(values)


@pytest.fixture
def web(database):
    set_up()
    client = client_svc.add_client(name="Acme")
    return client_svc.add_project(client, name="Web")


def invoice_once(project, issued_on: date, day: date | None = None) -> Invoice:
    ts.add_entry(ts.EntryInput(project=project, date=day or issued_on, duration=60))
    return inv_svc.create_invoice(project.client, issued_on=issued_on)


def test_numbers_follow_the_pattern_with_a_yearly_sequence(web):
    made = [invoice_once(web, date(2025, 12, d)) for d in (1, 15, 31)]
    made += [invoice_once(web, date(2026, 1, d)) for d in (2, 3)]
    assert [(i.number, i.year, i.seq) for i in made] == [
        ("20250001", 2025, 1),
        ("20250002", 2025, 2),
        ("20250003", 2025, 3),
        ("20260001", 2026, 1),
        ("20260002", 2026, 2),
    ]
    # The sequence of a year goes on after invoices of a later year exist.
    late = invoice_once(web, date(2025, 12, 31))
    assert (late.number, late.seq) == ("20250004", 4)


def test_variable_symbol_is_the_digits_of_the_number(web):
    invoice = invoice_once(web, date(2026, 2, 1))
    assert invoice.variable_symbol == "20260001"
    assert Invoice.get_by_id(invoice.id).variable_symbol == "20260001"


@pytest.mark.parametrize(
    "number, symbol",
    [
        ("20260001", "20260001"),
        ("FV-26-001", "26001"),
        ("FV-06-001", "6001"),  # no leading zero
        ("0001/2026", "12026"),
        ("2026000123", "2026000123"),  # ten digits is the limit and is kept whole
    ],
)
def test_variable_symbol_rules(number, symbol):
    result = inv_svc.variable_symbol(number)
    assert result == symbol
    assert result.isdigit() and len(result) <= 10 and not result.startswith("0")


def test_short_pattern_with_two_digit_year(database):
    set_up("FV-{yy}-{seq:03}")
    project = client_svc.add_project(client_svc.add_client(name="Acme"), name="Web")
    first = invoice_once(project, date(2026, 4, 1))
    second = invoice_once(project, date(2026, 4, 2))
    assert (first.number, first.variable_symbol) == ("FV-26-001", "26001")
    assert (second.number, second.variable_symbol) == ("FV-26-002", "26002")
    nxt = invoice_once(project, date(2027, 1, 5))
    assert (nxt.number, nxt.variable_symbol) == ("FV-27-001", "27001")


def test_changing_the_pattern_midyear_continues_the_sequence(web):
    first = invoice_once(web, date(2026, 4, 1))
    profile_svc.update_profile({"invoice_number_pattern": "FV-{year}-{seq:05}"})
    second = invoice_once(web, date(2026, 4, 2))
    assert (first.number, second.number) == ("20260001", "FV-2026-00002")
    assert second.variable_symbol == "202600002"


def test_long_pattern_keeps_ten_digit_symbols(database):
    set_up("{year}{seq:06}")
    project = client_svc.add_project(client_svc.add_client(name="Acme"), name="Web")
    invoice = invoice_once(project, date(2026, 4, 1))
    assert (invoice.number, invoice.variable_symbol) == ("2026000001", "2026000001")


def test_deleted_draft_number_is_reused_cancelled_number_is_not(web):
    first = invoice_once(web, date(2026, 5, 1))
    second = invoice_once(web, date(2026, 5, 2))
    invoice_status.delete_draft(Invoice.get_by_id(second.id))
    again = inv_svc.create_invoice(web.client, issued_on=date(2026, 5, 2))
    assert again.number == second.number == "20260002"
    invoice_status.cancel_invoice(Invoice.get_by_id(again.id))
    third = inv_svc.create_invoice(web.client, issued_on=date(2026, 5, 3))
    assert third.number == "20260003"
    assert sorted(i.seq for i in Invoice.select()) == [1, 2, 3]
    assert first.number == "20260001"


def test_pattern_without_the_year_keeps_numbers_unique_across_years(database):
    """A pattern the profile accepts must not break invoicing in January.

    ``{seq:04}`` passes check_number_pattern, but with a yearly sequence the
    first invoice of 2027 gets the number 0001 again, which the unique index
    on invoices.number refuses. Either the pattern must be refused when it is
    set, or the numbers must stay unique.
    """
    try:
        set_up("{seq:04}")
    except profile_svc.v.ValidationError:
        return  # refused up front, with a sentence: fine
    project = client_svc.add_project(client_svc.add_client(name="Acme"), name="Web")
    old = invoice_once(project, date(2026, 12, 30))
    new = invoice_once(project, date(2027, 1, 4))
    assert old.number != new.number


# -- two processes at once -------------------------------------------------------------------

ISSUED = date(2026, 6, 1)
PER_PROCESS = 10


def _invoice_clients(db_path, client_ids, barrier, results):
    """Run in a separate (spawned) process: open the database and invoice each client."""
    from core.billing import invoicing
    from core.store.db import close_database as close_db
    from core.store.db import open_database
    from core.store.models import Client as ClientModel

    try:
        open_database(db_path)
        barrier.wait(timeout=60)
        made = []
        for client_id in client_ids:
            invoice = invoicing.create_invoice(ClientModel.get_by_id(client_id), issued_on=ISSUED)
            made.append((client_id, invoice.number, invoice.seq))
        results.put(("ok", made))
    except BaseException as exc:  # report everything to the parent
        results.put(("error", f"{type(exc).__name__}: {exc}"))
    finally:
        close_db()


def test_two_processes_never_share_a_number(database):
    set_up()
    client_ids = []
    for i in range(2 * PER_PROCESS):
        client = client_svc.add_client(name=f"Client {i:02d}")
        project = client_svc.add_project(client, name="Work")
        for minutes in (30, 45):
            ts.add_entry(ts.EntryInput(project=project, date=date(2026, 5, 20), duration=minutes))
        client_ids.append(client.id)
    close_database()

    ctx = multiprocessing.get_context("spawn")
    barrier = ctx.Barrier(2)
    results = ctx.Queue()
    workers = [
        ctx.Process(target=_invoice_clients, args=(str(database), client_ids[i::2], barrier, results)) for i in range(2)
    ]
    for worker in workers:
        worker.start()
    outcomes = []
    try:
        for _ in workers:
            outcomes.append(results.get(timeout=120))
    except queue.Empty:
        pytest.fail("a worker process did not report back")
    finally:
        for worker in workers:
            worker.join(timeout=60)
            if worker.is_alive():
                worker.kill()
    assert [w.exitcode for w in workers] == [0, 0]
    errors = [detail for status, detail in outcomes if status != "ok"]
    assert errors == []
    made = [row for _, rows in outcomes for row in rows]
    assert len(made) == 2 * PER_PROCESS

    from core.store.db import open_database

    open_database(database)
    invoices = list(Invoice.select().order_by(Invoice.seq))
    assert len(invoices) == 2 * PER_PROCESS
    assert [i.seq for i in invoices] == list(range(1, 2 * PER_PROCESS + 1))
    assert len({i.number for i in invoices}) == 2 * PER_PROCESS
    assert {i.number for i in invoices} == {f"2026{seq:04d}" for seq in range(1, 2 * PER_PROCESS + 1)}
    assert {number for _, number, _ in made} == {i.number for i in invoices}
    # Each client got exactly one invoice holding both of its entries.
    assert sorted(i.client_id for i in invoices) == sorted(client_ids)
    for invoice in invoices:
        lines = list(InvoiceLine.select().where(InvoiceLine.invoice == invoice))
        assert len(lines) == 1
        entries = list(WorkEntry.select().where(WorkEntry.invoice_line == lines[0]))
        assert len(entries) == 2 and {e.project.client_id for e in entries} == {invoice.client_id}
        assert invoice.total == 125000  # 75 min = 1.25 h x 1000.00
    assert WorkEntry.select().where(WorkEntry.invoice_line.is_null()).count() == 0
    assert Client.select().count() == 2 * PER_PROCESS
