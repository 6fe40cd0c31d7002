"""``fakturka invoice ...``."""

from __future__ import annotations

from datetime import date

from cli import invoice_edit
from cli.base import CommandError, confirm, date_arg, file_mode, output_path, print_json, print_table, say
from core.billing import invoice_status as status_svc
from core.billing import invoicing as svc
from core.billing import payments
from core.billing.clients import find_client
from core.store import paths
from core.store.models import Invoice
from core.values.money import from_minor


def register(commands) -> None:
    invoice = commands.add_parser("invoice", help="create, list, show and export invoices")
    sub = invoice.add_subparsers(dest="action", metavar="ACTION", required=True)

    create = sub.add_parser("create", help="invoice a client's unbilled billable work as a draft")
    create.add_argument("--client", required=True, help="client id or name")
    create.add_argument(
        "--until",
        type=date_arg,
        default=date.today(),
        help="include entries up to this date (default: today, as in the app)",
    )
    create.add_argument("--since", type=date_arg, help="include entries from this date")
    create.add_argument("--per-entry", action="store_true", help="one line per entry instead of per project")
    create.add_argument("--date", type=date_arg, help="issue date (default today)")
    create.add_argument("--dry-run", action="store_true", help="show the lines and total, create nothing")
    create.set_defaults(handler=invoice_create)

    lst = sub.add_parser("list", help="list invoices, newest first")
    lst.add_argument("--status", help="draft, sent, paid, cancelled, overdue or open")
    lst.add_argument("--json", action="store_true", help="print JSON for scripts")
    lst.set_defaults(handler=invoice_list)

    show = sub.add_parser("show", help="an invoice with its lines and payments")
    show.add_argument("number")
    show.add_argument("--json", action="store_true", help="print JSON for scripts")
    show.set_defaults(handler=invoice_show)

    for action, text in (
        ("send", "mark a draft as sent"),
        ("pay", "mark an invoice as paid"),
        ("cancel", "cancel an invoice (its entries become unbilled again)"),
    ):
        p = sub.add_parser(action, help=text)
        p.add_argument("number")
        if action in ("send", "pay"):
            p.add_argument("--date", type=date_arg, help="when (default today)")
        if action == "cancel":
            p.add_argument("--yes", action="store_true", help="do not ask for confirmation")
            p.add_argument(
                "--unlink-payments",
                action="store_true",
                help="also unlink the bank movements paid against it (back to 'review'); --yes implies it",
            )
        p.set_defaults(handler=invoice_status)

    invoice_edit.register(sub)

    delete = sub.add_parser("delete", help="delete the newest draft (its number is reused)")
    delete.add_argument("number")
    delete.add_argument("--yes", action="store_true", help="do not ask for confirmation")
    delete.set_defaults(handler=invoice_delete)

    pdf = sub.add_parser("pdf", help="export invoices as PDF with a payment QR code")
    pdf.add_argument("number", nargs="?", help="the invoice to export")
    pdf.add_argument("--all", action="store_true", help="export every listed invoice (see --status)")
    pdf.add_argument("--status", help="with --all: only this status")
    pdf.add_argument(
        "-o",
        "--output",
        type=output_path,
        help="file (one invoice) or folder (--all); default: the exports folder. "
        "Anything else there (a device, a pipe, a link to a file) is refused.",
    )
    pdf.add_argument(
        "--mode",
        type=file_mode,
        default=None,
        help="the PDFs' permissions in octal, e.g. 644 to let others on this computer read them "
        "(default 600: only you)",
    )
    pdf.set_defaults(handler=invoice_pdf)


def _money(minor: int, currency: str) -> str:
    return f"{from_minor(minor, currency)} {currency}"


def invoice_summary(inv: Invoice) -> dict:
    # A row of invoices_query carries what is still due; a single invoice reads it.
    due = inv.still_due if hasattr(inv, "still_due") else payments.amount_due(inv)
    return {
        "number": inv.number,
        "client": inv.client.name,
        "status": svc.display_status(inv),
        "issued_on": inv.issued_on,
        "due_on": inv.due_on,
        "currency": inv.currency,
        "total": from_minor(inv.total, inv.currency),
        "due": from_minor(due, inv.currency),
        "variable_symbol": inv.variable_symbol,
    }


def invoice_create(args) -> int:
    client = find_client(args.client, include_archived=False)
    if args.dry_run:
        draft = svc.preview_invoice(client, until=args.until, since=args.since, per_entry=args.per_entry)
        if not draft.lines:
            raise CommandError(f"{client.name} has no unbilled billable entries.")
        for line in draft.lines:
            say(
                f"{line.description[:50]:50}  {line.quantity:>7} {line.unit:3} x "
                f"{from_minor(line.unit_price, draft.currency):>10} = {_money(line.amount, draft.currency):>16}"
            )
        say(f"Total {_money(draft.totals.total, draft.currency)} from {draft.entry_count} entries (nothing created).")
        return 0
    inv = svc.create_invoice(client, until=args.until, since=args.since, per_entry=args.per_entry, issued_on=args.date)
    say(
        f"Created draft invoice {inv.number} for {client.name}: {_money(inv.total, inv.currency)}, "
        f"due {inv.due_on.isoformat()}, VS {inv.variable_symbol}."
    )
    return 0


def invoice_list(args) -> int:
    rows = [invoice_summary(inv) for inv in svc.invoices_query(args.status)]
    if args.json:
        print_json(rows)
        return 0
    if not rows:
        say("No invoices match." if args.status else "No invoices yet: fakturka invoice create --client NAME")
        return 0
    print_table(
        ["NUMBER", "CLIENT", "STATUS", "ISSUED", "DUE", "TOTAL", "STILL DUE"],
        [
            [
                r["number"],
                r["client"],
                r["status"],
                r["issued_on"].isoformat(),
                r["due_on"].isoformat(),
                f"{r['total']} {r['currency']}",
                f"{r['due']} {r['currency']}",
            ]
            for r in rows
        ],
        right={5, 6},
    )
    return 0


def invoice_detail(inv: Invoice) -> dict:
    data = invoice_summary(inv)
    totals = svc.invoice_totals(inv)
    data.update(
        {
            "taxable_supply_on": inv.taxable_supply_on,
            "sent_on": inv.sent_on,
            "paid_on": inv.paid_on,
            "language": inv.language,
            "vat_payer": inv.vat_payer,
            "reverse_charge": inv.reverse_charge,
            "subtotal": from_minor(inv.subtotal, inv.currency),
            "vat_total": from_minor(inv.vat_total, inv.currency),
            "paid": from_minor(payments.amount_paid(inv), inv.currency),
            "overpaid": payments.is_overpaid(inv),
            "vat_summary": [
                {"rate": r.rate, "base": from_minor(r.base, inv.currency), "vat": from_minor(r.vat, inv.currency)}
                for r in totals.per_rate
            ],
            "lines": [
                {
                    "position": position,
                    "description": ln.description,
                    "quantity": ln.quantity,
                    "unit": ln.unit,
                    "unit_price": from_minor(ln.unit_price, inv.currency),
                    "vat_rate": ln.vat_rate,
                    "amount": from_minor(ln.amount, inv.currency),
                }
                for position, ln in enumerate(svc.invoice_lines(inv), start=1)
            ],
            "payments": [
                {
                    "id": t.id,
                    "date": t.transacted_on,
                    "amount": from_minor(t.amount, t.currency),
                    "source": t.source,
                    "reference": t.reference,
                }
                for t in inv.payments.order_by(inv.payments.model.transacted_on)
            ],
            "supplier": inv.supplier,
            "customer": inv.customer,
        }
    )
    return data


def invoice_show(args) -> int:
    data = invoice_detail(svc.find_invoice(args.number))
    if args.json:
        print_json(data)
        return 0
    cur = data["currency"]
    say(f"Invoice {data['number']}  [{data['status']}]")
    say(f"Client:   {data['client']}")
    say(f"Issued:   {data['issued_on']}   due {data['due_on']}   taxable supply {data['taxable_supply_on']}")
    say(f"VS:       {data['variable_symbol']}")
    say()
    print_table(
        ["#", "DESCRIPTION", "QTY", "UNIT", "PRICE", "VAT %", "AMOUNT"],
        [
            [
                ln["position"],
                ln["description"],
                ln["quantity"],
                ln["unit"],
                ln["unit_price"],
                ln["vat_rate"],
                ln["amount"],
            ]
            for ln in data["lines"]
        ],
        right={0, 2, 4, 5, 6},
    )
    say()
    if data["vat_payer"]:
        say(
            f"Subtotal: {data['subtotal']} {cur}   VAT: {data['vat_total']} {cur}"
            + ("   (reverse charge)" if data["reverse_charge"] else "")
        )
    say(f"Total:    {data['total']} {cur}")
    say(
        f"Paid:     {data['paid']} {cur}   still due: {data['due']} {cur}"
        + ("   (overpaid)" if data["overpaid"] else "")
    )
    for p in data["payments"]:
        say(f"  payment {p['date']}  {p['amount']} {cur}  from {p['source']}  ref {p['reference'] or '-'}")
    return 0


def invoice_status(args) -> int:
    inv = svc.find_invoice(args.number)
    if args.action == "send":
        status_svc.mark_sent(inv, args.date)
        say(f"Invoice {inv.number} marked sent; due {inv.due_on.isoformat()}.")
    elif args.action == "pay":
        status_svc.mark_paid(inv, args.date)
        say(f"Invoice {inv.number} marked paid on {inv.paid_on.isoformat()}.")
    else:
        return invoice_cancel(inv, args)
    return 0


def invoice_cancel(inv: Invoice, args) -> int:
    """Cancel after a confirmation that names the payments it unlinks, when there are any."""
    movements = status_svc.linked_movements(inv)
    question = f"Cancel invoice {inv.number} for {inv.client.name}?"
    if movements:
        paid = sum(m.amount for m in movements if m.transaction_type == "income")
        count = len(movements)
        question = (
            f"Invoice {inv.number} for {inv.client.name} has {_money(paid, inv.currency)} paid in "
            f"{count} bank movement{'s' if count != 1 else ''}; cancelling it unlinks "
            f"{'them' if count != 1 else 'it'} (back to 'review', to link elsewhere). Cancel it?"
        )
    if not confirm(question, args.yes or args.unlink_payments):
        say("Nothing changed.")
        return 1
    status_svc.cancel_invoice(inv, unlink_payments=True)
    say(f"Invoice {inv.number} cancelled; its entries are unbilled again.")
    if movements:
        ids = ", ".join(str(m.id) for m in movements)
        say(
            f"Unlinked bank movement{'s' if len(movements) != 1 else ''} {ids}: "
            "see 'fakturka transactions --status review'."
        )
    return 0


def invoice_delete(args) -> int:
    inv = svc.find_invoice(args.number)
    if not confirm(f"Delete draft {inv.number} for {inv.client.name}?", args.yes):
        say("Nothing changed.")
        return 1
    status_svc.delete_draft(inv)
    say(f"Draft {args.number} deleted; its entries are unbilled again.")
    return 0


def invoice_pdf(args) -> int:
    from core.billing import pdf

    mode = pdf.PDF_MODE if args.mode is None else args.mode
    if args.all:
        if args.number:
            raise CommandError("Give either an invoice number or --all, not both.")
        invoices = list(svc.invoices_query(args.status))
        if not invoices:
            raise CommandError("No invoices match; nothing exported.")
        out_dir = pdf.check_export_folder(args.output or paths.exports_dir())
        written = pdf.export_invoices(invoices, out_dir, mode=mode)
        say(f"Exported {len(written)} invoice(s) to {out_dir}.")
        return 0
    if not args.number:
        raise CommandError("Give an invoice number, or --all.")
    inv = svc.find_invoice(args.number)
    filename = pdf.invoice_filename(inv)
    target = pdf.export_target(args.output, filename) if args.output else paths.exports_dir() / filename
    pdf.render_invoice(inv, target, mode=mode)
    say(f"Wrote {target}")
    return 0
