"""Checks for what a person types: IBAN, BIC, Czech account, IČO, VAT ID (DIČ), currency, e-mail.

Each ``check_*`` returns the normalised value or raises :class:`ValidationError`
with a sentence that says what is wrong. The checksums come from
python-stdnum; nothing here re-implements them.
"""

from __future__ import annotations

import re
from importlib import import_module

from babel import Locale
from babel.numbers import get_currency_name

from core.errors import FakturkaError
from core.values.messages import Message


def _std(module: str):
    """A python-stdnum module, imported on first use: stdnum's imports cost every start-up ~10 ms, and a
    start that checks no number does not need them."""
    return import_module(f"stdnum.{module}")


class ValidationError(FakturkaError, ValueError):
    """A value a person entered is wrong. ``field`` names the form field."""

    def __init__(self, message: str, field: str | None = None):
        super().__init__(message)
        self.field = field


def _reason(exc: Exception) -> Message:
    if isinstance(exc, _std("exceptions").InvalidChecksum):
        return Message("its check digits do not match (a typo?)")
    if isinstance(exc, _std("exceptions").InvalidLength):
        return Message("it has the wrong number of characters")
    if isinstance(exc, _std("exceptions").InvalidFormat):
        return Message("it contains characters that do not belong there")
    if isinstance(exc, _std("exceptions").InvalidComponent):
        return Message("its country or bank code is not valid")
    return Message("it is not valid")


def check_iban(value: str, field: str = "iban") -> str:
    value = (value or "").strip()
    if not value:
        return ""
    try:
        return _std("iban").validate(value)
    except _std("exceptions").ValidationError as exc:
        raise ValidationError(
            Message("IBAN {value!r} is not valid: {reason}.", value=value, reason=_reason(exc)), field
        ) from None


def check_bic(value: str, field: str = "bic") -> str:
    value = (value or "").strip().upper()
    if not value:
        return ""
    try:
        return _std("bic").validate(value)
    except _std("exceptions").ValidationError as exc:
        raise ValidationError(
            Message(
                "BIC {value!r} is not valid: {reason} (expected 8 or 11 characters, e.g. FIOBCZPP).",
                value=value,
                reason=_reason(exc),
            ),
            field,
        ) from None


def check_cz_account(value: str, field: str = "bank_account") -> str:
    """A Czech domestic account ``[prefix-]number/bank``; returned without padding zeros."""
    value = (value or "").strip()
    if not value:
        return ""
    if "/" not in value:
        raise ValidationError(
            Message("Account {value!r} needs its bank code after a slash, e.g. 2000145399/0800.", value=value), field
        )
    try:
        _std("cz.bankaccount").validate(value)
    except _std("exceptions").ValidationError as exc:
        raise ValidationError(
            Message("Czech account {value!r} is not valid: {reason}.", value=value, reason=_reason(exc)), field
        ) from None
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
    check = _std("iban").calc_check_digits("CZ00" + bban)
    return f"CZ{check}{bban}"


def check_ico(value: str, field: str = "ico") -> str:
    """IČO: 8 digits with a mod-11 check digit (shorter numbers are zero-padded)."""
    value = (value or "").strip().replace(" ", "")
    if not value:
        return ""
    if not value.isdigit() or len(value) > 8:
        raise ValidationError(Message("IČO {value!r} is not valid: it must be up to 8 digits.", value=value), field)
    value = value.zfill(8)
    # A legal entity's DIČ is "CZ" + IČO with the same check digit; stdnum checks it.
    try:
        _std("cz.dic").validate(value)
    except _std("exceptions").ValidationError as exc:
        raise ValidationError(
            Message("IČO {value!r} is not valid: {reason}.", value=value, reason=_reason(exc)), field
        ) from None
    return value


# VAT ID prefixes of the EU member states (Greece is EL; XI is Northern Ireland, EU VAT for goods only)
# with each one's shape, told when an ID is refused. Checked with stdnum.eu.vat (per-country check digits).
EU_VAT_FORMATS = {
    "AT": Message("ATU and 8 digits"),
    "BE": Message("BE and 10 digits"),
    "BG": Message("BG and 9 or 10 digits"),
    "CY": Message("CY, 8 digits and a letter"),
    "DE": Message("DE and 9 digits"),
    "DK": Message("DK and 8 digits"),
    "EE": Message("EE and 9 digits"),
    "EL": Message("EL and 9 digits"),
    "ES": Message("ES and 9 letters or digits"),
    "FI": Message("FI and 8 digits"),
    "FR": Message("FR, 2 letters or digits and 9 digits"),
    "HR": Message("HR and 11 digits"),
    "HU": Message("HU and 8 digits"),
    "IE": Message("IE and 8 or 9 letters or digits"),
    "IT": Message("IT and 11 digits"),
    "LT": Message("LT and 9 or 12 digits"),
    "LU": Message("LU and 8 digits"),
    "LV": Message("LV and 11 digits"),
    "MT": Message("MT and 8 digits"),
    "NL": Message("NL, 9 digits, B and 2 digits"),
    "PL": Message("PL and 10 digits"),
    "PT": Message("PT and 9 digits"),
    "RO": Message("RO and 2 to 10 digits"),
    "SE": Message("SE and 12 digits"),
    "SI": Message("SI and 8 digits"),
    "SK": Message("SK and 10 digits"),
    "XI": Message("XI and 9 or 12 digits"),
}
# Non-EU VAT IDs stdnum checks with their check digits (the prefix is kept in what is stored).
OTHER_VAT_FORMATS = {
    "GB": Message("GB and 9 or 12 digits"),
    "CH": Message("CHE, 9 digits and MWST, TVA, IVA or TPV (or the bare UID CHE and 9 digits)"),
    "NO": Message("NO, 9 digits and MVA"),
}
# Any other two-letter prefix: only this shape is checked (no library knows the country's rule).
OTHER_VAT_ID = re.compile(r"[A-Z]{2}[0-9A-Z+*.]{2,13}")
VAT_ID_CHARACTERS = re.compile(r"[\s.\-/]")  # separators people type between the groups


def country_name(code: str) -> str:
    """``DE`` -> ``Germany`` (EL is Greece, XI Northern Ireland); the code itself when Babel does not know it."""
    if code == "XI":
        return "Northern Ireland"
    return Locale("en").territories.get("GR" if code == "EL" else code, code)


class CountryName(Message):
    """A country's name for a Message: ``Germany`` in English, said by a face in its language (Babel's
    names of territories; the code itself when Babel does not know it)."""

    code: str

    def __new__(cls, code: str) -> CountryName:
        english = country_name(code)
        self = str.__new__(cls, english)
        self.msgid, self.params, self.code = english, {}, code
        return self

    def __reduce__(self):
        return (CountryName, (self.code,))

    def translated(self, lang: str) -> str:
        if lang == "en":
            return str.__str__(self)
        if self.code == "XI" and lang == "cs":
            return "Severní Irsko"
        try:
            return Locale.parse(lang).territories.get("GR" if self.code == "EL" else self.code, str.__str__(self))
        except (ValueError, LookupError):
            return str.__str__(self)


def _validate_other_vat(prefix: str, value: str) -> str:
    """A GB, CH or NO VAT ID through stdnum, returned compact with its country prefix."""
    if prefix == "GB":
        return "GB" + _std("gb.vat").validate(value)
    if prefix == "CH":
        if re.fullmatch(r"CHE[0-9]{9}", value):
            return _std("ch.uid").validate(value)
        return _std("ch.vat").validate(value)
    # Norway: the VAT ID is the organisation number followed by MVA; added when left out.
    return "NO" + _std("no.mva").validate(value if value.endswith("MVA") else value + "MVA")


def vat_id_problem(value: str) -> tuple[str, str | Message]:
    """``(compact VAT ID, "")`` when ``value`` is valid, else ``(value, why it is not)`` as a clause."""
    value = VAT_ID_CHARACTERS.sub("", value or "").upper()
    prefix = value[:2]
    if prefix == "GR":  # the ISO code; the VAT prefix of Greece is EL
        value, prefix = "EL" + value[2:], "EL"
    if prefix == "CZ":
        try:
            return "CZ" + _std("cz.dic").validate(value), ""
        except _std("exceptions").ValidationError as exc:
            return value, _reason(exc)
    formats = EU_VAT_FORMATS if prefix in EU_VAT_FORMATS else OTHER_VAT_FORMATS
    if prefix in formats:
        try:
            if formats is EU_VAT_FORMATS:
                return _std("eu.vat").validate(value), ""
            return _validate_other_vat(prefix, value), ""
        except _std("exceptions").ValidationError as exc:
            return value, Message(
                "{reason}; a VAT ID of {country} is {shape}",
                reason=_reason(exc),
                country=CountryName(prefix),
                shape=formats[prefix],
            )
    if not OTHER_VAT_ID.fullmatch(value):
        return value, Message("it must start with a two-letter country code, e.g. CZ12345678 or DE123456789")
    return value, ""


def check_dic(value: str, field: str = "dic") -> str:
    """A VAT ID. Czech ones (DIČ) and EU ones are validated with their country's check digits (GB, CH and
    NO ones too); any other country's only by shape: two letters, then 2 to 13 letters or digits."""
    value = (value or "").strip()
    if not value:
        return ""
    compact, problem = vat_id_problem(value)
    if problem:
        if compact.startswith("CZ"):
            raise ValidationError(
                Message("DIČ {value!r} is not valid: {problem}.", value=compact, problem=problem), field
            )
        raise ValidationError(
            Message("VAT ID {value!r} is not valid: {problem}.", value=compact, problem=problem), field
        )
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
    return _std("cz.bankaccount")._info(code) if re.fullmatch(r"[0-9]{4}", code or "") else {}


def bank_pair_problem(iban: str, bic: str, bank_account: str = "") -> Message | None:
    """Why ``bic`` cannot be the bank of ``iban`` (or, without an IBAN, of the Czech ``bank_account``);
    None when they agree or one is missing. All values already checked one by one."""
    bic = (bic or "").upper()
    if not bic:
        return None
    if iban:
        iban = _std("iban").compact(iban)
        account = iban
    elif bank_account and re.fullmatch(r"(?:[0-9]{1,6}-)?[0-9]{1,10}/[0-9]{4}", bank_account):
        account = cz_account_to_iban(bank_account)
    else:
        return None
    country, bank_code = _country_and_bank(account)
    bic_country = bic[4:6]
    if bic_country != country and bic_country not in BIC_COUNTRIES_OF_IBAN.get(country, ()):
        where = {
            "bic": bic,
            "bic_country": CountryName(bic_country),
            "bic_code": bic_country,
            "country": CountryName(country),
            "code": country,
        }
        if iban:
            return Message(
                "The BIC {bic} is of a bank in {bic_country} ({bic_code}) but the IBAN {iban} is an account in "
                "{country} ({code}); enter the BIC of the bank that holds the account.",
                iban=iban,
                **where,
            )
        return Message(
            "The BIC {bic} is of a bank in {bic_country} ({bic_code}) but the account number {account} is an "
            "account in {country} ({code}); enter the BIC of the bank that holds the account.",
            account=bank_account,
            **where,
        )
    if country == "CZ":
        bank = czech_bank(bank_code)
        expected = bank.get("bic")
        if expected and bic[:8] != expected:
            which = {"bic": bic, "bank_code": bank_code, "bank": bank["bank"], "expected": expected}
            if iban:
                return Message(
                    "The BIC {bic} does not belong to the bank of the IBAN {iban}: its bank code {bank_code} is "
                    "{bank}, whose BIC is {expected}.",
                    iban=iban,
                    **which,
                )
            return Message(
                "The BIC {bic} does not belong to the bank of the account number {account}: its bank code "
                "{bank_code} is {bank}, whose BIC is {expected}.",
                account=bank_account,
                **which,
            )
    return None


def check_bank_pair(iban: str, bic: str, bank_account: str = "", field: str = "bic") -> None:
    problem = bank_pair_problem(iban, bic, bank_account)
    if problem:
        raise ValidationError(problem, field)


# ISO 4217 codes that name no money an invoice or an account is kept in (Babel knows them all).
NOT_MONEY = {
    "XXX": Message('means "no currency"'),
    "XTS": Message("is reserved for testing"),
    "XAU": Message("is gold (one troy ounce)"),
    "XAG": Message("is silver (one troy ounce)"),
    "XPT": Message("is platinum (one troy ounce)"),
    "XPD": Message("is palladium (one troy ounce)"),
    "XDR": Message("is the IMF's special drawing right, a unit of account"),
    "XBA": Message("is a European bond-market unit of account (EURCO)"),
    "XBB": Message("is a European bond-market unit of account (E.M.U.-6)"),
    "XBC": Message("is a European bond-market unit of account (E.U.A.-9)"),
    "XBD": Message("is a European bond-market unit of account (E.U.A.-17)"),
    "XSU": Message("is the SUCRE, a unit of account between ALBA countries"),
    "XUA": Message("is the African Development Bank's unit of account"),
}


def check_currency(value: str, field: str = "currency") -> str:
    code = (value or "").strip().upper()
    if not re.fullmatch(r"[A-Z]{3}", code) or get_currency_name(code, locale="en") == code:
        raise ValidationError(
            Message("{value!r} is not a currency code; use three letters such as CZK, EUR or USD.", value=value), field
        )
    if code in NOT_MONEY:
        raise ValidationError(
            Message(
                "{code} is not money: in ISO 4217 it {meaning}; use a currency such as CZK, EUR or USD.",
                code=code,
                meaning=NOT_MONEY[code],
            ),
            field,
        )
    return code


def check_language(value: str, field: str = "language") -> str:
    lang = (value or "").strip().lower()
    if lang not in ("en", "cs"):
        raise ValidationError(Message("Language {value!r} is not supported; use en or cs.", value=value), field)
    return lang


def check_email(value: str, field: str = "email") -> str:
    value = (value or "").strip()
    if value and not re.fullmatch(r"[^@\s]+@[^@\s]+\.[^@\s]+", value):
        raise ValidationError(Message("{value!r} does not look like an e-mail address.", value=value), field)
    return value


def check_country(value: str, field: str = "country") -> str:
    code = (value or "").strip().upper()
    if not re.fullmatch(r"[A-Z]{2}", code):
        raise ValidationError(
            Message("Country {value!r} must be a two-letter code such as CZ or DE.", value=value), field
        )
    return code
