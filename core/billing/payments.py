"""Payments against invoices: what an invoice has been paid, what it still owes, and when that makes it paid.

The one place that turns payments into the paid status: a payment linked or
unlinked by hand, a batch of automatic matching, and unlinking all go through
``payment_status`` here.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date

from peewee import Case, Select, Value, fn

from core.store.bulk import audited_bulk_update
from core.store.db import db
from core.store.models import Invoice, MoneyTransaction
from core.store.states import InvoiceStatus

# # Each rule is written once:
# - what is paid and what is still owed are SQL expressions over an invoice's status, total and
#   payments (_paid_query, _due_expr): evaluated for one invoice with its values bound, or for a
#   whole page of invoices as columns of the page query (amount_paid_sql, amount_due_sql);
# - when payments make an invoice paid is ``settles``, and ``payment_status`` (which adds the way
#   back to sent when a payment is removed) is the one function that turns payments into a status:
#   for a payment linked or unlinked by hand (``settle_payment_status``, one invoice) and for a
#   batch of automatic matching (``settle_invoices``, many invoices in one statement).

CLOSED_STATUSES = (InvoiceStatus.CANCELLED, InvoiceStatus.PAID)  # nothing is owed on these
SETTLEABLE_STATUSES = (InvoiceStatus.DRAFT, InvoiceStatus.SENT)  # payments can make these paid


def payment_condition(model=MoneyTransaction):
    """What counts as a payment against an invoice: income linked to one (decided here only)."""
    return model.invoice.is_null(False) & (model.transaction_type == "income")


def _paid_query(invoice_ref):
    Payment = MoneyTransaction.alias("payment")
    return Payment.select(fn.COALESCE(fn.SUM(Payment.amount), 0)).where(
        (Payment.invoice == invoice_ref) & payment_condition(Payment)
    )


def _due_expr(status, total, paid):
    """What is still owed: nothing on a cancelled or paid invoice, else the total less what was paid,
    never below zero. ``status``, ``total`` and ``paid`` are SQL: columns, or bound values."""
    return Case(None, [(status.in_(CLOSED_STATUSES), 0)], fn.MAX(0, total - paid))


def amount_paid(invoice: Invoice) -> int:
    """Income transactions linked to the invoice, in minor units."""
    return _paid_query(invoice.id).scalar()


def amount_paid_sql():
    """``amount_paid`` as a correlated subquery over ``Invoice`` rows (for sums over many invoices)."""
    return _paid_query(Invoice.id)


def amount_due(invoice: Invoice) -> int:
    """What is still owed (never below zero); nothing for a cancelled or paid invoice."""
    due = _due_expr(Value(invoice.status), Value(invoice.total), _paid_query(invoice.id))
    return Select(columns=[due]).bind(db).scalar()


def amount_due_sql():
    """``amount_due`` as an expression over ``Invoice`` rows (a column of a page of invoices)."""
    return _due_expr(Invoice.status, Invoice.total, amount_paid_sql())


def is_overpaid(invoice: Invoice) -> bool:
    return amount_paid(invoice) > invoice.total


def is_settled(total: int, paid: int) -> bool:
    """The amounts of "paid by its payments": something was paid and nothing is owed."""
    return paid > 0 and paid >= total


def settles(status: str, total: int, paid: int) -> bool:
    """Whether payments of ``paid`` make an invoice with this status and total paid.

    The rule, and the only one: a draft or sent invoice whose payments cover it (``is_settled``).
    """
    return status in SETTLEABLE_STATUSES and is_settled(total, paid)


@dataclass(frozen=True, slots=True)
class PaymentState:
    """What decides an invoice's status once its payments changed."""

    status: str
    total: int
    paid: int  # income linked to it, in minor units
    paid_on: date | None  # the day of the payment that completed it


def payment_status(state: PaymentState, *, payment_removed: bool = False) -> tuple[str, date | None] | None:
    """The ``(status, paid_on)`` payments give an invoice, or None when it stays as it is.

    Paid when ``settles`` says so. Adding a payment never un-pays an invoice (it may have been
    marked paid by hand); only removing one can, and then it is owed again (sent).
    """
    if settles(state.status, state.total, state.paid):
        return InvoiceStatus.PAID, state.paid_on
    if payment_removed and state.status == InvoiceStatus.PAID and state.paid < state.total:
        return InvoiceStatus.SENT, None
    return None


def settle_invoices(
    states: Mapping[int, PaymentState], *, payment_removed: bool = False
) -> dict[int, tuple[str, date | None]]:
    """``settle_payment_status`` for many invoices at once (payment matching): ``payment_status`` of
    each (by id), the changes written in one audited statement.

    Returns ``{id: (status, paid_on)}`` of the invoices it changed, in the order given.
    """
    changes = {}
    for invoice_id, state in states.items():
        new = payment_status(state, payment_removed=payment_removed)
        if new is not None:
            changes[invoice_id] = new
    audited_bulk_update(Invoice, {i: {"status": status, "paid_on": day} for i, (status, day) in changes.items()})
    return changes


def _last_payment_on(invoice: Invoice) -> date | None:
    return (
        MoneyTransaction.select(fn.MAX(MoneyTransaction.transacted_on))
        .where((MoneyTransaction.invoice == invoice) & (MoneyTransaction.transaction_type == "income"))
        .scalar()
    )


def settle_payment_status(invoice: Invoice, *, payment_removed: bool = False) -> bool:
    """After the invoice's payments changed (a link or unlink by hand): the status ``payment_status``
    gives it, paid on the day of its last payment. Returns True when the invoice became paid."""
    paid = amount_paid(invoice)
    state = PaymentState(invoice.status, invoice.total, paid, _last_payment_on(invoice) if paid else None)
    new = payment_status(state, payment_removed=payment_removed)
    if new is None:
        return False
    invoice.status, invoice.paid_on = new
    invoice.save()
    return invoice.status == InvoiceStatus.PAID
