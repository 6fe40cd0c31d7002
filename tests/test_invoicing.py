"""Invoices from unbilled work: totals and rounding, VAT, grouping, locking, statuses, frozen rates."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest
from helpers import db_state

from core.billing import clients as client_svc
from core.billing import invoice_status, payments
from core.billing import invoicing as inv_svc
from core.billing import profile as profile_svc
from core.billing import timesheet as ts
from core.billing.totals import compute_totals, line_amount, round_half_up
from core.store.models import Client, Invoice, InvoiceLine, MoneyTransaction, WorkEntry

ISSUED = date(2026, 3, 31)
IBAN = "CZ6508000000192000145399"


def set_up_profile(**extra):
    values = {
        "name": "Jana Nováková",
        "address": "Korunní 1\nPraha",
        "ico": "25596641",
        "iban": IBAN,
        "default_hourly_rate": "1000",
        "payment_terms_days": "14",
    }
    values.update(extra)
    return profile_svc.update_profile(values)


def log(project, minutes=None, day="2026-03-10", **kw):
    return ts.add_entry(ts.EntryInput(project=project, date=day, duration=minutes, **kw))


def reload(model_instance):
    return type(model_instance).get_by_id(model_instance.id)


def check_invoice_arithmetic(invoice: Invoice) -> list[InvoiceLine]:
    """Every figure the invoice shows can be recomputed from what it shows, in minor units."""
    invoice = reload(invoice)
    lines = inv_svc.invoice_lines(invoice)
    assert lines, "an invoice has lines"
    for line in lines:
        assert isinstance(line.amount, int) and isinstance(line.unit_price, int)
        assert line.amount == round_half_up(Decimal(line.quantity) * Decimal(line.unit_price))
    assert invoice.subtotal == sum(line.amount for line in lines)
    assert invoice.total == invoice.subtotal + invoice.vat_total
    totals = inv_svc.invoice_totals(invoice)
    assert (totals.subtotal, totals.vat_total, totals.total) == (invoice.subtotal, invoice.vat_total, invoice.total)
    assert sum(r.base for r in totals.per_rate) == invoice.subtotal
    assert sum(r.vat for r in totals.per_rate) == invoice.vat_total
    for summary in totals.per_rate:
        assert summary.vat == round_half_up(Decimal(summary.base) * summary.rate / 100)
    return lines


@pytest.fixture
def acme(database):
    set_up_profile()
    client = client_svc.add_client(name="Acme s.r.o.", ico="27082440", address="Náměstí Míru 12\nPraha")
    return client


@pytest.fixture
def web(acme):
    return client_svc.add_project(acme, name="Web", hourly_rate="1200")


# -- totals and rounding ------------------------------------------------------------------


def test_many_small_entries_at_an_odd_rate(acme):
    project = client_svc.add_project(acme, name="Support", hourly_rate="1234.56")
    for i in range(37):
        log(project, 7, day=date(2026, 3, 1) + timedelta(days=i % 28), description=f"ticket {i}")
    invoice = inv_svc.create_invoice(acme, issued_on=ISSUED)
    lines = check_invoice_arithmetic(invoice)
    assert len(lines) == 1
    line = lines[0]
    # Each 7 min entry is 0.12 h, as Time values it (one rounding rule, issue 16); 37 x 0.12 = 4.44 h;
    # 4.44 x 1234.56 = 5481.4464 -> 5481.45
    assert line.quantity == Decimal("4.44")
    assert line.unit_price == 123456
    assert line.amount == 548145
    assert (invoice.subtotal, invoice.vat_total, invoice.total) == (548145, 0, 548145)
    assert WorkEntry.select().where(WorkEntry.invoice_line == line).count() == 37


def test_many_small_entries_one_line_each(acme):
    project = client_svc.add_project(acme, name="Support", hourly_rate="1234.56")
    for i in range(37):
        log(project, 7, day=date(2026, 3, 1) + timedelta(days=i % 28))
    invoice = inv_svc.create_invoice(acme, issued_on=ISSUED, per_entry=True)
    lines = check_invoice_arithmetic(invoice)
    assert len(lines) == 37
    # each line: 7 min shown as 0.12 h; 0.12 x 1234.56 = 148.1472 -> 148.15
    assert {(line.quantity, line.amount) for line in lines} == {(Decimal("0.12"), 14815)}
    assert reload(invoice).total == 37 * 14815
    assert [line.position for line in lines] == list(range(1, 38))


@pytest.mark.parametrize(
    "minutes, rate, quantity, amount",
    [
        (50, "1000", "0.83", 83000),  # 0.8333 h
        (20, "999.99", "0.33", 33000),  # 0.33 x 99999 = 32999.67 -> 33000
        (1, "1500", "0.02", 3000),  # 0.01666 h
        (125, "850.50", "2.08", 176904),  # 2.08 x 85050 = 176904
        (45, "0.01", "0.75", 1),  # 0.75 x 1 = 0.75 -> 1
        (30, "0.01", "0.50", 1),  # exactly half a minor unit rounds up
    ],
)
def test_fractional_hours_round_half_up(acme, minutes, rate, quantity, amount):
    project = client_svc.add_project(acme, name="P", hourly_rate=rate)
    log(project, minutes)
    invoice = inv_svc.create_invoice(acme, issued_on=ISSUED)
    (line,) = check_invoice_arithmetic(invoice)
    assert line.quantity == Decimal(quantity)
    assert line.amount == amount == line_amount(Decimal(quantity), line.unit_price)


def test_fixed_amounts_are_their_own_lines(acme, web):
    log(web, 90, description="Coding")
    log(web, fixed="12000", description="Server setup")
    log(web, fixed="0.01", description="Tiny")
    invoice = inv_svc.create_invoice(acme, issued_on=ISSUED)
    lines = check_invoice_arithmetic(invoice)
    assert [(ln.description, ln.quantity, ln.unit, ln.unit_price, ln.amount) for ln in lines] == [
        ("Web", Decimal("1.50"), "h", 120000, 180000),
        ("Server setup", Decimal("1"), "ks", 1200000, 1200000),
        ("Tiny", Decimal("1"), "ks", 1, 1),
    ]
    assert reload(invoice).total == 180000 + 1200000 + 1


def test_vat_payer_with_two_rates(database):
    set_up_profile(vat_payer="yes", default_vat_rate="21")
    client = client_svc.add_client(name="Acme", hourly_rate="1000")
    books = client_svc.add_project(client, name="Books", vat_rate="12", hourly_rate="777.77")
    web = client_svc.add_project(client, name="Web", hourly_rate="1234.56")
    for minutes in (7, 13, 29, 61):
        log(books, minutes)
    for minutes in (11, 17, 43):
        log(web, minutes)
    log(web, fixed="999.99", description="Licence")
    log(books, fixed="333.33", description="Printed copy")
    invoice = inv_svc.create_invoice(client, issued_on=ISSUED)
    lines = check_invoice_arithmetic(invoice)
    by_rate: dict[Decimal, int] = {}
    for line in lines:
        by_rate[Decimal(line.vat_rate)] = by_rate.get(Decimal(line.vat_rate), 0) + line.amount
    assert set(by_rate) == {Decimal(21), Decimal(12)}
    # Books: 0.12+0.22+0.48+1.02 = 1.84 h x 777.77 = 1431.0968 -> 1431.10; Web: 0.18+0.28+0.72 = 1.18 h x 1234.56
    # = 1456.7808 -> 1456.78 (each entry's hours rounded, as Time values it)
    assert by_rate[Decimal(12)] == 143110 + 33333
    assert by_rate[Decimal(21)] == 145678 + 99999
    totals = inv_svc.invoice_totals(invoice)
    assert [(r.rate, r.base, r.vat) for r in totals.per_rate] == [
        (Decimal(21), 245677, round_half_up(Decimal(245677) * Decimal("0.21"))),
        (Decimal(12), 176443, round_half_up(Decimal(176443) * Decimal("0.12"))),
    ]
    stored = reload(invoice)
    assert stored.vat_payer is True and stored.reverse_charge is False
    assert stored.vat_total == 51592 + 21173  # 2456.77 x 21 % = 515.92; 1764.43 x 12 % = 211.73
    assert stored.total == 245677 + 176443 + 51592 + 21173


def test_vat_is_rounded_once_per_rate_not_per_line(database):
    set_up_profile(vat_payer="yes")
    client = client_svc.add_client(name="Acme")
    project = client_svc.add_project(client, name="Web")
    for _ in range(3):
        log(project, fixed="0.02")  # 21 % of 0.02 is 0.0042 per line: 0 if rounded per line
    invoice = inv_svc.create_invoice(client, issued_on=ISSUED, per_entry=True)
    check_invoice_arithmetic(invoice)
    stored = reload(invoice)
    assert (stored.subtotal, stored.vat_total, stored.total) == (6, 1, 7)  # 0.06 x 21 % = 0.0126 -> 0.01


def test_reverse_charge_for_eu_business_with_vat_id(database):
    set_up_profile(vat_payer="yes")
    client = client_svc.add_client(
        name="Nordlicht GmbH", country="DE", dic="DE811907980", currency="EUR", language="en", hourly_rate="75"
    )
    project = client_svc.add_project(client, name="API")
    log(project, 150)
    log(project, fixed="100", description="Setup")
    invoice = inv_svc.create_invoice(client, issued_on=ISSUED)
    lines = check_invoice_arithmetic(invoice)
    stored = reload(invoice)
    assert stored.reverse_charge is True and stored.vat_payer is True
    assert stored.vat_total == 0
    assert stored.total == stored.subtotal == 18750 + 10000
    assert stored.currency == "EUR" and stored.language == "en"
    assert [ln.unit for ln in lines] == ["h", "pcs"]
    assert [(r.base, r.vat) for r in inv_svc.invoice_totals(stored).per_rate] == [(28750, 0)]


def test_eu_business_without_vat_id_pays_czech_vat(database):
    set_up_profile(vat_payer="yes")
    client = client_svc.add_client(name="Hans Privat", country="DE", currency="EUR", hourly_rate="100")
    log(client_svc.add_project(client, name="API"), 60)
    invoice = reload(inv_svc.create_invoice(client, issued_on=ISSUED))
    assert invoice.reverse_charge is False
    assert (invoice.subtotal, invoice.vat_total, invoice.total) == (10000, 2100, 12100)


def test_czech_client_with_vat_id_is_not_reverse_charge(database):
    set_up_profile(vat_payer="yes")
    client = client_svc.add_client(name="Pekárna", country="CZ", dic="CZ27082440", hourly_rate="1000")
    log(client_svc.add_project(client, name="Web"), 60)
    invoice = reload(inv_svc.create_invoice(client, issued_on=ISSUED))
    assert invoice.reverse_charge is False
    assert invoice.vat_total == 21000


def test_non_payer_charges_no_vat(database):
    set_up_profile(vat_payer="no")
    client = client_svc.add_client(
        name="Nordlicht GmbH", country="DE", dic="DE811907980", currency="EUR", hourly_rate="75"
    )
    project = client_svc.add_project(client, name="API", vat_rate="12")
    log(project, 60)
    invoice = inv_svc.create_invoice(client, issued_on=ISSUED)
    lines = check_invoice_arithmetic(invoice)
    stored = reload(invoice)
    assert stored.vat_payer is False and stored.reverse_charge is False
    assert (stored.subtotal, stored.vat_total, stored.total) == (7500, 0, 7500)
    assert {Decimal(ln.vat_rate) for ln in lines} == {Decimal(0)}


def test_compute_totals_directly():
    lines = [(100, Decimal("21")), (250, Decimal("21.0")), (999, Decimal("12")), (1, Decimal("0"))]
    totals = compute_totals(lines, vat_payer=True, reverse_charge=False)
    assert [(r.rate, r.base, r.vat) for r in totals.per_rate] == [
        (Decimal(21), 350, 74),
        (Decimal(12), 999, 120),
        (Decimal(0), 1, 0),
    ]
    assert (totals.subtotal, totals.vat_total, totals.total) == (1350, 194, 1544)
    for flags in ({"vat_payer": False, "reverse_charge": False}, {"vat_payer": True, "reverse_charge": True}):
        plain = compute_totals(lines, **flags)
        assert (plain.subtotal, plain.vat_total, plain.total) == (1350, 0, 1350)


# -- grouping and filters -------------------------------------------------------------------


def test_lines_grouped_per_project_and_rate(acme, web):
    app = client_svc.add_project(acme, name="App")  # the client's rate: the profile's 1000
    log(web, 30, day="2026-03-02", description="a")
    log(app, 45, day="2026-03-03", description="b")
    log(web, 60, day="2026-03-04", description="c")
    log(web, 60, day="2026-03-05", description="rush", hourly_rate="2000")
    invoice = inv_svc.create_invoice(acme, issued_on=ISSUED)
    lines = check_invoice_arithmetic(invoice)
    assert [(ln.description, ln.quantity, ln.unit_price) for ln in lines] == [
        ("Web", Decimal("1.50"), 120000),
        ("App", Decimal("0.75"), 100000),
        ("Web", Decimal("1.00"), 200000),
    ]
    assert [WorkEntry.select().where(WorkEntry.invoice_line == ln).count() for ln in lines] == [2, 1, 1]


def test_one_line_per_entry(acme, web):
    log(web, 30, day="2026-03-02", description="Design")
    log(web, 45, day="2026-03-03")
    invoice = inv_svc.create_invoice(acme, issued_on=ISSUED, per_entry=True)
    lines = check_invoice_arithmetic(invoice)
    assert [(ln.description, ln.quantity) for ln in lines] == [
        ("2026-03-02 Design", Decimal("0.50")),
        ("2026-03-03 Web", Decimal("0.75")),
    ]


def test_only_this_clients_billable_finished_entries(acme, web):
    other = client_svc.add_client(name="Other")
    log(client_svc.add_project(other, name="X"), 60)
    log(web, 60, billable=False)
    ts.start_timer(web, "running")
    kept = log(web, 30)
    invoice = inv_svc.create_invoice(acme, issued_on=ISSUED)
    (line,) = check_invoice_arithmetic(invoice)
    assert [e.id for e in WorkEntry.select().where(WorkEntry.invoice_line == line)] == [kept.id]
    assert ts.running_timer() is not None and ts.running_timer().invoice_line_id is None


def test_until_and_since_limit_the_period(acme, web):
    for day in ("2026-01-15", "2026-02-10", "2026-02-28", "2026-03-01"):
        log(web, 60, day=day)
    feb = inv_svc.create_invoice(acme, since=date(2026, 2, 1), until=date(2026, 2, 28), issued_on=ISSUED)
    assert inv_svc.invoice_lines(feb)[0].quantity == Decimal("2.00")
    assert reload(feb).taxable_supply_on == date(2026, 2, 28)
    jan = inv_svc.create_invoice(acme, until=date(2026, 1, 31), issued_on=ISSUED)
    assert inv_svc.invoice_lines(jan)[0].quantity == Decimal("1.00")
    rest = inv_svc.create_invoice(acme, issued_on=ISSUED)
    assert inv_svc.invoice_lines(rest)[0].quantity == Decimal("1.00")
    assert reload(rest).taxable_supply_on == ISSUED
    assert list(ts.unbilled_entries(acme)) == []
    with pytest.raises(inv_svc.InvoiceError, match="no unbilled billable entries"):
        inv_svc.create_invoice(acme, issued_on=ISSUED)


def test_nothing_to_invoice_is_refused_and_creates_nothing(acme, web):
    log(web, 60, day="2026-03-10")
    before = db_state()
    with pytest.raises(inv_svc.InvoiceError) as caught:
        inv_svc.create_invoice(acme, until=date(2026, 3, 1), issued_on=ISSUED)
    assert "Acme s.r.o. has no unbilled billable entries up to 2026-03-01." == str(caught.value)
    assert db_state() == before


def test_invoicing_needs_a_profile(database):
    client = client_svc.add_client(name="Acme")
    log(client_svc.add_project(client, name="Web"), 60)
    before = db_state()
    with pytest.raises(inv_svc.InvoiceError, match="business profile"):
        inv_svc.create_invoice(client, issued_on=ISSUED)
    assert db_state() == before


def test_preview_writes_nothing_and_matches_the_invoice(acme, web):
    log(web, 95)
    log(web, fixed="10")
    before = db_state()
    draft = inv_svc.preview_invoice(acme)
    assert db_state() == before
    assert draft.entry_count == 2
    invoice = reload(inv_svc.create_invoice(acme, issued_on=ISSUED))
    assert (draft.totals.subtotal, draft.totals.vat_total, draft.totals.total) == (
        invoice.subtotal,
        invoice.vat_total,
        invoice.total,
    )


def test_dates_terms_and_snapshots(acme, web):
    log(web, 60)
    invoice = reload(inv_svc.create_invoice(acme, issued_on=ISSUED))
    assert invoice.status == "draft"
    assert invoice.issued_on == ISSUED
    assert invoice.due_on == ISSUED + timedelta(days=14)  # the profile's terms
    assert invoice.supplier["name"] == "Jana Nováková" and invoice.supplier["iban"] == IBAN
    assert invoice.customer["name"] == "Acme s.r.o." and invoice.customer["ico"] == "27082440"
    client_svc.edit_client(acme, payment_terms_days="30")
    log(web, 60)
    second = reload(inv_svc.create_invoice(acme, issued_on=ISSUED))
    assert second.due_on == ISSUED + timedelta(days=30)  # the client's own terms win


def test_profile_rate_in_another_currency_is_not_billed_at_face_value(database):
    """The profile's default rate is 1500 CZK an hour; a EUR client without a rate of its own must
    not be invoiced 1500 EUR for an hour. Refusing with a sentence would be fine; billing the CZK
    number as euros is not."""
    set_up_profile(default_currency="CZK", default_hourly_rate="1500")
    client = client_svc.add_client(name="Nordlicht GmbH", currency="EUR", country="DE")
    log(client_svc.add_project(client, name="API"), 60)
    try:
        invoice = inv_svc.create_invoice(client, issued_on=ISSUED)
    except (inv_svc.InvoiceError, ValueError):
        return
    assert reload(invoice).currency == "EUR"
    assert reload(invoice).total != 150000, "1500 CZK/h was billed as 1500.00 EUR"


# -- locking ------------------------------------------------------------------------------------


def test_billed_entries_cannot_be_edited_or_deleted(acme, web):
    entry = log(web, 60, description="Original")
    invoice = inv_svc.create_invoice(acme, issued_on=ISSUED)
    entry = reload(entry)
    assert ts.entry_billing_state(entry) == "billed"
    before = db_state()
    with pytest.raises(ts.EntryLocked) as caught:
        ts.edit_entry(entry, ts.EntryInput(project=web, date="2026-03-10", duration=120, description="Changed"))
    assert invoice.number in str(caught.value)
    assert "edit" in str(caught.value)
    with pytest.raises(ts.EntryLocked) as caught:
        ts.delete_entry(reload(entry))
    assert invoice.number in str(caught.value)
    assert "delete" in str(caught.value)
    assert db_state() == before


def test_deleting_the_newest_draft_releases_its_entries(acme, web):
    own_rate = log(web, 60, hourly_rate="2000")
    plain = log(web, 30)
    fixed = log(web, fixed="500")
    first = inv_svc.create_invoice(acme, issued_on=ISSUED)
    for entry in (own_rate, plain):
        assert reload(entry).billed_rate is not None
    assert reload(own_rate).billed_rate == 200000 and reload(plain).billed_rate == 120000
    number = first.number
    invoice_status.delete_draft(reload(first))
    assert Invoice.select().count() == 0 and InvoiceLine.select().count() == 0
    for entry in (own_rate, plain, fixed):
        stored = reload(entry)
        assert stored.invoice_line_id is None
        assert stored.billed_rate is None
        assert ts.entry_billing_state(stored) == "unbilled"
    assert reload(own_rate).hourly_rate == 200000  # the entry's own rate stays
    assert reload(plain).hourly_rate is None
    assert len(list(ts.unbilled_entries(acme))) == 3
    # The released entries can be edited again, and the number is reused.
    ts.edit_entry(reload(plain), ts.EntryInput(project=web, date="2026-03-10", duration=45))
    again = inv_svc.create_invoice(acme, issued_on=ISSUED)
    assert again.number == number


def test_deleting_an_older_draft_is_refused(acme, web):
    log(web, 60, day="2026-03-01")
    older = inv_svc.create_invoice(acme, issued_on=ISSUED)
    log(web, 60, day="2026-03-02")
    inv_svc.create_invoice(acme, issued_on=ISSUED)
    before = db_state()
    with pytest.raises(inv_svc.InvoiceError) as caught:
        invoice_status.delete_draft(reload(older))
    assert older.number in str(caught.value) and "Cancel it instead" in str(caught.value)
    assert db_state() == before


def test_only_drafts_can_be_deleted(acme, web):
    log(web, 60)
    invoice = invoice_status.mark_sent(inv_svc.create_invoice(acme, issued_on=ISSUED), ISSUED)
    before = db_state()
    with pytest.raises(inv_svc.InvoiceError, match="only drafts can be deleted"):
        invoice_status.delete_draft(reload(invoice))
    assert db_state() == before


def test_cancel_releases_entries_but_keeps_the_number(acme, web):
    entry = log(web, 60)
    invoice = invoice_status.mark_sent(inv_svc.create_invoice(acme, issued_on=ISSUED), ISSUED)
    invoice_status.cancel_invoice(reload(invoice))
    stored = reload(invoice)
    assert stored.status == "cancelled"
    assert stored.number == invoice.number and stored.total == 120000  # the document stays as issued
    assert payments.amount_due(stored) == 0
    assert reload(entry).invoice_line_id is None and reload(entry).billed_rate is None
    again = inv_svc.create_invoice(acme, issued_on=ISSUED)
    assert again.seq == invoice.seq + 1 and again.number != invoice.number
    with pytest.raises(inv_svc.InvoiceError, match="already cancelled"):
        invoice_status.cancel_invoice(stored)
    with pytest.raises(inv_svc.InvoiceError):
        invoice_status.mark_sent(stored)
    with pytest.raises(inv_svc.InvoiceError):
        invoice_status.mark_paid(stored)


def test_paid_invoice_cannot_be_cancelled(acme, web):
    entry = log(web, 60)
    invoice = inv_svc.create_invoice(acme, issued_on=ISSUED)
    invoice_status.mark_sent(invoice, ISSUED)
    invoice_status.mark_paid(invoice, ISSUED + timedelta(days=3))
    before = db_state()
    with pytest.raises(inv_svc.InvoiceError, match="paid invoice cannot be cancelled"):
        invoice_status.cancel_invoice(reload(invoice))
    assert db_state() == before
    assert ts.entry_billing_state(reload(entry)) == "billed"


# -- statuses -------------------------------------------------------------------------------------


def test_status_flow_and_derived_overdue(acme, web):
    log(web, 60)
    invoice = inv_svc.create_invoice(acme, issued_on=ISSUED)
    due = ISSUED + timedelta(days=14)
    assert inv_svc.display_status(invoice, today=due + timedelta(days=30)) == "draft"  # drafts are never overdue
    invoice_status.mark_sent(invoice, ISSUED)
    stored = reload(invoice)
    assert (stored.status, stored.sent_on) == ("sent", ISSUED)
    assert inv_svc.display_status(stored, today=due) == "sent"
    assert inv_svc.display_status(stored, today=due + timedelta(days=1)) == "overdue"
    assert stored.status == "sent"  # overdue is derived, never stored
    assert [i.number for i in inv_svc.invoices_query("overdue", today=due + timedelta(days=1))] == [invoice.number]
    assert list(inv_svc.invoices_query("overdue", today=due)) == []
    assert [i.number for i in inv_svc.invoices_query("open")] == [invoice.number]
    with pytest.raises(inv_svc.InvoiceError, match="only a draft can be sent"):
        invoice_status.mark_sent(stored)
    invoice_status.mark_paid(stored, due + timedelta(days=5))
    paid = reload(invoice)
    assert (paid.status, paid.paid_on) == ("paid", due + timedelta(days=5))
    assert inv_svc.display_status(paid, today=due + timedelta(days=60)) == "paid"
    with pytest.raises(inv_svc.InvoiceError, match="cannot be marked paid"):
        invoice_status.mark_paid(paid)
    assert [i.number for i in inv_svc.invoices_query("paid")] == [invoice.number]
    with pytest.raises(inv_svc.InvoiceError, match="Unknown status"):
        inv_svc.invoices_query("lost")


def test_amount_paid_and_due(acme, web):
    log(web, 60)
    invoice = invoice_status.mark_sent(inv_svc.create_invoice(acme, issued_on=ISSUED), ISSUED)
    assert (payments.amount_paid(invoice), payments.amount_due(invoice)) == (0, 120000)
    MoneyTransaction.create(
        source="bank", transaction_type="income", amount=20000, currency="CZK", transacted_on=ISSUED, invoice=invoice
    )
    MoneyTransaction.create(
        source="bank", transaction_type="expense", amount=5000, currency="CZK", transacted_on=ISSUED, invoice=invoice
    )
    assert (payments.amount_paid(invoice), payments.amount_due(invoice)) == (20000, 100000)
    MoneyTransaction.create(
        source="bank", transaction_type="income", amount=200000, currency="CZK", transacted_on=ISSUED, invoice=invoice
    )
    assert payments.amount_due(invoice) == 0


def test_find_invoice(acme, web):
    log(web, 60)
    invoice = inv_svc.create_invoice(acme, issued_on=ISSUED)
    assert inv_svc.find_invoice(f" {invoice.number} ").id == invoice.id
    with pytest.raises(inv_svc.InvoiceError, match="There is no invoice '99'"):
        inv_svc.find_invoice("99")


# -- frozen rates --------------------------------------------------------------------------------


def test_rate_is_frozen_once_invoiced(acme, web):
    entry = log(web, 90)
    invoice = inv_svc.create_invoice(acme, issued_on=ISSUED)
    snapshot = [(ln.quantity, ln.unit_price, ln.amount) for ln in inv_svc.invoice_lines(invoice)]
    client_svc.edit_project(web, hourly_rate="5000")
    client_svc.edit_client(acme, hourly_rate="4000")
    profile_svc.update_profile({"default_hourly_rate": "3000"})
    billed = reload(entry)
    assert billed.billed_rate == 120000
    assert ts.resolve_rate(billed) == 120000
    assert ts.entry_amount(billed) == 180000
    assert [(ln.quantity, ln.unit_price, ln.amount) for ln in inv_svc.invoice_lines(invoice)] == snapshot
    stored = reload(invoice)
    assert stored.total == 180000
    assert inv_svc.invoice_totals(stored).total == 180000
    # Released by cancelling, the entry takes today's rate again for the next invoice.
    invoice_status.cancel_invoice(stored)
    released = reload(entry)
    assert released.billed_rate is None
    assert ts.entry_amount(released) == 750000


def test_reverse_charge_is_refused_for_a_stored_invalid_vat_id(database):
    set_up_profile(vat_payer="yes")
    # Stored before VAT IDs were checked per country: it loads, but no reverse-charge invoice is made for it.
    client = Client.create(name="Old GmbH", country="DE", dic="DE123", currency="EUR", language="en", hourly_rate=7500)
    log(client_svc.add_project(client, name="API"), 60)
    with pytest.raises(inv_svc.InvoiceError, match="Reverse charge for Old GmbH needs a valid VAT ID, but 'DE123'"):
        inv_svc.create_invoice(client, issued_on=ISSUED)
    assert Invoice.select().count() == 0
    client_svc.edit_client(client, dic="DE136695976")
    assert inv_svc.create_invoice(client, issued_on=ISSUED).reverse_charge is True
