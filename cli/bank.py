"""``fakturka transactions`` and ``fakturka match ...``."""

from __future__ import annotations

from cli.base import date_arg, positive_int, print_json, print_table, record_id, say
from core.banking import matching
from core.billing.invoicing import find_invoice
from core.billing.payments import amount_paid
from core.store.models import MoneyTransaction
from core.values.money import from_minor


def register(commands) -> None:
    tx = commands.add_parser("transactions", help="list bank transactions and how they were matched")
    tx.add_argument(
        "--status", choices=[str(s) for s in MoneyTransaction.MATCH_STATUSES], help="only this match status"
    )
    tx.add_argument("--source", help="only from this plugin (e.g. fio, bank-statement)")
    tx.add_argument("--since", type=date_arg)
    tx.add_argument("--until", type=date_arg)
    tx.add_argument("--limit", type=positive_int, default=50, help="how many, newest first (default 50)")
    tx.add_argument("--json", action="store_true", help="print JSON for scripts")
    tx.set_defaults(handler=transactions_list)

    match = commands.add_parser(
        "match",
        help="match incoming payments to invoices (or link by hand)",
        usage="fakturka match [-h] [ACTION ...]",
        description="Without an action: match every unmatched incoming payment to open invoices now "
        "(a bank sync does this by itself). With one: link, unlink or ignore by hand.",
    )
    match.set_defaults(handler=match_run)
    sub = match.add_subparsers(dest="action", metavar="ACTION", prog="fakturka match")
    link = sub.add_parser("link", help="record that a transaction pays an invoice")
    link.add_argument("transaction", type=record_id("transaction id"), help="transaction id")
    link.add_argument("invoice", help="invoice number")
    link.set_defaults(handler=match_link)
    unlink = sub.add_parser("unlink", help="remove a transaction's link to its invoice")
    unlink.add_argument("transaction", type=record_id("transaction id"), help="transaction id")
    unlink.set_defaults(handler=match_unlink)
    ignore = sub.add_parser("ignore", help="mark a transaction as not an invoice payment")
    ignore.add_argument("transaction", type=record_id("transaction id"), help="transaction id")
    ignore.add_argument("--undo", action="store_true", help="make it unmatched again")
    ignore.set_defaults(handler=match_ignore)


def transaction_dict(t: MoneyTransaction) -> dict:
    return {
        "id": t.id,
        "date": t.transacted_on,
        "source": t.source,
        "type": t.transaction_type,
        "amount": from_minor(t.amount, t.currency),
        "currency": t.currency,
        "reference": t.reference,
        "counterparty": t.counterparty,
        "description": t.description,
        "match_status": t.match_status,
        "invoice": t.invoice.number if t.invoice_id else None,
        "match_note": t.match_note,
    }


def transactions_list(args) -> int:
    rows = [
        transaction_dict(t)
        for t in matching.transactions_query(
            status=args.status, source=args.source, since=args.since, until=args.until
        ).limit(args.limit)
    ]
    if args.json:
        print_json(rows)
        return 0
    if not rows:
        say("No transactions match.")
        return 0
    print_table(
        ["ID", "DATE", "SOURCE", "AMOUNT", "VS", "COUNTERPARTY", "STATUS", "INVOICE"],
        [
            [
                r["id"],
                r["date"].isoformat(),
                r["source"],
                f"{'-' if r['type'] == 'expense' else ''}{r['amount']} {r['currency']}",
                r["reference"] or "-",
                (r["counterparty"] or "")[:30],
                r["match_status"],
                r["invoice"] or "-",
            ]
            for r in rows
        ],
        right={0, 3},
    )
    return 0


def match_run(args) -> int:
    report = matching.match_transactions()
    for line in report.lines():
        say(line)
    say(
        f"Matched {len(report.matched)} transaction(s), {len(report.review)} need review; "
        f"invoices now paid: {', '.join(report.paid_invoices) or 'none'}."
    )
    return 0


def match_link(args) -> int:
    tx = matching.find_transaction(args.transaction)
    invoice = find_invoice(args.invoice)
    matching.link(tx, invoice)
    invoice = find_invoice(args.invoice)
    say(f"Transaction {tx.id} now pays invoice {invoice.number} ({invoice.status}).")
    paid = amount_paid(invoice)
    if paid > invoice.total:
        say(
            f"Note: invoice {invoice.number} is now overpaid by "
            f"{from_minor(paid - invoice.total, invoice.currency)} {invoice.currency}."
        )
    return 0


def match_unlink(args) -> int:
    tx = matching.find_transaction(args.transaction)
    number = tx.invoice.number if tx.invoice_id else None
    matching.unlink(tx)
    say(f"Transaction {tx.id} no longer pays invoice {number}.")
    return 0


def match_ignore(args) -> int:
    tx = matching.find_transaction(args.transaction)
    matching.ignore(tx, not args.undo)
    say(f"Transaction {tx.id} is {'unmatched again' if args.undo else 'marked as not an invoice payment'}.")
    return 0
