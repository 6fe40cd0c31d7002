"""Editing a draft invoice: its dates, note, the customer's details as issued, and its lines.

Nothing is written until ctrl+s: the lines are edited in memory (a line dialog per line) and saved
with the rest in one ``drafts.update_draft`` call, which checks everything and recomputes the totals.
Escape with edits asks (save / discard / stay), like every form.
"""

from __future__ import annotations

from dataclasses import replace
from decimal import Decimal
from typing import Any

from textual.app import ComposeResult
from textual.binding import Binding
from textual.widgets import DataTable, Label, Static

from core.billing import drafts
from core.billing.invoicing import invoice_lines
from core.billing.totals import compute_totals, line_amount
from core.errors import FakturkaError
from core.values.dates import parse_date
from core.values.forms import FormErrors
from core.values.money import from_minor, parse_amount, to_minor
from tui.i18n import _, money, quantity
from tui.widgets.form import FormField, FormScreen
from tui.widgets.tables import PlainDataTable

CUSTOMER_FIELDS = [  # (key in the customer snapshot, label msgid, form kind)
    ("name", "Name", "text"),
    ("address", "Address", "textarea"),
    ("ico", "Company ID (IČO)", "text"),
    ("dic", "VAT ID (DIČ)", "text"),
    ("email", "E-mail", "text"),
]


def draft_fields(invoice) -> list[FormField]:
    """The draft's own fields: dates, note and the customer's details as they will be issued."""
    customer = invoice.customer or {}
    fields = [
        FormField("issued_on", _("Issued"), "date", invoice.issued_on.isoformat()),
        FormField("taxable_supply_on", _("Taxable supply"), "date", invoice.taxable_supply_on.isoformat()),
        FormField("due_on", _("Due"), "date", invoice.due_on.isoformat()),
        FormField("note", _("Note on the invoice"), "textarea", invoice.note or ""),
    ]
    fields += [
        FormField(f"customer_{key}", _("Customer") + ": " + _(msgid), kind, customer.get(key) or "")
        for key, msgid, kind in CUSTOMER_FIELDS
    ]
    return fields


def line_columns() -> list[str]:
    return [_("Description"), _("Quantity"), _("Unit"), _("Unit price"), _("VAT %"), _("Amount")]


def line_cells(line, currency: str, amount: int) -> list[str]:
    """An invoice line as the wizard, the detail and the draft editor show it (under line_columns())."""
    return [
        line.description,
        quantity(line.quantity),
        line.unit,
        money(line.unit_price, currency),
        str(line.vat_rate),
        money(amount, currency),
    ]


def line_fields(line: drafts.LineEdit, currency: str) -> list[FormField]:
    return [
        FormField("description", _("Description"), value=line.description, required=True),
        FormField("quantity", _("Quantity"), "money", str(line.quantity), required=True),
        FormField("unit", _("Unit"), value=line.unit),
        FormField(
            "unit_price", _("Unit price") + f" ({currency})", "money", str(from_minor(line.unit_price, currency))
        ),
        FormField("vat_rate", _("VAT rate (%)"), "money", str(line.vat_rate)),
    ]


def _number(values: dict[str, Any], key: str, errors: dict[str, str]) -> Decimal:
    try:
        return parse_amount(str(values.get(key) or "0"))
    except FakturkaError as exc:
        errors[key] = exc.args[0] if exc.args else str(exc)
        return Decimal(0)


def read_line(values: dict[str, Any], line: drafts.LineEdit, currency: str) -> drafts.LineEdit:
    """The line dialog's values as a LineEdit (keeping the line's id); FormErrors names each wrong field."""
    errors: dict[str, str] = {}
    description = str(values.get("description") or "").strip()
    if not description:
        errors["description"] = _("A line needs a description.")
    quantity = _number(values, "quantity", errors)
    if "quantity" not in errors and quantity <= 0:
        errors["quantity"] = _("The quantity must be above zero.")
    price = _number(values, "unit_price", errors)
    if "unit_price" not in errors and price < 0:
        errors["unit_price"] = _("The unit price cannot be negative.")
    rate = _number(values, "vat_rate", errors)
    if errors:
        raise FormErrors(errors)
    return replace(
        line,
        description=description,
        quantity=quantity,
        unit=str(values.get("unit") or "").strip(),
        unit_price=to_minor(price, currency),
        vat_rate=rate,
    )


class DraftEditor(FormScreen):
    """A form (the draft's own fields) with its lines above them. Dismisses with the saved invoice, or None."""

    DIALOG_CLASSES = "dialog draft-dialog"
    SCROLL_CLASSES = "draft-scroll"
    BINDINGS = [
        Binding("a", "add_line", "Add line"),
        Binding("delete", "remove_line", "Remove line"),
    ]

    def __init__(self, invoice):
        super().__init__(_("Edit draft {number}").format(number=invoice.number), draft_fields(invoice), self.save)
        self.invoice = invoice
        self.currency = invoice.currency
        self.lines = [
            drafts.LineEdit(line.description, line.quantity, line.unit, line.unit_price, line.vat_rate, line.id)
            for line in invoice_lines(invoice)
        ]
        self._saved_lines = list(self.lines)

    def above_form(self) -> ComposeResult:
        # The lines first: what a draft is most often opened for.
        yield Label(_("Lines") + "  " + _("(enter edits, a adds, delete removes)"), classes="pane-title")
        yield PlainDataTable(id="draft-lines", cursor_type="row")
        yield Static("", id="draft-total", classes="total")

    def on_mount(self) -> None:  # before FormScreen's, which focuses first_focus()
        self.query_one("#draft-lines", DataTable).add_columns(*line_columns())
        self.show_lines()

    def first_focus(self):
        return self.query_one("#draft-lines", DataTable)

    def show_lines(self, cursor: int | None = None) -> None:
        table = self.query_one("#draft-lines", DataTable)
        table.clear()
        amounts = [line_amount(Decimal(line.quantity), line.unit_price) for line in self.lines]
        for line, amount in zip(self.lines, amounts, strict=True):
            table.add_row(*line_cells(line, self.currency, amount))
        if cursor is not None and self.lines:
            table.move_cursor(row=min(cursor, len(self.lines) - 1))
        inv = self.invoice
        totals = compute_totals(
            [(amount, Decimal(line.vat_rate)) for line, amount in zip(self.lines, amounts, strict=True)],
            vat_payer=bool(inv.vat_payer),
            reverse_charge=bool(inv.reverse_charge),
        )
        parts = []
        if inv.vat_payer:
            parts.append(f"{_('Subtotal')}: {money(totals.subtotal, self.currency)}")
            parts.append(f"{_('VAT')}: {money(totals.vat_total, self.currency)}")
        parts.append(f"[b]{_('Total')}: {money(totals.total, self.currency)}[/b]")
        self.query_one("#draft-total", Static).update("   ".join(parts))

    # -- lines ---------------------------------------------------------------------------------------

    def _line_table_focused(self) -> bool:
        return self.focused is self.query_one("#draft-lines", DataTable)

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        # a / delete act on the lines only while the lines have the focus (in a field they type).
        if action in ("add_line", "remove_line"):
            return self._line_table_focused()
        return True

    def on_descendant_focus(self, event) -> None:
        self.refresh_bindings()

    def on_data_table_row_selected(self, event: DataTable.RowSelected) -> None:
        if event.data_table.id == "draft-lines":
            self.edit_line(event.cursor_row)

    def edit_line(self, index: int | None) -> None:
        """Open the line dialog for line ``index`` (None: a new line at the end)."""
        if index is None:
            last = self.lines[-1] if self.lines else None
            line = drafts.LineEdit("", Decimal(1), last.unit if last else "", 0, last.vat_rate if last else Decimal(0))
            title = _("New line")
        else:
            line = self.lines[index]
            title = _("Line {position}").format(position=index + 1)

        def submit(values: dict) -> drafts.LineEdit:
            return read_line(values, line, self.currency)

        def done(edited: drafts.LineEdit | None) -> None:
            if edited is None:
                return
            if index is None:
                self.lines.append(edited)
            else:
                self.lines[index] = edited
            self.show_lines(len(self.lines) - 1 if index is None else index)
            self.query_one("#draft-lines", DataTable).focus()

        self.app.push_screen(FormScreen(title, line_fields(line, self.currency), submit), done)

    def action_add_line(self) -> None:
        self.edit_line(None)

    def action_remove_line(self) -> None:
        table = self.query_one("#draft-lines", DataTable)
        if not self.lines or table.cursor_row is None:
            return
        index = table.cursor_row
        del self.lines[index]
        self.show_lines(index)
        if not self.lines:
            self.notify(_("The draft needs at least one line before it is saved."), severity="warning")

    # -- save / leave ----------------------------------------------------------------------------------

    def changed(self) -> bool:
        return super().changed() or self.lines != self._saved_lines

    def save(self, values: dict[str, Any]):
        """The form's submit: everything in one ``update_draft`` (a refusal stays in the form, as any)."""
        dates = {key: parse_date(values[key], key) for key in ("issued_on", "taxable_supply_on", "due_on")}
        customer = {key: values[f"customer_{key}"] for key, _msgid, _kind in CUSTOMER_FIELDS}
        if customer == {key: (self.invoice.customer or {}).get(key) or "" for key in customer}:
            customer = {}  # untouched: sending copies the client as it is on that day
        return drafts.update_draft(self.invoice, note=values["note"], customer=customer, lines=self.lines, **dates)
