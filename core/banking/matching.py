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

from peewee import JOIN, SQL

from core.billing.payments import PaymentState, amount_due_sql, settle_invoices, settle_payment_status, settles
from core.errors import FakturkaError
from core.store.bulk import audited_bulk_update
from core.store.db import db
from core.store.gcpause import gc_paused
from core.store.models import Client, Invoice, MoneyTransaction
from core.store.states import InvoiceStatus, MatchStatus
from core.values.messages import Message
from core.values.money import from_minor

OPEN_STATUSES = (InvoiceStatus.SENT,)
# The rare match states, with a partial index of their own (migration 5).
ATTENTION_STATUSES = (MatchStatus.REVIEW, MatchStatus.IGNORED)
_ATTENTION_SQL = "\"match_status\" IN ('review', 'ignored')"
_TOKEN = re.compile(r"[A-Za-z0-9][A-Za-z0-9/\-_.]*[A-Za-z0-9]|[0-9]")


class MatchError(FakturkaError):
    """A manual link/unlink/ignore that is refused; the message says why."""


_NOT_DIGITS = re.compile(r"\D+")


def vs_key(text: str | None) -> int | None:
    """A variable symbol as an integer (digits only, at most 10), or None."""
    text = text or ""
    # Most symbols are plain ASCII digits already: skip the regex for them.
    digits = text if text.isascii() and text.isdigit() else _NOT_DIGITS.sub("", text)
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

    def lines(self) -> list[Message]:
        out = []
        for m in self.matched:
            if m.kind == "partial":
                out.append(
                    Message(
                        "Transaction {id} -> invoice {number}: partly paid (still owed {amount} {currency})",
                        id=m.transaction_id,
                        number=m.invoice_number,
                        amount=from_minor(m.owed_after, m.currency),
                        currency=m.currency,
                    )
                )
            elif m.kind == "overpaid":
                out.append(
                    Message(
                        "Transaction {id} -> invoice {number}: paid, overpaid",
                        id=m.transaction_id,
                        number=m.invoice_number,
                    )
                )
            else:
                out.append(
                    Message(
                        "Transaction {id} -> invoice {number}: paid in full",
                        id=m.transaction_id,
                        number=m.invoice_number,
                    )
                )
        for r in self.review:
            if r.candidates:
                out.append(
                    Message(
                        "Transaction {id} needs review: {reason} (candidates: {candidates})",
                        id=r.transaction_id,
                        reason=r.reason,
                        candidates=", ".join(r.candidates),
                    )
                )
            else:
                out.append(Message("Transaction {id} needs review: {reason}", id=r.transaction_id, reason=r.reason))
        return out


@dataclass(slots=True)
class _Tx:
    """The columns matching reads of a transaction (no model instance: 100,000 of them add up)."""

    id: int
    reference: str
    description: str
    amount: int
    currency: str
    transacted_on: str  # ISO text as stored: sorts like the date, parsed only for a paid date


@dataclass
class _Inv:
    id: int
    number: str
    variable_symbol: str
    currency: str
    total: int
    status: str
    paid_on: date | None


class _OpenInvoices:
    """Open invoices indexed for the join, with what each still owes (kept current during a batch)."""

    def __init__(self):
        placeholders = ", ".join("?" for _ in OPEN_STATUSES)
        rows = db.execute_sql(
            f"SELECT id, number, variable_symbol, currency, total, status, paid_on FROM invoices "
            f"WHERE status IN ({placeholders})",
            OPEN_STATUSES,
        ).fetchall()
        invoices = [_Inv(r[0], r[1], r[2], r[3], r[4], r[5], _date(r[6])) for r in rows]
        paid = dict(
            db.execute_sql(
                f"SELECT t.invoice_id, SUM(t.amount) FROM money_transactions t JOIN invoices i ON i.id = t.invoice_id "
                f"WHERE i.status IN ({placeholders}) AND t.transaction_type = 'income' GROUP BY t.invoice_id",
                OPEN_STATUSES,
            ).fetchall()
        )
        self.by_id = {inv.id: inv for inv in invoices}
        self.paid = {inv.id: paid.get(inv.id) or 0 for inv in invoices}
        self.owed = {inv.id: max(0, inv.total - self.paid[inv.id]) for inv in invoices}
        self.by_vs: dict[int, list[_Inv]] = {}
        self.by_number: dict[str, _Inv] = {}
        for inv in invoices:
            key = vs_key(inv.variable_symbol)
            if key is not None:
                self.by_vs.setdefault(key, []).append(inv)
            self.by_number[inv.number.casefold()] = inv

    def candidates(self, reference: str, description: str) -> tuple[list[_Inv], str]:
        """The open invoices a payment with this VS and message points to (do not modify the list)."""
        key = vs_key(reference)
        if key is not None and key in self.by_vs:
            return self.by_vs[key], "variable symbol"
        found = []
        for token in _TOKEN.findall(description):
            inv = self.by_number.get(token.casefold())
            if inv is not None and inv not in found:
                found.append(inv)
        return found, "invoice number in the message"


def _date(value) -> date | None:
    if value is None or isinstance(value, date):
        return value
    return date.fromisoformat(str(value)[:10])


def _evidence(tx, inv, how: str) -> dict:
    return {
        "invoice": inv.number,
        "by": how,
        "vs": tx.reference,
        "amount": tx.amount,
        "currency": tx.currency,
        "message": (tx.description or "")[:140],
    }


_UNMATCHED_SQL = (
    "SELECT id, reference, description, amount, currency, transacted_on "
    "FROM money_transactions WHERE match_status = 'unmatched' AND transaction_type = 'income' "
    "AND invoice_id IS NULL"
)

# Rows that cannot have a candidate are left in SQLite (most movements pay nothing): a reference of
# plain ASCII digits names its VS exactly, so it either is an open invoice's VS (temp.match_open_vs)
# or the message decides, and a message can name an invoice number only if it has a digit (every
# number does; checked per batch). Anything else, e.g. "VS: 123", goes to Python's candidates().
_COULD_MATCH_SQL = (
    "(reference GLOB '*[^0-9]*' "
    "OR (reference <> '' AND length(ltrim(reference, '0')) <= 10 "
    "    AND CAST(reference AS INTEGER) IN (SELECT key FROM temp.match_open_vs)) "
    "OR {message})"
)
_MESSAGE_HAS_DIGIT_SQL = "description GLOB '*[0-9]*'"
_DIGIT = re.compile(r"[0-9]")


def _unmatched(transaction_ids: list[int] | None, index: _OpenInvoices) -> list[tuple]:
    """Rows of (id, reference, description, amount, currency, transacted_on) not matched yet that
    could have a candidate (see _COULD_MATCH_SQL; candidates() decides)."""
    every_number_has_digit = all(_DIGIT.search(inv.number) for inv in index.by_id.values())
    could_match = _COULD_MATCH_SQL.format(message=_MESSAGE_HAS_DIGIT_SQL if every_number_has_digit else "1")
    db.execute_sql("CREATE TEMP TABLE IF NOT EXISTS match_open_vs (key INTEGER PRIMARY KEY)")
    try:
        db.execute_sql("DELETE FROM temp.match_open_vs")
        db.cursor().executemany("INSERT INTO temp.match_open_vs VALUES (?)", [(key,) for key in index.by_vs])
        select = f"{_UNMATCHED_SQL} AND {could_match}"
        if transaction_ids is None:
            return db.execute_sql(select).fetchall()
        rows = []
        ids = list(transaction_ids)
        for start in range(0, len(ids), 900):  # stay under SQLite's bound-parameter limit
            chunk = ids[start : start + 900]
            rows += db.execute_sql(f"{select} AND id IN ({', '.join('?' for _ in chunk)})", chunk).fetchall()
        return rows
    finally:
        db.execute_sql("DELETE FROM temp.match_open_vs")


def match_transactions(transaction_ids: list[int] | None = None) -> MatchReport:
    """Match unmatched incoming transactions (all, or the given ones) to open invoices."""
    report = MatchReport()
    with gc_paused(), db.atomic():
        if transaction_ids is not None and not transaction_ids:
            return report
        index = _OpenInvoices()
        if not index.by_id:
            return report  # nothing is open: no need to read a single transaction
        # Most transactions pay nothing: find the candidates first, from the bare rows, and
        # build and order (oldest first: partial payments add up in date order) only the rest.
        found = []
        for row in _unmatched(transaction_ids, index):
            candidates, how = index.candidates(row[1] or "", row[2] or "")
            if candidates:
                found.append((_Tx(row[0], row[1] or "", row[2] or "", row[3], row[4], str(row[5])), candidates, how))
        found.sort(key=lambda item: (item[0].transacted_on, item[0].id))
        linked: dict[int, dict] = {}
        reviewed: dict[int, dict] = {}
        settled: dict[int, date] = {}
        for tx, candidates, how in found:
            # An invoice this batch already settled is no longer open, exactly as in a later run.
            candidates = [i for i in candidates if i.id not in settled]
            if not candidates:
                continue
            same_currency = [i for i in candidates if i.currency == tx.currency]
            if len(same_currency) != 1:
                reason = _review_reason(how, len(same_currency))
                note = {"reason": reason, "candidates": [_evidence(tx, i, how) for i in candidates]}
                reviewed[tx.id] = {"match_status": MatchStatus.REVIEW, "match_note": note}
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
            index.paid[inv.id] += tx.amount
            # The VS, amount and message are on the row already; the note says only what matching decided.
            note = {"invoice": inv.number, "by": how, "result": kind, "owed_before": owed}
            linked[tx.id] = {"invoice": inv.id, "match_status": MatchStatus.MATCHED, "match_note": note}
            if settles(inv.status, inv.total, index.paid[inv.id]) and inv.id not in settled:
                settled[inv.id] = _date(tx.transacted_on)  # paid date = the transaction that completed it
            report.matched.append(Matched(tx.id, inv.number, kind, index.owed[inv.id], inv.currency))
        audited_bulk_update(MoneyTransaction, linked)
        audited_bulk_update(MoneyTransaction, reviewed)
        report.paid_invoices.extend(_settle(index, settled))
    return report


def _review_reason(how: str, same_currency: int) -> Message:
    """Why a movement is left for review: ``same_currency`` candidates in its currency (0 or several), found
    by ``how`` ("variable symbol" or "invoice number in the message")."""
    if how == "variable symbol":
        if not same_currency:
            return Message("the variable symbol points to an invoice in another currency")
        return Message("{count} invoices match by variable symbol", count=same_currency)
    if not same_currency:
        return Message("the invoice number in the message points to an invoice in another currency")
    return Message("{count} invoices match by invoice number in the message", count=same_currency)


def _settle(index: _OpenInvoices, settled: dict[int, date]) -> list[str]:
    """The invoices' new status, decided by invoicing's one rule, written for the whole batch in one
    statement; returns the numbers of the invoices that became paid."""
    states = {
        i: PaymentState(index.by_id[i].status, index.by_id[i].total, index.paid[i], day) for i, day in settled.items()
    }
    return [index.by_id[i].number for i in settle_invoices(states)]


# -- what the person does by hand ---------------------------------------------------------


def candidates_for(tx: MoneyTransaction, limit: int = 20) -> list[tuple[Invoice, int, list[str]]]:
    """Open (sent) invoices this transaction could pay, best first, with a score and the evidence."""
    key = vs_key(tx.reference)
    words = {t.casefold() for t in _TOKEN.findall(tx.description or "")}
    scored = []
    query = (
        Invoice.select(Invoice, Client, amount_due_sql().alias("still_due"))
        .join(Client)
        .where(Invoice.status.in_(OPEN_STATUSES))  # not drafts: ``link`` refuses them
    )
    for inv in query:
        evidence, score = [], 0
        if key is not None and vs_key(inv.variable_symbol) == key:
            evidence.append(f"VS {inv.variable_symbol}")
            score += 4
        if inv.number.casefold() in words:
            evidence.append(Message("number {number} in the message", number=inv.number))
            score += 3
        owed = inv.still_due
        if inv.currency == tx.currency:
            score += 1
            if tx.amount == owed:
                evidence.append(Message("amount equals what is owed"))
                score += 2
        else:
            evidence.append(Message("other currency ({currency})", currency=inv.currency))
        scored.append((inv, score, evidence))
    scored.sort(key=lambda item: (-item[1], item[0].due_on))
    return scored[:limit]


def link(tx: MoneyTransaction, invoice: Invoice) -> MoneyTransaction:
    if tx.transaction_type != "income":
        raise MatchError(Message("Transaction {id} is an expense; only incoming payments pay invoices.", id=tx.id))
    if tx.invoice_id is not None:
        raise MatchError(
            Message(
                "Transaction {id} already pays invoice {number}; unlink it first.", id=tx.id, number=tx.invoice.number
            )
        )
    if invoice.status in (InvoiceStatus.CANCELLED,):
        raise MatchError(Message("Invoice {number} is cancelled.", number=invoice.number))
    if invoice.status == InvoiceStatus.DRAFT:
        # A draft is not a document anyone was asked to pay; linking would turn it paid unsent.
        raise MatchError(
            Message(
                "Invoice {number} is a draft; send it first (S on the Invoices screen, or "
                "'fakturka invoice send {number}'), then link the payment.",
                number=invoice.number,
            )
        )
    if invoice.currency != tx.currency:
        raise MatchError(
            Message(
                "Transaction {id} is in {currency}, invoice {number} in {invoice_currency}.",
                id=tx.id,
                currency=tx.currency,
                number=invoice.number,
                invoice_currency=invoice.currency,
            )
        )
    with db.atomic():
        tx.invoice = invoice
        tx.match_status = MatchStatus.MATCHED
        tx.match_note = {"invoice": invoice.number, "by": "hand"}
        if invoice.status == InvoiceStatus.PAID:
            # Marked paid by hand before its payment arrived: unlinking must not take that back.
            tx.match_note["invoice_was_paid"] = True
        tx.save()
        settle_payment_status(Invoice.get_by_id(invoice.id))
    return tx


def unlink(tx: MoneyTransaction) -> MoneyTransaction:
    if tx.invoice_id is None:
        raise MatchError(Message("Transaction {id} is not linked to an invoice.", id=tx.id))
    with db.atomic():
        invoice = Invoice.get_by_id(tx.invoice_id)
        was_paid_before = bool((tx.match_note or {}).get("invoice_was_paid"))
        tx.invoice = None
        tx.match_status = MatchStatus.UNMATCHED
        tx.match_note = {}
        tx.save()
        # Back to what it was before the link: owed again, unless it had been marked paid by hand.
        settle_payment_status(invoice, payment_removed=not was_paid_before)
    return tx


def ignore(tx: MoneyTransaction, ignored: bool = True) -> MoneyTransaction:
    """Mark a transaction 'not an invoice payment' (or take that back)."""
    if tx.invoice_id is not None:
        raise MatchError(
            Message("Transaction {id} pays invoice {number}; unlink it first.", id=tx.id, number=tx.invoice.number)
        )
    tx.match_status = MatchStatus.IGNORED if ignored else MatchStatus.UNMATCHED
    tx.match_note = {"by": "hand", "reason": "not an invoice payment"} if ignored else {}
    tx.save()
    return tx


def find_transaction(ref: str | int) -> MoneyTransaction:
    tx = get_transaction(int(ref)) if str(ref).isdigit() else None
    if tx is None:
        raise MatchError(Message("There is no transaction {ref!r}; see 'fakturka transactions'.", ref=ref))
    return tx


def _with_invoice():
    """Transactions with the invoice each pays (None for most), read in the same query."""
    return MoneyTransaction.select(MoneyTransaction, Invoice).join(
        Invoice, JOIN.LEFT_OUTER, on=(MoneyTransaction.invoice == Invoice.id)
    )


def get_transaction(transaction_id: int) -> MoneyTransaction | None:
    """The transaction with this id (with its invoice, if it pays one), or None when there is none."""
    return _with_invoice().where(MoneyTransaction.id == transaction_id).first()


def transaction_sources() -> list[str]:
    """The sources transactions came from (plugins, "manual"), sorted: the Bank screen's filter."""
    query = MoneyTransaction.select(MoneyTransaction.source).distinct().order_by(MoneyTransaction.source)
    return [row[0] for row in query.tuples()]


def transactions_query(
    *, status: str | None = None, source: str | None = None, since: date | None = None, until: date | None = None
):
    """Bank transactions newest first, each with its invoice (one query), filtered (pages on the date index)."""
    query = _with_invoice().order_by(MoneyTransaction.transacted_on.desc(), MoneyTransaction.id.desc())
    if status in ATTENTION_STATUSES:
        # Repeats the partial index's condition (migration 5) so SQLite can use it for these rare states.
        # Literal SQL, not bound parameters: the planner matches the index's WHERE term as written.
        query = query.where((MoneyTransaction.match_status == status) & SQL(_ATTENTION_SQL))
    elif status:
        query = query.where(MoneyTransaction.match_status == status)
    if source:
        query = query.where(MoneyTransaction.source == source)
    if since:
        query = query.where(MoneyTransaction.transacted_on >= since)
    if until:
        query = query.where(MoneyTransaction.transacted_on <= until)
    return query
