"""Checks for what a person types: IBAN, BIC, Czech account, IČO, VAT ID (DIČ), currency, e-mail.

Each ``check_*`` returns the normalised value or raises :class:`ValidationError`
with a sentence that says what is wrong. The checksums come from
python-stdnum; nothing here re-implements them.
"""

from __future__ import annotations

import re

from babel import Locale
from babel.numbers import get_currency_name
from stdnum import bic as stdnum_bic
from stdnum import iban as stdnum_iban
from stdnum.ch import uid as stdnum_ch_uid
from stdnum.ch import vat as stdnum_ch_vat
from stdnum.cz import bankaccount as cz_bankaccount
from stdnum.cz import dic as cz_dic
from stdnum.eu import vat as stdnum_eu_vat
from stdnum.exceptions import (
    InvalidChecksum,
    InvalidComponent,
    InvalidFormat,
    InvalidLength,
)
from stdnum.exceptions import (
    ValidationError as _StdnumError,
)
from stdnum.gb import vat as stdnum_gb_vat
from stdnum.no import mva as stdnum_no_mva

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


# VAT ID prefixes of the EU member states (Greece is EL; XI is Northern Ireland, EU VAT for goods only)
# with each one's shape, told when an ID is refused. Checked with stdnum.eu.vat (per-country check digits).
EU_VAT_FORMATS = {
    "AT": "ATU and 8 digits",
    "BE": "BE and 10 digits",
    "BG": "BG and 9 or 10 digits",
    "CY": "CY, 8 digits and a letter",
    "DE": "DE and 9 digits",
    "DK": "DK and 8 digits",
    "EE": "EE and 9 digits",
    "EL": "EL and 9 digits",
    "ES": "ES and 9 letters or digits",
    "FI": "FI and 8 digits",
    "FR": "FR, 2 letters or digits and 9 digits",
    "HR": "HR and 11 digits",
    "HU": "HU and 8 digits",
    "IE": "IE and 8 or 9 letters or digits",
    "IT": "IT and 11 digits",
    "LT": "LT and 9 or 12 digits",
    "LU": "LU and 8 digits",
    "LV": "LV and 11 digits",
    "MT": "MT and 8 digits",
    "NL": "NL, 9 digits, B and 2 digits",
    "PL": "PL and 10 digits",
    "PT": "PT and 9 digits",
    "RO": "RO and 2 to 10 digits",
    "SE": "SE and 12 digits",
    "SI": "SI and 8 digits",
    "SK": "SK and 10 digits",
    "XI": "XI and 9 or 12 digits",
}
# Non-EU VAT IDs stdnum checks with their check digits (the prefix is kept in what is stored).
OTHER_VAT_FORMATS = {
    "GB": "GB and 9 or 12 digits",
    "CH": "CHE, 9 digits and MWST, TVA, IVA or TPV (or the bare UID CHE and 9 digits)",
    "NO": "NO, 9 digits and MVA",
}
# Any other two-letter prefix: only this shape is checked (no library knows the country's rule).
OTHER_VAT_ID = re.compile(r"[A-Z]{2}[0-9A-Z+*.]{2,13}")
VAT_ID_CHARACTERS = re.compile(r"[\s.\-/]")  # separators people type between the groups


def country_name(code: str) -> str:
    """``DE`` -> ``Germany`` (EL is Greece, XI Northern Ireland); the code itself when Babel does not know it."""
    if code == "XI":
        return "Northern Ireland"
    return Locale("en").territories.get("GR" if code == "EL" else code, code)


def _validate_other_vat(prefix: str, value: str) -> str:
    """A GB, CH or NO VAT ID through stdnum, returned compact with its country prefix."""
    if prefix == "GB":
        return "GB" + stdnum_gb_vat.validate(value)
    if prefix == "CH":
        if re.fullmatch(r"CHE[0-9]{9}", value):
            return stdnum_ch_uid.validate(value)
        return stdnum_ch_vat.validate(value)
    # Norway: the VAT ID is the organisation number followed by MVA; added when left out.
    return "NO" + stdnum_no_mva.validate(value if value.endswith("MVA") else value + "MVA")


def vat_id_problem(value: str) -> tuple[str, str]:
    """``(compact VAT ID, "")`` when ``value`` is valid, else ``(value, why it is not)`` as a clause."""
    value = VAT_ID_CHARACTERS.sub("", value or "").upper()
    prefix = value[:2]
    if prefix == "GR":  # the ISO code; the VAT prefix of Greece is EL
        value, prefix = "EL" + value[2:], "EL"
    if prefix == "CZ":
        try:
            return "CZ" + cz_dic.validate(value), ""
        except _StdnumError as exc:
            return value, _reason(exc)
    formats = EU_VAT_FORMATS if prefix in EU_VAT_FORMATS else OTHER_VAT_FORMATS
    if prefix in formats:
        try:
            if formats is EU_VAT_FORMATS:
                return stdnum_eu_vat.validate(value), ""
            return _validate_other_vat(prefix, value), ""
        except _StdnumError as exc:
            return value, f"{_reason(exc)}; a VAT ID of {country_name(prefix)} is {formats[prefix]}"
    if not OTHER_VAT_ID.fullmatch(value):
        return value, "it must start with a two-letter country code, e.g. CZ12345678 or DE123456789"
    return value, ""


def check_dic(value: str, field: str = "dic") -> str:
    """A VAT ID. Czech ones (DIČ) and EU ones are validated with their country's check digits (GB, CH and
    NO ones too); any other country's only by shape: two letters, then 2 to 13 letters or digits."""
    value = (value or "").strip()
    if not value:
        return ""
    compact, problem = vat_id_problem(value)
    if problem:
        what = "DIČ" if compact.startswith("CZ") else "VAT ID"
        raise ValidationError(f"{what} {compact!r} is not valid: {problem}.", field)
    return compact


def _country_and_bank(iban: str) -> tuple[str, str]:
    return iban[:2], iban[4:8]


# IBAN country -> other BIC countries a bank holding such accounts may use: territories that share the
# country's IBAN (the EPC rule as XMLdation documents it: "IBAN & BIC relation"); see docs/architecture.md.
BIC_COUNTRIES_OF_IBAN = {
    "FR": frozenset("GF GP MQ YT RE BL MF PM NC PF TF WF".split()),
    "MC": frozenset({"FR"}),
    "GB": frozenset("GG JE IM VG".split()),
    "IE": frozenset({"GB"}),
    "DK": frozenset({"FO", "GL"}),
}


def czech_bank(code: str) -> dict[str, str]:
    """The Czech National Bank's entry for a bank code (``bank`` and, where it has one, ``bic``); stdnum
    ships the list (kody_bank_CR.csv) and is updated with it."""
    return cz_bankaccount._info(code) if re.fullmatch(r"[0-9]{4}", code or "") else {}


def bank_pair_problem(iban: str, bic: str, bank_account: str = "") -> str | None:
    """Why ``bic`` cannot be the bank of ``iban`` (or, without an IBAN, of the Czech ``bank_account``);
    None when they agree or one is missing. All values already checked one by one."""
    bic = (bic or "").upper()
    if not bic:
        return None
    if iban:
        iban = stdnum_iban.compact(iban)
        account, named = iban, f"IBAN {iban}"
    elif bank_account and re.fullmatch(r"(?:[0-9]{1,6}-)?[0-9]{1,10}/[0-9]{4}", bank_account):
        account, named = cz_account_to_iban(bank_account), f"account number {bank_account}"
    else:
        return None
    country, bank_code = _country_and_bank(account)
    bic_country = bic[4:6]
    if bic_country != country and bic_country not in BIC_COUNTRIES_OF_IBAN.get(country, ()):
        return (
            f"The BIC {bic} is of a bank in {country_name(bic_country)} ({bic_country}) but the {named} is an "
            f"account in {country_name(country)} ({country}); enter the BIC of the bank that holds the account."
        )
    if country == "CZ":
        bank = czech_bank(bank_code)
        expected = bank.get("bic")
        if expected and bic[:8] != expected:
            return (
                f"The BIC {bic} does not belong to the bank of the {named}: its bank code {bank_code} is "
                f"{bank['bank']}, whose BIC is {expected}."
            )
    return None


def check_bank_pair(iban: str, bic: str, bank_account: str = "", field: str = "bic") -> None:
    problem = bank_pair_problem(iban, bic, bank_account)
    if problem:
        raise ValidationError(problem, field)


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
