"""Payment QR payloads: SPAYD for CZK, EPC for EUR, none otherwise."""

from __future__ import annotations

import io
from datetime import date

import pytest
import zxingcpp
from PIL import Image

from core.billing import qr
from core.store.models import Invoice

IBAN = "CZ6508000000192000145399"
SPEC_EXAMPLE = "SPD*1.0*ACC:CZ6508000000192000145399*AM:1234.50*CC:CZK*DT:20250131*X-VS:2025001*MSG:FAKTURA 2025001"


def invoice(**overrides) -> Invoice:
    """An (unsaved) invoice: the payload functions read only its fields."""
    supplier = {"name": "Příliš žluťoučký kůň s.r.o.", "iban": "CZ65 0800 0000 1920 0014 5399", "bic": ""}
    supplier.update(overrides.pop("supplier", {}))
    fields = dict(
        number="2025001",
        year=2025,
        seq=1,
        currency="CZK",
        language="cs",
        total=123450,
        issued_on=date(2025, 1, 17),
        due_on=date(2025, 1, 31),
        variable_symbol="2025001",
        supplier=supplier,
        customer={"name": "Odběratel"},
    )
    fields.update(overrides)
    return Invoice(**fields)


def decode(code) -> list[bytes]:
    buf = io.BytesIO()
    code.save(buf, kind="png", scale=6, border=4)
    buf.seek(0)
    image = Image.open(buf).convert("L")
    return [r.bytes for r in zxingcpp.read_barcodes(image, formats=zxingcpp.BarcodeFormat.QRCode)]


# -- SPAYD ---------------------------------------------------------------------


def test_spayd_matches_the_spec_example():
    assert qr.spayd_payload(invoice()) == SPEC_EXAMPLE


def test_spayd_message_follows_the_invoice_language():
    payload = qr.spayd_payload(invoice(language="en"))
    assert payload.endswith("*MSG:INVOICE 2025001")


def test_spayd_message_is_uppercase_ascii_with_star_escaped():
    payload = qr.spayd_payload(invoice(number="2025/Řž*01"))
    assert payload.endswith("*MSG:FAKTURA 2025/RZ%2A01")
    # '*' only as the separator: splitting gives back every key.
    keys = [part.split(":", 1)[0] for part in payload.split("*")[2:]]
    assert keys == ["ACC", "AM", "CC", "DT", "X-VS", "MSG"]


def test_spayd_text_is_cut_to_the_limit_without_breaking_an_escape():
    text = qr.spayd_text("A" * 58 + "*B", 60)
    assert text == "A" * 58
    assert len(qr.spayd_text("žluťoučký kůň " * 10, 60)) <= 60
    assert qr.spayd_text("účet č. 12_34 #5", 60) == "UCET C. 12 34 5"


def test_spayd_amount_has_two_decimals_and_at_most_ten_characters():
    assert "*AM:1000.00*" in qr.spayd_payload(invoice(total=100000))
    assert "*AM:0.05*" in qr.spayd_payload(invoice(total=5))
    assert "*AM:9999999.99*" in qr.spayd_payload(invoice(total=999999999))
    with pytest.raises(ValueError, match="AM"):
        qr.spayd_payload(invoice(total=1000000000))


def test_spayd_without_variable_symbol_omits_the_key():
    payload = qr.spayd_payload(invoice(variable_symbol=""))
    assert "X-VS" not in payload
    assert payload.startswith("SPD*1.0*ACC:CZ6508000000192000145399*AM:1234.50*CC:CZK*DT:20250131*MSG:")


def test_spayd_refuses_a_bad_variable_symbol():
    with pytest.raises(ValueError, match="at most 10 digits"):
        qr.spayd_payload(invoice(variable_symbol="12345678901"))
    with pytest.raises(ValueError, match="at most 10 digits"):
        qr.spayd_payload(invoice(variable_symbol="2025-001"))


def test_invalid_iban_is_a_clear_error():
    with pytest.raises(ValueError, match=r"supplier IBAN 'CZ6508000000192000145398' is not valid"):
        qr.spayd_payload(invoice(supplier={"iban": "CZ6508000000192000145398"}))
    with pytest.raises(ValueError, match="not valid"):
        qr.payment_qr(invoice(currency="EUR", supplier={"iban": "DE00 1234"}))


def test_spayd_code_is_alphanumeric_level_m_and_decodes_byte_for_byte():
    code = qr.qr_code(qr.SPAYD, SPEC_EXAMPLE)
    assert code.error == "M"
    assert code.mode == "alphanumeric"
    assert decode(code) == [SPEC_EXAMPLE.encode("ascii")]


# -- EPC -----------------------------------------------------------------------


def test_epc_payload_lines():
    payload = qr.epc_payload(invoice(currency="EUR", language="en", supplier={"bic": "GIBACZPX"}))
    assert payload == (
        "BCD\n002\n1\nSCT\nGIBACZPX\nPříliš žluťoučký kůň s.r.o.\n" + IBAN + "\nEUR1234.5\n\n\nInvoice 2025001"
    )
    assert len(payload.encode("utf-8")) <= 331


def test_epc_without_bic_and_in_czech():
    payload = qr.epc_payload(invoice(currency="EUR", language="cs"))
    lines = payload.split("\n")
    assert lines[4] == ""  # BIC is optional in version 002
    assert lines[-1] == "Faktura 2025001"


def test_epc_text_adds_the_variable_symbol_when_it_differs():
    payload = qr.epc_payload(invoice(currency="EUR", language="en", number="FV-2025-001", variable_symbol="2025001"))
    assert payload.split("\n")[-1] == "Invoice FV-2025-001 VS 2025001"


def test_epc_name_is_cut_to_70_characters():
    long_name = "Žluťoučký " * 10
    payload = qr.epc_payload(invoice(currency="EUR", supplier={"name": long_name}))
    name = payload.split("\n")[5]
    assert len(name) <= 70
    assert long_name.startswith(name)


def test_epc_is_for_euro_only():
    with pytest.raises(ValueError, match="EUR only"):
        qr.epc_payload(invoice(currency="CZK"))


def test_epc_rejects_an_invalid_bic():
    with pytest.raises(ValueError, match="BIC"):
        qr.epc_payload(invoice(currency="EUR", supplier={"bic": "NOTABIC"}))


def test_epc_code_is_level_m_version_13_at_most_and_decodes_byte_for_byte():
    payload = qr.epc_payload(invoice(currency="EUR", supplier={"name": "Ústřední úřad pro ďábelské účetnictví a.s."}))
    code = qr.qr_code(qr.EPC, payload)
    assert code.error == "M"
    assert code.version <= 13
    assert decode(code) == [payload.encode("utf-8")]


# -- choosing ------------------------------------------------------------------


def test_payment_qr_by_currency():
    assert qr.payment_qr(invoice()) == (qr.SPAYD, SPEC_EXAMPLE)
    kind, payload = qr.payment_qr(invoice(currency="EUR"))
    assert kind == qr.EPC and payload.startswith("BCD\n002\n1\nSCT\n")
    assert qr.payment_qr(invoice(currency="USD")) is None
    assert qr.payment_qr(invoice(currency="GBP")) is None


def test_no_qr_without_iban_or_without_anything_to_pay():
    assert qr.payment_qr(invoice(supplier={"iban": ""})) is None
    assert qr.payment_qr(invoice(currency="EUR", supplier={"iban": "  "})) is None
    assert qr.payment_qr(invoice(total=0)) is None
