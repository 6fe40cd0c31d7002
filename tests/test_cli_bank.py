"""The bank side of the CLI: ``fakturka transactions``, ``fakturka match`` (and link / unlink /
ignore by hand), and an invoice's payments in ``fakturka invoice show``.

Data is set up through the core services; every command goes through ``fakturka.launcher.main``.
Each test has its own FAKTURKA_HOME and database (conftest.py).
"""

from __future__ import annotations

import itertools
import json
from dataclasses import dataclass
from datetime import date, timedelta

import pytest
from helpers import last_audit_id, reload

from core.billing import clients as client_svc
from core.billing import invoice_status, invoicing
from core.billing import profile as profile_svc
from core.billing import timesheet as ts
from core.store.audit import AuditRecord
from core.store.models import Client, Invoice, MoneyTransaction, Project

ISSUED = date(2026, 3, 31)
PAID_DAY = date(2026, 4, 10)
IBAN = "CZ6508000000192000145399"

_external_ids = itertools.count(1)


@dataclass
class Books:
    acme: Client
    nord: Client
    paid_by_vs: Invoice  # CZK 10,000.00, paid exactly by ``exact``
    open_czk: Invoice  # CZK 4,000.00, nothing pays it automatically
    open_eur: Invoice  # EUR 1,500.00
    exact: MoneyTransaction
    review: MoneyTransaction  # EUR with the VS of a CZK invoice
    expense: MoneyTransaction
    loose: MoneyTransaction  # CZK 4,000.00, no VS, no number


def sent_invoice(client: Client, amount: str) -> Invoice:
    project = Project.get(Project.client == client)
    ts.add_entry(ts.EntryInput(project=project, date=ISSUED - timedelta(days=3), fixed=amount, description="Delivery"))
    invoice = invoicing.create_invoice(client, until=ISSUED, issued_on=ISSUED)
    invoice_status.mark_sent(invoice, ISSUED)
    return reload(invoice)


def tx(
    amount: int,
    *,
    vs: str = "",
    message: str = "",
    currency: str = "CZK",
    on: date = PAID_DAY,
    kind: str = "income",
    counterparty: str = "Acme s.r.o.",
) -> MoneyTransaction:
    return MoneyTransaction.create(
        source="test-bank",
        external_id=f"c-{next(_external_ids)}",
        transaction_type=kind,
        amount=amount,
        currency=currency,
        transacted_on=on,
        reference=vs,
        description=message,
        counterparty=counterparty,
    )


@pytest.fixture
def books(database) -> Books:
    profile_svc.update_profile(
        {
            "name": "Jana Nováková",
            "address": "Korunní 1\n120 00 Praha",
            "ico": "25596641",
            "iban": IBAN,
            "default_hourly_rate": "1000",
        }
    )
    acme = client_svc.add_client(name="Acme s.r.o.", currency="CZK", hourly_rate="1200")
    nord = client_svc.add_client(name="Nordlicht GmbH", currency="EUR", country="DE", language="en", hourly_rate="80")
    client_svc.add_project(acme, name="Work")
    client_svc.add_project(nord, name="Work")
    paid_by_vs = sent_invoice(acme, "10000")
    open_czk = sent_invoice(acme, "4000")
    open_eur = sent_invoice(nord, "1500")
    exact = tx(1_000_000, vs="00" + paid_by_vs.variable_symbol, message="Faktura", on=PAID_DAY)
    review = tx(
        400_000,
        vs=open_czk.variable_symbol,
        currency="EUR",
        on=PAID_DAY + timedelta(days=1),
        counterparty="Someone abroad",
    )
    expense = tx(
        49_900, kind="expense", message="USB-C hub", on=PAID_DAY + timedelta(days=2), counterparty="Alza.cz a.s."
    )
    loose = tx(400_000, message="thanks", on=PAID_DAY + timedelta(days=3))
    return Books(acme, nord, paid_by_vs, open_czk, open_eur, exact, review, expense, loose)


# -- fakturka match ---------------------------------------------------------------------------


def test_match_prints_what_it_matched_and_what_needs_review(books, ok):
    mark = last_audit_id()
    out = ok("match")
    lines = out.strip().splitlines()
    assert lines == [
        f"Transaction {books.exact.id} -> invoice {books.paid_by_vs.number}: paid in full",
        f"Transaction {books.review.id} needs review: the variable symbol points to an invoice in another "
        f"currency (candidates: {books.open_czk.number})",
        f"Matched 1 transaction(s), 1 need review; invoices now paid: {books.paid_by_vs.number}.",
    ]
    assert reload(books.paid_by_vs).status == "paid"
    assert reload(books.review).match_status == "review"
    assert reload(books.loose).match_status == "unmatched"
    # Nothing left to do the second time.
    assert ok("match").strip() == "Matched 0 transaction(s), 0 need review; invoices now paid: none."
    records = AuditRecord.select().where(AuditRecord.id > mark)
    assert sorted((r.table_name, r.row_id, r.action) for r in records) == [
        ("invoices", books.paid_by_vs.id, "update"),
        ("money_transactions", books.exact.id, "update"),
        ("money_transactions", books.review.id, "update"),
    ]
    assert {(r.source, r.sync_run) for r in records} == {("manual", None)}


def test_match_reports_a_partial_payment_with_what_is_still_owed(books, ok):
    part = tx(150_000, vs=books.open_czk.variable_symbol)
    out = ok("match")
    assert (
        f"Transaction {part.id} -> invoice {books.open_czk.number}: partly paid (still owed 2500.00 CZK)"
    ) in out.splitlines()


# -- fakturka transactions ----------------------------------------------------------------------


def test_transactions_lists_newest_first(books, ok):
    ok("match")
    out = ok("transactions")
    lines = out.rstrip("\n").splitlines()
    assert lines[0].split() == ["ID", "DATE", "SOURCE", "AMOUNT", "VS", "COUNTERPARTY", "STATUS", "INVOICE"]
    rows = lines[2:]
    assert [int(r.split()[0]) for r in rows] == [books.loose.id, books.expense.id, books.review.id, books.exact.id]
    by_id = {int(r.split()[0]): r for r in rows}
    assert "-499.00 CZK" in by_id[books.expense.id]
    assert "Alza.cz a.s." in by_id[books.expense.id]
    assert "10000.00 CZK" in by_id[books.exact.id]
    assert by_id[books.exact.id].split()[-2:] == ["matched", books.paid_by_vs.number]
    assert by_id[books.review.id].split()[-2:] == ["review", "-"]
    assert by_id[books.loose.id].split()[-2:] == ["unmatched", "-"]
    assert PAID_DAY.isoformat() in by_id[books.exact.id]


def test_transactions_json_and_filters(books, ok):
    ok("match")
    rows = json.loads(ok("transactions", "--json"))
    assert [r["id"] for r in rows] == [books.loose.id, books.expense.id, books.review.id, books.exact.id]
    exact = rows[-1]
    assert exact == {
        "id": books.exact.id,
        "date": PAID_DAY.isoformat(),
        "source": "test-bank",
        "type": "income",
        "amount": "10000.00",
        "currency": "CZK",
        "reference": "00" + books.paid_by_vs.variable_symbol,
        "counterparty": "Acme s.r.o.",
        "description": "Faktura",
        "match_status": "matched",
        "invoice": books.paid_by_vs.number,
        "match_note": exact["match_note"],
    }
    assert exact["match_note"]["result"] == "paid"
    assert rows[1]["type"] == "expense" and rows[1]["amount"] == "499.00"

    review = json.loads(ok("transactions", "--status", "review", "--json"))
    assert [r["id"] for r in review] == [books.review.id]
    assert [c["invoice"] for c in review[0]["match_note"]["candidates"]] == [books.open_czk.number]

    unmatched = json.loads(ok("transactions", "--status", "unmatched", "--json"))
    assert [r["id"] for r in unmatched] == [books.loose.id, books.expense.id]
    assert json.loads(ok("transactions", "--status", "ignored", "--json")) == []
    assert ok("transactions", "--status", "ignored").strip() == "No transactions match."

    since = json.loads(ok("transactions", "--since", (PAID_DAY + timedelta(days=2)).isoformat(), "--json"))
    assert [r["id"] for r in since] == [books.loose.id, books.expense.id]
    until = json.loads(ok("transactions", "--until", PAID_DAY.isoformat(), "--json"))
    assert [r["id"] for r in until] == [books.exact.id]
    assert json.loads(ok("transactions", "--source", "fio", "--json")) == []
    assert len(json.loads(ok("transactions", "--source", "test-bank", "--json"))) == 4
    assert [r["id"] for r in json.loads(ok("transactions", "--limit", "2", "--json"))] == [
        books.loose.id,
        books.expense.id,
    ]


# -- by hand ------------------------------------------------------------------------------------------


def test_match_link_and_unlink_by_hand(books, ok):
    mark = last_audit_id()
    out = ok("match", "link", str(books.loose.id), books.open_czk.number)
    assert out.strip() == f"Transaction {books.loose.id} now pays invoice {books.open_czk.number} (paid)."
    loose = reload(books.loose)
    assert (loose.match_status, loose.invoice_id) == ("matched", books.open_czk.id)
    assert reload(books.open_czk).status == "paid"
    shown = json.loads(ok("invoice", "show", books.open_czk.number, "--json"))
    assert (shown["status"], shown["paid"], shown["due"]) == ("paid", "4000.00", "0.00")
    assert [p["id"] for p in shown["payments"]] == [books.loose.id]

    out = ok("match", "unlink", str(books.loose.id))
    assert out.strip() == f"Transaction {books.loose.id} no longer pays invoice {books.open_czk.number}."
    loose = reload(books.loose)
    assert (loose.match_status, loose.invoice_id) == ("unmatched", None)
    invoice = reload(books.open_czk)
    assert (invoice.status, invoice.paid_on) == ("sent", None)
    shown = json.loads(ok("invoice", "show", books.open_czk.number, "--json"))
    assert (shown["paid"], shown["due"], shown["payments"]) == ("0.00", "4000.00", [])

    records = AuditRecord.select().where(AuditRecord.id > mark)
    assert [(r.table_name, r.action) for r in records] == [
        ("money_transactions", "update"),
        ("invoices", "update"),
        ("money_transactions", "update"),
        ("invoices", "update"),
    ]  # link + unlink of the transaction, paid + back to sent of the invoice
    assert {r.source for r in records} == {"manual"}


def test_linking_more_than_an_invoice_asks_for_says_it_is_overpaid(books, ok):
    ok("match", "link", str(books.loose.id), books.open_czk.number)  # pays it in full
    extra = MoneyTransaction.create(
        source="test-bank",
        external_id="extra",
        transaction_type="income",
        amount=50_000,
        currency="CZK",
        transacted_on=books.loose.transacted_on,
    )
    out = ok("match", "link", str(extra.id), books.open_czk.number)
    assert out.splitlines()[-1] == f"Note: invoice {books.open_czk.number} is now overpaid by 500.00 CZK."


def test_match_ignore_and_undo(books, ok):
    out = ok("match", "ignore", str(books.expense.id))
    assert out.strip() == f"Transaction {books.expense.id} is marked as not an invoice payment."
    assert reload(books.expense).match_status == "ignored"
    assert [r["id"] for r in json.loads(ok("transactions", "--status", "ignored", "--json"))] == [books.expense.id]

    out = ok("match", "ignore", str(books.expense.id), "--undo")
    assert out.strip() == f"Transaction {books.expense.id} is unmatched again."
    expense = reload(books.expense)
    assert (expense.match_status, expense.match_note) == ("unmatched", {})
    records = [
        r
        for r in AuditRecord.select().where(
            (AuditRecord.table_name == "money_transactions")
            & (AuditRecord.row_id == books.expense.id)
            & (AuditRecord.action == "update")
        )
    ]
    assert [r.changes["match_status"] for r in records] == [["unmatched", "ignored"], ["ignored", "unmatched"]]
    assert {r.source for r in records} == {"manual"}


def test_match_ignore_undo_on_a_linked_transaction_leaves_it_linked(books, cli):
    """``match ignore TX --undo`` on a transaction that pays an invoice must not turn it 'unmatched'
    while it still pays the invoice (refusing is the expected answer)."""
    assert cli("match")[0] == 0
    before = reload(books.exact)
    assert (before.match_status, before.invoice_id) == ("matched", books.paid_by_vs.id)
    code, out, err = cli("match", "ignore", str(books.exact.id), "--undo")
    after = reload(books.exact)
    assert (after.match_status, after.invoice_id, after.match_note) == (
        "matched",
        books.paid_by_vs.id,
        before.match_note,
    ), (code, out, err)


def test_wrong_input_is_refused_with_one_line_and_changes_nothing(books, ok, refused):
    ok("match")  # exact is linked now, review is in review
    eur_income = tx(150_000, currency="EUR", counterparty="Nordlicht GmbH")
    cancelled = sent_invoice(books.acme, "100")
    invoice_status.cancel_invoice(cancelled)

    line = refused("match", "link", "999", books.open_czk.number)
    assert "no transaction" in line and "999" in line
    assert "'abc' is not a transaction id" in refused("match", "link", "abc", books.open_czk.number)
    assert "no invoice" in refused("match", "link", str(books.loose.id), "20269999")
    assert "expense" in refused("match", "link", str(books.expense.id), books.open_czk.number)
    line = refused("match", "link", str(books.exact.id), books.open_czk.number)
    assert "already pays invoice" in line and books.paid_by_vs.number in line
    line = refused("match", "link", str(eur_income.id), books.open_czk.number)
    assert "EUR" in line and "CZK" in line
    assert "cancelled" in refused("match", "link", str(books.loose.id), cancelled.number)
    assert "not linked" in refused("match", "unlink", str(books.loose.id))
    assert "'0' is not a transaction id" in refused("match", "unlink", "0")
    line = refused("match", "ignore", str(books.exact.id))
    assert "unlink it first" in line
    assert "no transaction" in refused("match", "ignore", "12345")
    refused("match", "link", str(books.loose.id))  # the invoice is missing
    refused("match", "frobnicate")
    refused("transactions", "--status", "paid")
    refused("transactions", "--since", "not a date")


# -- fakturka invoice show ------------------------------------------------------------------------


def test_invoice_show_lists_payments_and_the_remaining_amount(books, ok):
    invoice = books.open_czk  # 4,000.00 CZK
    first = tx(100_000, vs=invoice.variable_symbol, on=PAID_DAY + timedelta(days=5))
    second = tx(50_000, vs=invoice.variable_symbol, on=PAID_DAY + timedelta(days=4))
    ok("match")

    shown = json.loads(ok("invoice", "show", invoice.number, "--json"))
    assert (shown["status"], shown["total"], shown["paid"], shown["due"], shown["overpaid"]) == (
        "overdue",
        "4000.00",
        "1500.00",
        "2500.00",
        False,
    )  # due 2026-04-14, open: overdue
    assert shown["payments"] == [
        {
            "id": second.id,
            "date": (PAID_DAY + timedelta(days=4)).isoformat(),
            "amount": "500.00",
            "source": "test-bank",
            "reference": invoice.variable_symbol,
        },
        {
            "id": first.id,
            "date": (PAID_DAY + timedelta(days=5)).isoformat(),
            "amount": "1000.00",
            "source": "test-bank",
            "reference": invoice.variable_symbol,
        },
    ]
    text = ok("invoice", "show", invoice.number)
    assert "Paid:     1500.00 CZK   still due: 2500.00 CZK" in text
    assert f"  payment {(PAID_DAY + timedelta(days=4)).isoformat()}  500.00 CZK  from test-bank" in text
    listed = {r["number"]: r for r in json.loads(ok("invoice", "list", "--json"))}
    assert listed[invoice.number]["due"] == "2500.00"

    # The rest, and a little more: paid, and flagged as overpaid.
    tx(260_000, vs=invoice.variable_symbol, on=PAID_DAY + timedelta(days=6))
    ok("match")
    shown = json.loads(ok("invoice", "show", invoice.number, "--json"))
    assert (shown["status"], shown["paid"], shown["due"], shown["overpaid"]) == ("paid", "4100.00", "0.00", True)
    assert shown["paid_on"] == (PAID_DAY + timedelta(days=6)).isoformat()
    assert len(shown["payments"]) == 3
    assert "(overpaid)" in ok("invoice", "show", invoice.number)
