"""Status changes of an invoice after it is made: sending, paying, cancelling, deleting a draft.

Rules decided here (and only here):
- The series stays continuous: only the newest draft of a year can be
  deleted (its number is then reused); any other invoice is cancelled
  instead, keeping its number. Deleting or cancelling releases its entries.
- A draft is not a document yet: it cannot be paid, and no payment can be
  linked to it; sending it makes it final.
- Cancelling an invoice with payments linked unlinks them (back to "needs
  review", so they can be linked elsewhere) only when the caller says so;
  otherwise ``InvoiceHasPayments`` says how much and how many movements.
"""

from __future__ import annotations

from datetime import date

from peewee import fn

from core.billing.drafts import CUSTOMER_EDITED
from core.billing.invoicing import InvoiceError, customer_snapshot
from core.billing.profile import get_profile, supplier_snapshot
from core.store.db import db
from core.store.models import Invoice, InvoiceLine, MoneyTransaction, WorkEntry
from core.store.states import InvoiceStatus, MatchStatus
from core.values.limits import check_date_span
from core.values.messages import Message
from core.values.money import from_minor


class InvoiceHasPayments(InvoiceError):
    """Cancelling would leave payments linked to an invoice that is owed nothing: the caller confirms
    with ``cancel_invoice(..., unlink_payments=True)``. Carries what a question to the person needs."""

    def __init__(self, invoice: Invoice, paid: int, movements: list[MoneyTransaction]):
        self.invoice = invoice
        self.paid = paid  # income linked to it, in minor units of invoice.currency
        self.movements = movements
        said = {
            "number": invoice.number,
            "amount": from_minor(paid, invoice.currency),
            "currency": invoice.currency,
            "count": len(movements),
        }
        if len(movements) == 1:
            message = Message(
                "Invoice {number} has {amount} {currency} paid in {count} bank movement; cancelling it unlinks it "
                "(back to 'review', to link elsewhere): confirm to go on.",
                **said,
            )
        else:
            message = Message(
                "Invoice {number} has {amount} {currency} paid in {count} bank movements; cancelling it unlinks "
                "them (back to 'review', to link elsewhere): confirm to go on.",
                **said,
            )
        super().__init__(message)


def _release_entries(invoice: Invoice) -> None:
    line_ids = [line.id for line in InvoiceLine.select(InvoiceLine.id).where(InvoiceLine.invoice == invoice)]
    if line_ids:
        WorkEntry.update(invoice_line=None, billed_rate=None).where(WorkEntry.invoice_line.in_(line_ids)).execute()


def mark_sent(invoice: Invoice, on: date | None = None) -> Invoice:
    if invoice.status != InvoiceStatus.DRAFT:
        raise InvoiceError(
            Message(
                "Invoice {number} is {status}; only a draft can be sent.",
                number=invoice.number,
                status=Message(invoice.status),
            )
        )
    if on is not None:
        check_date_span(on, "sent_on")
    if on is not None and on < invoice.issued_on:
        raise InvoiceError(
            Message(
                "Invoice {number} is issued on {issued}; it cannot be sent before that ({day}).",
                number=invoice.number,
                issued=invoice.issued_on.isoformat(),
                day=on.isoformat(),
            )
        )
    with db.atomic():
        invoice.status = InvoiceStatus.SENT
        invoice.sent_on = on or date.today()
        # The document is final from now on: freeze the parties as they are today (the customer's
        # details as edited on the draft, when they were).
        invoice.supplier = supplier_snapshot(get_profile())
        if not (invoice.customer or {}).get(CUSTOMER_EDITED):
            invoice.customer = customer_snapshot(invoice.client)
        invoice.save()
    return invoice


def mark_paid(invoice: Invoice, on: date | None = None) -> Invoice:
    if invoice.status == InvoiceStatus.DRAFT:
        raise InvoiceError(
            Message(
                "Invoice {number} is a draft; send it first (S on the Invoices screen, or "
                "'fakturka invoice send {number}'), then mark it paid.",
                number=invoice.number,
            )
        )
    if invoice.status != InvoiceStatus.SENT:
        raise InvoiceError(
            Message(
                "Invoice {number} is {status}; it cannot be marked paid.",
                number=invoice.number,
                status=Message(invoice.status),
            )
        )
    if on is not None:
        check_date_span(on, "paid_on")
    if on is not None and on > date.today():
        raise InvoiceError(
            Message(
                "{day} is in the future; mark invoice {number} paid on the day the money arrived.",
                day=on.isoformat(),
                number=invoice.number,
            )
        )
    invoice.status = InvoiceStatus.PAID
    invoice.paid_on = on or date.today()
    invoice.save()
    return invoice


def linked_movements(invoice: Invoice) -> list[MoneyTransaction]:
    """Every bank movement linked to the invoice (payments and anything else), oldest first."""
    return list(
        MoneyTransaction.select()
        .where(MoneyTransaction.invoice == invoice)
        .order_by(MoneyTransaction.transacted_on, MoneyTransaction.id)
    )


def cancel_invoice(invoice: Invoice, *, unlink_payments: bool = False) -> Invoice:
    """Cancel the invoice and release its entries.

    A cancelled invoice is owed nothing, so movements linked to it would count as paid against
    nothing: they are unlinked back to "review" (noting the invoice they paid) so they can be linked
    elsewhere. That changes the books, so it needs ``unlink_payments=True``; without it an invoice
    with linked movements raises ``InvoiceHasPayments`` and nothing changes.
    """
    if invoice.status == InvoiceStatus.CANCELLED:
        raise InvoiceError(Message("Invoice {number} is already cancelled.", number=invoice.number))
    if invoice.status == InvoiceStatus.PAID:
        raise InvoiceError(
            Message("Invoice {number} is paid; a paid invoice cannot be cancelled.", number=invoice.number)
        )
    with db.atomic():
        movements = linked_movements(invoice)
        if movements and not unlink_payments:
            paid = sum(m.amount for m in movements if m.transaction_type == "income")
            raise InvoiceHasPayments(invoice, paid, movements)
        for movement in movements:  # one by one: each change goes to the audit log
            movement.invoice = None
            movement.match_status = MatchStatus.REVIEW
            movement.match_note = {"by": "cancel", "reason": f"invoice {invoice.number} was cancelled"}
            movement.save()
        _release_entries(invoice)
        invoice.status = InvoiceStatus.CANCELLED
        invoice.save()
    return invoice


def delete_draft(invoice: Invoice) -> None:
    """Delete the newest draft of its year, releasing its entries; its number is reused."""
    if invoice.status != InvoiceStatus.DRAFT:
        raise InvoiceError(
            Message(
                "Invoice {number} is {status}; only drafts can be deleted (cancel it instead).",
                number=invoice.number,
                status=Message(invoice.status),
            )
        )
    with db.atomic():
        newest = Invoice.select(fn.MAX(Invoice.seq)).where(Invoice.year == invoice.year).scalar()
        if invoice.seq != newest:
            raise InvoiceError(
                Message(
                    "Invoice {number} is not the newest of {year}; deleting it would leave a gap in the number "
                    "series. Cancel it instead.",
                    number=invoice.number,
                    year=invoice.year,
                )
            )
        _release_entries(invoice)
        InvoiceLine.delete().where(InvoiceLine.invoice == invoice).execute()
        invoice.delete_instance()
