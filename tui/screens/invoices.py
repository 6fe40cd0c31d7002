"""Invoices: list with status filter, the new-invoice wizard, detail, status changes, PDF export."""

from __future__ import annotations

from datetime import date

from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Button, Checkbox, DataTable, Label, ProgressBar, Select, Static
from textual.worker import get_current_worker

from core.billing import invoice_status as status_svc
from core.billing import invoicing as svc
from core.billing import payments
from core.billing.clients import get_client, list_clients
from core.store.states import InvoiceStatus
from core.values.dates import parse_date
from core.values.validation import ValidationError
from tui.i18n import TranslatedBindings, _, day, money, ngettext, said
from tui.screens.base import SectionScreen
from tui.screens.draft_editor import DraftEditor, line_cells, line_columns
from tui.widgets.confirm import Confirm
from tui.widgets.detail import DetailScreen
from tui.widgets.filters import chosen
from tui.widgets.inputs import DateInput
from tui.widgets.paged_table import Col, PagedTable
from tui.widgets.share import ShareLinkScreen
from tui.widgets.shown import label, markup, plain, plain_lines
from tui.widgets.tables import PlainDataTable, styled

STATUS_FILTERS = [
    ("All", ""),
    ("Draft", InvoiceStatus.DRAFT),
    ("Sent", InvoiceStatus.SENT),
    ("Overdue", "overdue"),
    ("Paid", InvoiceStatus.PAID),
    ("Cancelled", InvoiceStatus.CANCELLED),
]


class NewInvoiceScreen(TranslatedBindings, ModalScreen):
    """Pick a client and an end date, see the lines and total, then create the draft."""

    BINDINGS = [Binding("ctrl+s", "create", "Create draft", priority=True), Binding("escape", "cancel", "Cancel")]

    def compose(self) -> ComposeResult:
        clients = [(label(c.name), c.id) for c in list_clients()]
        with Vertical(classes="dialog wizard-dialog"):
            yield Static(_("New invoice"), classes="dialog-title")
            with Horizontal(classes="filters"):
                yield Select(clients, prompt=_("Client"), id="wizard-client")
                yield DateInput(date.today().isoformat(), id="wizard-until")
                yield Checkbox(_("One line per entry"), id="wizard-per-entry")
            yield Static("", id="wizard-error", classes="error hidden")
            yield PlainDataTable(id="wizard-lines", cursor_type="row")
            yield Static("", id="wizard-total", classes="total")
            with Horizontal(classes="buttons"):
                yield Button(_("Create draft") + " (ctrl+s)", id="create", variant="primary")
                yield Button(_("Cancel") + " (esc)", id="cancel")

    def on_mount(self) -> None:
        self.query_one("#wizard-lines", DataTable).add_columns(*line_columns())
        self.query_one("#wizard-client", Select).focus()

    def _inputs(self):
        client_id = chosen(self.query_one("#wizard-client", Select), None)
        if client_id is None:
            raise ValidationError(_("Choose a client."))
        client = get_client(client_id)
        if client is None:
            raise ValidationError(_("Choose a client."))
        text = self.query_one("#wizard-until", DateInput).value
        until = parse_date(text) if text.strip() else None
        return client, until, self.query_one("#wizard-per-entry", Checkbox).value

    def _show_error(self, message: str) -> None:
        error = self.query_one("#wizard-error", Static)
        error.update(plain_lines(message))
        error.set_class(not message, "hidden")

    def preview(self) -> None:
        table = self.query_one("#wizard-lines", DataTable)
        table.clear()
        total = self.query_one("#wizard-total", Static)
        try:
            client, until, per_entry = self._inputs()
        except ValidationError as exc:
            self._show_error(said(exc))
            total.update("")
            return
        self._show_error("")
        draft = svc.preview_invoice(client, until=until, per_entry=per_entry)
        for line in draft.lines:
            table.add_row(*line_cells(line, draft.currency, line.amount))
        if not draft.lines:
            total.update(plain(_("{client} has nothing unbilled up to this date.").format(client=client.name)))
            return
        parts = [f"{_('Entries')}: {draft.entry_count}"]
        if draft.vat_payer:
            parts.append(f"{_('Subtotal')}: {money(draft.totals.subtotal, draft.currency)}")
            parts.append(
                f"{_('VAT')}: {money(draft.totals.vat_total, draft.currency)}"
                + (f" ({_('reverse charge')})" if draft.reverse_charge else "")
            )
        parts.append(f"[b]{_('Total')}: {money(draft.totals.total, draft.currency)}[/b]")
        total.update("   ".join(parts))

    def on_select_changed(self, event) -> None:
        self.preview()

    def on_checkbox_changed(self, event) -> None:
        self.preview()

    def on_input_changed(self, event) -> None:
        if event.validation_result is None or event.validation_result.is_valid:
            self.preview()

    def on_button_pressed(self, event: Button.Pressed) -> None:
        self.action_create() if event.button.id == "create" else self.action_cancel()

    def action_create(self) -> None:
        try:
            client, until, per_entry = self._inputs()
            invoice = svc.create_invoice(client, until=until, per_entry=per_entry)
        except (ValidationError, svc.InvoiceError) as exc:
            self._show_error(said(exc))
            return
        self.dismiss(invoice)

    def action_cancel(self) -> None:
        self.dismiss(None)


def share_invoice(app, invoice) -> None:
    """Make a share link to ``invoice`` and show it once; a draft is refused with core's sentence (raised:
    the app's run_action shows it)."""
    from core.sharing.links import create_invoice_link, share_url

    link, token = create_invoice_link(invoice.number)
    app.push_screen(
        ShareLinkScreen(
            _("Share link: invoice {number}").format(number=invoice.number),
            share_url(token),
            link.expires_at,
            _("This link is shown only now; anyone with it can see the invoice."),
        )
    )


class InvoiceDetailScreen(DetailScreen):
    BINDINGS = [Binding("l", "share", "Share link")]

    def __init__(self, invoice):
        super().__init__()
        self.invoice = invoice

    def compose(self) -> ComposeResult:
        inv = self.invoice
        cur = inv.currency
        paid = payments.amount_paid(inv)
        with Vertical(classes="dialog detail-dialog"):
            yield Static(plain(f"{_('Invoice')} {inv.number} · {_(svc.display_status(inv))}"), classes="dialog-title")
            with VerticalScroll():
                yield Static(
                    markup(
                        f"{_('Client')}: [b]$client[/b]\n"
                        f"{_('Issued')}: {day(inv.issued_on)}   {_('Due')}: {day(inv.due_on)}   "
                        f"{_('Taxable supply')}: {day(inv.taxable_supply_on)}\n"
                        f"{_('Variable symbol')}: $symbol",
                        client=inv.client.name,
                        symbol=inv.variable_symbol,
                    )
                )
                lines = PlainDataTable(id="detail-lines", cursor_type="none")
                yield lines
                totals = svc.invoice_totals(inv)
                summary = []
                if inv.vat_payer:
                    for r in totals.per_rate:
                        summary.append(
                            f"{_('VAT')} {r.rate} %: {_('base')} {money(r.base, cur)}, {_('VAT')} {money(r.vat, cur)}"
                        )
                    if inv.reverse_charge:
                        summary.append(_("Reverse charge"))
                summary.append(f"[b]{_('Total')}: {money(inv.total, cur)}[/b]")
                summary.append(
                    f"{_('Paid')}: {money(paid, cur)}   {_('Still due')}: {money(payments.amount_due(inv), cur)}"
                )
                yield Static("\n".join(summary), classes="total")
                yield Label(_("Payments"), classes="pane-title")
                payment_table = PlainDataTable(id="detail-payments", cursor_type="none")
                yield payment_table
            yield Static(_("l: share link · esc: close"), classes="form-help")

    def on_mount(self) -> None:
        inv = self.invoice
        lines = self.query_one("#detail-lines", DataTable)
        lines.add_columns(*line_columns())
        for line in svc.invoice_lines(inv):
            lines.add_row(*line_cells(line, inv.currency, line.amount))
        payment_table = self.query_one("#detail-payments", DataTable)
        payment_table.add_columns(_("Date"), _("Amount"), _("Source"), _("Reference"))
        for tx in svc.invoice_payments(inv):
            payment_table.add_row(day(tx.transacted_on), money(tx.amount, tx.currency), tx.source, tx.reference or "—")
        if not payment_table.row_count:
            payment_table.add_row("—", _("no payments yet"), "", "")

    def action_share(self) -> None:
        share_invoice(self.app, self.invoice)


class InvoicesScreen(SectionScreen):
    SECTION = "invoices"
    TITLE_MSGID = "Invoices"
    # The footer shows the most used first; the rarer ones are on the help screen (?) and in the palette.
    BINDINGS = [
        Binding("n", "new_invoice", "New invoice"),
        Binding("S", "send", "Mark sent"),
        Binding("P", "pay", "Mark paid"),
        Binding("e", "export", "Export PDF"),
        Binding("X", "cancel_invoice", "Cancel invoice", show=False),
        Binding("D", "delete_draft", "Delete draft", show=False),
        Binding("E", "export_all", "Export all listed", show=False),
        Binding("l", "share", "Share link", show=False),
    ]

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self._row_status: dict[int, str] = {}  # invoice id -> stored status, of the rows read

    def body(self) -> ComposeResult:
        with Vertical(id="invoices"):
            with Horizontal(classes="filters"):
                yield Select(
                    [(_(label), value) for label, value in STATUS_FILTERS],
                    value="",
                    allow_blank=False,
                    id="filter-status",
                )
            yield PagedTable(
                self.fetch,
                [
                    Col(_("Number"), "number"),
                    Col(_("Client"), "client", cut_to=12),
                    Col(_("Status"), "status"),
                    Col(_("Issued"), "issued", give=2),
                    Col(_("Due"), "due", give=1),
                    Col(_("Total"), "total"),
                    Col(_("Still due"), "due_amount"),
                ],
                signature="all",
                id="invoice-list",
            )
            with Horizontal(id="export-progress", classes="hidden"):
                yield Label(_("Exporting PDFs"))
                yield ProgressBar(id="export-bar", show_eta=False)

    def on_mount(self) -> None:
        super().on_mount()
        self.query_one("#invoice-list", PagedTable).focus()

    def _status(self) -> str | None:
        return chosen(self.query_one("#filter-status", Select)) or None

    def fetch(self, offset: int, limit: int):
        today = date.today()
        rows = []
        if offset == 0:
            self._row_status = {}  # read again from the first page
        for inv in svc.invoices_query(self._status()).limit(limit).offset(offset):
            self._row_status[inv.id] = inv.status  # what the footer offers for the row (check_action)
            status = svc.display_status(inv, today)
            label = styled(_(status), "bold red") if status == "overdue" else _(status)
            rows.append(
                (
                    inv.id,
                    [
                        inv.number,
                        inv.client.name,
                        label,
                        day(inv.issued_on),
                        day(inv.due_on),
                        money(inv.total, inv.currency),
                        money(inv.still_due, inv.currency),
                    ],
                )
            )
        return rows

    def on_select_changed(self, event: Select.Changed) -> None:
        self.query_one(PagedTable).set_fetch(self.fetch, self._status() or "all")

    def refresh_data(self) -> None:
        self.query_one(PagedTable).reload()
        self.refresh_bindings()

    @staticmethod
    def EXTRA_HELP_ROWS():
        return [("enter", _("Detail; a draft opens for editing"))]

    def on_data_table_row_selected(self, event) -> None:
        if event.data_table.id == "invoice-list":
            self.action_detail()

    def selected(self):
        """The invoice under the cursor (read again: it may have changed), or None."""
        key = self.query_one(PagedTable).selected_key()
        return svc.get_invoice(int(key)) if key else None

    def action_new_invoice(self) -> None:
        def created(invoice) -> None:
            if invoice is not None:
                self.notify(_("Draft invoice {number} created.").format(number=invoice.number))
                self.refresh_data()

        self.app.push_screen(NewInvoiceScreen(), created)

    def action_detail(self) -> None:
        invoice = self.selected()
        if invoice is None:
            return
        if invoice.status != InvoiceStatus.DRAFT:
            self.app.push_screen(InvoiceDetailScreen(invoice))
            return

        def saved(edited) -> None:
            if edited is not None:
                self.notify(_("Draft {number} saved.").format(number=edited.number))
                self.refresh_data()

        self.app.push_screen(DraftEditor(invoice), saved)

    # "Mark paid" and "Mark sent" are offered for the invoices they apply to (a draft is not paid; a
    # sent one is not sent again): the footer follows the row under the cursor.
    def on_data_table_row_highlighted(self, event) -> None:
        if event.data_table.id == "invoice-list":
            self.refresh_bindings()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action not in ("pay", "send", "delete_draft"):
            return super().check_action(action, parameters)
        status = self._highlighted_status()
        if status is None:
            return True
        draft = status == InvoiceStatus.DRAFT
        return {"pay": status == InvoiceStatus.SENT, "send": draft, "delete_draft": draft}[action]

    def _highlighted_status(self) -> str | None:
        """The stored status of the row under the cursor, as its page was read (None: no row yet)."""
        tables = self.query(PagedTable)
        key = tables.first().selected_key() if tables else None
        return self._row_status.get(int(key)) if key else None

    def _confirm_then(
        self, question: str, label: str, action, done_message: str, *, danger: bool = False, invoice=None, **values
    ) -> None:
        invoice = invoice or self.selected()
        if invoice is None:
            return

        def answered(yes: bool | None) -> None:
            if not yes:
                return
            try:
                action(invoice)
            except svc.InvoiceError as exc:
                self.notify(said(exc), severity="error")
                return
            self.notify(done_message.format(number=invoice.number))
            self.refresh_data()

        self.app.push_screen(
            Confirm(question.format(number=invoice.number, client=invoice.client.name, **values), label, danger=danger),
            answered,
        )

    def action_send(self) -> None:
        self._confirm_then(
            _("Mark invoice {number} for {client} as sent?"),
            _("Mark sent"),
            status_svc.mark_sent,
            _("Invoice {number} marked sent."),
        )

    def action_pay(self) -> None:
        self._confirm_then(
            _("Mark invoice {number} for {client} as paid today?"),
            _("Mark paid"),
            status_svc.mark_paid,
            _("Invoice {number} marked paid."),
        )

    def action_cancel_invoice(self) -> None:
        invoice = self.selected()
        if invoice is None:
            return
        paid_in = svc.invoice_payments(invoice)
        if not paid_in:
            self._confirm_then(
                _("Cancel invoice {number} for {client}? Its entries become unbilled again."),
                _("Cancel invoice"),
                status_svc.cancel_invoice,
                _("Invoice {number} cancelled."),
                danger=True,
                invoice=invoice,
            )
            return
        # Said before, not after: cancelling unlinks the payments, and the person decides knowing it.
        self._confirm_then(
            ngettext(
                "Cancel invoice {number} for {client}? {paid} is linked to it from {count} bank movement: "
                "cancelling unlinks it and puts it back to review on the Bank screen, to link elsewhere. Its "
                "entries become unbilled again.",
                "Cancel invoice {number} for {client}? {paid} is linked to it from {count} bank movements: "
                "cancelling unlinks them and puts them back to review on the Bank screen, to link elsewhere. Its "
                "entries become unbilled again.",
                len(paid_in),
            ),
            _("Cancel and unlink"),
            lambda inv: status_svc.cancel_invoice(inv, unlink_payments=True),
            _("Invoice {number} cancelled; its payments are back to review on the Bank screen."),
            danger=True,
            invoice=invoice,
            paid=money(payments.amount_paid(invoice), invoice.currency),
            count=len(paid_in),
        )

    def action_delete_draft(self) -> None:
        self._confirm_then(
            _("Delete draft {number} for {client}? Its entries become unbilled again."),
            _("Delete"),
            status_svc.delete_draft,
            _("Draft {number} deleted."),
            danger=True,
        )

    def action_share(self) -> None:
        invoice = self.selected()
        if invoice is not None:
            share_invoice(self.app, invoice)

    def action_export(self) -> None:
        invoice = self.selected()
        if invoice:
            self.export([invoice.id])

    def action_export_all(self) -> None:
        ids = svc.invoice_ids(self._status())
        if not ids:
            self.notify(_("No invoices are listed."), severity="warning")
            return
        self.export(ids)

    def export(self, invoice_ids: list[int]) -> None:
        panel = self.query_one("#export-progress")
        panel.remove_class("hidden")
        bar = self.query_one("#export-bar", ProgressBar)
        bar.update(total=len(invoice_ids), progress=0)
        self.run_export(invoice_ids, svc.exports_dir())

    @work(thread=True, exclusive=True, exit_on_error=False, group="pdf-export")
    def run_export(self, invoice_ids: list[int], out_dir) -> None:
        worker = get_current_worker()
        bar = self.query_one("#export-bar", ProgressBar)
        try:

            def progress(done: int, total: int) -> None:
                if worker.is_cancelled:
                    raise InterruptedError
                self.app.call_from_thread(bar.update, progress=done)

            written = svc.export_pdfs(invoice_ids, out_dir, progress=progress)
            where = written[0] if len(written) == 1 else out_dir
            self.app.call_from_thread(
                self.notify, _("Exported {count} PDF(s) to {path}").format(count=len(written), path=where), timeout=10
            )
        except Exception as exc:  # noqa: BLE001 (a failed export must not close the app)
            self.app.call_from_thread(
                self.notify, _("PDF export failed: {error}").format(error=said(exc)), severity="error", timeout=10
            )
        finally:
            self.app.call_from_thread(self.query_one("#export-progress").add_class, "hidden")
