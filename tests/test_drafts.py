"""Drafts: a PDF that cannot pass for the final invoice, no payment to a draft, editing until sent,
and cancelling an invoice with payments linked only when the caller says what happens to them."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pypdfium2
import pytest
import zxingcpp
from helpers import db_state
from pypdf import PdfReader

from core.banking import matching
from core.billing import clients as client_svc
from core.billing import drafts, invoice_status, payments, pdf
from core.billing import invoicing as inv_svc
from core.billing import profile as profile_svc
from core.billing import timesheet as ts
from core.billing.pdf import document
from core.billing.pdf.page import DRAFT_MARK
from core.billing.totals import compute_totals, line_amount
from core.store.audit_records import AuditRecord as AuditLog
from core.store.models import Invoice, MoneyTransaction, WorkEntry

ISSUED = date(2026, 3, 31)
IBAN = "CZ6508000000192000145399"


def set_up_profile(**extra):
    values = {
        "name": "Jana Nováková",
        "address": "Korunní 1\nPraha",
        "ico": "25596641",
        "iban": IBAN,
        "default_hourly_rate": "1000",
        "payment_terms_days": "14",
        "vat_payer": "yes",
        "default_vat_rate": "21",
    }
    values.update(extra)
    return profile_svc.update_profile(values)


def reload(row):
    return type(row).get_by_id(row.id)


def log(project, minutes, day="2026-03-10", description="Work"):
    return ts.add_entry(ts.EntryInput(project=project, date=day, duration=minutes, description=description))


@pytest.fixture
def acme(database):
    set_up_profile()
    return client_svc.add_client(name="Acme s.r.o.", ico="27082440", address="Náměstí Míru 12\nPraha")


@pytest.fixture
def web(acme):
    return client_svc.add_project(acme, name="Web", hourly_rate="1200")


@pytest.fixture
def draft(acme, web):
    log(web, 90, description="Checkout")
    log(web, 60, day="2026-03-11", description="Search")
    return inv_svc.create_invoice(acme, issued_on=ISSUED)


def pdf_text(path) -> str:
    return "\n".join(page.extract_text() for page in PdfReader(path).pages).replace("\u00a0", " ")


def qr_codes(path) -> list[bytes]:
    document_ = pypdfium2.PdfDocument(str(path))
    try:
        image = document_[0].render(scale=3).to_pil().convert("L")
    finally:
        document_.close()
    return [r.bytes for r in zxingcpp.read_barcodes(image, formats=zxingcpp.BarcodeFormat.QRCode)]


def income(amount: int, invoice: Invoice | None = None, day=date(2026, 4, 5)) -> MoneyTransaction:
    return MoneyTransaction.create(
        source="fio",
        transaction_type="income",
        amount=amount,
        currency="CZK",
        transacted_on=day,
        reference="",
        invoice=invoice,
        match_status="matched" if invoice else "unmatched",
    )


# -- the PDF --------------------------------------------------------------------------------------


def test_czech_draft_pdf_is_marked_and_has_no_payment_qr(draft, tmp_path):
    path = pdf.render_invoice(draft, tmp_path / "draft.pdf")
    text = pdf_text(path)
    assert "NÁVRH" in text  # the diagonal mark
    assert f"Návrh faktury {draft.number}" in text
    assert "Návrh: není daňový doklad, neplaťte" in text
    assert "Daňový doklad" not in text
    assert f"Faktura {draft.number}" not in text
    assert "QR Platba" not in text
    assert qr_codes(path) == []
    assert "IBAN CZ65 0800 0000 1920 0014 5399" in text  # the details are there to check, not a code to scan


def test_sent_invoice_pdf_is_unchanged_final_with_its_qr(draft, tmp_path):
    sent = invoice_status.mark_sent(draft, ISSUED)
    path = pdf.render_invoice(sent, tmp_path / "sent.pdf")
    text = pdf_text(path)
    assert f"Faktura {sent.number}" in text and "Daňový doklad" in text and "QR Platba" in text
    assert "NÁVRH" not in text and "Návrh" not in text
    assert len(qr_codes(path)) == 1


def test_english_draft_says_draft_and_no_qr_is_drawn(acme, web, tmp_path, monkeypatch):
    english = client_svc.add_client(name="Nord GmbH", country="CZ", language="en")
    project = client_svc.add_project(english, name="API", hourly_rate="1000")
    log(project, 60)
    invoice = inv_svc.create_invoice(english, issued_on=ISSUED)
    drawn = []
    monkeypatch.setattr(document, "draw_qr", lambda *args: drawn.append(args))
    text = pdf_text(pdf.render_invoice(invoice, tmp_path / "en.pdf"))
    assert "DRAFT" in text and f"Draft invoice {invoice.number}" in text
    assert "Tax document" not in text
    assert drawn == []
    invoice_status.mark_sent(invoice, ISSUED)
    final = pdf_text(pdf.render_invoice(reload(invoice), tmp_path / "en-sent.pdf"))
    assert drawn and "DRAFT" not in final and "Tax document" in final


def test_draft_mark_on_every_page_of_a_long_draft(draft, tmp_path):
    rows = [drafts.LineEdit(f"Item {i}", Decimal(1), "pcs", 1000, Decimal(21)) for i in range(80)]
    long = drafts.update_draft(draft, lines=rows)
    reader = PdfReader(pdf.render_invoice(long, tmp_path / "long.pdf"))
    assert len(reader.pages) > 1
    assert all("NÁVRH" in page.extract_text() for page in reader.pages)


def test_draft_pdf_renders_to_an_image_with_the_mark_visible(draft, tmp_path):
    """The mark is drawn, not only written: the page centre (where it crosses) has its grey."""
    path = pdf.render_invoice(draft, tmp_path / "draft.pdf")
    sent_path = pdf.render_invoice(invoice_status.mark_sent(draft, ISSUED), tmp_path / "sent.pdf")

    def grey_pixels(pdf_path) -> int:
        doc = pypdfium2.PdfDocument(str(pdf_path))
        try:
            image = doc[0].render(scale=1).to_pil().convert("RGB")
        finally:
            doc.close()
        image.save(pdf_path.with_suffix(".png"))
        return dict((color, count) for count, color in image.getcolors(maxcolors=1 << 24)).get(DRAFT_MARK, 0)

    assert grey_pixels(path) > 1000
    assert grey_pixels(sent_path) < 100  # only where anti-aliasing happens to hit that grey
    assert path.with_suffix(".png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


# -- no payment to a draft ------------------------------------------------------------------------


def test_a_draft_cannot_be_marked_paid(draft):
    before = db_state()
    with pytest.raises(inv_svc.InvoiceError, match="is a draft; send it first"):
        invoice_status.mark_paid(draft)
    assert db_state() == before
    sent = invoice_status.mark_sent(draft, ISSUED)
    assert invoice_status.mark_paid(sent, date(2026, 4, 2)).status == "paid"


def test_a_payment_cannot_be_linked_to_a_draft_by_hand_or_automatically(draft):
    payment = income(draft.total)
    payment.reference = draft.variable_symbol
    payment.save()
    before = db_state()
    with pytest.raises(matching.MatchError, match="is a draft; send it first"):
        matching.link(payment, draft)
    assert db_state() == before
    assert matching.match_transactions([payment.id]).matched == []
    assert reload(payment).invoice_id is None and reload(draft).status == "draft"
    assert draft.id not in [inv.id for inv, _, _ in matching.candidates_for(payment)]
    invoice_status.mark_sent(draft, ISSUED)
    assert draft.id in [inv.id for inv, _, _ in matching.candidates_for(reload(payment))]


def test_cli_refuses_to_link_or_pay_a_draft(draft, refused):
    payment = income(1000)
    assert "send it first" in refused("match", "link", str(payment.id), draft.number)
    assert "send it first" in refused("invoice", "pay", draft.number)


# -- cancelling with payments ---------------------------------------------------------------------


@pytest.fixture
def part_paid(draft):
    sent = invoice_status.mark_sent(draft, ISSUED)
    first, second = income(100000), income(50000, day=date(2026, 4, 9))
    matching.link(first, sent)
    matching.link(second, reload(sent))
    return reload(sent), [first, second]


def test_cancel_with_payments_asks_and_changes_nothing(part_paid):
    invoice, movements = part_paid
    before = db_state()
    with pytest.raises(invoice_status.InvoiceHasPayments) as refused_:
        invoice_status.cancel_invoice(invoice)
    assert refused_.value.paid == 150000
    assert [m.id for m in refused_.value.movements] == [m.id for m in movements]
    assert "1500.00 CZK paid in 2 bank movements" in str(refused_.value)
    assert isinstance(refused_.value, inv_svc.InvoiceError)  # callers that catch InvoiceError still do
    assert db_state() == before


def test_cancel_with_unlink_payments_unlinks_them_for_review_audited(part_paid):
    invoice, movements = part_paid
    entries = list(WorkEntry.select().where(WorkEntry.invoice_line.is_null(False)))
    assert entries
    invoice_status.cancel_invoice(invoice, unlink_payments=True)
    stored = reload(invoice)
    assert stored.status == "cancelled" and payments.amount_paid(stored) == 0
    for movement in movements:
        after = reload(movement)
        assert (after.invoice_id, after.match_status) == (None, "review")
        assert after.match_note["reason"] == f"invoice {invoice.number} was cancelled"
    assert all(reload(e).invoice_line_id is None for e in entries)
    changed = AuditLog.select().where(
        (AuditLog.table_name == "money_transactions") & (AuditLog.row_id.in_([m.id for m in movements]))
    )
    assert changed.count() >= 2 * len(movements)  # created, linked, unlinked: each in the log
    # Now free to pay another invoice.
    assert matching.candidates_for(reload(movements[0])) == []  # nothing else is open


def test_cancel_without_payments_needs_no_extra_confirmation(draft):
    assert invoice_status.cancel_invoice(draft).status == "cancelled"


def test_cli_cancel_names_the_payments_and_proceeds_with_a_flag(part_paid, ok, refused):
    invoice, movements = part_paid
    message = refused("invoice", "cancel", invoice.number)
    assert "1500.00 CZK paid in 2 bank movements" in message and "--yes" in message
    out = ok("invoice", "cancel", invoice.number, "--unlink-payments")
    assert "cancelled" in out and f"{movements[0].id}, {movements[1].id}" in out
    assert reload(invoice).status == "cancelled"
    assert {reload(m).match_status for m in movements} == {"review"}


def test_cli_cancel_with_yes_also_unlinks(part_paid, ok):
    invoice, movements = part_paid
    assert "Unlinked bank movements" in ok("invoice", "cancel", invoice.number, "--yes")
    assert all(reload(m).invoice_id is None for m in movements)


# -- editing a draft ------------------------------------------------------------------------------


def test_update_draft_dates_note_and_customer(draft):
    due = date(2026, 4, 30)
    edited = drafts.update_draft(
        draft,
        issued_on=date(2026, 3, 30),
        due_on=due,
        taxable_supply_on=date(2026, 3, 29),
        note=" Thank you. ",
        customer={"name": "Acme Holding s.r.o.", "address": "Jiná 5\nBrno"},
    )
    stored = reload(edited)
    assert (stored.issued_on, stored.due_on, stored.taxable_supply_on) == (date(2026, 3, 30), due, date(2026, 3, 29))
    assert stored.note == "Thank you."
    assert stored.customer["name"] == "Acme Holding s.r.o." and stored.customer["ico"] == "27082440"
    # Sending keeps the details as edited (it otherwise copies the client as it is that day).
    sent = invoice_status.mark_sent(stored, date(2026, 3, 31))
    assert reload(sent).customer["address"] == "Jiná 5\nBrno"
    assert reload(sent).client.name == "Acme s.r.o."  # the client itself is not changed


def test_update_draft_lines_recomputes_totals_and_releases_removed_work(draft):
    lines = inv_svc.invoice_lines(draft)
    assert len(lines) == 1  # both entries on one project line
    entries = list(WorkEntry.select().where(WorkEntry.invoice_line == lines[0]))
    kept = drafts.LineEdit("Web development", Decimal("2.5"), "h", 120000, Decimal(21), id=lines[0].id)
    extra = drafts.LineEdit("Domain", Decimal(1), "pcs", 35000, Decimal(12))
    edited = drafts.update_draft(draft, lines=[extra, kept])
    rows = inv_svc.invoice_lines(edited)
    assert [(r.position, r.description) for r in rows] == [(1, "Domain"), (2, "Web development")]
    assert rows[1].id == lines[0].id and rows[1].amount == line_amount(Decimal("2.5"), 120000)
    expected = compute_totals([(35000, Decimal(12)), (300000, Decimal(21))], vat_payer=True, reverse_charge=False)
    stored = reload(edited)
    assert (stored.subtotal, stored.vat_total, stored.total) == (expected.subtotal, expected.vat_total, expected.total)
    assert all(reload(e).invoice_line_id == lines[0].id for e in entries)  # still billed on the kept line
    # Removing the line unbills its work.
    drafts.update_draft(stored, lines=[extra])
    assert all(reload(e).invoice_line_id is None and reload(e).billed_rate is None for e in entries)
    assert [r.description for r in inv_svc.invoice_lines(stored)] == ["Domain"]
    assert reload(stored).total == 39200


def test_update_draft_is_audited(draft):
    before = AuditLog.select().count()
    drafts.update_draft(draft, note="Audited")
    assert AuditLog.select().count() > before
    last = AuditLog.select().order_by(AuditLog.id.desc()).first()
    assert last.table_name == "invoices" and last.row_id == draft.id


@pytest.mark.parametrize(
    "changes, message",
    [
        ({"due_on": date(2026, 3, 1)}, "before the issue date"),
        ({"issued_on": date(2027, 1, 2)}, "numbered in 2026"),
        ({"customer": {"name": " "}}, "needs a name"),
        ({"customer": {"country": "DE"}}, "Cannot change the customer's country"),
        ({"lines": []}, "at least one line"),
        ({"lines": [drafts.LineEdit("x", Decimal(0), "h", 100)]}, "quantity must be above zero"),
        ({"lines": [drafts.LineEdit(" ", Decimal(1), "h", 100)]}, "needs a description"),
        ({"lines": [drafts.LineEdit("x", Decimal(1), "h", 100, id=999999)]}, "is not a line of invoice"),
    ],
)
def test_update_draft_refuses_bad_edits_and_changes_nothing(draft, changes, message):
    before = db_state()
    with pytest.raises(inv_svc.InvoiceError, match=message):
        drafts.update_draft(draft, **changes)
    assert db_state() == before


def test_update_draft_refuses_vat_on_an_invoice_without_vat(database):
    set_up_profile(vat_payer="no")
    client = client_svc.add_client(name="Beta")
    log(client_svc.add_project(client, name="Ops", hourly_rate="1000"), 60)
    invoice = inv_svc.create_invoice(client, issued_on=ISSUED)
    with pytest.raises(inv_svc.InvoiceError, match="charges no VAT"):
        drafts.update_draft(invoice, lines=[drafts.LineEdit("x", Decimal(1), "h", 100, Decimal(21))])


@pytest.mark.parametrize("state", ["sent", "paid", "cancelled"])
def test_only_a_draft_can_be_edited(draft, state):
    invoice = invoice_status.mark_sent(draft, ISSUED)
    if state == "paid":
        invoice = invoice_status.mark_paid(invoice, date(2026, 4, 2))
    elif state == "cancelled":
        invoice = invoice_status.cancel_invoice(invoice)
    before = db_state()
    with pytest.raises(inv_svc.InvoiceError, match="only a draft can be edited"):
        drafts.update_draft(invoice, note="late")
    assert db_state() == before


def test_update_draft_rereads_the_status(draft):
    """A draft sent from another window meanwhile is not edited through a stale object."""
    Invoice.update(status="sent", sent_on=ISSUED).where(Invoice.id == draft.id).execute()
    with pytest.raises(inv_svc.InvoiceError, match="only a draft can be edited"):
        drafts.update_draft(draft, note="stale")
