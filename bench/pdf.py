"""Benchmark: batch PDF export of 100 one-page invoices with 30 lines each.

Run: ``.venv/bin/python bench/pdf.py [--invoices 100] [--lines 30] [--rounds 3]``

Builds the invoices in a throw-away FAKTURKA_HOME database (rows created
through the models), then times, in the same process:

- ``export``: ``core.billing.pdf.export_invoices`` (reads each invoice's lines, lays the
  page out, draws the payment QR code, writes the file);
- ``floor``: a bare fpdf2 document per invoice with the same font files, a
  table of the same size (31 rows x 6 columns drawn with ``cell()``) and the
  same payment QR code (segno -> PNG -> ``pdf.image``), written to a file;
- ``strict floor``: the same, drawn the cheapest way fpdf2 offers
  (``text()`` instead of ``cell()``, the QR as one vector path).

Each is run ``--rounds`` times; the best round counts (the machine is shared).
Budget: <= 100 ms per invoice and export / floor <= 1.5.
"""

from __future__ import annotations

import argparse
import io
import os
import sys
import tempfile
import time
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

BUDGET_MS = 100.0
BUDGET_RATIO = 1.5

SUPPLIER = {
    "name": "Příliš žluťoučký kůň s.r.o.",
    "address": "Vinohradská 1234/56\n120 00 Praha 2",
    "ico": "27074358",
    "dic": "CZ27074358",
    "registry_line": "Společnost zapsaná v obchodním rejstříku vedeném Městským soudem v Praze, oddíl C, vložka 123456",
    "vat_payer": True,
    "iban": "CZ6508000000192000145399",
    "bic": "GIBACZPX",
    "bank_account": "19-2000145399/0800",
    "email": "fakturace@kun.cz",
    "phone": "+420 777 123 456",
}
CUSTOMER = {
    "name": "Ústřední úřad pro ďábelské účetnictví a.s.",
    "address": "Náměstí Míru 1\n602 00 Brno",
    "country": "CZ",
    "ico": "25596641",
    "dic": "CZ25596641",
    "email": "ucetni@example.cz",
}


def build_invoices(count: int, lines: int) -> list:
    from core.billing.totals import compute_totals, line_amount
    from core.store.db import db
    from core.store.models import Client, Invoice, InvoiceLine

    client = Client.create(name=CUSTOMER["name"], currency="CZK", language="cs")
    invoices = []
    with db.atomic():
        for i in range(count):
            number = f"2026{i + 1:04d}"
            issued = date(2026, 1, 1) + timedelta(days=i)
            rows = []
            pairs = []
            for pos in range(lines):
                qty = Decimal("7.5") if pos % 2 else Decimal("2")
                price = 120050 + pos * 100
                rate = Decimal("21") if pos % 3 else Decimal("12")
                amount = line_amount(qty, price)
                rows.append(
                    {
                        "position": pos,
                        "description": f"Vývoj modulu č. {pos + 1} – úprava žluťoučkého rozhraní",
                        "quantity": qty,
                        "unit": "h" if pos % 4 else "pcs",
                        "unit_price": price,
                        "vat_rate": rate,
                        "amount": amount,
                    }
                )
                pairs.append((amount, rate))
            totals = compute_totals(pairs, vat_payer=True, reverse_charge=False)
            invoice = Invoice.create(
                number=number,
                year=2026,
                seq=i + 1,
                client=client,
                currency="CZK",
                language="cs",
                issued_on=issued,
                due_on=issued + timedelta(days=14),
                taxable_supply_on=issued,
                variable_symbol=number,
                vat_payer=True,
                supplier=SUPPLIER,
                customer=CUSTOMER,
                subtotal=totals.subtotal,
                vat_total=totals.vat_total,
                total=totals.total,
                note="Děkujeme za spolupráci.",
            )
            InvoiceLine.insert_many([{**row, "invoice": invoice.id} for row in rows]).execute()
            invoices.append(invoice)
    return list(Invoice.select().order_by(Invoice.id))


def floor_document(fonts, table: list[list[str]], payload: str, path: Path, *, strict: bool) -> None:
    """The least an invoice page needs: the fonts, a table of the same size, the QR code."""
    import segno
    from fpdf import FPDF

    from core.billing.pdf.qr_draw import draw_qr

    pdf = FPDF(unit="mm", format="A4")
    pdf.set_auto_page_break(False)
    pdf.add_font("F", "", fonts.regular)
    pdf.add_font("F", "B", fonts.bold)
    pdf.add_page()
    widths = (79, 16, 10, 27, 17, 29)
    y = 20.0
    for index, row in enumerate(table):
        pdf.set_font("F", "B" if index == 0 else "", 8.5)
        x = 16.0
        for value, w in zip(row, widths, strict=False):
            if strict:
                pdf.text(x + 1, y + 3.5, value)
            else:
                pdf.set_xy(x, y)
                pdf.cell(w, 4.6, value, align="R" if x > 16 else "L")
            x += w
        y += 4.6
    code = segno.make_qr(payload, error="m", boost_error=False)
    if strict:
        draw_qr(pdf, code, 16, 240, 31)
    else:
        buf = io.BytesIO()
        code.save(buf, kind="png", scale=8, border=0)
        buf.seek(0)
        pdf.image(buf, 16, 240, 31)
    path.write_bytes(bytes(pdf.output()))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--invoices", type=int, default=100)
    parser.add_argument("--lines", type=int, default=30)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="fakturka-bench-") as tmp:
        os.environ["FAKTURKA_HOME"] = str(Path(tmp) / "home")
        from pypdf import PdfReader

        from core.billing import pdf as invoice_pdf
        from core.billing import qr
        from core.store.db import close_database, open_database

        open_database()
        invoices = build_invoices(args.invoices, args.lines)
        out = Path(tmp) / "out"

        started = time.perf_counter()
        invoice_pdf.export_invoices(invoices[:1], out)  # cold: cuts the fonts once per process
        cold_ms = (time.perf_counter() - started) * 1000

        def run_export() -> float:
            started = time.perf_counter()
            invoice_pdf.export_invoices(invoices, out)
            return (time.perf_counter() - started) * 1000 / len(invoices)

        fonts = invoice_pdf.latin_fonts()
        full = invoice_pdf.full_fonts()
        floor_inputs = []
        for invoice in invoices:
            table = [["Popis", "Množství", "MJ", "Cena za MJ", "Sazba DPH", "Bez DPH"]]
            table += [
                [
                    line.description,
                    str(line.quantity),
                    line.unit,
                    str(line.unit_price),
                    str(line.vat_rate),
                    str(line.amount),
                ]
                for line in invoice.lines
            ]
            floor_inputs.append((invoice.number, table, qr.payment_qr(invoice)[1]))

        def run_floor(font_set, strict: bool) -> float:
            started = time.perf_counter()
            for number, table, payload in floor_inputs:
                floor_document(font_set, table, payload, out / f"floor-{number}.pdf", strict=strict)
            return (time.perf_counter() - started) * 1000 / len(floor_inputs)

        export_ms, floor_ms, strict_ms, full_ms = [], [], [], []
        for _ in range(args.rounds):
            export_ms.append(run_export())
            floor_ms.append(run_floor(fonts, strict=False))
            strict_ms.append(run_floor(fonts, strict=True))
            full_ms.append(run_floor(full, strict=False))

        pages = {len(PdfReader(path).pages) for path in out.glob("invoice-*.pdf")}
        close_database()

    export, floor, strict, floor_full = min(export_ms), min(floor_ms), min(strict_ms), min(full_ms)
    print(f"invoices: {args.invoices} x {args.lines} lines, pages per invoice: {sorted(pages)}")
    print(f"cold first invoice (font cut + first render): {cold_ms:8.1f} ms")
    print(
        f"export (core.billing.pdf.export_invoices):           {export:8.1f} ms/invoice   rounds: "
        + ", ".join(f"{v:.1f}" for v in export_ms)
    )
    print(
        f"floor (same fonts, cell() table, PNG QR):     {floor:8.1f} ms/invoice   rounds: "
        + ", ".join(f"{v:.1f}" for v in floor_ms)
    )
    print(f"strict floor (same fonts, text(), vector QR): {strict:8.1f} ms/invoice")
    print(f"floor with the full Open Sans TTFs:           {floor_full:8.1f} ms/invoice")
    ratio, strict_ratio = export / floor, export / strict
    print(f"ratio export/floor: {ratio:.2f}   export/strict floor: {strict_ratio:.2f}")
    ok = export <= BUDGET_MS and ratio <= BUDGET_RATIO
    print(f"budget <= {BUDGET_MS:.0f} ms and ratio <= {BUDGET_RATIO}: {'met' if ok else 'NOT met'}")
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
