"""Payment QR codes for invoices: SPAYD ("QR Platba") for CZK, EPC for EUR.

Rules (shared/specs/payments-qr.md):

- CZK -> SPAYD, EUR -> EPC069-12 (version 002), any other currency -> no QR.
  No QR either when the supplier has no IBAN or there is nothing to pay.
- Error correction level M for both, never boosted.
- The supplier's IBAN is validated (ISO 13616 mod-97, python-stdnum); an
  invalid one is a :class:`QrError` naming the IBAN, never a code that a
  bank app would reject.

SPAYD decisions: ``ACC`` is the IBAN alone (every Czech bank reads it; the
BIC adds nothing for a domestic payment and some apps mis-read ``IBAN+BIC``);
only the keys every Czech bank processes are written (``ACC AM CC DT X-VS
MSG``); ``MSG`` is "FAKTURA <number>" / "INVOICE <number>" (the invoice's
language), upper-cased, diacritics stripped, restricted to the QR
alphanumeric charset with ``*`` written ``%2A``, at most 60 characters.

EPC decisions: the payload comes from segno's own EPC builder (which checks
the field lengths and the amount range); it is always UTF-8 (charset ``1``),
the charset every banking app reads; the BIC is included when the supplier
has one; the beneficiary name is cut to 70 characters; the remittance text is
"Invoice <number>" / "Faktura <number>" (plus ``VS <symbol>`` when the
variable symbol is not the invoice number itself).
"""

from __future__ import annotations

import unicodedata
from decimal import Decimal

import segno
from segno import helpers as segno_helpers
from stdnum import bic as stdnum_bic
from stdnum import iban as stdnum_iban
from stdnum.exceptions import ValidationError

from core.errors import FakturkaError
from core.values import i18n
from core.values.messages import Message
from core.values.money import from_minor

SPAYD = "spayd"
EPC = "epc"
ERROR_LEVEL = "M"

# QR alphanumeric mode: the safest SPAYD charset (minus '%', which is the escape).
_SPAYD_SAFE = set("0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ $+-./:*")
SPAYD_LIMITS = {"ACC": 46, "AM": 10, "CC": 3, "X-VS": 10, "MSG": 60}
EPC_NAME_MAX = 70
EPC_TEXT_MAX = 140


class QrError(FakturkaError, ValueError):
    """A payment QR code that cannot be made; the message says which invoice or profile field to fix.

    Still a ValueError for callers that caught that before it had a name."""


def validated_iban(value: str | None) -> str:
    """The compact, upper-case IBAN; ValueError with a clear message if it is not valid."""
    raw = (value or "").strip()
    try:
        return stdnum_iban.validate(raw)
    except ValidationError as exc:
        raise QrError(
            Message(
                "The supplier IBAN {iban!r} is not valid ({reason}); fix it in the business profile.",
                iban=raw,
                reason=str(exc),
            )
        ) from None


def validated_bic(value: str | None) -> str:
    raw = (value or "").strip()
    if not raw:
        return ""
    try:
        return stdnum_bic.validate(raw)
    except ValidationError as exc:
        raise QrError(
            Message(
                "The supplier BIC {bic!r} is not valid ({reason}); fix it in the business profile.",
                bic=raw,
                reason=str(exc),
            )
        ) from None


def strip_diacritics(text: str) -> str:
    """``"Příliš žluťoučký"`` -> ``"Prilis zlutoucky"``."""
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


def spayd_text(text: str, limit: int) -> str:
    """A SPAYD free-text value: upper case, ASCII, alphanumeric-mode charset, ``*`` -> ``%2A``.

    Characters outside the charset become spaces (runs collapsed); the result
    is cut to ``limit`` characters without splitting a ``%2A`` escape.
    """
    plain = strip_diacritics(text).upper()
    cleaned = "".join(ch if ch in _SPAYD_SAFE else " " for ch in plain)
    cleaned = " ".join(cleaned.split())
    out: list[str] = []
    length = 0
    for ch in cleaned:
        piece = "%2A" if ch == "*" else ch
        if length + len(piece) > limit:
            break
        out.append(piece)
        length += len(piece)
    return "".join(out).rstrip()


def _variable_symbol(invoice) -> str:
    vs = (invoice.variable_symbol or "").strip()
    if vs and (not vs.isdigit() or len(vs) > 10):
        raise QrError(
            Message(
                "Variable symbol {vs!r} of invoice {number} must be at most 10 digits.", vs=vs, number=invoice.number
            )
        )
    return vs


def _amount(invoice) -> Decimal:
    return from_minor(invoice.total, invoice.currency)


def _language(invoice) -> str:
    try:
        return i18n.normalize_language(invoice.language)
    except ValueError:
        return i18n.DEFAULT_LANGUAGE


def spayd_payload(invoice) -> str:
    """``SPD*1.0*ACC:...*AM:1234.50*CC:CZK*DT:20250131*X-VS:2025001*MSG:FAKTURA 2025001``."""
    supplier = invoice.supplier or {}
    iban = validated_iban(supplier.get("iban"))
    amount = f"{_amount(invoice):.2f}"
    if Decimal(amount) <= 0:
        raise QrError(
            Message("Invoice {number} has nothing to pay; SPAYD needs a positive amount.", number=invoice.number)
        )
    currency = (invoice.currency or "").upper()
    vs = _variable_symbol(invoice)
    message = spayd_text(
        i18n.gettext(_language(invoice), "Invoice {number}").format(number=invoice.number), SPAYD_LIMITS["MSG"]
    )
    fields = [("ACC", iban), ("AM", amount), ("CC", currency)]
    if invoice.due_on:
        fields.append(("DT", invoice.due_on.strftime("%Y%m%d")))
    if vs:
        fields.append(("X-VS", vs))
    if message:
        fields.append(("MSG", message))
    for key, value in fields:
        limit = SPAYD_LIMITS.get(key)
        if limit is not None and len(value) > limit:
            raise QrError(
                Message("SPAYD {key} {value!r} is longer than {limit} characters.", key=key, value=value, limit=limit)
            )
        if "*" in value:  # cannot happen for the sanitised fields; a guard for the rest
            raise QrError(Message("SPAYD {key} must not contain '*'.", key=key))
    return "*".join(["SPD", "1.0"] + [f"{key}:{value}" for key, value in fields])


def epc_text(invoice) -> str:
    words = i18n.gettext(_language(invoice), "Invoice {number}").format(number=invoice.number)
    vs = _variable_symbol(invoice)
    if vs and vs != str(invoice.number):
        words += f" VS {vs}"
    return words[:EPC_TEXT_MAX]


def epc_payload(invoice) -> str:
    """The EPC069-12 (v002) payload, lines joined with LF, UTF-8 (charset 1). EUR only."""
    if (invoice.currency or "").upper() != "EUR":
        raise QrError(
            Message(
                "EPC QR codes are for EUR only, invoice {number} is in {currency}.",
                number=invoice.number,
                currency=invoice.currency,
            )
        )
    supplier = invoice.supplier or {}
    iban = validated_iban(supplier.get("iban"))
    bic = validated_bic(supplier.get("bic"))
    name = " ".join((supplier.get("name") or "").split())[:EPC_NAME_MAX].strip()
    if not name:
        raise QrError(Message("The supplier has no name; the EPC QR code needs the beneficiary's name."))
    data = segno_helpers._make_epc_qr_data(  # the builder behind segno.helpers.make_epc_qr
        name,
        iban,
        _amount(invoice),
        text=epc_text(invoice),
        bic=bic or None,
        encoding=1,
    )
    return data.decode("utf-8")


def payment_qr(invoice) -> tuple[str, str] | None:
    """``("spayd", payload)`` for CZK, ``("epc", payload)`` for EUR, else ``None``.

    ``None`` also when the supplier has no IBAN or the total is not positive.
    An IBAN that is set but invalid raises QrError.
    """
    currency = (invoice.currency or "").upper()
    if currency not in ("CZK", "EUR"):
        return None
    if not ((invoice.supplier or {}).get("iban") or "").strip():
        return None
    if (invoice.total or 0) <= 0:
        return None
    if currency == "CZK":
        return SPAYD, spayd_payload(invoice)
    return EPC, epc_payload(invoice)


def qr_code(kind: str, payload: str) -> segno.QRCode:
    """The QR symbol for a payload, error correction M (never boosted).

    SPAYD is pure alphanumeric-mode text; EPC is encoded as UTF-8 bytes
    (byte mode), matching the charset ``1`` it declares.
    """
    data = payload.encode("utf-8") if kind == EPC else payload
    qr = segno.make_qr(data, error=ERROR_LEVEL, boost_error=False)
    if kind == EPC and qr.version > 13:
        raise QrError(Message("The EPC payload needs a QR code larger than version 13."))
    return qr
