"""Payment matching (core/matching.py): incoming bank transactions -> the invoices they pay.

Rules from DESIGN.md "Payment matching": VS equal as integers + same currency;
amount equal to what is owed -> paid (paid date = the transaction's date),
smaller -> partial, larger -> paid and flagged; no VS -> the invoice number in
the message; two or more candidates (or another currency) -> review with the
candidates listed. Manual link/unlink/ignore, and every change audited under
the source that made it.

Each test has its own FAKTURKA_HOME and database (conftest.py).
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from datetime import date, timedelta

import pytest
from helpers import db_state, reload

from core.banking import matching
from core.banking.matching import MatchError
from core.billing import clients as client_svc
from core.billing import invoice_status, invoicing, payments
from core.billing import profile as profile_svc
from core.billing import timesheet as ts
from core.store.audit import AuditRecord, audit_context
from core.store.models import Client, Invoice, MoneyTransaction, Project

ISSUED = date(2026, 3, 31)
PAID_DAY = date(2026, 4, 10)
IBAN = "CZ6508000000192000145399"

_external_ids = itertools.count(1)


# -- helpers -------------------------------------------------------------------------------


@dataclass
class Books:
    acme: Client
    beta: Client
    nord: Client


@pytest.fixture
def books(database) -> Books:
    """A business profile and three clients (two paying in CZK, one in EUR), through the services."""
    profile_svc.update_profile(
        {
            "name": "Jana Nováková",
            "address": "Korunní 1\n120 00 Praha",
            "ico": "25596641",
            "iban": IBAN,
            "default_hourly_rate": "1000",
            "payment_terms_days": "14",
        }
    )
    acme = client_svc.add_client(name="Acme s.r.o.", currency="CZK", hourly_rate="1200", ico="27082440")
    beta = client_svc.add_client(name="Beta a.s.", currency="CZK", hourly_rate="1100")
    nord = client_svc.add_client(name="Nordlicht GmbH", currency="EUR", country="DE", language="en", hourly_rate="80")
    for client in (acme, beta, nord):
        client_svc.add_project(client, name="Work")
    return Books(acme, beta, nord)


def sent_invoice(client: Client, amount: str = "10000", issued_on: date = ISSUED) -> Invoice:
    """A sent invoice for ``amount`` (a fixed-price entry), made the way a person makes one."""
    project = Project.get((Project.client == client) & (Project.name == "Work"))
    ts.add_entry(
        ts.EntryInput(project=project, date=issued_on - timedelta(days=3), fixed=amount, description="Delivery")
    )
    invoice = invoicing.create_invoice(client, until=issued_on, issued_on=issued_on)
    invoice_status.mark_sent(invoice, issued_on)
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
        external_id=f"t-{next(_external_ids)}",
        transaction_type=kind,
        amount=amount,
        currency=currency,
        transacted_on=on,
        reference=vs,
        description=message,
        counterparty=counterparty,
        raw_data={"id": "raw"},
    )


def audit_rows(table: str, row_id: int) -> list[AuditRecord]:
    return list(
        AuditRecord.select()
        .where((AuditRecord.table_name == table) & (AuditRecord.row_id == row_id))
        .order_by(AuditRecord.id)
    )


# -- the rules ----------------------------------------------------------------------------------


def test_exact_payment_marks_the_invoice_paid_on_the_transaction_date(books):
    invoice = sent_invoice(books.acme, "10000")
    assert (invoice.number, invoice.variable_symbol, invoice.total) == ("20260001", "20260001", 1_000_000)
    payment = tx(1_000_000, vs="20260001", message="Faktura")

    report = matching.match_transactions()

    assert [(m.transaction_id, m.invoice_number, m.kind) for m in report.matched] == [(payment.id, "20260001", "paid")]
    assert report.review == []
    assert report.paid_invoices == ["20260001"]
    assert report.lines() == [f"Transaction {payment.id} -> invoice 20260001: paid in full"]
    invoice = reload(invoice)
    assert (invoice.status, invoice.paid_on) == ("paid", PAID_DAY)
    assert payments.amount_paid(invoice) == 1_000_000
    assert payments.amount_due(invoice) == 0
    assert not payments.is_overpaid(invoice)
    payment = reload(payment)
    assert (payment.match_status, payment.invoice_id) == ("matched", invoice.id)
    assert payment.match_note["invoice"] == "20260001"
    assert payment.match_note["by"] == "variable symbol"
    assert payment.match_note["result"] == "paid"


@pytest.mark.parametrize("written", ["0020260001", "020260001", " 20260001 "])
def test_leading_zeros_in_the_variable_symbol_still_match(books, written):
    invoice = sent_invoice(books.acme, "10000")
    payment = tx(1_000_000, vs=written)
    assert matching.vs_key(written) == matching.vs_key(invoice.variable_symbol) == 20260001
    report = matching.match_transactions()
    assert [m.invoice_number for m in report.matched] == [invoice.number]
    assert reload(invoice).status == "paid"
    assert reload(payment).invoice_id == invoice.id


def test_vs_key_compares_as_integers():
    assert matching.vs_key("0020260001") == 20260001
    assert matching.vs_key("VS: 2026/0001") == 20260001
    assert matching.vs_key("") is None
    assert matching.vs_key(None) is None
    assert matching.vs_key("no digits") is None
    assert matching.vs_key("12345678901") is None  # more than 10 digits is not a VS
    assert matching.vs_key("0001234567890") == 1234567890


def test_partial_payment_then_the_rest(books):
    invoice = sent_invoice(books.acme, "10000")
    first = tx(400_000, vs=invoice.variable_symbol, on=PAID_DAY)

    report = matching.match_transactions()
    assert [(m.kind, m.owed_after) for m in report.matched] == [("partial", 600_000)]
    assert report.paid_invoices == []
    assert report.lines() == [
        f"Transaction {first.id} -> invoice {invoice.number}: partly paid (still owed 6000.00 CZK)"
    ]
    invoice = reload(invoice)
    assert (invoice.status, invoice.paid_on) == ("sent", None)
    assert payments.amount_paid(invoice) == 400_000
    assert payments.amount_due(invoice) == 600_000
    assert reload(first).match_status == "matched"
    assert reload(first).match_note["result"] == "partial"

    later = PAID_DAY + timedelta(days=5)
    rest = tx(600_000, vs=invoice.variable_symbol, on=later)
    report = matching.match_transactions()
    assert [(m.transaction_id, m.kind, m.owed_after) for m in report.matched] == [(rest.id, "paid", 0)]
    assert report.paid_invoices == [invoice.number]
    assert reload(rest).match_note["owed_before"] == 600_000
    invoice = reload(invoice)
    assert (invoice.status, invoice.paid_on) == ("paid", later)  # the day the last payment arrived
    assert payments.amount_due(invoice) == 0
    assert not payments.is_overpaid(invoice)


def test_two_partial_payments_in_one_run_add_up(books):
    invoice = sent_invoice(books.acme, "10000")
    first = tx(250_000, vs=invoice.variable_symbol, on=PAID_DAY)
    second = tx(750_000, vs=invoice.variable_symbol, on=PAID_DAY + timedelta(days=1))
    report = matching.match_transactions()
    assert [(m.transaction_id, m.kind) for m in report.matched] == [(first.id, "partial"), (second.id, "paid")]
    assert report.paid_invoices == [invoice.number]
    invoice = reload(invoice)
    assert (invoice.status, invoice.paid_on) == ("paid", PAID_DAY + timedelta(days=1))


def test_overpayment_marks_paid_and_is_flagged(books):
    invoice = sent_invoice(books.acme, "10000")
    payment = tx(1_200_000, vs=invoice.variable_symbol)
    report = matching.match_transactions()
    assert [m.kind for m in report.matched] == ["overpaid"]
    assert report.lines() == [f"Transaction {payment.id} -> invoice {invoice.number}: paid, overpaid"]
    assert report.paid_invoices == [invoice.number]
    invoice = reload(invoice)
    assert (invoice.status, invoice.paid_on) == ("paid", PAID_DAY)
    assert payments.is_overpaid(invoice)
    assert payments.amount_due(invoice) == 0
    note = reload(payment).match_note
    assert note["result"] == "overpaid"
    assert note["owed_before"] == 1_000_000


@pytest.mark.parametrize("vs", ["", "99887766"], ids=["no-vs", "vs-of-no-invoice"])
def test_without_a_usable_vs_the_invoice_number_in_the_message_matches(books, vs):
    invoice = sent_invoice(books.nord, "1500")
    assert invoice.currency == "EUR"
    payment = tx(
        150_000, vs=vs, currency="EUR", message=f"Invoice {invoice.number}, thank you", counterparty="Nordlicht GmbH"
    )
    report = matching.match_transactions()
    assert [(m.transaction_id, m.invoice_number, m.kind) for m in report.matched] == [
        (payment.id, invoice.number, "paid")
    ]
    payment = reload(payment)
    assert (payment.match_status, payment.invoice_id) == ("matched", invoice.id)
    assert payment.match_note["by"] == "invoice number in the message"
    assert reload(invoice).status == "paid"


def test_a_message_without_the_number_or_vs_stays_unmatched(books):
    invoice = sent_invoice(books.acme, "10000")
    payment = tx(1_000_000, message="Thanks for the great work")
    report = matching.match_transactions()
    assert (report.matched, report.review) == ([], [])
    assert reload(payment).match_status == "unmatched"
    assert reload(invoice).status == "sent"


def test_two_invoices_with_the_same_vs_are_left_for_review_with_both_listed(books):
    first = sent_invoice(books.acme, "10000")
    second = sent_invoice(books.beta, "10000")
    second.variable_symbol = first.variable_symbol  # e.g. typed by hand
    second.save()
    before_first, before_second = reload(first), reload(second)
    payment = tx(1_000_000, vs=first.variable_symbol)

    report = matching.match_transactions()

    assert report.matched == [] and report.paid_invoices == []
    assert len(report.review) == 1
    review = report.review[0]
    assert review.transaction_id == payment.id
    assert sorted(review.candidates) == sorted([first.number, second.number])
    line = report.lines()[0]
    assert line.startswith(f"Transaction {payment.id} needs review: 2 invoices match by variable symbol")
    assert first.number in line and second.number in line
    payment = reload(payment)
    assert (payment.match_status, payment.invoice_id) == ("review", None)
    assert "2 invoices" in payment.match_note["reason"]
    listed = payment.match_note["candidates"]
    assert sorted(c["invoice"] for c in listed) == sorted([first.number, second.number])
    for candidate in listed:  # the evidence the person decides on
        assert candidate["vs"] == first.variable_symbol
        assert candidate["amount"] == 1_000_000
        assert candidate["currency"] == "CZK"
    # The invoices are untouched.
    assert reload(first).__data__ == before_first.__data__
    assert reload(second).__data__ == before_second.__data__
    assert payments.amount_due(first) == payments.amount_due(second) == 1_000_000


def test_two_invoice_numbers_in_the_message_are_left_for_review(books):
    first = sent_invoice(books.acme, "10000")
    second = sent_invoice(books.beta, "5000")
    payment = tx(1_500_000, message=f"Invoices {first.number} and {second.number}")
    report = matching.match_transactions()
    assert report.matched == []
    assert [sorted(r.candidates) for r in report.review] == [sorted([first.number, second.number])]
    assert reload(payment).match_status == "review"
    assert reload(first).status == reload(second).status == "sent"


def test_currency_mismatch_is_not_matched(books):
    invoice = sent_invoice(books.acme, "10000")  # CZK
    payment = tx(1_000_000, vs=invoice.variable_symbol, currency="EUR")
    report = matching.match_transactions()
    assert report.matched == []
    assert [(r.transaction_id, r.candidates) for r in report.review] == [(payment.id, [invoice.number])]
    assert "another currency" in report.review[0].reason
    payment = reload(payment)
    assert (payment.match_status, payment.invoice_id) == ("review", None)
    assert payment.match_note["candidates"][0]["invoice"] == invoice.number
    invoice = reload(invoice)
    assert invoice.status == "sent"
    assert payments.amount_due(invoice) == 1_000_000


def _duplicate_payment_outcome(books, same_run: bool):
    invoice = sent_invoice(books.acme, "10000")
    first = tx(1_000_000, vs=invoice.variable_symbol, on=PAID_DAY)
    if not same_run:
        matching.match_transactions()
    again = tx(1_000_000, vs=invoice.variable_symbol, on=PAID_DAY + timedelta(days=1))
    matching.match_transactions()
    again, invoice = reload(again), reload(invoice)
    return (
        reload(first).invoice_id == invoice.id,
        again.match_status,
        again.invoice_id == invoice.id,
        invoice.status,
        invoice.paid_on,
        payments.is_overpaid(invoice),
    )


def test_a_duplicate_payment_is_treated_the_same_in_one_run_or_two(books):
    """A client pays the same invoice twice. Whether both payments arrive in one bank sync or in two
    must not decide what happens to the second one (linked as an overpayment, or left for the person)."""
    in_one_run = _duplicate_payment_outcome(books, same_run=True)
    in_two_runs = _duplicate_payment_outcome(books, same_run=False)
    assert in_one_run[0] and in_two_runs[0]
    assert in_one_run == in_two_runs


def test_an_expense_is_never_matched(books):
    invoice = sent_invoice(books.acme, "10000")
    refund = tx(1_000_000, vs=invoice.variable_symbol, message=f"Refund {invoice.number}", kind="expense")
    report = matching.match_transactions()
    assert (report.matched, report.review) == ([], [])
    refund = reload(refund)
    assert (refund.match_status, refund.invoice_id) == ("unmatched", None)
    assert reload(invoice).status == "sent"
    # Naming it explicitly changes nothing either.
    assert matching.match_transactions([refund.id]).matched == []


def test_draft_paid_and_cancelled_invoices_are_not_candidates_for_automatic_matching(books):
    paid = sent_invoice(books.acme, "10000")
    invoice_status.mark_paid(paid, PAID_DAY)
    cancelled = sent_invoice(books.beta, "2000")
    invoice_status.cancel_invoice(cancelled)
    project = Project.get(Project.client == books.nord)
    ts.add_entry(ts.EntryInput(project=project, date=ISSUED, fixed="100", description="Draft work"))
    draft = invoicing.create_invoice(books.nord, until=ISSUED, issued_on=ISSUED)
    a = tx(1_000_000, vs=paid.variable_symbol)
    b = tx(200_000, vs=cancelled.variable_symbol)
    c = tx(10_000, vs=draft.variable_symbol, currency="EUR")
    report = matching.match_transactions()
    assert (report.matched, report.review) == ([], [])
    assert reload(a).match_status == reload(b).match_status == reload(c).match_status == "unmatched"
    assert (reload(paid).status, reload(cancelled).status, reload(draft).status) == ("paid", "cancelled", "draft")


def test_matched_ignored_and_review_transactions_are_not_matched_again(books):
    invoice = sent_invoice(books.acme, "10000")
    other = sent_invoice(books.beta, "3000")
    matched = tx(1_000_000, vs=invoice.variable_symbol)
    matching.match_transactions()
    assert reload(invoice).status == "paid"

    # An ignored one and one linked by hand elsewhere, both with the VS of an open invoice.
    ignored = tx(300_000, vs=other.variable_symbol)
    matching.ignore(ignored)
    review = tx(300_000, vs=other.variable_symbol, currency="EUR")
    matching.match_transactions()
    assert reload(review).match_status == "review"

    before = db_state()
    report = matching.match_transactions()
    assert (report.matched, report.review, report.paid_invoices) == ([], [], [])
    assert db_state() == before  # not even an audit record
    assert reload(matched).invoice_id == invoice.id
    assert reload(ignored).match_status == "ignored"
    assert reload(other).status == "sent"


def test_only_the_named_transactions_are_matched(books):
    first = sent_invoice(books.acme, "10000")
    second = sent_invoice(books.beta, "2000")
    a = tx(1_000_000, vs=first.variable_symbol)
    b = tx(200_000, vs=second.variable_symbol)
    assert matching.match_transactions([]).matched == []
    report = matching.match_transactions([b.id])
    assert [m.transaction_id for m in report.matched] == [b.id]
    assert reload(a).match_status == "unmatched"
    assert reload(first).status == "sent" and reload(second).status == "paid"


# -- by hand: link, unlink, ignore ----------------------------------------------------------------


def test_link_and_unlink_by_hand(books):
    invoice = sent_invoice(books.acme, "10000")
    payment = tx(1_000_000, message="no reference at all")
    matching.link(payment, invoice)
    payment = reload(payment)
    assert (payment.match_status, payment.invoice_id) == ("matched", invoice.id)
    assert payment.match_note == {"invoice": invoice.number, "by": "hand"}
    invoice = reload(invoice)
    assert (invoice.status, invoice.paid_on) == ("paid", PAID_DAY)

    matching.unlink(payment)
    payment = reload(payment)
    assert (payment.match_status, payment.invoice_id, payment.match_note) == ("unmatched", None, {})
    invoice = reload(invoice)
    assert (invoice.status, invoice.paid_on) == ("sent", None)
    assert payments.amount_due(invoice) == 1_000_000


def test_link_a_partial_payment_by_hand_reduces_what_is_owed(books):
    invoice = sent_invoice(books.acme, "10000")
    payment = tx(300_000)
    matching.link(payment, invoice)
    invoice = reload(invoice)
    assert invoice.status == "sent"
    assert payments.amount_due(invoice) == 700_000
    # The automatic run then takes the rest into account.
    rest = tx(700_000, vs=invoice.variable_symbol, on=PAID_DAY + timedelta(days=2))
    report = matching.match_transactions()
    assert [(m.transaction_id, m.kind) for m in report.matched] == [(rest.id, "paid")]
    assert reload(invoice).status == "paid"


def test_unlinking_the_payment_that_made_the_invoice_paid_returns_it_to_sent(books):
    invoice = sent_invoice(books.acme, "10000")
    first = tx(400_000, vs=invoice.variable_symbol, on=PAID_DAY)
    second = tx(600_000, vs=invoice.variable_symbol, on=PAID_DAY + timedelta(days=3))
    matching.match_transactions()
    invoice = reload(invoice)
    assert (invoice.status, invoice.paid_on) == ("paid", PAID_DAY + timedelta(days=3))

    matching.unlink(reload(second))
    invoice = reload(invoice)
    assert (invoice.status, invoice.paid_on) == ("sent", None)
    assert payments.amount_due(invoice) == 600_000
    assert reload(second).match_status == "unmatched"
    assert reload(first).invoice_id == invoice.id

    # Matching again finds it again.
    report = matching.match_transactions()
    assert [(m.transaction_id, m.kind) for m in report.matched] == [(second.id, "paid")]
    assert reload(invoice).status == "paid"


def test_unlinking_an_extra_payment_keeps_an_invoice_that_is_still_covered_paid(books):
    invoice = sent_invoice(books.acme, "10000")
    full = tx(1_000_000, vs=invoice.variable_symbol)
    matching.match_transactions()
    extra = tx(50_000)
    matching.link(extra, reload(invoice))
    assert payments.is_overpaid(reload(invoice))
    matching.unlink(reload(extra))
    invoice = reload(invoice)
    assert (invoice.status, invoice.paid_on) == ("paid", PAID_DAY)
    assert not payments.is_overpaid(invoice)
    assert reload(full).invoice_id == invoice.id


def test_unlinking_a_payment_from_an_invoice_marked_paid_by_hand_keeps_it_paid(books):
    """Marked paid by hand (the money was seen in the bank's app), then the bank movement is linked to
    it, then unlinked again (the wrong movement): the invoice is back where it was, paid, not owed."""
    invoice = invoice_status.mark_paid(sent_invoice(books.acme, "1000"), PAID_DAY)
    payment = tx(100_000)
    matching.link(payment, reload(invoice))
    assert reload(invoice).status == "paid"
    matching.unlink(reload(payment))
    invoice = reload(invoice)
    assert (invoice.status, invoice.paid_on) == ("paid", PAID_DAY)
    assert reload(payment).match_note == {}


def test_manual_mistakes_are_refused_and_change_nothing(books):
    czk = sent_invoice(books.acme, "10000")
    eur = sent_invoice(books.nord, "1500")
    cancelled = sent_invoice(books.beta, "2000")
    invoice_status.cancel_invoice(cancelled)
    expense = tx(1_000_000, kind="expense")
    linked = tx(1_000_000, vs=czk.variable_symbol)
    matching.match_transactions()
    assert reload(linked).invoice_id == czk.id
    loose = tx(150_000)  # CZK
    before = db_state()

    cases = [
        (lambda: matching.link(reload(expense), reload(czk)), "expense"),
        (lambda: matching.link(reload(linked), reload(eur)), "unlink it first"),
        (lambda: matching.link(reload(loose), reload(eur)), "EUR"),
        (lambda: matching.link(reload(loose), reload(cancelled)), "cancelled"),
        (lambda: matching.unlink(reload(loose)), "not linked"),
        (lambda: matching.ignore(reload(linked)), "unlink it first"),
        (lambda: matching.find_transaction("999"), "no transaction"),
        (lambda: matching.find_transaction("abc"), "no transaction"),
    ]
    for action, words in cases:
        with pytest.raises(MatchError) as caught:
            action()
        assert words in str(caught.value)
        assert db_state() == before, words


def test_ignore_and_restore(books):
    invoice = sent_invoice(books.acme, "10000")
    payment = tx(1_000_000, vs=invoice.variable_symbol)
    matching.ignore(payment)
    payment = reload(payment)
    assert payment.match_status == "ignored"
    assert payment.match_note["reason"] == "not an invoice payment"
    assert matching.match_transactions().matched == []
    assert reload(invoice).status == "sent"

    matching.ignore(payment, False)
    payment = reload(payment)
    assert (payment.match_status, payment.match_note) == ("unmatched", {})
    assert [m.transaction_id for m in matching.match_transactions().matched] == [payment.id]
    assert reload(invoice).status == "paid"


def test_restoring_a_linked_transaction_does_not_leave_it_half_linked(books):
    """ignore(tx, False) ("match ignore --undo") on a linked transaction must not make it
    'unmatched' while it still pays the invoice: refused, or nothing changes."""
    invoice = sent_invoice(books.acme, "10000")
    payment = tx(1_000_000, vs=invoice.variable_symbol)
    matching.match_transactions()
    payment = reload(payment)
    assert (payment.match_status, payment.invoice_id) == ("matched", invoice.id)
    try:
        matching.ignore(payment, False)
    except MatchError:
        pass
    payment = reload(payment)
    assert (payment.match_status, payment.invoice_id) == ("matched", invoice.id)
    assert payment.match_note.get("invoice") == invoice.number


def test_linking_a_small_payment_to_an_invoice_marked_paid_by_hand_keeps_it_paid(books):
    """An invoice the person marked paid (e.g. paid in cash) must not become unpaid because a
    transaction is linked to it: linking only ever adds a payment. Refused, or it stays paid."""
    invoice = sent_invoice(books.acme, "10000")
    invoice_status.mark_paid(invoice, PAID_DAY)
    small = tx(10_000)
    try:
        matching.link(small, reload(invoice))
    except MatchError:
        pass
    invoice = reload(invoice)
    assert (invoice.status, invoice.paid_on) == ("paid", PAID_DAY)


def test_candidates_for_puts_the_best_evidence_first(books):
    exact = sent_invoice(books.acme, "10000")
    by_number = sent_invoice(books.beta, "4000")
    euro = sent_invoice(books.nord, "100")
    payment = tx(1_000_000, vs=exact.variable_symbol, message=f"also {by_number.number}")
    ranked = matching.candidates_for(payment)
    numbers = [inv.number for inv, _score, _evidence in ranked]
    assert numbers[:2] == [exact.number, by_number.number]
    assert euro.number in numbers
    evidence = {inv.number: ev for inv, _score, ev in ranked}
    assert f"VS {exact.variable_symbol}" in evidence[exact.number]
    assert "amount equals what is owed" in evidence[exact.number]
    assert f"number {by_number.number} in the message" in evidence[by_number.number]
    assert "other currency (EUR)" in evidence[euro.number]


# -- the audit trail ------------------------------------------------------------------------------


def test_automatic_matching_is_audited_under_the_sync_source(books):
    paid = sent_invoice(books.acme, "10000")
    partial = sent_invoice(books.beta, "5000")
    exact = tx(1_000_000, vs=paid.variable_symbol)
    part = tx(100_000, vs=partial.variable_symbol)
    mismatch = tx(500_000, vs=partial.variable_symbol, currency="EUR")
    unrelated = tx(1234, message="interest")
    last = AuditRecord.select().order_by(AuditRecord.id.desc()).first().id

    with audit_context("test-bank", sync_run=7):
        report = matching.match_transactions()
    assert len(report.matched) == 2 and len(report.review) == 1

    new = list(AuditRecord.select().where(AuditRecord.id > last).order_by(AuditRecord.id))
    assert new, "matching wrote no audit record"
    assert {(r.source, r.sync_run) for r in new} == {("test-bank", 7)}
    by_row = {(r.table_name, r.row_id): r for r in new}
    assert set(by_row) == {
        ("money_transactions", exact.id),
        ("money_transactions", part.id),
        ("money_transactions", mismatch.id),
        ("invoices", paid.id),
    }
    assert all(r.action == "update" for r in new)
    exact_changes = by_row[("money_transactions", exact.id)].changes
    assert exact_changes["match_status"] == ["unmatched", "matched"]
    assert exact_changes["invoice"] == [None, paid.id]
    assert by_row[("money_transactions", mismatch.id)].changes["match_status"] == ["unmatched", "review"]
    invoice_changes = by_row[("invoices", paid.id)].changes
    assert invoice_changes["status"] == ["sent", "paid"]
    assert invoice_changes["paid_on"] == [None, PAID_DAY.isoformat()]
    assert audit_rows("money_transactions", unrelated.id)[-1].action == "create"  # untouched


def test_manual_link_unlink_ignore_are_audited_as_manual(books):
    invoice = sent_invoice(books.acme, "10000")
    payment = tx(1_000_000)
    other = tx(5000)
    last = AuditRecord.select().order_by(AuditRecord.id.desc()).first().id

    matching.link(payment, invoice)
    matching.unlink(reload(payment))
    matching.ignore(reload(other))

    new = list(AuditRecord.select().where(AuditRecord.id > last).order_by(AuditRecord.id))
    assert {(r.source, r.sync_run) for r in new} == {("manual", None)}
    tx_changes = [r.changes for r in new if (r.table_name, r.row_id) == ("money_transactions", payment.id)]
    assert [c["match_status"] for c in tx_changes] == [["unmatched", "matched"], ["matched", "unmatched"]]
    assert [c["invoice"] for c in tx_changes] == [[None, invoice.id], [invoice.id, None]]
    invoice_changes = [r.changes["status"] for r in new if (r.table_name, r.row_id) == ("invoices", invoice.id)]
    assert invoice_changes == [["sent", "paid"], ["paid", "sent"]]
    ignored = [r.changes for r in new if (r.table_name, r.row_id) == ("money_transactions", other.id)]
    assert [c["match_status"] for c in ignored] == [["unmatched", "ignored"]]


def test_manual_actions_inside_another_context_take_that_source(books):
    """Manual actions have no source of their own: the caller's context decides (the TUI and the CLI run
    under the default, "manual")."""
    invoice = sent_invoice(books.acme, "10000")
    payment = tx(1_000_000)
    with audit_context("test-bank", sync_run=3):
        matching.link(payment, invoice)
    records = audit_rows("money_transactions", payment.id)
    assert (records[-1].source, records[-1].sync_run) == ("test-bank", 3)


# -- a hash join ---------------------------------------------------------------------------------


def test_two_thousand_transactions_against_five_hundred_invoices(books):
    """500 open invoices, 2,000 transactions: 250 exact payments, 250 invoices paid in two halves,
    250 in another currency for invoices the same batch already settled (no longer open, so left
    unmatched, as a later run would), 500 expenses and 500 incomes whose VS is nobody's."""
    template = sent_invoice(books.acme, "1000")
    row = Invoice.select().where(Invoice.id == template.id).dicts().get()
    for key in ("id", "created_at", "updated_at"):
        row.pop(key)
    clones = []
    for seq in range(2, 501):
        number = f"2026{seq:04d}"
        clones.append(
            {
                **row,
                "number": number,
                "seq": seq,
                "variable_symbol": number,
                "subtotal": 100_000 + 2 * seq,
                "total": 100_000 + 2 * seq,
            }
        )
    Invoice.insert_many(clones).execute()
    Invoice.update(total=100_002, subtotal=100_002).where(Invoice.id == template.id).execute()
    invoices = list(Invoice.select().order_by(Invoice.seq))
    assert len(invoices) == 500 and {i.status for i in invoices} == {"sent"}

    rows = []

    def add(inv_vs: str, amount: int, kind="income", currency="CZK", day=PAID_DAY):
        rows.append(
            {
                "source": "test-bank",
                "external_id": f"bulk-{len(rows)}",
                "transaction_type": kind,
                "amount": amount,
                "currency": currency,
                "transacted_on": day,
                "reference": inv_vs,
                "description": "",
                "counterparty": "",
                "raw_data": {},
            }
        )

    for inv in invoices[:250]:
        add("00" + inv.variable_symbol, inv.total)  # exact, with leading zeros
    for inv in invoices[250:]:
        add(inv.variable_symbol, inv.total // 2)
        add(inv.variable_symbol, inv.total - inv.total // 2, day=PAID_DAY + timedelta(days=1))
    for inv in invoices[:250]:
        add(inv.variable_symbol, inv.total, currency="EUR")
    for inv in invoices:
        add(inv.variable_symbol, inv.total, kind="expense")
    for n in range(500):
        add(str(70_000_000 + n), 100_000 + n)
    assert len(rows) == 2000
    MoneyTransaction.insert_many(rows).execute()

    report = matching.match_transactions()

    assert len(report.matched) == 750
    assert sum(m.kind == "paid" for m in report.matched) == 500
    assert sum(m.kind == "partial" for m in report.matched) == 250
    assert len(report.review) == 0
    assert sorted(report.paid_invoices) == sorted(i.number for i in invoices)
    assert Invoice.select().where(Invoice.status == "paid").count() == 500
    counts = {
        status: MoneyTransaction.select().where(MoneyTransaction.match_status == status).count()
        for status in MoneyTransaction.MATCH_STATUSES
    }
    assert counts == {"unmatched": 1250, "matched": 750, "review": 0, "ignored": 0}
    # Every match went to the invoice with its VS.
    pairs = (
        MoneyTransaction.select(MoneyTransaction.reference, Invoice.variable_symbol)
        .join(Invoice)
        .where(MoneyTransaction.match_status == "matched")
        .tuples()
    )
    assert all(int(ref) == int(vs) for ref, vs in pairs)
    assert all(payments.amount_due(i) == 0 for i in Invoice.select())


# -- inside a bank sync ---------------------------------------------------------------------------


def test_bank_sync_matches_automatically(database):
    """A bank plugin's sync runs the matching in its own transaction, audited under the plugin's name
    and the run, and its log says which invoices turned paid (the demo statement: one exact payment,
    one partial, one without VS but with the number in the message, one unrelated expense)."""
    from core.demo import load_demo
    from core.platform.sync import run_sync

    load_demo()
    open_before = {i.id: (i.number, payments.amount_due(i)) for i in Invoice.select().where(Invoice.status == "sent")}
    outcome = run_sync("bank-statement")
    assert outcome.status == "completed", outcome.error

    movements = {t.description: t for t in MoneyTransaction.select().where(MoneyTransaction.source == "bank-statement")}
    assert len(movements) == 4
    exact = next(t for d, t in movements.items() if d.startswith("Faktura "))
    partial = movements["Záloha"]
    foreign = next(t for d, t in movements.items() if d.startswith("Invoice "))
    expense = movements["Nákup: USB-C hub"]

    for payment in (exact, partial, foreign):
        assert payment.match_status == "matched", (payment.description, payment.match_status, payment.match_note)
        assert payment.invoice_id in open_before
    assert (expense.match_status, expense.invoice_id) == ("unmatched", None)
    exact_invoice = Invoice.get_by_id(exact.invoice_id)
    assert (exact_invoice.status, exact_invoice.paid_on) == ("paid", exact.transacted_on)
    foreign_invoice = Invoice.get_by_id(foreign.invoice_id)
    assert foreign_invoice.status == "paid"
    partial_invoice = Invoice.get_by_id(partial.invoice_id)
    assert partial_invoice.status == "sent"
    assert payments.amount_due(partial_invoice) == open_before[partial_invoice.id][1] - partial.amount

    for payment in (exact, partial, foreign):
        updates = [r for r in audit_rows("money_transactions", payment.id) if r.action == "update"]
        assert [(r.source, r.sync_run) for r in updates] == [("bank-statement", outcome.run_id)]
    invoice_updates = [r for r in audit_rows("invoices", exact_invoice.id) if r.source == "bank-statement"]
    assert [r.changes["status"] for r in invoice_updates] == [["sent", "paid"]]
    assert {r.sync_run for r in invoice_updates} == {outcome.run_id}

    log = "\n".join(outcome.log)
    assert exact_invoice.number in log and foreign_invoice.number in log
    assert partial_invoice.number in log
    # Nothing is left for "fakturka match" to do.
    assert matching.match_transactions().matched == []


# -- the SQL pre-filter never hides a payment --------------------------------------------------


def awkward_transactions(invoices: list[Invoice]) -> list[MoneyTransaction]:
    """References and messages around the invoices' symbols and numbers, as banks and people write them."""
    references, messages = ["", "0", "000", "555", "abc", "12345678901", "0000000000012", "9" * 25], ["", "Refund"]
    for inv in invoices:
        vs, number = inv.variable_symbol, inv.number
        references += [vs, "00" + vs, vs + "1", f"VS: {vs}", f"{vs[:3]} {vs[3:]}", "٣" + vs, vs + "٣"]
        messages += [f"Faktura {number}", f"faktura {number.lower()}", f"x{number}y", f"{number}-2", "Platba 100"]
    return [tx(100, vs=reference, message=message) for reference in references for message in messages]


def test_prefilter_passes_every_transaction_that_has_a_candidate(books):
    """match_transactions leaves in SQLite the rows that cannot pay an open invoice; every row for
    which candidates() finds an invoice must still reach it, and plain non-payments must not."""
    invoices = [sent_invoice(books.acme), sent_invoice(books.beta, "2500"), sent_invoice(books.acme, "700")]
    # The longest symbol there is: ten digits.
    Invoice.update(variable_symbol="9876543210").where(Invoice.id == invoices[2].id).execute()
    invoices[2] = reload(invoices[2])
    rows = awkward_transactions(invoices)
    index = matching._OpenInvoices()
    passed = {row[0] for row in matching._unmatched(None, index)}
    with_candidates = {t.id for t in rows if index.candidates(t.reference, t.description)[0]}

    assert with_candidates and with_candidates <= passed
    plain = {t.id for t in rows if t.reference in ("555", "12345678901") and t.description in ("", "Refund")}
    assert plain and not plain & passed, "a plain symbol of no open invoice with a digitless message stays out"
    # The same rows, listed by id (as the sync's after-apply hook asks), pass the same way.
    assert {row[0] for row in matching._unmatched([t.id for t in rows], index)} == passed


def test_prefilter_keeps_messages_without_digits_when_an_invoice_number_has_none(books):
    invoice = sent_invoice(books.acme)
    Invoice.update(number="ACME-X").where(Invoice.id == invoice.id).execute()
    payment = tx(int(invoice.total), vs="555", message="Payment for acme-x")

    report = matching.match_transactions()

    assert [(m.transaction_id, m.invoice_number, m.kind) for m in report.matched] == [(payment.id, "ACME-X", "paid")]
