"""Payment matching: incoming bank transactions -> the invoices they pay.

The rules (Czech practice, DESIGN.md):
- variable symbol equal to the invoice's, compared as integers (banks drop
  leading zeros), same currency:
  - amount equal to what is still owed -> paid (paid date = transaction date);
  - smaller -> partial payment, what is owed goes down;
  - larger -> paid, and the transaction is flagged as an overpayment;
- no VS (or no invoice with it): the invoice number found in the message;
- two or more candidates, or a VS match in another currency -> left for
  review, with the candidates and the evidence listed;
- the person can link, unlink, or mark a transaction "not an invoice payment".

It is a hash join: open invoices are loaded once into dicts keyed by VS and
by number, so the cost grows with the number of transactions, not with
transactions x invoices. Writes go through an audited bulk update, under
whatever audit source is current (the plugin's inside a sync, "manual" from
the CLI or the TUI).
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date

from peewee import fn

from core.bulk import audited_bulk_update
from core.db import db
from core.invoicing import amount_paid, settle_payment_status
from core.models import Invoice, MoneyTransaction
from core.money import from_minor

OPEN_STATUSES = ("sent",)
_TOKEN = re.compile(r"[A-Za-z0-9][A-Za-z0-9/\-_.]*[A-Za-z0-9]|[0-9]")


class MatchError(Exception):
    """A manual link/unlink/ignore that is refused; the message says why."""


def vs_key(text: str | None) -> int | None:
    """A variable symbol as an integer (digits only, at most 10), or None."""
    digits = "".join(ch for ch in (text or "") if ch.isdigit())
    if not digits or len(digits.lstrip("0")) > 10:
        return None
    return int(digits)


@dataclass
class Matched:
    transaction_id: int
    invoice_number: str
    kind: str  # paid | partial | overpaid
    owed_after: int
    currency: str


@dataclass
class Review:
    transaction_id: int
    reason: str
    candidates: list[str]


@dataclass
class MatchReport:
    matched: list[Matched] = field(default_factory=list)
    review: list[Review] = field(default_factory=list)
    paid_invoices: list[str] = field(default_factory=list)

    def lines(self) -> list[str]:
        out = []
        for m in self.matched:
            what = {"paid": "paid in full", "partial": "partly paid",
                    "overpaid": "paid, overpaid"}[m.kind]
            out.append(f"Transaction {m.transaction_id} -> invoice {m.invoice_number}: {what}"
                       + (f" (still owed {from_minor(m.owed_after, m.currency)} {m.currency})"
                          if m.kind == "partial" else ""))
        for r in self.review:
            out.append(f"Transaction {r.transaction_id} needs review: {r.reason}"
                       + (f" (candidates: {', '.join(r.candidates)})" if r.candidates else ""))
        return out


class _OpenInvoices:
    """Open invoices indexed for the join, with what each still owes (kept current during a batch)."""

    def __init__(self):
        invoices = list(Invoice.select().where(Invoice.status.in_(OPEN_STATUSES)))
        paid = dict(MoneyTransaction.select(MoneyTransaction.invoice, fn.SUM(MoneyTransaction.amount))
                    .join(Invoice).where(Invoice.status.in_(OPEN_STATUSES)
                                         & (MoneyTransaction.transaction_type == "income"))
                    .group_by(MoneyTransaction.invoice).tuples())
        self.by_id = {inv.id: inv for inv in invoices}
        self.owed = {inv.id: max(0, inv.total - (paid.get(inv.id) or 0)) for inv in invoices}
        self.by_vs: dict[int, list[Invoice]] = {}
        self.by_number: dict[str, Invoice] = {}
        for inv in invoices:
            key = vs_key(inv.variable_symbol)
            if key is not None:
                self.by_vs.setdefault(key, []).append(inv)
            self.by_number[inv.number.casefold()] = inv

    def candidates(self, tx: MoneyTransaction) -> tuple[list[Invoice], str]:
        key = vs_key(tx.reference)
        if key is not None and key in self.by_vs:
            return list(self.by_vs[key]), "variable symbol"
        found = []
        for token in _TOKEN.findall(tx.description or ""):
            inv = self.by_number.get(token.casefold())
            if inv is not None and inv not in found:
                found.append(inv)
        return found, "invoice number in the message"


def _evidence(tx: MoneyTransaction, inv: Invoice, how: str) -> dict:
    return {"invoice": inv.number, "by": how, "vs": tx.reference, "amount": tx.amount,
            "currency": tx.currency, "message": (tx.description or "")[:140]}


def match_transactions(transaction_ids: list[int] | None = None) -> MatchReport:
    """Match unmatched incoming transactions (all, or the given ones) to open invoices."""
    report = MatchReport()
    with db.atomic():
        query = (MoneyTransaction.select()
                 .where((MoneyTransaction.match_status == "unmatched")
                        & (MoneyTransaction.transaction_type == "income")
                        & MoneyTransaction.invoice.is_null(True))
                 .order_by(MoneyTransaction.transacted_on, MoneyTransaction.id))
        if transaction_ids is not None:
            if not transaction_ids:
                return report
            query = query.where(MoneyTransaction.id.in_(transaction_ids))
        transactions = list(query)
        if not transactions:
            return report
        index = _OpenInvoices()
        before: dict[int, dict] = {}
        linked: dict[int, dict] = {}
        reviewed: dict[int, dict] = {}
        touched: set[int] = set()
        for tx in transactions:
            candidates, how = index.candidates(tx)
            if not candidates:
                continue
            same_currency = [i for i in candidates if i.currency == tx.currency]
            snapshot = {f: getattr(tx, f) for f in ("invoice", "match_status", "match_note")}
            snapshot["invoice"] = tx.invoice_id
            if len(same_currency) != 1:
                reason = ("the variable symbol matches an invoice in another currency" if not same_currency
                          else f"{len(same_currency)} invoices match by {how}")
                note = {"reason": reason, "candidates": [_evidence(tx, i, how) for i in candidates]}
                before[tx.id] = snapshot
                reviewed[tx.id] = {"match_status": "review", "match_note": note}
                report.review.append(Review(tx.id, reason, [i.number for i in candidates]))
                continue
            inv = same_currency[0]
            owed = index.owed[inv.id]
            if tx.amount == owed:
                kind = "paid"
            elif tx.amount < owed:
                kind = "partial"
            else:
                kind = "overpaid"
            index.owed[inv.id] = max(0, owed - tx.amount)
            note = {**_evidence(tx, inv, how), "result": kind, "owed_before": owed}
            before[tx.id] = snapshot
            linked[tx.id] = {"invoice": inv.id, "match_status": "matched", "match_note": note}
            touched.add(inv.id)
            report.matched.append(Matched(tx.id, inv.number, kind, index.owed[inv.id], inv.currency))
        audited_bulk_update(MoneyTransaction, before, linked)
        audited_bulk_update(MoneyTransaction, before, reviewed)
        for invoice_id in touched:
            invoice = index.by_id[invoice_id]
            if settle_payment_status(invoice):
                report.paid_invoices.append(invoice.number)
    return report


# -- what the person does by hand ---------------------------------------------------------

def candidates_for(tx: MoneyTransaction, limit: int = 20) -> list[tuple[Invoice, int, list[str]]]:
    """Open invoices this transaction could pay, best first, with a score and the evidence."""
    key = vs_key(tx.reference)
    words = {t.casefold() for t in _TOKEN.findall(tx.description or "")}
    scored = []
    for inv in Invoice.select().where(Invoice.status.in_(OPEN_STATUSES + ("draft",))):
        evidence, score = [], 0
        if key is not None and vs_key(inv.variable_symbol) == key:
            evidence.append(f"VS {inv.variable_symbol}")
            score += 4
        if inv.number.casefold() in words:
            evidence.append(f"number {inv.number} in the message")
            score += 3
        owed = max(0, inv.total - amount_paid(inv))
        if inv.currency == tx.currency:
            score += 1
            if tx.amount == owed:
                evidence.append("amount equals what is owed")
                score += 2
        else:
            evidence.append(f"other currency ({inv.currency})")
        scored.append((inv, score, evidence))
    scored.sort(key=lambda item: (-item[1], item[0].due_on))
    return scored[:limit]


def link(tx: MoneyTransaction, invoice: Invoice) -> MoneyTransaction:
    if tx.transaction_type != "income":
        raise MatchError(f"Transaction {tx.id} is an expense; only incoming payments pay invoices.")
    if tx.invoice_id is not None:
        raise MatchError(f"Transaction {tx.id} already pays invoice {tx.invoice.number}; unlink it first.")
    if invoice.status in ("cancelled",):
        raise MatchError(f"Invoice {invoice.number} is cancelled.")
    if invoice.currency != tx.currency:
        raise MatchError(f"Transaction {tx.id} is in {tx.currency}, invoice {invoice.number} in {invoice.currency}.")
    with db.atomic():
        tx.invoice = invoice
        tx.match_status = "matched"
        tx.match_note = {"invoice": invoice.number, "by": "hand"}
        tx.save()
        settle_payment_status(Invoice.get_by_id(invoice.id))
    return tx


def unlink(tx: MoneyTransaction) -> MoneyTransaction:
    if tx.invoice_id is None:
        raise MatchError(f"Transaction {tx.id} is not linked to an invoice.")
    with db.atomic():
        invoice = Invoice.get_by_id(tx.invoice_id)
        tx.invoice = None
        tx.match_status = "unmatched"
        tx.match_note = {}
        tx.save()
        settle_payment_status(invoice)
    return tx


def ignore(tx: MoneyTransaction, ignored: bool = True) -> MoneyTransaction:
    """Mark a transaction 'not an invoice payment' (or take that back)."""
    if ignored and tx.invoice_id is not None:
        raise MatchError(f"Transaction {tx.id} pays invoice {tx.invoice.number}; unlink it first.")
    tx.match_status = "ignored" if ignored else "unmatched"
    tx.match_note = {"by": "hand", "reason": "not an invoice payment"} if ignored else {}
    tx.save()
    return tx


def find_transaction(ref: str | int) -> MoneyTransaction:
    tx = MoneyTransaction.get_or_none(MoneyTransaction.id == int(ref)) if str(ref).isdigit() else None
    if tx is None:
        raise MatchError(f"There is no transaction {ref!r}; see 'fakturka transactions'.")
    return tx


def transactions_query(*, status: str | None = None, source: str | None = None,
                       since: date | None = None, until: date | None = None):
    """Bank transactions newest first, filtered (pages on the date index)."""
    query = (MoneyTransaction.select()
             .order_by(MoneyTransaction.transacted_on.desc(), MoneyTransaction.id.desc()))
    if status:
        query = query.where(MoneyTransaction.match_status == status)
    if source:
        query = query.where(MoneyTransaction.source == source)
    if since:
        query = query.where(MoneyTransaction.transacted_on >= since)
    if until:
        query = query.where(MoneyTransaction.transacted_on <= until)
    return query
