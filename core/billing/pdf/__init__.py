"""Invoice PDFs (fpdf2): one A4 page for a typical invoice, in the invoice's language.

``document`` lays the page out, ``fonts`` prepares Open Sans once per process,
``qr_draw`` draws the payment QR code; this module writes files.
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Callable, Iterable

from core.billing.pdf.document import InvoiceRenderer
from core.billing.pdf.fonts import FontSet, fonts_for, full_fonts, latin_fonts

__all__ = [
    "render_invoice",
    "render_invoice_bytes",
    "export_invoices",
    "invoice_filename",
    "FontSet",
    "fonts_for",
    "full_fonts",
    "latin_fonts",
]


def render_invoice_bytes(invoice) -> bytes:
    """The invoice as PDF bytes."""
    return InvoiceRenderer(invoice).render()


def render_invoice(invoice, path: Path | str) -> Path:
    """Write the invoice's PDF to ``path`` (atomically) and return the path."""
    path = Path(path)
    data = render_invoice_bytes(invoice)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    with open(tmp, "wb") as fh:
        fh.write(data)
    os.replace(tmp, path)
    return path


_UNSAFE = re.compile(r"[^0-9A-Za-z._-]+")


def invoice_filename(invoice) -> str:
    """``invoice-20250001.pdf`` (anything but letters, digits, ``. _ -`` becomes ``-``)."""
    number = _UNSAFE.sub("-", str(invoice.number)).strip("-.") or str(invoice.id)
    return f"invoice-{number}.pdf"


def export_invoices(
    invoices: Iterable, out_dir: Path | str, progress: Callable[[int, int], None] | None = None
) -> list[Path]:
    """Render each invoice to ``out_dir/invoice-<number>.pdf``; ``progress(done, total)`` after each.

    The fonts are prepared once per process (see the module docstring), so a
    batch pays for them once.
    """
    invoices = list(invoices)
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    total = len(invoices)
    if progress:
        progress(0, total)
    written: list[Path] = []
    for done, invoice in enumerate(invoices, start=1):
        written.append(render_invoice(invoice, out / invoice_filename(invoice)))
        if progress:
            progress(done, total)
    return written
