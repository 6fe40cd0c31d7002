"""The invoice document: each part of the page in order, from the invoice's data.

Layout (see docs/invoice-pdf.md): title and key dates; supplier and customer
side by side; the items table; payment details with the payment QR code next
to the totals; legal notes (non-payer, reverse charge) and the note; a footer
with the invoice number and page.

A draft is not a document yet: it says so in its title and subtitle, carries a
large diagonal DRAFT mark on every page, and has no payment QR code (nobody
should pay a draft). Sent, paid and cancelled invoices are drawn as before.
"""

from __future__ import annotations

from decimal import Decimal

from stdnum import iban as stdnum_iban

from core.billing import qr
from core.billing.pdf.fonts import FAMILY, fonts_for, latin_fonts, skip_bbox_recalc
from core.billing.pdf.page import (
    ACCENT,
    ACCENT_SOFT,
    COL_GAP,
    CONTENT_W,
    HALF_W,
    INK,
    MARGIN_B,
    MARGIN_L,
    MARGIN_R,
    MARGIN_T,
    MUTED,
    PAGE_H,
    RIGHT,
    WHITE,
    InvoicePDF,
    PagePrimitives,
)
from core.billing.pdf.qr_draw import draw_qr
from core.billing.totals import compute_totals
from core.store.states import InvoiceStatus
from core.values import i18n
from core.values.messages import Message

ROW_H = 4.6  # one table row (single-line description)
LINE_H = 3.6  # one extra line of a wrapped description
QR_SIZE = 31.0
TOTALS_W = 68.0  # the totals box at the right of the payment block


def _fmt_iban(value: str) -> str:
    return stdnum_iban.format(value) if value else ""


def _lines_of(text: str | None) -> list[str]:
    return [line.strip() for line in (text or "").splitlines() if line.strip()]


class InvoiceRenderer(PagePrimitives):
    def __init__(self, invoice):
        self.inv = invoice
        self.lang = i18n.normalize_language(invoice.language)
        self.sup = dict(invoice.supplier or {})
        self.cus = dict(invoice.customer or {})
        self.currency = (invoice.currency or "").upper()
        self.lines = self._load_lines()
        self.show_vat = bool(invoice.vat_payer) and not bool(invoice.reverse_charge)
        self.draft = invoice.status == InvoiceStatus.DRAFT
        self.totals = compute_totals(
            [(line.amount, Decimal(str(line.vat_rate))) for line in self.lines],
            vat_payer=bool(invoice.vat_payer),
            reverse_charge=bool(invoice.reverse_charge),
        )
        stored = (invoice.subtotal, invoice.vat_total, invoice.total)
        computed = (self.totals.subtotal, self.totals.vat_total, self.totals.total)
        if tuple(int(v or 0) for v in stored) != computed:
            raise ValueError(
                Message(
                    "Invoice {number}: stored totals {stored} do not match its lines {computed}; "
                    "recompute the totals before rendering.",
                    number=invoice.number,
                    stored=stored,
                    computed=computed,
                )
            )
        code = qr.payment_qr(invoice)  # also for a draft: a wrong IBAN is refused before anyone sends it
        self.qr = None if self.draft else code

    # helpers ------------------------------------------------------------------

    def _load_lines(self) -> list:
        lines = list(self.inv.lines)
        lines.sort(key=lambda line: (line.position, line.id or 0))
        return lines

    def t(self, msgid: str) -> str:
        return i18n.gettext(self.lang, msgid)

    def money(self, minor: int) -> str:
        return i18n.format_money(minor, self.currency, self.lang)

    def date(self, value) -> str:
        return i18n.format_date(value, self.lang)

    def unit(self, unit: str) -> str:
        return i18n.pgettext(self.lang, "unit", unit) if unit in ("h", "pcs") else unit

    def all_texts(self) -> list[str]:
        """Every piece of invoice data that reaches the page (for the font choice)."""
        texts = [str(v) for v in self.sup.values() if isinstance(v, str)]
        texts += [str(v) for v in self.cus.values() if isinstance(v, str)]
        texts += [line.description or "" for line in self.lines]
        texts += [line.unit or "" for line in self.lines]
        texts += [self.inv.note or "", str(self.inv.number)]
        if self.draft:
            texts += [
                self.t("DRAFT"),
                self.t("Draft invoice {number}"),
                self.t("Draft: not a tax document, do not pay"),
            ]
        return texts

    # the page -----------------------------------------------------------------

    def render(self) -> bytes:
        fonts = fonts_for(self.all_texts())
        pdf = self.pdf = InvoicePDF(orientation="P", unit="mm", format="A4")
        pdf.set_margins(MARGIN_L, MARGIN_T, MARGIN_R)
        pdf.set_auto_page_break(False)
        pdf.c_margin = 1.2
        pdf.add_font(FAMILY, "", fonts.regular)
        pdf.add_font(FAMILY, "B", fonts.bold)
        if fonts is latin_fonts():
            skip_bbox_recalc(pdf)
        title = (self.t("Draft invoice {number}") if self.draft else self.t("Invoice {number}")).format(
            number=self.inv.number
        )
        pdf.watermark = self.t("DRAFT") if self.draft else ""
        pdf.set_title(title)
        pdf.set_author(self.sup.get("name") or "")
        pdf.set_creator("Fakturka")
        pdf.set_lang(self.lang)
        pdf.footer_text = f"{title}  ·  " + self.t("Page {page} of {pages}").format(page="{page}", pages="{nb}")
        pdf.add_page()
        y = self.header(title)
        y = self.parties(y + 4)
        y = self.items(y + 4)
        y = self.payment_and_totals(y + 4)
        self.notes(y + 4)
        return bytes(pdf.output())

    def header(self, title: str) -> float:
        inv = self.inv
        self.font(19, "B", ACCENT)
        self.text(MARGIN_L, MARGIN_T - 1, HALF_W + 20, 9, title)
        if self.draft:  # never "Tax document" before it is one
            self.font(9, "B", MUTED)
            self.text(MARGIN_L, MARGIN_T + 8, HALF_W, 5, self.t("Draft: not a tax document, do not pay"))
        elif inv.vat_payer:
            self.font(9, "", MUTED)
            self.text(MARGIN_L, MARGIN_T + 8, HALF_W, 5, self.t("Tax document"))
        rows = [(self.t("Issue date"), self.date(inv.issued_on)), (self.t("Due date"), self.date(inv.due_on))]
        if inv.vat_payer:
            # Always shown on a tax document (the issue date when no other is set).
            rows.append((self.t("Date of taxable supply"), self.date(inv.taxable_supply_on or inv.issued_on)))
        if inv.variable_symbol:
            rows.append((self.t("Variable symbol"), str(inv.variable_symbol)))
        x = MARGIN_L + HALF_W + COL_GAP
        y = MARGIN_T
        for name, value in rows:
            self.font(8, "", MUTED)
            self.text(x, y, 48, 4.4, name)
            self.font(9, "B", INK)
            self.text(x + 48, y, HALF_W - 48, 4.4, value, align="R")
            y += 4.4
        bottom = max(y, MARGIN_T + 14) + 2
        self.rule(bottom, color=ACCENT, width=0.5)
        return bottom

    def party(self, x: float, y: float, heading: str, data: dict, extra: list[str]) -> float:
        self.label(x, y, HALF_W, heading)
        y += 4.6
        self.font(10.5, "B", INK)
        y = self.block(x, y, HALF_W, 5, data.get("name") or "") + 0.3
        self.font(8.5, "", INK)
        for line in _lines_of(data.get("address")) + extra:
            y = self.block(x, y, HALF_W, 4, line)
        ids = []
        if data.get("ico"):
            ids.append(self.t("Company ID") + ": " + data["ico"])
        if data.get("dic"):
            ids.append(self.t("VAT ID") + ": " + data["dic"])
        if ids:
            y += 1
            self.font(8.5, "", INK)
            self.text(x, y, HALF_W, 4, "    ".join(ids))
            y += 4
        return y

    def parties(self, y: float) -> float:
        sup, cus = self.sup, self.cus
        contact = [v for v in (sup.get("email"), sup.get("phone")) if v]
        left = self.party(MARGIN_L, y, self.t("Supplier"), sup, [])
        if sup.get("registry_line"):
            self.font(7, "", MUTED)
            left = self.block(MARGIN_L, left + 0.8, HALF_W, 3.3, sup["registry_line"])
        if contact:
            self.font(7.5, "", MUTED)
            self.text(MARGIN_L, left + 0.5, HALF_W, 3.6, "  ·  ".join(contact))
            left += 4.1
        extra = []
        country = (cus.get("country") or "").upper()
        if country and country != "CZ":
            name = i18n.country_name(country, self.lang)
            if name.lower() not in (cus.get("address") or "").lower():
                extra.append(name)
        right = self.party(MARGIN_L + HALF_W + COL_GAP, y, self.t("Customer"), cus, extra)
        return max(left, right)

    # items ----------------------------------------------------------------------

    def columns(self) -> list[tuple[str, float, str]]:
        payer = self.show_vat
        amount = self.t("Amount excl. VAT") if payer else self.t("Amount")
        if payer:
            fixed = [
                ("qty", 16.0, "R"),
                ("unit", 10.0, "L"),
                ("price", 27.0, "R"),
                ("vat", 17.0, "R"),
                ("amount", 29.0, "R"),
            ]
        else:
            fixed = [("qty", 16.0, "R"), ("unit", 10.0, "L"), ("price", 28.0, "R"), ("amount", 30.0, "R")]
        desc_w = CONTENT_W - sum(w for _, w, _ in fixed)
        heads = {
            "desc": self.t("Description"),
            "qty": self.t("Quantity"),
            "unit": self.t("Unit"),
            "price": self.t("Unit price"),
            "vat": self.t("VAT rate"),
            "amount": amount,
        }
        return [(heads["desc"], desc_w, "L")] + [(heads[key], w, align) for key, w, align in fixed]

    def table_head(self, y: float, cols) -> float:
        pdf = self.pdf
        pdf.set_fill_color(*ACCENT_SOFT)
        pdf.rect(MARGIN_L, y, CONTENT_W, 6.2, style="F")
        self.font(7.5, "B", ACCENT)
        x = MARGIN_L
        for head, w, align in cols:
            self.text(x, y + 0.6, w, 5, head, align=align)
            x += w
        return y + 6.2

    def items(self, y: float) -> float:
        pdf = self.pdf
        cols = self.columns()
        desc_w = cols[0][1]
        limit = PAGE_H - MARGIN_B - 4
        y = self.table_head(y, cols)
        pdf.set_font(FAMILY, "", 8.5)
        pdf.set_text_color(*INK)
        inner = desc_w - 2 * pdf.c_margin
        for line in self.lines:
            desc = (line.description or "").strip()
            wrapped = None
            if "\n" in desc or pdf.get_string_width(desc) > inner:
                wrapped = pdf.multi_cell(desc_w, LINE_H, desc, dry_run=True, output="LINES")
            height = ROW_H if not wrapped else max(ROW_H, LINE_H * len(wrapped) + 1.2)
            if y + height > limit:
                pdf.add_page()
                y = self.table_head(MARGIN_T, cols)
                pdf.set_font(FAMILY, "", 8.5)
                pdf.set_text_color(*INK)
            values = [
                i18n.format_quantity(line.quantity, self.lang),
                self.unit(line.unit or ""),
                self.money(line.unit_price),
            ]
            if self.show_vat:
                values.append(i18n.format_percent_rate(line.vat_rate, self.lang))
            values.append(self.money(line.amount))
            if wrapped:
                pdf.set_xy(MARGIN_L, y + (ROW_H - LINE_H) / 2)
                pdf.multi_cell(desc_w, LINE_H, desc, align="L")
            else:
                self.text(MARGIN_L, y, desc_w, ROW_H, desc)
            x = MARGIN_L + desc_w
            for value, (_, w, align) in zip(values, cols[1:], strict=False):
                self.text(x, y, w, ROW_H, value, align=align)
                x += w
            y += height
            self.rule(y)
        return y

    # payment details, QR and totals --------------------------------------------

    def payment_rows(self) -> list[tuple[str, str]]:
        sup = self.sup
        rows = [(self.t("Payment method"), self.t("Bank transfer"))]
        if sup.get("bank_account"):
            rows.append((self.t("Bank account"), sup["bank_account"]))
        if sup.get("iban"):
            rows.append((self.t("IBAN"), _fmt_iban(sup["iban"])))
        if sup.get("bic"):
            rows.append((self.t("BIC"), sup["bic"]))
        if self.inv.variable_symbol:
            rows.append((self.t("Variable symbol"), str(self.inv.variable_symbol)))
        return rows

    def totals_rows(self) -> tuple[list[tuple[str, str, str]], list[tuple[str, str]]]:
        """(VAT summary rows, sum rows) for the totals block."""
        summary: list[tuple[str, str, str]] = []
        sums: list[tuple[str, str]] = []
        if self.show_vat:
            for rate in self.totals.per_rate:
                summary.append(
                    (i18n.format_percent_rate(rate.rate, self.lang), self.money(rate.base), self.money(rate.vat))
                )
            sums.append((self.t("Total excl. VAT"), self.money(self.totals.subtotal)))
            sums.append((self.t("Total VAT"), self.money(self.totals.vat_total)))
        return summary, sums

    def notes_lines(self) -> tuple[list[str], str]:
        legal = []
        if not self.inv.vat_payer:
            legal.append(self.t("Not a VAT payer"))
        if self.inv.reverse_charge:
            legal.append(self.t("Reverse charge"))
        return legal, (self.inv.note or "").strip()

    def notes_height(self) -> float:
        legal, note = self.notes_lines()
        height = 5.5 if legal else 0.0
        if note:
            self.font(8, "", INK)
            lines = self.pdf.multi_cell(CONTENT_W - 20, 4.0, note, dry_run=True, output="LINES")
            height += 4.0 * len(lines) + 1
        return height

    def payment_and_totals(self, y: float) -> float:
        """Payment details (with the QR code) on the left, VAT summary and totals on the right."""
        rows = self.payment_rows()
        summary, sums = self.totals_rows()
        totals_h = (5.6 + 4.4 * len(summary) + 1.2 if summary else 0) + 4.6 * len(sums) + 10.5
        left_h = max(QR_SIZE + 4.5 if self.qr else 0, 4.6 + 4.4 * len(rows))
        needed = max(left_h, totals_h) + 4 + min(self.notes_height(), 30.0)
        if y + needed > PAGE_H - MARGIN_B:
            self.pdf.add_page()
            y = MARGIN_T
        totals_x = RIGHT - TOTALS_W
        left_bottom = self.payment_details(y, rows, totals_x - 4)
        return max(left_bottom, self.totals_box(y, totals_x, summary, sums))

    def payment_details(self, y: float, rows: list[tuple[str, str]], right: float) -> float:
        x = MARGIN_L
        if self.qr:
            kind, payload = self.qr
            draw_qr(self.pdf, qr.qr_code(kind, payload), x, y, QR_SIZE)
            caption = self.t("QR Platba") if kind == qr.SPAYD else self.t("Pay by QR code")
            self.font(7.5, "B", INK)
            self.text(x, y + QR_SIZE + 0.2, QR_SIZE, 4, caption, align="C")
            x += QR_SIZE + 4
        details_w = right - x
        label_w = 25.5
        self.label(x, y, details_w, self.t("Payment details"))
        ly = y + 4.6
        for name, value in rows:
            self.font(8, "", MUTED)
            self.text(x, ly, label_w, 4.4, name)
            self.fit(value, details_w - label_w, 8.5, "B")
            self.text(x + label_w, ly, details_w - label_w, 4.4, value)
            ly += 4.4
        return max(ly, y + (QR_SIZE + 4.5 if self.qr else 0))

    def vat_summary(self, ty: float, totals_x: float, summary: list[tuple[str, str, str]]) -> float:
        widths = (16.0, 28.0, 24.0)
        heads = (self.t("VAT rate"), self.t("Tax base"), self.t("VAT"))
        self.font(7, "B", MUTED)
        cx = totals_x
        for head, w in zip(heads, widths, strict=True):
            self.text(cx, ty, w, 4.4, head, align="R" if cx > totals_x else "L")
            cx += w
        ty += 4.8
        self.rule(ty, totals_x, RIGHT)
        ty += 0.6
        self.font(8, "", INK)
        for row in summary:
            cx = totals_x
            for value, w in zip(row, widths, strict=True):
                self.text(cx, ty, w, 4.4, value, align="R" if cx > totals_x else "L")
                cx += w
            ty += 4.4
        return ty + 1.2

    def totals_box(self, ty: float, totals_x: float, summary, sums: list[tuple[str, str]]) -> float:
        pdf = self.pdf
        if summary:
            ty = self.vat_summary(ty, totals_x, summary)
        for name, value in sums:
            self.font(8.5, "", MUTED)
            self.text(totals_x, ty, TOTALS_W / 2, 4.6, name)
            self.font(8.5, "", INK)
            self.text(totals_x + TOTALS_W / 2, ty, TOTALS_W / 2, 4.6, value, align="R")
            ty += 4.6
        ty += 1
        pdf.set_fill_color(*ACCENT)
        pdf.rect(totals_x, ty, TOTALS_W, 9.5, style="F")
        label = self.t("Total to pay")
        self.font(8.5, "B", WHITE)
        label_w = pdf.get_string_width(label) + 2 * pdf.c_margin + 1
        self.text(totals_x + 1, ty, label_w, 9.5, label)
        amount = self.money(self.inv.total)
        amount_w = TOTALS_W - label_w - 2
        self.fit(amount, amount_w, 12.5, "B", WHITE, smallest=8)
        self.text(RIGHT - 1 - amount_w, ty, amount_w, 9.5, amount, align="R")
        return ty + 9.5

    def notes(self, y: float) -> None:
        pdf = self.pdf
        legal, note = self.notes_lines()
        if legal:
            self.font(9, "B", INK)
            self.text(MARGIN_L, y, CONTENT_W, 5, ".  ".join(legal) + ".")
            y += 5.5
        if note:
            heading = self.t("Note") + ":"
            self.font(8, "B", MUTED)
            pdf.set_xy(MARGIN_L, y)
            pdf.cell(20, 4.0, heading)
            self.font(8, "", INK)
            pdf.set_xy(MARGIN_L + 20, y)
            pdf.set_auto_page_break(True, MARGIN_B)  # a long note may continue overleaf
            pdf.multi_cell(CONTENT_W - 20, 4.0, note, align="L")
