"""Invoices from unbilled work: numbering, lines, totals; finding and listing them.

Rules decided here (and only here):
- Numbers come from the profile's pattern with a yearly sequence, assigned
  inside an IMMEDIATE transaction, so two processes never get the same one.
- A line shows hours to two decimals and its amount is that quantity times
  the unit price, so every figure on the invoice can be recomputed from what
  it shows. Its hours are the sum of its entries' hours, each rounded to two
  decimals as the Time screen values it (core.billing.totals.hours_quantity),
  so the invoice bills what Time calls unbilled. Totals come from
  core.billing.totals.
- Overdue is derived: sent, not paid, due date passed.

Editing a draft is core.billing.drafts; sending, paying, cancelling and
deleting one is core.billing.invoice_status.
"""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

from peewee import fn

from core.billing.clients import reverse_charge_refusal
from core.billing.payments import amount_due_sql
from core.billing.profile import format_number, get_profile, is_set_up, quoted, supplier_snapshot, variable_symbol
from core.billing.timesheet import resolve_rate, unbilled_entries
from core.billing.totals import Totals, compute_totals, hours_quantity, line_amount
from core.errors import FakturkaError
from core.store import paths
from core.store.db import db
from core.store.models import Client, Invoice, InvoiceLine, MoneyTransaction, Project, WorkEntry
from core.store.states import InvoiceStatus
from core.values.limits import check_date_span
from core.values.messages import Message

EU_COUNTRIES = frozenset("AT BE BG CY CZ DE DK EE ES FI FR GR HR HU IE IT LT LU LV MT NL PL PT RO SE SI SK".split())


class InvoiceError(FakturkaError):
    """An invoice action that is refused; the message says why."""


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
                Message(
                    "There is no hourly rate for {client} / {project}: set one on the client or the project (the "
                    "profile's rate is in {profile_currency}, the client pays in {client_currency}).",
                    client=client.name,
                    project=entry.project.name,
                    profile_currency=profile.default_currency,
                    client_currency=client.currency,
                )
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
            Message(
                "Set up your business profile first (name, address, bank account): "
                "'fakturka profile edit' or Settings in the app."
            )
        )


def _draft_or_refuse(client: Client, until: date | None, since: date | None, per_entry: bool) -> InvoiceDraft:
    draft = preview_invoice(client, until=until, since=since, per_entry=per_entry)
    if not draft.lines:
        if until:
            raise InvoiceError(
                Message(
                    "{client} has no unbilled billable entries up to {until}.",
                    client=client.name,
                    until=until.isoformat(),
                )
            )
        raise InvoiceError(Message("{client} has no unbilled billable entries.", client=client.name))
    if draft.reverse_charge:  # the preview still shows; no invoice is made on an invalid VAT ID
        refusal = reverse_charge_refusal(client, draft.vat_payer)
        if refusal:
            raise InvoiceError(refusal)
    return draft


def _free_number(year: int) -> tuple[int, str]:
    seq, number = next_number(year)
    if Invoice.select().where(Invoice.number == number).exists():
        raise InvoiceError(
            Message(
                "Invoice number {number} is already used; change the number pattern in your profile.", number=number
            )
        )
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


# -- lookups -------------------------------------------------------------------------


def find_invoice(number: str) -> Invoice:
    invoice = Invoice.get_or_none(Invoice.number == str(number).strip())
    if invoice is None:
        raise InvoiceError(Message("There is no invoice {number}; see 'fakturka invoice list'.", number=quoted(number)))
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
                Message(
                    "Unknown status {status}; use one of draft, sent, paid, cancelled, overdue, open.",
                    status=quoted(status),
                )
            )
        query = query.where(Invoice.status == status)
    return query
