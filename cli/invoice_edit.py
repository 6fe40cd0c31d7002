"""``fakturka invoice edit NUMBER ...``: change a draft before it is sent (core.billing.drafts).

Lines are named by their position as ``fakturka invoice show`` numbers them (the ``#`` column).
Everything asked for is applied at once, or nothing is (``update_draft`` runs in one transaction).
"""

from __future__ import annotations

from decimal import Decimal

from cli.base import CommandError, date_arg, positive_int, say
from core.billing import drafts
from core.billing import invoicing as svc
from core.values.money import from_minor, parse_amount, to_minor

CUSTOMER_OPTIONS = ("name", "address", "ico", "dic", "email")
LINE_FIELDS = "DESCRIPTION|QUANTITY|UNIT|UNIT PRICE|VAT %"


def register(sub) -> None:
    edit = sub.add_parser(
        "edit",
        help="change a draft: dates, note, the customer's details, its lines",
        description="Change a draft invoice before it is sent. Lines are numbered as `invoice show` lists them.",
    )
    edit.add_argument("number")
    edit.add_argument("--date", type=date_arg, help="issue date (in the invoice's year)")
    edit.add_argument("--due", type=date_arg, help="due date")
    edit.add_argument("--taxable", type=date_arg, help="date of taxable supply")
    edit.add_argument("--note", help="the note printed on the invoice ('' removes it)")
    for key in CUSTOMER_OPTIONS:
        edit.add_argument(f"--customer-{key}", dest=f"customer_{key}", help=f"the customer's {key} as issued")
    edit.add_argument(
        "--set-line",
        nargs=2,
        action="append",
        metavar=("N", LINE_FIELDS),
        help="replace line N; empty parts keep what it had, e.g. --set-line 2 '|7.5||1200|'",
    )
    edit.add_argument(
        "--add-line", action="append", metavar=LINE_FIELDS, help="add a line at the end, e.g. 'Travel|1|pcs|800|21'"
    )
    edit.add_argument("--remove-line", type=positive_int, action="append", metavar="N", help="remove line N")
    edit.set_defaults(handler=invoice_edit)


def _parts(text: str) -> list[str]:
    parts = [part.strip() for part in text.split("|")]
    if len(parts) != 5:
        raise CommandError(f"A line is five parts separated by '|' ({LINE_FIELDS}); got {len(parts)} in {text!r}.")
    return parts


def _number(text: str, what: str) -> Decimal:
    try:
        return parse_amount(text)
    except ValueError as exc:
        raise CommandError(f"{what}: {exc}") from None


def _line(parts: list[str], base: drafts.LineEdit, currency: str) -> drafts.LineEdit:
    description, quantity, unit, price, rate = parts
    return drafts.LineEdit(
        description=description or base.description,
        quantity=_number(quantity, "quantity") if quantity else base.quantity,
        unit=unit or base.unit,
        unit_price=to_minor(_number(price, "unit price"), currency) if price else base.unit_price,
        vat_rate=_number(rate, "VAT rate") if rate else base.vat_rate,
        id=base.id,
    )


def edited_lines(args, invoice) -> list[drafts.LineEdit] | None:
    if not (args.set_line or args.add_line or args.remove_line):
        return None
    lines = [
        drafts.LineEdit(ln.description, ln.quantity, ln.unit, ln.unit_price, ln.vat_rate, ln.id)
        for ln in svc.invoice_lines(invoice)
    ]

    def position(n: int) -> int:
        if not 1 <= n <= len(lines):
            raise CommandError(f"Invoice {invoice.number} has lines 1 to {len(lines)}; there is no line {n}.")
        return n - 1

    for n, text in args.set_line or []:
        try:
            at = position(int(n))
        except ValueError:
            raise CommandError(f"--set-line: {n!r} is not a line number.") from None
        lines[at] = _line(_parts(text), lines[at], invoice.currency)
    empty = drafts.LineEdit("", Decimal(1), "", 0)
    added = [_line(_parts(text), empty, invoice.currency) for text in args.add_line or []]
    for at in sorted({position(n) for n in args.remove_line or []}, reverse=True):
        del lines[at]
    return lines + added


def invoice_edit(args) -> int:
    invoice = svc.find_invoice(args.number)
    given = {key: getattr(args, f"customer_{key}") for key in CUSTOMER_OPTIONS}
    customer = {key: value for key, value in given.items() if value is not None}
    lines = edited_lines(args, invoice)
    if not any((args.date, args.due, args.taxable, args.note is not None, customer, lines is not None)):
        raise CommandError("Nothing to change: give --date, --due, --taxable, --note, --customer-* or a line option.")
    invoice = drafts.update_draft(
        invoice,
        issued_on=args.date,
        due_on=args.due,
        taxable_supply_on=args.taxable,
        note=args.note,
        customer=customer or None,
        lines=lines,
    )
    say(
        f"Draft {invoice.number} saved: {from_minor(invoice.total, invoice.currency)} {invoice.currency}, "
        f"issued {invoice.issued_on.isoformat()}, due {invoice.due_on.isoformat()}."
    )
    return 0
