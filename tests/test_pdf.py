"""Invoice PDFs: read back with pypdf, QR decoded from the rendered page."""

from __future__ import annotations

import re
from datetime import date
from decimal import Decimal

import pypdfium2
import pytest
import zxingcpp
from pypdf import PdfReader

from core.billing import pdf, qr
from core.billing.totals import compute_totals, line_amount
from core.store.models import Client, Invoice, InvoiceLine
from core.values import i18n

PANGRAM = "Příliš žluťoučký kůň"
SUPPLIER = {
    "name": f"{PANGRAM} s.r.o.",
    "address": "Vinohradská 1234/56\n120 00 Praha 2",
    "ico": "27074358",
    "dic": "CZ27074358",
    "registry_line": "Zapsáno v obchodním rejstříku u Městského soudu v Praze, oddíl C, vložka 123456",
    "vat_payer": True,
    "iban": "CZ6508000000192000145399",
    "bic": "GIBACZPX",
    "bank_account": "19-2000145399/0800",
    "email": "fakturace@kun.cz",
    "phone": "+420 777 123 456",
}
CUSTOMER = {
    "name": "Úpěl ďábelské ódy a.s.",
    "address": "Náměstí Míru 1\n602 00 Brno",
    "country": "CZ",
    "ico": "25596641",
    "dic": "CZ25596641",
    "email": "ucetni@example.cz",
}

_seq = 0


def make_invoice(
    *,
    currency="CZK",
    language="cs",
    vat_payer=True,
    reverse_charge=False,
    lines=None,
    supplier=None,
    customer=None,
    note="",
    number=None,
) -> Invoice:
    """An invoice with its lines, totals computed by core.billing.totals, saved through the models."""
    global _seq
    _seq += 1
    number = number or f"2026{_seq:04d}"
    sup = {**SUPPLIER, **(supplier or {}), "vat_payer": vat_payer}
    cus = {**CUSTOMER, **(customer or {})}
    client = Client.create(name=cus["name"], currency=currency, language=language)
    if lines is None:
        lines = [
            (f"Vývoj — {PANGRAM} úpěl ďábelské ódy", Decimal("7.5"), "h", 120000, Decimal("21")),
            ("Hosting a údržba", Decimal("1"), "pcs", 50000, Decimal("12")),
        ]
    rows, pairs = [], []
    for description, quantity, unit, price, rate in lines:
        amount = line_amount(quantity, price)
        rows.append((description, quantity, unit, price, rate, amount))
        pairs.append((amount, rate))
    totals = compute_totals(pairs, vat_payer=vat_payer, reverse_charge=reverse_charge)
    invoice = Invoice.create(
        number=number,
        year=2026,
        seq=_seq,
        client=client,
        currency=currency,
        language=language,
        issued_on=date(2026, 11, 21),
        due_on=date(2026, 12, 5),
        taxable_supply_on=date(2026, 11, 20) if vat_payer else None,
        variable_symbol="".join(ch for ch in number if ch.isdigit()).lstrip("0")[:10],
        vat_payer=vat_payer,
        reverse_charge=reverse_charge,
        supplier=sup,
        customer=cus,
        note=note,
        status="sent",  # a final document; drafts are marked and carry no QR (tests/test_drafts.py)
        subtotal=totals.subtotal,
        vat_total=totals.vat_total,
        total=totals.total,
    )
    for position, (description, quantity, unit, price, rate, amount) in enumerate(rows):
        InvoiceLine.create(
            invoice=invoice,
            position=position,
            description=description,
            quantity=quantity,
            unit=unit,
            unit_price=price,
            vat_rate=rate,
            amount=amount,
        )
    return invoice


def plain(text: str) -> str:
    """Extracted text with no-break spaces as plain spaces."""
    return text.replace("\u00a0", " ").replace("\u202f", " ")


def pdf_text(path) -> str:
    return plain("\n".join(page.extract_text() for page in PdfReader(path).pages))


def qr_codes(path, page: int = 0) -> list[bytes]:
    """Render the page like a phone camera would see it and decode every QR code on it."""
    document = pypdfium2.PdfDocument(str(path))
    try:
        image = document[page].render(scale=3).to_pil().convert("L")
    finally:
        document.close()
    return [r.bytes for r in zxingcpp.read_barcodes(image, formats=zxingcpp.BarcodeFormat.QRCode)]


@pytest.fixture
def out(tmp_path):
    return tmp_path / "pdf"


def test_czech_invoice_shows_every_required_field(database, out):
    invoice = make_invoice(note="Děkujeme za spolupráci.")
    path = pdf.render_invoice(invoice, out / "cs.pdf")
    text = pdf_text(path)
    expected = [
        "Faktura " + invoice.number,
        "Daňový doklad",
        "Dodavatel".upper(),
        SUPPLIER["name"],
        "Vinohradská 1234/56",
        "120 00 Praha 2",
        "IČO: 27074358",
        "DIČ: CZ27074358",
        SUPPLIER["registry_line"][:40],
        "Odběratel".upper(),
        CUSTOMER["name"],
        "Náměstí Míru 1",
        "IČO: 25596641",
        "DIČ: CZ25596641",
        "Datum vystavení 21. 11. 2026",
        "Datum splatnosti 5. 12. 2026",
        "Datum zdanitelného plnění 20. 11. 2026",
        f"Variabilní symbol {invoice.number}",
        f"Vývoj — {PANGRAM} úpěl ďábelské ódy",
        "Hosting a údržba",
        "7,5",
        "hod",
        "ks",
        "1 200,00 Kč",
        "9 000,00 Kč",
        "21 %",
        "12 %",
        "Číslo účtu 19-2000145399/0800",
        "IBAN CZ65 0800 0000 1920 0014 5399",
        "BIC GIBACZPX",
        "Celkem bez DPH 9 500,00 Kč",
        "DPH celkem 1 950,00 Kč",
        "Celkem k úhradě",
        "11 450,00 Kč",
        "QR Platba",
        "Děkujeme za spolupráci.",
    ]
    for snippet in expected:
        assert snippet in text, snippet
    assert invoice.total == 1145000
    assert "Nejsem plátce DPH" not in text


def test_czech_diacritics_survive_in_the_pdf(database, out):
    invoice = make_invoice(customer={"name": f"{PANGRAM} úpěl ďábelské ódy"})
    text = pdf_text(pdf.render_invoice(invoice, out / "diacritics.pdf"))
    assert text.count(PANGRAM) >= 3  # supplier, customer, item
    for word in ("žluťoučký", "kůň", "úpěl", "ďábelské", "ódy"):
        assert word in text


def test_qr_platba_on_the_page_decodes_to_the_spayd_payload(database, out):
    invoice = make_invoice()
    path = pdf.render_invoice(invoice, out / "spayd.pdf")
    expected = (
        f"SPD*1.0*ACC:CZ6508000000192000145399*AM:11450.00*CC:CZK*DT:20261205"
        f"*X-VS:{invoice.number}*MSG:FAKTURA {invoice.number}"
    )
    assert qr.spayd_payload(invoice) == expected
    assert qr_codes(path) == [expected.encode("ascii")]


def test_epc_code_on_the_page_decodes_byte_for_byte_with_diacritics(database, out):
    invoice = make_invoice(
        currency="EUR",
        language="en",
        vat_payer=True,
        reverse_charge=True,
        supplier={
            "name": "Ústřední úřad pro ďábelské účetnictví a.s.",
            "iban": "DE89 3704 0044 0532 0130 00",
            "bic": "COBADEFFXXX",
        },
        customer={
            "name": "Müller & Söhne GmbH",
            "country": "DE",
            "dic": "DE123456789",
            "address": "Friedrichstraße 12\n10117 Berlin",
            "ico": "",
        },
    )
    path = pdf.render_invoice(invoice, out / "epc.pdf")
    expected = (
        "BCD\n002\n1\nSCT\nCOBADEFFXXX\nÚstřední úřad pro ďábelské účetnictví a.s.\n"
        f"DE89370400440532013000\nEUR9500\n\n\nInvoice {invoice.number}"
    ).encode("utf-8")
    assert qr.epc_payload(invoice).encode("utf-8") == expected
    assert qr_codes(path) == [expected]
    text = pdf_text(path)
    assert "Pay by QR code" in text
    assert "Germany" in text
    assert "Reverse charge" in text
    assert "VAT ID: DE123456789" in text and "VAT ID: CZ27074358" in text
    assert "VAT rate" not in text  # reverse charge: no VAT on the document
    assert "€9,500.00" in text


def test_english_and_czech_differ_in_language_and_number_format(database, out):
    lines = [("Consulting", Decimal("1"), "h", 123450, Decimal("0"))]
    cs = pdf_text(pdf.render_invoice(make_invoice(language="cs", vat_payer=False, lines=lines), out / "cs.pdf"))
    en = pdf_text(pdf.render_invoice(make_invoice(language="en", vat_payer=False, lines=lines), out / "en.pdf"))
    assert "1 234,50 Kč" in cs and "CZK 1,234.50" not in cs
    assert "CZK 1,234.50" in en and "1 234,50 Kč" not in en
    assert "Nejsem plátce DPH" in cs and "Not a VAT payer" in en
    assert "Faktura" in cs and "Invoice" not in cs
    assert "Invoice" in en and "Faktura" not in en
    assert "21. 11. 2026" in cs and "Nov 21, 2026" in en
    assert "hod" in cs and "Unit price" in en


def test_other_currencies_get_no_qr(database, out):
    invoice = make_invoice(currency="USD", language="en", vat_payer=False)
    path = pdf.render_invoice(invoice, out / "usd.pdf")
    assert qr.payment_qr(invoice) is None
    assert qr_codes(path) == []
    text = pdf_text(path)
    assert "$9,500.00" in text
    assert "QR" not in text
    assert "IBAN CZ65 0800 0000 1920 0014 5399" in text  # still payable by transfer


def test_no_qr_without_iban(database, out):
    invoice = make_invoice(vat_payer=False, supplier={"iban": "", "bic": ""})
    path = pdf.render_invoice(invoice, out / "no-iban.pdf")
    assert qr_codes(path) == []
    assert "Číslo účtu 19-2000145399/0800" in pdf_text(path)


def test_thirty_lines_with_vat_summary_and_note_fit_on_one_page(database, out):
    lines = [
        (
            f"Položka č. {i} – práce na modulu {PANGRAM}",
            Decimal("2.5"),
            "h",
            95000,
            Decimal("21") if i % 2 else Decimal("12"),
        )
        for i in range(1, 31)
    ]
    invoice = make_invoice(lines=lines, note="Děkujeme za spolupráci.")
    path = pdf.render_invoice(invoice, out / "thirty.pdf")
    reader = PdfReader(path)
    assert len(reader.pages) == 1
    text = pdf_text(path)
    for i in range(1, 31):
        assert f"Položka č. {i} –" in text
    assert "Celkem k úhradě" in text and "Děkujeme za spolupráci." in text
    assert len(qr_codes(path)) == 1


def test_long_invoice_continues_with_the_table_header_repeated(database, out):
    lines = [(f"Řádek {i}", Decimal("1"), "pcs", 1000, Decimal("21")) for i in range(1, 81)]
    invoice = make_invoice(lines=lines, language="en")
    path = pdf.render_invoice(invoice, out / "long.pdf")
    reader = PdfReader(path)
    pages = [plain(page.extract_text()) for page in reader.pages]
    assert len(pages) >= 2
    assert all("Description" in page for page in pages if "Řádek" in page)
    assert f"Page {len(pages)} of {len(pages)}" in pages[-1]
    assert "Total to pay" in pages[-1]
    found = {int(n) for n in re.findall(r"Řádek (\d+)\b", "\n".join(pages))}
    assert found == set(range(1, 81))


def test_wrapped_description_is_kept_whole(database, out):
    long = (
        "Analýza požadavků, návrh datového modelu, implementace importu bankovních výpisů "
        "a napojení na účetní systém včetně testů a dokumentace pro " + PANGRAM
    )
    invoice = make_invoice(lines=[(long, Decimal("12"), "h", 100000, Decimal("21"))])
    text = pdf_text(pdf.render_invoice(invoice, out / "wrap.pdf"))
    assert " ".join(long.split()) in " ".join(text.split())


def test_characters_outside_the_latin_cut_use_the_full_font(database, out):
    invoice = make_invoice(customer={"name": "ООО Жукова и Ωμέγα"}, vat_payer=False)
    assert pdf.fonts_for(["Příliš žluťoučký kůň €"]) is pdf.latin_fonts()
    assert pdf.fonts_for(["ООО Жукова"]) is pdf.full_fonts()
    text = pdf_text(pdf.render_invoice(invoice, out / "cyrillic.pdf"))
    assert "ООО Жукова и Ωμέγα" in text
    assert PANGRAM in text


def test_stale_totals_are_refused(database, out):
    invoice = make_invoice()
    invoice.total += 1
    with pytest.raises(ValueError, match="do not match its lines"):
        pdf.render_invoice(invoice, out / "stale.pdf")
    assert not (out / "stale.pdf").exists()


def test_invalid_iban_is_refused_with_a_clear_message(database, out):
    invoice = make_invoice(supplier={"iban": "CZ6508000000192000145398"})
    with pytest.raises(ValueError, match="IBAN 'CZ6508000000192000145398' is not valid"):
        pdf.render_invoice(invoice, out / "bad-iban.pdf")


def test_export_writes_one_file_per_invoice_and_reports_progress(database, out):
    invoices = [make_invoice(number="2026/0101"), make_invoice(currency="EUR", language="en")]
    calls = []
    paths = pdf.export_invoices(invoices, out, progress=lambda done, total: calls.append((done, total)))
    assert [p.name for p in paths] == ["invoice-2026-0101.pdf", f"invoice-{invoices[1].number}.pdf"]
    assert calls == [(0, 2), (1, 2), (2, 2)]
    for path, invoice in zip(paths, invoices, strict=False):
        assert path.parent == out
        assert f"{invoice.number}" in pdf_text(path)
    assert sorted(p.name for p in out.iterdir()) == sorted(p.name for p in paths)  # no temp files left


def test_money_on_the_page_is_the_i18n_formatting(database, out):
    invoice = make_invoice(language="en", vat_payer=True)
    text = pdf_text(pdf.render_invoice(invoice, out / "en.pdf"))
    assert plain(i18n.format_money(invoice.total, "CZK", "en")) in text
    assert "Date of taxable supply Nov 20, 2026" in text
    assert "Tax document" in text
