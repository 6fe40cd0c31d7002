"""Money figures agree everywhere (issue 16): what Time calls unbilled is what the invoice bills, and
"received" is money paid against invoices.

One rounding rule (core.billing.totals): an entry's minutes become hours to two decimals, its amount
is those hours x the rate, half-up; an invoice line's hours are the sum of its entries' hours. Time's
amounts, the dashboard's SQL sums, the preview and the created invoice must all give the same figure.
"""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest

from core.banking import matching
from core.billing import clients as client_svc
from core.billing import invoice_status, reports
from core.billing import invoicing as inv_svc
from core.billing import profile as profile_svc
from core.billing import timesheet as ts
from core.billing.totals import hours_quantity, round_half_up, time_amount
from core.store.models import Client, MoneyTransaction, Project, WorkEntry

TODAY = date(2026, 4, 15)
ISSUED = date(2026, 3, 31)
# 0:01, 5:16 and 0:07 are the durations of the issue; the others give every remainder of 100 x m / 60.
AWKWARD_MINUTES = (1, 316, 7, 7, 13, 29, 61, 50, 20, 125, 1, 2)


def set_up_profile() -> None:
    profile_svc.update_profile(
        {
            "name": "Jana Nováková",
            "address": "Korunní 1\nPraha",
            "ico": "25596641",
            "iban": "CZ6508000000192000145399",
            "default_hourly_rate": "1000",
            "payment_terms_days": "14",
        }
    )


def log(project, minutes=None, day="2026-03-10", **kw) -> WorkEntry:
    return ts.add_entry(ts.EntryInput(project=project, date=day, duration=minutes, **kw))


def time_screen_unbilled(client: Client) -> int:
    """The sum of the amounts the Time screen lists with "Unbilled only" for this client: the same
    query and the same amounts its ``fetch`` shows (``entries_query`` + ``entry_amounts``)."""
    entries = list(ts.entries_query(client=client, unbilled_only=True))
    return sum(ts.entry_amounts(entries))


@pytest.fixture
def acme(database):
    """A CZK client with awkward durations on two projects (rates from the client, the project and an
    entry), a fixed price, and entries that are not its unbilled billable work (non-billable; another
    client's in EUR)."""
    set_up_profile()
    client = client_svc.add_client(name="Acme s.r.o.", ico="27082440", hourly_rate="1500")
    web = client_svc.add_project(client, name="Web")
    ops = client_svc.add_project(client, name="Ops", hourly_rate="1200")
    for i, minutes in enumerate(AWKWARD_MINUTES):
        log(web if i % 2 else ops, minutes, day=f"2026-03-{i + 1:02d}", description=f"task {i}")
    log(web, 45, day="2026-03-20", hourly_rate="1800", description="own rate")
    log(web, fixed="2500", description="Domain")
    log(web, 30, billable=False, description="not billed")
    other = client_svc.add_client(name="Other GmbH", currency="EUR", hourly_rate="80", country="DE")
    log(client_svc.add_project(other, name="EU"), 17)
    return client


def test_one_minute_and_five_sixteen_are_worth_what_the_invoice_bills(acme):
    web = Project.get((Project.client == acme) & (Project.name == "Web"))
    one = log(web, 1)
    long = log(web, 316)
    # The issue: 0:01 was CZK 25 on Time and 30 on the invoice; 5:16 was 7,900 against 7,905.
    assert (hours_quantity(1), hours_quantity(316)) == (Decimal("0.02"), Decimal("5.27"))
    assert (ts.entry_amount(one), ts.entry_amount(long)) == (3000, 790500)


@pytest.mark.parametrize("per_entry", [False, True], ids=["per-project lines", "per-entry lines"])
def test_time_unbilled_equals_the_invoice_subtotal(acme, per_entry):
    shown_on_time = time_screen_unbilled(acme)
    dashboard = reports.dashboard(TODAY)
    preview = inv_svc.preview_invoice(acme, per_entry=per_entry)
    assert preview.totals.subtotal == shown_on_time
    assert dashboard.unbilled["CZK"] == shown_on_time  # the only CZK client with unbilled work

    invoice = inv_svc.create_invoice(acme, issued_on=ISSUED, per_entry=per_entry)
    assert invoice.subtotal == shown_on_time
    lines = inv_svc.invoice_lines(invoice)
    for line in lines:  # and the printed invoice still recomputes from what it shows
        assert line.amount == round_half_up(Decimal(line.quantity) * Decimal(line.unit_price))
        assert Decimal(line.quantity).as_tuple().exponent >= -2
    assert sum(line.amount for line in lines) == invoice.subtotal
    # Billed now: nothing of it is unbilled any more, on Time or on the dashboard.
    assert time_screen_unbilled(acme) == 0
    assert "CZK" not in reports.dashboard(TODAY).unbilled
    # The other client's EUR work was never part of it.
    assert reports.dashboard(TODAY).unbilled["EUR"] == dashboard.unbilled["EUR"] == time_amount(17, 8000)


def test_both_line_modes_bill_the_same(acme):
    by_project = inv_svc.preview_invoice(acme).totals.subtotal
    by_entry = inv_svc.preview_invoice(acme, per_entry=True).totals.subtotal
    assert by_project == by_entry == time_screen_unbilled(acme)


def test_a_project_line_sums_its_entries_hours(acme):
    draft = inv_svc.preview_invoice(acme)
    for line in draft.lines:
        if line.unit == "h":
            assert line.quantity == sum(hours_quantity(e.minutes) for e in line.entries)


def test_a_rate_with_cents_agrees_per_entry_and_within_half_a_unit_per_entry_per_project(database):
    """With a rate in whole units, a line of many entries bills exactly their sum (hundredths of an
    hour x whole units are whole minor units). With a rate such as 1,234.56/h a project line rounds
    its product once and Time rounds each entry: per-entry lines agree exactly, a project line differs
    by less than half a minor unit per entry (docs/user-guide.md says so)."""
    set_up_profile()
    client = client_svc.add_client(name="Odd s.r.o.")
    project = client_svc.add_project(client, name="Support", hourly_rate="1234.56")
    for i in range(37):
        log(project, 7, day=date(2026, 3, 1) + timedelta(days=i % 28))
    shown_on_time = time_screen_unbilled(client)
    assert shown_on_time == 37 * 14815  # 0.12 h x 1234.56 = 148.1472 -> 148.15 each
    assert inv_svc.preview_invoice(client, per_entry=True).totals.subtotal == shown_on_time
    (line,) = inv_svc.preview_invoice(client).lines
    assert line.quantity == Decimal("4.44")
    assert line.amount == 548145  # 4.44 x 1234.56 = 5481.4464 -> 5481.45
    assert abs(line.amount - shown_on_time) < 37 / 2


def test_sql_and_python_amounts_agree_for_every_minute_count(database):
    """The dashboard's SQL and Time's Python value each entry alike: every duration from 1 to 600
    minutes at rates whose products land on every rounding case."""
    set_up_profile()
    rates = ("1500", "1234.56", "777.77", "0.30", "0.01", "999.99")
    client = client_svc.add_client(name="Sum s.r.o.")
    projects = [client_svc.add_project(client, name=f"P {rate}", hourly_rate=rate) for rate in rates]
    projects.append(client_svc.add_project(client, name="The profile's rate"))
    for minutes in range(1, 601):
        log(projects[minutes % len(projects)], minutes)
    profile = profile_svc.get_profile()
    expression = ts.entry_amount_sql(profile.default_hourly_rate, profile.default_currency)
    by_sql = dict(
        WorkEntry.select(WorkEntry.id, expression).join(Project).join(Client).where(Client.id == client.id).tuples()
    )
    entries = list(ts.entries_query(client=client))
    by_python = dict(zip([e.id for e in entries], ts.entry_amounts(entries), strict=True))
    assert by_sql == by_python
    assert reports.dashboard(TODAY).unbilled["CZK"] == sum(by_python.values()) == time_screen_unbilled(client)


# -- received: money paid against invoices ------------------------------------------------------


def income(amount: int, day: date, currency: str = "CZK", **kw) -> MoneyTransaction:
    return MoneyTransaction.create(
        source="manual", transaction_type="income", amount=amount, currency=currency, transacted_on=day, **kw
    )


def test_received_counts_only_payments_linked_to_invoices(acme):
    invoice = inv_svc.create_invoice(acme, issued_on=date(2026, 2, 27))
    invoice_status.mark_sent(invoice, on=date(2026, 2, 27))
    first = income(1_000_000, date(2026, 3, 5), reference=invoice.variable_symbol)
    matching.link(first, invoice)
    second = income(1_942_000, date(2026, 4, 2))
    matching.link(second, invoice)
    # Incoming money that paid no invoice: ignored, a duplicate left for review, unmatched; an expense.
    matching.ignore(income(1_000_000, date(2026, 3, 6)))
    income(597_300, date(2026, 3, 7), match_status="review")
    income(100_000, date(2026, 4, 1))
    MoneyTransaction.create(
        source="manual", transaction_type="expense", amount=50_000, currency="CZK", transacted_on=date(2026, 3, 8)
    )

    data = reports.dashboard(TODAY)
    assert data.received_this_year == {"CZK": 2_942_000}
    march, april = data.months.index(date(2026, 3, 1)), data.months.index(date(2026, 4, 1))
    received = data.received_by_month["CZK"]
    assert (received[march], received[april]) == (1_000_000, 1_942_000)
    assert sum(received) == 2_942_000


def test_received_by_month_reaches_back_twelve_months_and_keeps_currencies_apart(database):
    set_up_profile()
    czk = client_svc.add_client(name="Acme s.r.o.", hourly_rate="1000")
    eur = client_svc.add_client(name="Other GmbH", currency="EUR", hourly_rate="80", country="DE")
    log(client_svc.add_project(czk, name="Web"), 60, day="2025-11-03")
    log(client_svc.add_project(eur, name="EU"), 90, day="2026-01-05")
    paid_czk = inv_svc.create_invoice(czk, issued_on=date(2025, 11, 30))
    paid_eur = inv_svc.create_invoice(eur, issued_on=date(2026, 1, 31))
    for invoice in (paid_czk, paid_eur):
        invoice_status.mark_sent(invoice, on=invoice.issued_on)
    matching.link(income(100_000, date(2025, 12, 10)), paid_czk)
    matching.link(income(12_000, date(2026, 2, 3), currency="EUR"), paid_eur)
    income(777, date(2026, 2, 4), currency="EUR")  # unmatched

    data = reports.dashboard(TODAY)
    assert data.received_this_year == {"EUR": 12_000}
    assert data.received_by_month["CZK"][data.months.index(date(2025, 12, 1))] == 100_000
    assert data.received_by_month["EUR"][data.months.index(date(2026, 2, 1))] == 12_000
    assert sum(data.received_by_month["EUR"]) == 12_000


def test_outstanding_and_overdue_are_what_each_invoice_still_owes(acme):
    """The dashboard's outstanding and overdue cards (read in one pass) against each invoice's amount_due."""
    from core.billing import payments

    other = Client.get(Client.name == "Other GmbH")
    late = inv_svc.create_invoice(acme, issued_on=date(2026, 3, 1))
    invoice_status.mark_sent(late, on=date(2026, 3, 1))  # due 2026-03-15: overdue on TODAY
    matching.link(income(100_000, date(2026, 3, 20)), late)  # partly paid
    on_time = inv_svc.create_invoice(other, issued_on=date(2026, 4, 10))
    invoice_status.mark_sent(on_time, on=date(2026, 4, 10))  # due 2026-04-24: not yet overdue
    log(Project.get(Project.name == "Web"), 60, day="2026-04-01")
    inv_svc.create_invoice(acme, issued_on=date(2026, 4, 12))  # a draft: owed nothing yet

    data = reports.dashboard(TODAY)
    late, on_time = (inv_svc.get_invoice(i.id) for i in (late, on_time))
    assert (data.outstanding_count, data.overdue_count) == (2, 1)
    assert data.outstanding == {"CZK": payments.amount_due(late), "EUR": payments.amount_due(on_time)}
    assert data.overdue == {"CZK": payments.amount_due(late)}
    assert payments.amount_due(late) == late.total - 100_000
