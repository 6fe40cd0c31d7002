"""The invoice page: A4 geometry, colours, what every page carries (draft mark, footer), and the drawing primitives.

The parts of the invoice (``document``) are drawn with these primitives, in
millimetres from the top left corner of the page.

A draft carries a large diagonal DRAFT mark on every page, drawn before
anything else so the invoice stays readable through it.
"""

from __future__ import annotations

from fpdf import FPDF
from fpdf.enums import XPos, YPos

from core.billing.pdf.fonts import FAMILY

# -- page geometry (mm) and colours -------------------------------------------

PAGE_W, PAGE_H = 210.0, 297.0
MARGIN_L = MARGIN_R = 16.0
MARGIN_T = 12.0
MARGIN_B = 14.0
CONTENT_W = PAGE_W - MARGIN_L - MARGIN_R
RIGHT = PAGE_W - MARGIN_R
COL_GAP = 8.0
HALF_W = (CONTENT_W - COL_GAP) / 2

INK = (31, 41, 55)
MUTED = (107, 114, 128)
RULE = (209, 213, 219)
ACCENT = (30, 58, 95)
ACCENT_SOFT = (237, 242, 248)
WHITE = (255, 255, 255)
DRAFT_MARK = (226, 232, 240)  # light enough that the invoice stays readable through it


# -- every page ----------------------------------------------------------------


class InvoicePDF(FPDF):
    footer_text = ""
    watermark = ""  # drawn first on every page, so everything else is on top of it

    def header(self) -> None:
        if not self.watermark:
            return
        self.set_font(FAMILY, "B", 110)
        self.set_text_color(*DRAFT_MARK)
        width = self.get_string_width(self.watermark)
        cx, cy = PAGE_W / 2, PAGE_H / 2
        with self.rotation(55, cx, cy):
            self.text(cx - width / 2, cy + 0.35 * self.font_size, self.watermark)

    def footer(self) -> None:
        self.set_y(-11)
        self.set_font(FAMILY, "", 7)
        self.set_text_color(*MUTED)
        self.cell(0, 4, self.footer_text.replace("{page}", str(self.page_no())), align="C")


# -- drawing primitives --------------------------------------------------------


class PagePrimitives:
    """Text, rules and labels on ``self.pdf`` (set by the renderer before it draws)."""

    pdf: InvoicePDF

    def font(self, size: float, style: str = "", color=INK) -> None:
        self.pdf.set_font(FAMILY, style, size)
        self.pdf.set_text_color(*color)

    def text(self, x: float, y: float, w: float, h: float, s: str, *, align: str = "L") -> None:
        """One line of text in the box ``(x, y, w, h)``, vertically centred like ``cell()``.

        ``FPDF.text()`` at a computed baseline is about three times cheaper than
        ``cell()``, and an invoice has a few hundred of these.
        """
        pdf = self.pdf
        if align == "L":
            tx = x + pdf.c_margin
        else:
            width = pdf.get_string_width(s)
            tx = x + w - pdf.c_margin - width if align == "R" else x + (w - width) / 2
        pdf.text(tx, y + h / 2 + 0.3 * pdf.font_size, s)

    def rule(self, y: float, x1: float = MARGIN_L, x2: float = RIGHT, color=RULE, width: float = 0.2) -> None:
        self.pdf.set_draw_color(*color)
        self.pdf.set_line_width(width)
        self.pdf.line(x1, y, x2, y)

    def block(self, x: float, y: float, w: float, line_h: float, s: str) -> float:
        """Text that wraps within ``w``; returns the y below it. One line goes the cheap way."""
        pdf = self.pdf
        if "\n" not in s and pdf.get_string_width(s) <= w - 2 * pdf.c_margin:
            self.text(x, y, w, line_h, s)
            return y + line_h
        pdf.set_xy(x, y)
        pdf.multi_cell(w, line_h, s, align="L", new_x=XPos.LEFT, new_y=YPos.NEXT)
        return pdf.get_y()

    def label(self, x: float, y: float, w: float, s: str, *, align: str = "L") -> None:
        self.font(6.8, "B", MUTED)
        self.pdf.set_char_spacing(0.4)
        self.text(x, y, w, 3.5, s.upper(), align=align)
        self.pdf.set_char_spacing(0)

    def fit(self, text: str, width: float, size: float, style: str = "", color=INK, smallest: float = 6.5) -> None:
        """Set the font at ``size``, or smaller down to ``smallest`` until ``text`` fits ``width``."""
        self.font(size, style, color)
        room = width - 2 * self.pdf.c_margin
        while size > smallest and self.pdf.get_string_width(text) > room:
            size -= 0.25
            self.font(size, style, color)
