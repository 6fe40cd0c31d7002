"""Bank transactions: filters, detail with the raw movement, link/unlink/ignore by hand."""

from __future__ import annotations

import json

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import DataTable, Select, Static

from core.banking import matching
from core.billing.invoicing import get_invoice
from core.billing.timesheet import PERIOD_CHOICES, period_bounds
from core.store.states import MatchStatus
from tui.i18n import TranslatedBindings, _, day, money, said
from tui.screens.base import SectionScreen
from tui.widgets.confirm import Confirm
from tui.widgets.detail import DetailScreen
from tui.widgets.filters import chosen, refresh_choices
from tui.widgets.paged_table import Col, PagedTable
from tui.widgets.shown import label, plain, plain_lines, shown
from tui.widgets.tables import PlainDataTable, styled

STATUS_FILTERS = [
    ("All", ""),
    ("Unmatched", MatchStatus.UNMATCHED),
    ("Needs review", MatchStatus.REVIEW),
    ("Matched", MatchStatus.MATCHED),
    ("Ignored", MatchStatus.IGNORED),
]


class TransactionDetailScreen(DetailScreen):
    def __init__(self, tx):
        super().__init__()
        self.tx = tx

    def compose(self) -> ComposeResult:
        t = self.tx
        sign = "-" if t.transaction_type == "expense" else ""
        with Vertical(classes="dialog detail-dialog"):
            yield Static(plain(f"{_('Transaction')} {t.id} · {t.source} · {_(t.match_status)}"), classes="dialog-title")
            with VerticalScroll():
                # Each stored value made one line (shown): a value with line breaks cannot fake another field.
                yield Static(
                    plain_lines(
                        f"{_('Date')}: {day(t.transacted_on)}   {_('Amount')}: {sign}{money(t.amount, t.currency)}\n"
                        f"{_('Counterparty')}: {shown(t.counterparty) or '—'}  {shown(t.counterparty_account)}\n"
                        f"{_('Variable symbol')}: {shown(t.reference) or '—'}\n"
                        f"{_('Message')}: {shown(t.description) or '—'}\n"
                        f"{_('Invoice')}: {shown(t.invoice.number) if t.invoice_id else '—'}"
                    )
                )
                yield Static(_("How it was matched"), classes="pane-title")
                yield Static(
                    plain_lines(json.dumps(t.match_note, ensure_ascii=False, indent=2) if t.match_note else "—")
                )
                yield Static(_("Raw movement"), classes="pane-title")
                yield Static(plain_lines(json.dumps(t.raw_data, ensure_ascii=False, indent=2) if t.raw_data else "—"))


class InvoicePickerScreen(TranslatedBindings, ModalScreen):
    """Candidates for a transaction, best first, with the evidence."""

    BINDINGS = [Binding("escape", "cancel", "Cancel")]

    def __init__(self, tx):
        super().__init__()
        self.tx = tx
        self.candidates = matching.candidates_for(tx)

    def compose(self) -> ComposeResult:
        t = self.tx
        with Vertical(classes="dialog wizard-dialog"):
            yield Static(
                plain(
                    _("Which invoice does this pay?")
                    + f"  {money(t.amount, t.currency)} · VS {shown(t.reference) or '—'}"
                    f" · {shown(t.description, 50)}"
                ),
                classes="dialog-title",
            )
            yield PlainDataTable(id="picker", cursor_type="row")
            yield Static(_("enter picks the invoice, escape cancels."), classes="form-help")

    def on_mount(self) -> None:
        table = self.query_one(DataTable)
        table.add_columns(_("Invoice"), _("Client"), _("Status"), _("Total"), _("Due"), _("Evidence"))
        for inv, _score, evidence in self.candidates:
            table.add_row(
                inv.number,
                inv.client.name,
                _(inv.status),
                money(inv.total, inv.currency),
                day(inv.due_on),
                ", ".join(said(item) for item in evidence) or "—",
                key=str(inv.id),
            )
        table.focus()

    def on_data_table_row_selected(self, event: DataTable.RowSelected) -> None:
        self.dismiss(get_invoice(int(event.row_key.value)))

    def action_cancel(self) -> None:
        self.dismiss(None)


class BankScreen(SectionScreen):
    SECTION = "bank"
    TITLE_MSGID = "Bank transactions"
    BINDINGS = [
        Binding("l", "link", "Link to invoice"),
        Binding("u", "unlink", "Unlink"),
        Binding("g", "ignore", "Ignore/restore"),
        Binding("m", "match", "Match now"),
    ]

    def body(self) -> ComposeResult:
        with Vertical(id="bank"):
            with Horizontal(classes="filters"):
                yield Select(
                    [(_(label), value) for label, value in STATUS_FILTERS],
                    value="",
                    allow_blank=False,
                    id="filter-status",
                )
                yield Select(
                    [(_("All sources"), "")] + [(label(s), s) for s in matching.transaction_sources()],
                    value="",
                    allow_blank=False,
                    id="filter-source",
                )
                yield Select(
                    [(_(label), value) for label, value in PERIOD_CHOICES],
                    value="all",
                    allow_blank=False,
                    id="filter-period",
                )
            yield PagedTable(
                self.fetch,
                [
                    Col(_("Date"), "date"),
                    Col(_("Source"), "source", give=3),
                    Col(_("Amount"), "amount"),
                    Col(_("VS"), "vs", give=2),
                    Col(_("Counterparty"), "counterparty", give=1, cut_to=10),
                    Col(_("Message"), "message", give=4, cut_to=12, fill=True),
                    Col(_("Status"), "status"),
                    Col(_("Invoice"), "invoice"),
                ],
                signature=("", "", "all"),
                id="tx-list",
            )

    def on_mount(self) -> None:
        super().on_mount()
        self.query_one(PagedTable).focus()

    @staticmethod
    def EXTRA_HELP_ROWS():
        return [("enter", _("Detail"))]

    def _filters(self) -> tuple:
        return (
            chosen(self.query_one("#filter-status", Select)),
            chosen(self.query_one("#filter-source", Select)),
            chosen(self.query_one("#filter-period", Select), "all"),
        )

    def fetch(self, offset: int, limit: int):
        status, source, period = self._filters()
        since, until = period_bounds(period)
        rows = []
        query = matching.transactions_query(status=status or None, source=source or None, since=since, until=until)
        for t in query.limit(limit).offset(offset):
            sign = "-" if t.transaction_type == "expense" else ""
            status = (
                styled(_(t.match_status), "bold yellow") if t.match_status == MatchStatus.REVIEW else _(t.match_status)
            )
            rows.append(
                (
                    t.id,
                    [
                        day(t.transacted_on),
                        t.source,
                        f"{sign}{money(t.amount, t.currency)}",
                        t.reference or "",
                        shown(t.counterparty, 28),
                        shown(t.description, 40),
                        status,
                        t.invoice.number if t.invoice_id else "",
                    ],
                )
            )
        return rows

    def on_select_changed(self, event) -> None:
        self.query_one(PagedTable).set_fetch(self.fetch, self._filters())

    def refresh_data(self) -> None:
        # A sync may have brought a new source: refresh the filter's choices too.
        refresh_choices(self.query_one("#filter-source", Select), _("All sources"), matching.transaction_sources())
        self.query_one(PagedTable).reload()

    def selected(self):
        """The transaction under the cursor (read again, with its invoice), or None."""
        key = self.query_one(PagedTable).selected_key()
        return matching.get_transaction(int(key)) if key else None

    def on_data_table_row_selected(self, event) -> None:
        tx = self.selected()
        if tx:
            self.app.push_screen(TransactionDetailScreen(tx))

    def _do(self, action, done: str) -> None:
        try:
            action()
        except matching.MatchError as exc:
            self.notify(said(exc), severity="error")
            return
        self.notify(done)
        self.refresh_data()

    def action_link(self) -> None:
        tx = self.selected()
        if tx is None:
            return
        if tx.invoice_id is not None:
            self.notify(
                _("This transaction already pays invoice {number}; unlink it first (u).").format(
                    number=tx.invoice.number
                ),
                severity="warning",
            )
            return

        def picked(invoice) -> None:
            if invoice is None:
                return

            def confirmed(yes: bool | None) -> None:
                if yes:
                    self._do(
                        lambda: matching.link(tx, invoice),
                        _("Transaction linked to invoice {number}.").format(number=invoice.number),
                    )

            self.app.push_screen(
                Confirm(
                    _("Record {amount} as a payment of invoice {number}?").format(
                        amount=money(tx.amount, tx.currency), number=invoice.number
                    ),
                    _("Link"),
                    danger=False,
                ),
                confirmed,
            )

        self.app.push_screen(InvoicePickerScreen(tx), picked)

    def action_unlink(self) -> None:
        tx = self.selected()
        if tx is None or tx.invoice_id is None:
            self.notify(_("This transaction is not linked to an invoice."), severity="warning")
            return
        number = tx.invoice.number

        def confirmed(yes: bool | None) -> None:
            if yes:
                self._do(lambda: matching.unlink(tx), _("Unlinked from invoice {number}.").format(number=number))

        self.app.push_screen(
            Confirm(_("Remove this payment from invoice {number}?").format(number=number), _("Unlink")), confirmed
        )

    def action_ignore(self) -> None:
        tx = self.selected()
        if tx is None:
            return
        restore = tx.match_status == MatchStatus.IGNORED
        question = (
            _("Make this transaction unmatched again?")
            if restore
            else _("Mark this transaction as not an invoice payment?")
        )

        def confirmed(yes: bool | None) -> None:
            if yes:
                self._do(lambda: matching.ignore(tx, not restore), _("Restored.") if restore else _("Ignored."))

        self.app.push_screen(Confirm(question, _("Restore") if restore else _("Ignore"), danger=False), confirmed)

    def action_match(self) -> None:
        report = matching.match_transactions()
        self.notify(
            _("Matched {matched}, {review} need review; paid: {paid}.").format(
                matched=len(report.matched), review=len(report.review), paid=", ".join(report.paid_invoices) or "—"
            )
        )
        self.refresh_data()
