"""Checks for what a person types: IBAN, BIC, Czech account, IČO, DIČ, currency, e-mail.

Each ``check_*`` returns the normalised value or raises :class:`ValidationError`
with a sentence that says what is wrong. The checksums come from
python-stdnum; nothing here re-implements them.
"""

from __future__ import annotations

import re

from babel.numbers import get_currency_name
from stdnum import bic as stdnum_bic
from stdnum import iban as stdnum_iban
from stdnum.cz import bankaccount as cz_bankaccount
from stdnum.cz import dic as cz_dic
from stdnum.exceptions import (
    InvalidChecksum,
    InvalidComponent,
    InvalidFormat,
    InvalidLength,
)
from stdnum.exceptions import (
    ValidationError as _StdnumError,
)

from core.errors import FakturkaError


class ValidationError(FakturkaError, ValueError):
    """A value a person entered is wrong. ``field`` names the form field."""

    def __init__(self, message: str, field: str | None = None):
        super().__init__(message)
        self.field = field


def _reason(exc: Exception) -> str:
    if isinstance(exc, InvalidChecksum):
        return "its check digits do not match (a typo?)"
    if isinstance(exc, InvalidLength):
        return "it has the wrong number of characters"
    if isinstance(exc, InvalidFormat):
        return "it contains characters that do not belong there"
    if isinstance(exc, InvalidComponent):
        return "its country or bank code is not valid"
    return "it is not valid"


def check_iban(value: str, field: str = "iban") -> str:
    value = (value or "").strip()
    if not value:
        return ""
    try:
        return stdnum_iban.validate(value)
    except _StdnumError as exc:
        raise ValidationError(f"IBAN {value!r} is not valid: {_reason(exc)}.", field) from None


def check_bic(value: str, field: str = "bic") -> str:
    value = (value or "").strip().upper()
    if not value:
        return ""
    try:
        return stdnum_bic.validate(value)
    except _StdnumError as exc:
        raise ValidationError(
            f"BIC {value!r} is not valid: {_reason(exc)} (expected 8 or 11 characters, e.g. FIOBCZPP).", field
        ) from None


def check_cz_account(value: str, field: str = "bank_account") -> str:
    """A Czech domestic account ``[prefix-]number/bank``; returned without padding zeros."""
    value = (value or "").strip()
    if not value:
        return ""
    if "/" not in value:
        raise ValidationError(f"Account {value!r} needs its bank code after a slash, e.g. 2000145399/0800.", field)
    try:
        cz_bankaccount.validate(value)
    except _StdnumError as exc:
        raise ValidationError(f"Czech account {value!r} is not valid: {_reason(exc)}.", field) from None
    return compact_cz_account(value)


def compact_cz_account(value: str) -> str:
    number, bank = value.replace(" ", "").split("/")
    prefix, _, base = number.rpartition("-")
    prefix = prefix.lstrip("0")
    base = base.lstrip("0") or "0"
    return f"{prefix}-{base}/{bank}" if prefix else f"{base}/{bank}"


def cz_account_to_iban(value: str) -> str:
    """``19-2000145399/0800`` -> ``CZ6508000000192000145399``."""
    number, bank = value.replace(" ", "").split("/")
    prefix, _, base = number.rpartition("-")
    bban = bank.zfill(4) + prefix.zfill(6) + base.zfill(10)
    check = stdnum_iban.calc_check_digits("CZ00" + bban)
    return f"CZ{check}{bban}"


def check_ico(value: str, field: str = "ico") -> str:
    """IČO: 8 digits with a mod-11 check digit (shorter numbers are zero-padded)."""
    value = (value or "").strip().replace(" ", "")
    if not value:
        return ""
    if not value.isdigit() or len(value) > 8:
        raise ValidationError(f"IČO {value!r} is not valid: it must be up to 8 digits.", field)
    value = value.zfill(8)
    # A legal entity's DIČ is "CZ" + IČO with the same check digit; stdnum checks it.
    try:
        cz_dic.validate(value)
    except _StdnumError as exc:
        raise ValidationError(f"IČO {value!r} is not valid: {_reason(exc)}.", field) from None
    return value


def check_dic(value: str, field: str = "dic") -> str:
    """A VAT ID. Czech ones (CZ + 8-10 digits) are checksum-validated; other EU ones are format-checked."""
    value = (value or "").strip().replace(" ", "").upper()
    if not value:
        return ""
    if value.startswith("CZ"):
        try:
            return "CZ" + cz_dic.validate(value)
        except _StdnumError as exc:
            raise ValidationError(f"DIČ {value!r} is not valid: {_reason(exc)}.", field) from None
    if not re.fullmatch(r"[A-Z]{2}[0-9A-Z+*.]{2,13}", value):
        raise ValidationError(
            f"VAT ID {value!r} is not valid: it must start with a two-letter country code, "
            "e.g. CZ12345678 or DE123456789.",
            field,
        )
    return value


# ISO 4217 codes that name no money an invoice or an account is kept in (Babel knows them all).
NOT_MONEY = {
    "XXX": 'means "no currency"',
    "XTS": "is reserved for testing",
    "XAU": "is gold (one troy ounce)",
    "XAG": "is silver (one troy ounce)",
    "XPT": "is platinum (one troy ounce)",
    "XPD": "is palladium (one troy ounce)",
    "XDR": "is the IMF's special drawing right, a unit of account",
    "XBA": "is a European bond-market unit of account (EURCO)",
    "XBB": "is a European bond-market unit of account (E.M.U.-6)",
    "XBC": "is a European bond-market unit of account (E.U.A.-9)",
    "XBD": "is a European bond-market unit of account (E.U.A.-17)",
    "XSU": "is the SUCRE, a unit of account between ALBA countries",
    "XUA": "is the African Development Bank's unit of account",
}


def check_currency(value: str, field: str = "currency") -> str:
    code = (value or "").strip().upper()
    if not re.fullmatch(r"[A-Z]{3}", code) or get_currency_name(code, locale="en") == code:
        raise ValidationError(f"{value!r} is not a currency code; use three letters such as CZK, EUR or USD.", field)
    if code in NOT_MONEY:
        raise ValidationError(
            f"{code} is not money: in ISO 4217 it {NOT_MONEY[code]}; use a currency such as CZK, EUR or USD.", field
        )
    return code


def check_language(value: str, field: str = "language") -> str:
    lang = (value or "").strip().lower()
    if lang not in ("en", "cs"):
        raise ValidationError(f"Language {value!r} is not supported; use en or cs.", field)
    return lang


def check_email(value: str, field: str = "email") -> str:
    value = (value or "").strip()
    if value and not re.fullmatch(r"[^@\s]+@[^@\s]+\.[^@\s]+", value):
        raise ValidationError(f"{value!r} does not look like an e-mail address.", field)
    return value


def check_country(value: str, field: str = "country") -> str:
    code = (value or "").strip().upper()
    if not re.fullmatch(r"[A-Z]{2}", code):
        raise ValidationError(f"Country {value!r} must be a two-letter code such as CZ or DE.", field)
    return code
