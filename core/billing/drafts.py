"""Editing a draft invoice before it is sent: dates, note, the customer's details, its lines.

A draft is not a document yet: it can be edited (``update_draft``); sending it
(core.billing.invoice_status) makes it final.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from core.billing.invoicing import InvoiceError, invoice_lines, invoice_totals
from core.billing.totals import line_amount
from core.store.db import db
from core.store.models import Invoice, InvoiceLine, WorkEntry
from core.store.states import InvoiceStatus
from core.values.limits import check_date_span
from core.values.messages import Message

# The customer's details a draft may change by hand. Not the country: it decides VAT and reverse
# charge (change the client and make the draft again for that).
EDITABLE_CUSTOMER_FIELDS = ("name", "address", "ico", "dic", "email")
# Set in the customer snapshot once edited by hand, so sending keeps those details (it otherwise
# copies the client as it is on that day).
CUSTOMER_EDITED = "edited_on_draft"


@dataclass
class LineEdit:
    """One line of an edited draft. ``id`` keeps an existing line (and the work entries billed on it);
    a line without one is new; an existing line left out is removed and its entries unbilled again."""

    description: str
    quantity: Decimal
    unit: str
    unit_price: int  # minor units
    vat_rate: Decimal = Decimal(0)
    id: int | None = None


def _require_draft(invoice: Invoice) -> None:
    if invoice.status != InvoiceStatus.DRAFT:
        raise InvoiceError(
            Message(
                "Invoice {number} is {status}; only a draft can be edited (cancel it and invoice again instead).",
                number=invoice.number,
                status=Message(invoice.status),
            )
        )


def _edit_dates(invoice: Invoice, issued_on, due_on, taxable_supply_on) -> None:
    if issued_on is not None:
        check_date_span(issued_on, "issued_on")
        if issued_on.year != invoice.year:
            raise InvoiceError(
                Message(
                    "Invoice {number} is numbered in {year}; an issue date in {issue_year} needs a number of that "
                    "year: delete the draft and create it again with that date.",
                    number=invoice.number,
                    year=invoice.year,
                    issue_year=issued_on.year,
                )
            )
        invoice.issued_on = issued_on
    if due_on is not None:
        invoice.due_on = check_date_span(due_on, "due_on")
    if taxable_supply_on is not None:
        invoice.taxable_supply_on = check_date_span(taxable_supply_on, "taxable_supply_on")
    if invoice.due_on < invoice.issued_on:
        raise InvoiceError(
            Message(
                "The due date {due} is before the issue date {issued} of invoice {number}; give a due date on or "
                "after it.",
                due=invoice.due_on.isoformat(),
                issued=invoice.issued_on.isoformat(),
                number=invoice.number,
            )
        )


def _edit_customer(invoice: Invoice, changes: dict) -> None:
    unknown = sorted(set(changes) - set(EDITABLE_CUSTOMER_FIELDS))
    if unknown:
        raise InvoiceError(
            Message(
                "Cannot change the customer's {fields} on invoice {number}; a draft's customer can change: {editable}.",
                fields=", ".join(unknown),
                number=invoice.number,
                editable=", ".join(EDITABLE_CUSTOMER_FIELDS),
            )
        )
    customer = dict(invoice.customer or {})
    customer.update({key: (value or "").strip() for key, value in changes.items()})
    if not customer.get("name"):
        raise InvoiceError(Message("The customer of invoice {number} needs a name.", number=invoice.number))
    if invoice.reverse_charge and not customer.get("dic"):
        raise InvoiceError(
            Message(
                "Invoice {number} is a reverse-charge invoice; the customer's VAT ID cannot be left empty.",
                number=invoice.number,
            )
        )
    customer[CUSTOMER_EDITED] = True
    invoice.customer = customer


def _edit_lines(invoice: Invoice, lines: list[LineEdit]) -> None:
    if not lines:
        raise InvoiceError(
            Message("Invoice {number} needs at least one line; delete the draft instead.", number=invoice.number)
        )
    charges_vat = bool(invoice.vat_payer) and not bool(invoice.reverse_charge)
    existing = {line.id: line for line in invoice_lines(invoice)}
    kept = {edit.id for edit in lines if edit.id is not None}
    strangers = sorted(kept - set(existing))
    if strangers:
        raise InvoiceError(
            Message(
                "Line {line} is not a line of invoice {number}; reload it and edit again.",
                line=strangers[0],
                number=invoice.number,
            )
        )
    for position, edit in enumerate(lines, start=1):
        description = (edit.description or "").strip()
        if not description:
            raise InvoiceError(
                Message(
                    "Line {position} of invoice {number} needs a description.", position=position, number=invoice.number
                )
            )
        quantity, rate = Decimal(edit.quantity), Decimal(edit.vat_rate)
        if quantity <= 0:
            raise InvoiceError(
                Message(
                    "Line {position} of invoice {number}: the quantity must be above zero.",
                    position=position,
                    number=invoice.number,
                )
            )
        if edit.unit_price < 0:
            raise InvoiceError(
                Message(
                    "Line {position} of invoice {number}: the unit price cannot be negative.",
                    position=position,
                    number=invoice.number,
                )
            )
        if rate and not charges_vat:
            raise InvoiceError(
                Message(
                    "Line {position} of invoice {number} has VAT {rate} %, but this invoice charges no VAT "
                    "(not a VAT payer, or reverse charge); set the rate to 0.",
                    position=position,
                    number=invoice.number,
                    rate=rate,
                )
            )
        if rate < 0 or rate >= 100:
            raise InvoiceError(
                Message(
                    "Line {position} of invoice {number}: a VAT rate is between 0 and 100 %.",
                    position=position,
                    number=invoice.number,
                )
            )
    for line_id, row in existing.items():  # removed lines: their work is unbilled again
        if line_id not in kept:
            WorkEntry.update(invoice_line=None, billed_rate=None).where(WorkEntry.invoice_line == row).execute()
            row.delete_instance()
    for position, edit in enumerate(lines, start=1):
        row = existing[edit.id] if edit.id is not None else InvoiceLine(invoice=invoice)
        row.position = position
        row.description = edit.description.strip()
        row.quantity = Decimal(edit.quantity)
        row.unit = (edit.unit or "").strip()
        row.unit_price = int(edit.unit_price)
        row.vat_rate = Decimal(edit.vat_rate)
        row.amount = line_amount(row.quantity, row.unit_price)
        row.save()


def update_draft(
    invoice: Invoice,
    *,
    issued_on: date | None = None,
    due_on: date | None = None,
    taxable_supply_on: date | None = None,
    note: str | None = None,
    customer: dict | None = None,
    lines: list[LineEdit] | None = None,
) -> Invoice:
    """Change a draft before it is sent: dates, note, the customer's details as issued, its lines.

    Only what is given changes (None leaves it). The totals are recomputed from the lines with
    core.billing.totals; every change goes through the models, so it is audited. Anything that is
    not a draft is refused (a sent invoice is a document: cancel it and invoice again).
    """
    _require_draft(invoice)
    with db.atomic():
        invoice = Invoice.get_by_id(invoice.id)  # as stored now: another window may have sent it
        _require_draft(invoice)
        _edit_dates(invoice, issued_on, due_on, taxable_supply_on)
        if note is not None:
            invoice.note = note.strip()
        if customer:
            _edit_customer(invoice, customer)
        if lines is not None:
            _edit_lines(invoice, lines)
        totals = invoice_totals(invoice)
        invoice.subtotal, invoice.vat_total, invoice.total = totals.subtotal, totals.vat_total, totals.total
        invoice.save()
    return invoice
