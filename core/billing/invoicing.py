"""Invoices from unbilled work: numbering, lines, totals, status changes.

Rules decided here (and only here):
- Numbers come from the profile's pattern with a yearly sequence, assigned
  inside an IMMEDIATE transaction, so two processes never get the same one.
- The series stays continuous: only the newest draft of a year can be
  deleted (its number is then reused); any other invoice is cancelled
  instead, keeping its number. Deleting or cancelling releases its entries.
- A line shows hours to two decimals and its amount is that quantity times
  the unit price, so every figure on the invoice can be recomputed from what
  it shows. Its hours are the sum of its entries' hours, each rounded to two
  decimals as the Time screen values it (core.billing.totals.hours_quantity),
  so the invoice bills what Time calls unbilled. Totals come from
  core.billing.totals.
- Overdue is derived: sent, not paid, due date passed.
- A draft is not a document yet: it can be edited (``update_draft``) but not
  paid, and no payment can be linked to it; sending it makes it final.
- Cancelling an invoice with payments linked unlinks them (back to "needs
  review", so they can be linked elsewhere) only when the caller says so;
  otherwise ``InvoiceHasPayments`` says how much and how many movements.
"""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

from peewee import fn

from core.billing.clients import reverse_charge_refusal
from core.billing.payments import (
    amount_due_sql,
)
from core.billing.profile import format_number, get_profile, is_set_up, quoted, supplier_snapshot, variable_symbol
from core.billing.timesheet import resolve_rate, unbilled_entries
from core.billing.totals import Totals, compute_totals, hours_quantity, line_amount
from core.errors import FakturkaError
from core.store import paths
from core.store.db import db
from core.store.models import Client, Invoice, InvoiceLine, MoneyTransaction, Project, WorkEntry
from core.store.states import InvoiceStatus, MatchStatus
from core.values.limits import check_date_span
from core.values.money import from_minor

EU_COUNTRIES = frozenset("AT BE BG CY CZ DE DK EE ES FI FR GR HR HU IE IT LT LU LV MT NL PL PT RO SE SI SK".split())


class InvoiceError(FakturkaError):
    """An invoice action that is refused; the message says why."""


class InvoiceHasPayments(InvoiceError):
    """Cancelling would leave payments linked to an invoice that is owed nothing: the caller confirms
    with ``cancel_invoice(..., unlink_payments=True)``. Carries what a question to the person needs."""

    def __init__(self, invoice: Invoice, paid: int, movements: list[MoneyTransaction]):
        self.invoice = invoice
        self.paid = paid  # income linked to it, in minor units of invoice.currency
        self.movements = movements
        count = len(movements)
        super().__init__(
            f"Invoice {invoice.number} has {from_minor(paid, invoice.currency)} {invoice.currency} paid in "
            f"{count} bank movement{'s' if count != 1 else ''}; cancelling it unlinks "
            f"{'them' if count != 1 else 'it'} (back to 'review', to link elsewhere): confirm to go on."
        )


@dataclass
class LineDraft:
    description: str
    quantity: Decimal
    unit: str
    unit_price: int
    vat_rate: Decimal
    amount: int
    project: Project | None
    entries: list[WorkEntry] = field(default_factory=list)


@dataclass
class InvoiceDraft:
    client: Client
    currency: str
    lines: list[LineDraft]
    totals: Totals
    vat_payer: bool
    reverse_charge: bool

    @property
    def entry_count(self) -> int:
        return sum(len(line.entries) for line in self.lines)


def is_reverse_charge(client: Client, vat_payer: bool) -> bool:
    """EU B2B services: a VAT-registered customer in another EU country pays the VAT."""
    return bool(vat_payer and client.dic and client.country != "CZ" and client.country in EU_COUNTRIES)


def charges_czech_vat(client: Client, vat_payer: bool) -> bool:
    """Whether a line for this client carries Czech VAT.

    Not for a non-payer, not under reverse charge, and not for a customer
    outside the EU (services supplied abroad are outside the Czech VAT's
    scope for business customers; see docs/architecture.md).
    """
    if not vat_payer or is_reverse_charge(client, vat_payer):
        return False
    return client.country == "CZ" or client.country in EU_COUNTRIES


def _vat_rate(project: Project, profile, charged: bool) -> Decimal:
    if not charged:
        return Decimal(0)
    return Decimal(project.vat_rate if project.vat_rate is not None else profile.default_vat_rate)


def build_lines(entries: list[WorkEntry], *, per_entry: bool = False, language: str = "cs") -> list[LineDraft]:
    """Group entries into invoice lines: per project and rate, or one line per entry.

    Raises InvoiceError when a time entry has no hourly rate to bill at.
    """
    profile = get_profile()
    unit_time = "h"
    unit_piece = "ks" if language == "cs" else "pcs"
    groups: OrderedDict[tuple, list[WorkEntry]] = OrderedDict()
    for entry in entries:
        if entry.kind == "time" and resolve_rate(entry, profile) is None:
            client = entry.project.client
            raise InvoiceError(
                f"There is no hourly rate for {client.name} / {entry.project.name}: set one on the client or "
                f"the project (the profile's rate is in {profile.default_currency}, the client pays in "
                f"{client.currency})."
            )
        if entry.kind == "fixed" or per_entry:
            key = ("entry", entry.id)
        else:
            key = ("project", entry.project_id, resolve_rate(entry, profile))
        groups.setdefault(key, []).append(entry)
    lines = []
    for key, members in groups.items():
        first = members[0]
        project = first.project
        vat = _vat_rate(project, profile, charges_czech_vat(project.client, profile.vat_payer))
        if first.kind == "fixed":
            description = first.description or project.name
            lines.append(
                LineDraft(
                    description, Decimal(1), unit_piece, first.fixed_amount, vat, first.fixed_amount, project, members
                )
            )
            continue
        # Each entry rounded, then summed (not the minutes summed, then rounded): one rule for a
        # line of one entry and a line of many, and the one entry_amount values each entry by.
        quantity = sum((hours_quantity(e.minutes) for e in members), Decimal(0))
        rate = resolve_rate(first, profile)
        if key[0] == "entry":
            description = f"{first.date.isoformat()} {first.description or project.name}".strip()
        else:
            description = project.name
        lines.append(
            LineDraft(description, quantity, unit_time, rate, vat, line_amount(quantity, rate), project, members)
        )
    return lines


def preview_invoice(
    client: Client, *, until: date | None = None, since: date | None = None, per_entry: bool = False
) -> InvoiceDraft:
    """What ``create_invoice`` would make, without writing anything."""
    profile = get_profile()
    entries = list(unbilled_entries(client, until=until, since=since))
    lines = build_lines(entries, per_entry=per_entry, language=client.language)
    reverse = is_reverse_charge(client, profile.vat_payer)
    totals = compute_totals(
        [(line.amount, line.vat_rate) for line in lines], vat_payer=profile.vat_payer, reverse_charge=reverse
    )
    return InvoiceDraft(client, client.currency, lines, totals, bool(profile.vat_payer), reverse)


def customer_snapshot(client: Client) -> dict:
    return {
        "name": client.name,
        "address": client.address,
        "country": client.country,
        "ico": client.ico,
        "dic": client.dic,
        "email": client.email,
    }


def next_number(year: int) -> tuple[int, str]:
    """The next (seq, number) of ``year``; call inside the write transaction."""
    last = Invoice.select(fn.MAX(Invoice.seq)).where(Invoice.year == year).scalar() or 0
    seq = last + 1
    return seq, format_number(get_profile().invoice_number_pattern, year, seq)


def _require_profile() -> None:
    if not is_set_up():
        raise InvoiceError(
            "Set up your business profile first (name, address, bank account): "
            "'fakturka profile edit' or Settings in the app."
        )


def _draft_or_refuse(client: Client, until: date | None, since: date | None, per_entry: bool) -> InvoiceDraft:
    draft = preview_invoice(client, until=until, since=since, per_entry=per_entry)
    if not draft.lines:
        limit = f" up to {until.isoformat()}" if until else ""
        raise InvoiceError(f"{client.name} has no unbilled billable entries{limit}.")
    if draft.reverse_charge:  # the preview still shows; no invoice is made on an invalid VAT ID
        refusal = reverse_charge_refusal(client, draft.vat_payer)
        if refusal:
            raise InvoiceError(refusal)
    return draft


def _free_number(year: int) -> tuple[int, str]:
    seq, number = next_number(year)
    if Invoice.select().where(Invoice.number == number).exists():
        raise InvoiceError(f"Invoice number {number} is already used; change the number pattern in your profile.")
    return seq, number


def _insert_invoice(client: Client, draft: InvoiceDraft, issued_on: date, until: date | None) -> Invoice:
    """The invoice row: next free number, dates from the terms, totals and both parties as they are now."""
    profile = get_profile()
    terms = client.payment_terms_days if client.payment_terms_days is not None else profile.payment_terms_days
    seq, number = _free_number(issued_on.year)
    return Invoice.create(
        number=number,
        year=issued_on.year,
        seq=seq,
        client=client,
        status=InvoiceStatus.DRAFT,
        currency=client.currency,
        language=client.language,
        issued_on=issued_on,
        due_on=issued_on + timedelta(days=terms),
        taxable_supply_on=min(issued_on, until) if until else issued_on,
        variable_symbol=variable_symbol(number),
        vat_payer=draft.vat_payer,
        reverse_charge=draft.reverse_charge,
        subtotal=draft.totals.subtotal,
        vat_total=draft.totals.vat_total,
        total=draft.totals.total,
        supplier=supplier_snapshot(profile),
        customer=customer_snapshot(client),
    )


def _insert_lines(invoice: Invoice, lines: list[LineDraft]) -> None:
    """The invoice's lines; their entries get locked to them (billed at the rate of today)."""
    for position, line in enumerate(lines, start=1):
        row = InvoiceLine.create(
            invoice=invoice,
            position=position,
            description=line.description,
            quantity=line.quantity,
            unit=line.unit,
            unit_price=line.unit_price,
            vat_rate=line.vat_rate,
            amount=line.amount,
            project=line.project,
        )
        for entry in line.entries:
            entry.invoice_line = row
            if entry.kind == "time":
                entry.billed_rate = resolve_rate(entry)  # frozen: later rate changes don't touch it
            entry.save()


def create_invoice(
    client: Client,
    *,
    until: date | None = None,
    since: date | None = None,
    per_entry: bool = False,
    issued_on: date | None = None,
) -> Invoice:
    """Turn the client's unbilled billable entries into a draft invoice; entries get locked."""
    _require_profile()
    issued_on = check_date_span(issued_on or date.today(), "issued_on")
    with db.atomic():
        draft = _draft_or_refuse(client, until, since, per_entry)
        invoice = _insert_invoice(client, draft, issued_on, until)
        _insert_lines(invoice, draft.lines)
    return invoice


def invoice_totals(invoice: Invoice) -> Totals:
    """The per-rate summary of a stored invoice, recomputed from its lines."""
    lines = InvoiceLine.select(InvoiceLine.amount, InvoiceLine.vat_rate).where(InvoiceLine.invoice == invoice)
    return compute_totals(
        [(ln.amount, ln.vat_rate) for ln in lines], vat_payer=invoice.vat_payer, reverse_charge=invoice.reverse_charge
    )


def invoice_lines(invoice: Invoice) -> list[InvoiceLine]:
    return list(InvoiceLine.select().where(InvoiceLine.invoice == invoice).order_by(InvoiceLine.position))


def overdue_condition(today: date | None = None):
    return (Invoice.status == InvoiceStatus.SENT) & (Invoice.due_on < (today or date.today()))


def is_overdue(invoice: Invoice, today: date | None = None) -> bool:
    return invoice.status == InvoiceStatus.SENT and invoice.due_on < (today or date.today())


def display_status(invoice: Invoice, today: date | None = None) -> str:
    return "overdue" if is_overdue(invoice, today) else invoice.status


def _release_entries(invoice: Invoice) -> None:
    line_ids = [line.id for line in InvoiceLine.select(InvoiceLine.id).where(InvoiceLine.invoice == invoice)]
    if line_ids:
        WorkEntry.update(invoice_line=None, billed_rate=None).where(WorkEntry.invoice_line.in_(line_ids)).execute()


def mark_sent(invoice: Invoice, on: date | None = None) -> Invoice:
    if invoice.status != InvoiceStatus.DRAFT:
        raise InvoiceError(f"Invoice {invoice.number} is {invoice.status}; only a draft can be sent.")
    if on is not None:
        check_date_span(on, "sent_on")
    if on is not None and on < invoice.issued_on:
        raise InvoiceError(
            f"Invoice {invoice.number} is issued on {invoice.issued_on.isoformat()}; "
            f"it cannot be sent before that ({on.isoformat()})."
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
            f"Invoice {invoice.number} is a draft; send it first ('fakturka invoice send {invoice.number}'), "
            "then mark it paid."
        )
    if invoice.status != InvoiceStatus.SENT:
        raise InvoiceError(f"Invoice {invoice.number} is {invoice.status}; it cannot be marked paid.")
    if on is not None:
        check_date_span(on, "paid_on")
    if on is not None and on > date.today():
        raise InvoiceError(
            f"{on.isoformat()} is in the future; mark invoice {invoice.number} paid on the day the money arrived."
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
        raise InvoiceError(f"Invoice {invoice.number} is already cancelled.")
    if invoice.status == InvoiceStatus.PAID:
        raise InvoiceError(f"Invoice {invoice.number} is paid; a paid invoice cannot be cancelled.")
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
            f"Invoice {invoice.number} is {invoice.status}; only drafts can be deleted (cancel it instead)."
        )
    with db.atomic():
        newest = Invoice.select(fn.MAX(Invoice.seq)).where(Invoice.year == invoice.year).scalar()
        if invoice.seq != newest:
            raise InvoiceError(
                f"Invoice {invoice.number} is not the newest of {invoice.year}; deleting it would leave a gap "
                "in the number series. Cancel it instead."
            )
        _release_entries(invoice)
        InvoiceLine.delete().where(InvoiceLine.invoice == invoice).execute()
        invoice.delete_instance()


# -- editing a draft -----------------------------------------------------------------

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
            f"Invoice {invoice.number} is {invoice.status}; only a draft can be edited (cancel it and "
            "invoice again instead)."
        )


def _edit_dates(invoice: Invoice, issued_on, due_on, taxable_supply_on) -> None:
    if issued_on is not None:
        check_date_span(issued_on, "issued_on")
        if issued_on.year != invoice.year:
            raise InvoiceError(
                f"Invoice {invoice.number} is numbered in {invoice.year}; an issue date in {issued_on.year} "
                "needs a number of that year: delete the draft and create it again with that date."
            )
        invoice.issued_on = issued_on
    if due_on is not None:
        invoice.due_on = check_date_span(due_on, "due_on")
    if taxable_supply_on is not None:
        invoice.taxable_supply_on = check_date_span(taxable_supply_on, "taxable_supply_on")
    if invoice.due_on < invoice.issued_on:
        raise InvoiceError(
            f"The due date {invoice.due_on.isoformat()} is before the issue date {invoice.issued_on.isoformat()} "
            f"of invoice {invoice.number}; give a due date on or after it."
        )


def _edit_customer(invoice: Invoice, changes: dict) -> None:
    unknown = sorted(set(changes) - set(EDITABLE_CUSTOMER_FIELDS))
    if unknown:
        raise InvoiceError(
            f"Cannot change the customer's {', '.join(unknown)} on invoice {invoice.number}; "
            f"a draft's customer can change: {', '.join(EDITABLE_CUSTOMER_FIELDS)}."
        )
    customer = dict(invoice.customer or {})
    customer.update({key: (value or "").strip() for key, value in changes.items()})
    if not customer.get("name"):
        raise InvoiceError(f"The customer of invoice {invoice.number} needs a name.")
    if invoice.reverse_charge and not customer.get("dic"):
        raise InvoiceError(
            f"Invoice {invoice.number} is a reverse-charge invoice; the customer's VAT ID cannot be left empty."
        )
    customer[CUSTOMER_EDITED] = True
    invoice.customer = customer


def _edit_lines(invoice: Invoice, lines: list[LineEdit]) -> None:
    if not lines:
        raise InvoiceError(f"Invoice {invoice.number} needs at least one line; delete the draft instead.")
    charges_vat = bool(invoice.vat_payer) and not bool(invoice.reverse_charge)
    existing = {line.id: line for line in invoice_lines(invoice)}
    kept = {edit.id for edit in lines if edit.id is not None}
    strangers = sorted(kept - set(existing))
    if strangers:
        raise InvoiceError(f"Line {strangers[0]} is not a line of invoice {invoice.number}; reload it and edit again.")
    for position, edit in enumerate(lines, start=1):
        description = (edit.description or "").strip()
        if not description:
            raise InvoiceError(f"Line {position} of invoice {invoice.number} needs a description.")
        quantity, rate = Decimal(edit.quantity), Decimal(edit.vat_rate)
        if quantity <= 0:
            raise InvoiceError(f"Line {position} of invoice {invoice.number}: the quantity must be above zero.")
        if edit.unit_price < 0:
            raise InvoiceError(f"Line {position} of invoice {invoice.number}: the unit price cannot be negative.")
        if rate and not charges_vat:
            raise InvoiceError(
                f"Line {position} of invoice {invoice.number} has VAT {rate} %, but this invoice charges no VAT "
                "(not a VAT payer, or reverse charge); set the rate to 0."
            )
        if rate < 0 or rate >= 100:
            raise InvoiceError(f"Line {position} of invoice {invoice.number}: a VAT rate is between 0 and 100 %.")
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


# -- lookups -------------------------------------------------------------------------


def find_invoice(number: str) -> Invoice:
    invoice = Invoice.get_or_none(Invoice.number == str(number).strip())
    if invoice is None:
        raise InvoiceError(f"There is no invoice {quoted(number)}; see 'fakturka invoice list'.")
    return invoice


def get_invoice(invoice_id: int) -> Invoice | None:
    """The invoice with this id (with its client), or None when it is gone."""
    return Invoice.select(Invoice, Client).join(Client).where(Invoice.id == invoice_id).first()


def get_invoices(invoice_ids: list[int]) -> list[Invoice]:
    """These invoices (with their clients), in the order given; ids that are gone are left out."""
    found = {}
    for start in range(0, len(invoice_ids), 900):  # stay under SQLite's bound-parameter limit
        chunk = invoice_ids[start : start + 900]
        found.update((inv.id, inv) for inv in Invoice.select(Invoice, Client).join(Client).where(Invoice.id.in_(chunk)))
    return [found[i] for i in invoice_ids if i in found]


def invoice_payments(invoice: Invoice) -> list[MoneyTransaction]:
    """The transactions linked to the invoice, oldest first."""
    return list(
        MoneyTransaction.select()
        .where(MoneyTransaction.invoice == invoice)
        .order_by(MoneyTransaction.transacted_on, MoneyTransaction.id)
    )


def invoice_ids(status: str | None = None, today: date | None = None) -> list[int]:
    """The ids of ``invoices_query(status)``, in its order."""
    return [row[0] for row in invoices_query(status, today).select(Invoice.id).tuples()]


def exports_dir() -> Path:
    """Where PDFs of invoices go unless the person says otherwise."""
    return paths.exports_dir()


def export_pdfs(invoice_ids: list[int], out_dir: Path, progress=None) -> list[Path]:
    """Render these invoices to PDFs in ``out_dir`` (callable from a worker thread: own connection)."""
    from core.billing import pdf  # local: pdf reads invoices through this module

    with db.connection_context():
        return pdf.export_invoices(get_invoices(invoice_ids), out_dir, progress=progress)


def invoices_query(status: str | None = None, today: date | None = None):
    """Invoices newest first, each with its client and ``still_due`` (``amount_due``, computed in the
    same query); ``status`` may also be "overdue" or "open" (sent, unpaid)."""
    query = (
        Invoice.select(Invoice, Client, amount_due_sql().alias("still_due"))
        .join(Client)
        .order_by(Invoice.issued_on.desc(), Invoice.seq.desc())
    )
    if status == "overdue":
        query = query.where(overdue_condition(today))
    elif status == "open":
        query = query.where(Invoice.status == InvoiceStatus.SENT)
    elif status:
        if status not in Invoice.STATUSES:
            raise InvoiceError(
                f"Unknown status {quoted(status)}; use one of draft, sent, paid, cancelled, overdue, open."
            )
        query = query.where(Invoice.status == status)
    return query
