"""What the client portal shows through a share link: an invoice page and a client's statement of account.

Read-only, and computed with the billing rules that already exist, never again here: what is paid and
still owed comes from ``core.billing.payments`` (``amount_paid_sql``/``amount_due_sql``),
overdue from ``core.billing.invoicing`` (``is_overdue``/``overdue_condition``), the totals from
``core.billing.totals.compute_totals``, the payment QR from ``core.billing.qr.payment_qr``.

The scope of a link is decided here too: an invoice link reaches its own invoice and nothing else, a
client link reaches that client's invoices (by number) and nothing else, and a draft is never shown.
Every lookup is by primary key or an indexed column: a page costs the same in a book of a million
entries as in a new one (``bench/portal.py``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from functools import lru_cache

from peewee import Case, fn
from stdnum import iban as stdnum_iban

from core.billing import qr
from core.billing.invoicing import is_overdue, overdue_condition
from core.billing.payments import amount_due_sql, amount_paid_sql, payment_condition
from core.billing.totals import Totals, compute_totals
from core.store.models import Client, Invoice, InvoiceLine, MoneyTransaction
from core.store.states import InvoiceStatus
from core.values import i18n

SHOWN_INVOICES = 500  # a client page lists at most this many invoices (newest first); its sums count all
SHOWN_PAYMENTS = 200  # and at most this many payments


def page_language(value: str | None) -> str:
    """The language a page is written in: the invoice's or the client's, English when unknown."""
    try:
        return i18n.normalize_language(value)
    except ValueError:
        return i18n.DEFAULT_LANGUAGE


# -- scope: what a link reaches ------------------------------------------------------------------


def _shown(query):
    return query.where(Invoice.status != InvoiceStatus.DRAFT)


def linked_invoice(link) -> Invoice | None:
    """The invoice an invoice link shows; None for a client link, a missing invoice or a draft."""
    if getattr(link, "kind", None) != "invoice" or link.invoice_id is None:
        return None
    return _shown(Invoice.select().where(Invoice.id == link.invoice_id)).first()


def linked_client(link) -> Client | None:
    """The client a client link shows; None for an invoice link or a client that is gone."""
    if getattr(link, "kind", None) != "client" or link.client_id is None:
        return None
    return Client.get_or_none(Client.id == link.client_id)


def client_invoice(link, number: str) -> Invoice | None:
    """Invoice ``number`` of the link's client (never a draft, never another client's): None otherwise."""
    if getattr(link, "kind", None) != "client" or link.client_id is None or not number or len(number) > 200:
        return None
    query = Invoice.select().where((Invoice.number == number) & (Invoice.client == link.client_id))
    return _shown(query).first()


# -- the invoice page ----------------------------------------------------------------------------


@dataclass(frozen=True)
class PageLine:
    description: str
    quantity: Decimal
    unit: str
    unit_price: int
    vat_rate: Decimal
    amount: int


@dataclass(frozen=True)
class Payment:
    on: date
    amount: int
    currency: str
    invoice_number: str = ""


@dataclass(frozen=True)
class PaymentDetails:
    """How to pay what is still owed: the supplier's account as the invoice recorded it, and the QR."""

    amount: int  # what is still owed, minor units
    due_on: date | None
    bank_account: str
    iban: str  # formatted in groups of four
    bic: str
    variable_symbol: str
    qr_kind: str | None  # "spayd" | "epc" | None
    qr_payload: str  # what the QR says ("SPD*1.0*ACC:...", the EPC lines), "" without a QR
    qr_svg: str  # an inline <svg> element (no script, no style attribute), "" without a QR


@dataclass(frozen=True)
class InvoicePage:
    number: str
    language: str
    currency: str
    status: str  # stored status, or "overdue" (core.billing.invoicing.display_status)
    overdue_days: int
    issued_on: date
    due_on: date
    taxable_supply_on: date | None
    paid_on: date | None
    supplier: dict
    customer: dict
    lines: list[PageLine]
    totals: Totals
    show_vat: bool
    vat_payer: bool
    reverse_charge: bool
    note: str
    paid: int
    due: int
    payments: list[Payment]
    payment: PaymentDetails | None  # None when nothing is owed (paid, cancelled)


def invoice_page(invoice: Invoice, today: date | None = None) -> InvoicePage:
    """Everything the invoice page shows, in minor units and dates (the face formats them)."""
    today = today or date.today()
    rows = list(
        InvoiceLine.select().where(InvoiceLine.invoice == invoice.id).order_by(InvoiceLine.position, InvoiceLine.id)
    )
    lines = [
        PageLine(
            row.description,
            Decimal(str(row.quantity)),
            row.unit,
            row.unit_price,
            Decimal(str(row.vat_rate)),
            row.amount,
        )
        for row in rows
    ]
    totals = compute_totals(
        [(line.amount, line.vat_rate) for line in lines],
        vat_payer=bool(invoice.vat_payer),
        reverse_charge=bool(invoice.reverse_charge),
    )
    # amount_paid and amount_due in one statement (their SQL forms): one round trip, the same rule
    paid, due = Invoice.select(amount_paid_sql(), amount_due_sql()).where(Invoice.id == invoice.id).tuples().get()
    overdue = is_overdue(invoice, today)
    return InvoicePage(
        number=str(invoice.number),
        language=page_language(invoice.language),
        currency=(invoice.currency or "").upper(),
        status="overdue" if overdue else str(invoice.status),
        overdue_days=(today - invoice.due_on).days if overdue else 0,
        issued_on=invoice.issued_on,
        due_on=invoice.due_on,
        taxable_supply_on=invoice.taxable_supply_on or (invoice.issued_on if invoice.vat_payer else None),
        paid_on=invoice.paid_on,
        supplier=dict(invoice.supplier or {}),
        customer=dict(invoice.customer or {}),
        lines=lines,
        totals=totals,
        show_vat=bool(invoice.vat_payer) and not bool(invoice.reverse_charge),
        vat_payer=bool(invoice.vat_payer),
        reverse_charge=bool(invoice.reverse_charge),
        note=invoice.note or "",
        paid=paid,
        due=due,
        payments=_payments(MoneyTransaction.invoice == invoice.id),
        payment=payment_details(invoice, due),
    )


def payment_details(invoice: Invoice, due: int) -> PaymentDetails | None:
    """How to pay ``due`` (what is still owed) of the invoice; None when nothing is owed.

    The QR is the one ``core.billing.qr.payment_qr`` chooses for the invoice (SPAYD for CZK, EPC for
    EUR, none otherwise), for the amount still owed rather than the total: a client who paid part pays
    the rest. A QR that cannot be made (an IBAN that is not valid) is left out, the details stay.
    """
    if due <= 0 or invoice.status not in (InvoiceStatus.SENT, InvoiceStatus.DRAFT):
        return None
    supplier = invoice.supplier or {}
    owed = Invoice(**{**invoice.__data__, "total": due})  # never saved: the QR's amount is what is owed
    try:
        code = qr.payment_qr(owed)
    except qr.QrError:
        code = None
    iban = (supplier.get("iban") or "").strip()
    try:
        iban_shown = stdnum_iban.format(iban) if iban else ""
    except Exception:  # noqa: BLE001 - shown as stored when it does not read as an IBAN
        iban_shown = iban
    return PaymentDetails(
        amount=due,
        due_on=invoice.due_on,
        bank_account=(supplier.get("bank_account") or "").strip(),
        iban=iban_shown,
        bic=(supplier.get("bic") or "").strip(),
        variable_symbol=(invoice.variable_symbol or "").strip(),
        qr_kind=code[0] if code else None,
        qr_payload=code[1] if code else "",
        qr_svg=qr_svg(*code, title=_qr_title(code[0], page_language(invoice.language))) if code else "",
    )


def _qr_title(kind: str, lang: str) -> str:
    return i18n.gettext(lang, "QR Platba") if kind == qr.SPAYD else i18n.gettext(lang, "Pay by QR code")


@lru_cache(maxsize=1024)
def qr_svg(kind: str, payload: str, *, title: str = "") -> str:
    """The payment QR as an inline SVG element: dark modules on white with the quiet zone, sized by CSS
    (a viewBox, no width or height), no script and no style attribute (the portal's CSP allows neither).

    Cached by payload: making the symbol is most of an invoice page's cost (about 5 ms), and the payload
    changes only when what is owed does."""
    return qr.qr_code(kind, payload).svg_inline(
        scale=1, border=4, omitsize=True, dark="#000", light="#fff", title=title or None, svgclass="qr"
    )


def _payments(condition, limit: int | None = None) -> list[Payment]:
    query = (
        MoneyTransaction.select(
            MoneyTransaction.transacted_on, MoneyTransaction.amount, MoneyTransaction.currency, Invoice.number
        )
        .join(Invoice, on=(MoneyTransaction.invoice == Invoice.id))
        .where(condition & payment_condition())
        .order_by(MoneyTransaction.transacted_on.desc(), MoneyTransaction.id.desc())
    )
    if limit is not None:
        query = query.limit(limit)
    return [
        Payment(on, amount, (currency or "").upper(), str(number)) for on, amount, currency, number in query.tuples()
    ]


# -- the client page: their invoices and a statement of account ----------------------------------


@dataclass(frozen=True)
class InvoiceRow:
    number: str
    issued_on: date
    due_on: date
    currency: str
    total: int
    paid: int
    due: int
    status: str  # stored status or "overdue"
    overdue_days: int


@dataclass
class Balance:
    """The statement of account in one currency: what was invoiced (sent or paid, not cancelled), what was
    paid against it, what is still owed and how much of that is overdue."""

    currency: str
    invoiced: int = 0
    paid: int = 0
    due: int = 0
    overdue: int = 0
    count: int = 0


@dataclass(frozen=True)
class ClientPage:
    name: str
    language: str
    invoices: list[InvoiceRow]
    invoice_count: int  # all shown-able invoices (the list may be cut at SHOWN_INVOICES)
    balances: list[Balance]
    payments: list[Payment]
    today: date = field(default_factory=date.today)


def client_page(client: Client, today: date | None = None) -> ClientPage:
    today = today or date.today()
    overdue = overdue_condition(today)
    rows = (
        Invoice.select(
            Invoice.number,
            Invoice.issued_on,
            Invoice.due_on,
            Invoice.currency,
            Invoice.total,
            Invoice.status,
            amount_paid_sql().alias("paid"),
            amount_due_sql().alias("due"),
            Case(None, [(overdue, 1)], 0).alias("late"),
        )
        .where((Invoice.client == client.id) & (Invoice.status != InvoiceStatus.DRAFT))
        .order_by(Invoice.issued_on.desc(), Invoice.seq.desc())
        .limit(SHOWN_INVOICES)
        .dicts()
    )
    invoices = []
    for row in rows:
        late = bool(row["late"])
        invoices.append(
            InvoiceRow(
                number=str(row["number"]),
                issued_on=row["issued_on"],
                due_on=row["due_on"],
                currency=(row["currency"] or "").upper(),
                total=row["total"],
                paid=row["paid"],
                due=row["due"],
                status="overdue" if late else str(row["status"]),
                overdue_days=(today - row["due_on"]).days if late else 0,
            )
        )
    counted = (Invoice.client == client.id) & Invoice.status.in_((InvoiceStatus.SENT, InvoiceStatus.PAID))
    due = amount_due_sql()
    sums = (
        Invoice.select(
            Invoice.currency,
            fn.COUNT(Invoice.id),
            fn.SUM(Invoice.total),
            fn.SUM(amount_paid_sql()),
            fn.SUM(due),
            fn.SUM(Case(None, [(overdue, due)], 0)),
        )
        .where(counted)
        .group_by(Invoice.currency)
        .order_by(Invoice.currency)
        .tuples()
    )
    balances = [
        Balance((cur or "").upper(), invoiced or 0, paid or 0, owed or 0, late or 0, count)
        for cur, count, invoiced, paid, owed, late in sums
    ]
    count = (
        Invoice.select(fn.COUNT(Invoice.id))
        .where((Invoice.client == client.id) & (Invoice.status != InvoiceStatus.DRAFT))
        .scalar()
    )
    return ClientPage(
        name=client.name,
        language=page_language(client.language),
        invoices=invoices,
        invoice_count=count,
        balances=balances,
        payments=_payments(Invoice.client == client.id, SHOWN_PAYMENTS),
        today=today,
    )
