"""The person's own business profile (one row)."""

from __future__ import annotations

import re
import string
from decimal import Decimal
from typing import Any

from core.store.models import BusinessProfile
from core.values import validation as v
from core.values.forms import Checker
from core.values.limits import MAX_TEXT_LENGTH
from core.values.messages import Message
from core.values.money import exact_minor, from_minor, parse_amount, to_minor
from core.values.text import has_control_characters

PROFILE_ID = 1

# What `profile edit --set key=value` and the settings form accept.
EDITABLE_FIELDS = (
    "name",
    "address",
    "email",
    "phone",
    "ico",
    "dic",
    "registry_line",
    "vat_payer",
    "iban",
    "bic",
    "bank_account",
    "default_currency",
    "default_hourly_rate",
    "default_vat_rate",
    "payment_terms_days",
    "invoice_number_pattern",
    "locale",
)


def get_profile() -> BusinessProfile:
    """The stored profile, or an unsaved one with defaults when none exists yet."""
    return BusinessProfile.get_or_none(BusinessProfile.id == PROFILE_ID) or BusinessProfile(id=None)


def is_set_up() -> bool:
    profile = BusinessProfile.get_or_none(BusinessProfile.id == PROFILE_ID)
    return bool(profile and profile.name)


# What an invoice number pattern may hold besides plain text (docs/user-guide.md, Settings).
PATTERN_HELP = Message("use {year} or {yy}, and {seq} or {seq:0N} with N from 1 to 10 (e.g. {year}{seq:04})")
MAX_PATTERN_LENGTH = 40
MAX_SEQ_WIDTH = 10
# Invoices of one year whose variable symbols are compared when a pattern is set: far more than a
# year's invoices; a pattern that repeats a symbol within them would let payments pay the wrong invoice.
_CHECKED_SEQS = range(1, 10_000)
_ZERO_PADDED = re.compile(r"0([1-9][0-9]?)")


def _pattern_problem(pattern: str, problem: Message) -> v.ValidationError:
    return v.ValidationError(
        Message(
            "The invoice number pattern {pattern} is not valid: {problem}; {help}.",
            pattern=quoted(pattern),
            problem=problem,
            help=PATTERN_HELP,
        ),
        "invoice_number_pattern",
    )


def quoted(text: object) -> str:
    """What a person typed, for a sentence: quoted, control characters escaped, at most 60 characters."""
    shown = repr(text)
    return shown if len(shown) <= 60 else shown[:59] + "…"


def pattern_parts(pattern: str) -> list[tuple[str, int]]:
    """The pattern as pieces: (literal text, -1) and (placeholder, zero-padded width or 0); refuses
    anything but the documented placeholders.

    Read piece by piece rather than handed to ``str.format``: a format spec such as ``{seq:0999999999}``
    would allocate a gigabyte, and ``{seq:c}`` or ``{seq:x}`` would drop the sequence's digits from the
    variable symbol.
    """
    try:
        parsed = list(string.Formatter().parse(pattern))
    except ValueError:
        raise _pattern_problem(pattern, Message("a brace is not closed (write {{ or }} for a literal brace)")) from None
    parts: list[tuple[str, int]] = []
    for literal, name, spec, conversion in parsed:
        if literal:
            parts.append((literal, -1))
        if name is None:
            continue
        if name not in ("year", "yy", "seq") or conversion is not None:
            raise _pattern_problem(pattern, Message("{{{name}}} is not a placeholder", name=name))
        if name != "seq" or not spec:
            if spec:
                raise _pattern_problem(pattern, Message("{{{name}}} takes no format", name=name))
            parts.append((name, 0))
            continue
        width = _ZERO_PADDED.fullmatch(spec or "")
        if width is None or int(width.group(1)) > MAX_SEQ_WIDTH:
            raise _pattern_problem(
                pattern,
                Message(
                    "{{seq:{spec}}} is not a zero-padded width from 1 to {largest}", spec=spec, largest=MAX_SEQ_WIDTH
                ),
            )
        parts.append((name, int(width.group(1))))
    return parts


def check_number_pattern(pattern: str) -> str:
    pattern = check_text(pattern, "invoice_number_pattern", Message("invoice number pattern"))
    if len(pattern) > MAX_PATTERN_LENGTH:
        raise v.ValidationError(
            Message("The invoice number pattern is longer than {limit} characters.", limit=MAX_PATTERN_LENGTH),
            "invoice_number_pattern",
        )
    names = {name for name, width in pattern_parts(pattern) if width >= 0}
    if "seq" not in names:
        # No parameters: the braces are shown as they are.
        raise v.ValidationError(
            Message("The invoice number pattern needs {seq}, e.g. {year}{seq:04}."), "invoice_number_pattern"
        )
    if not names & {"year", "yy"}:
        # The sequence restarts every year; without the year numbers would repeat.
        raise v.ValidationError(
            Message(
                "The invoice number pattern needs {year} or {yy}: the sequence starts again each year, "
                "e.g. {year}{seq:04}."
            ),
            "invoice_number_pattern",
        )
    longest = format_number(pattern, 2026, _CHECKED_SEQS[-1])
    if len(_ascii_digits(longest)) > 10:
        raise v.ValidationError(
            Message(
                "The invoice number pattern makes numbers with more than 10 digits; the variable symbol allows 10."
            ),
            "invoice_number_pattern",
        )
    _check_symbols_differ(pattern)
    return pattern


def _check_symbols_differ(pattern: str) -> None:
    """Payment matching finds an invoice by its variable symbol: two invoices of a year must not share one."""
    parts = pattern_parts(pattern)
    seen: dict[str, int] = {}
    for seq in _CHECKED_SEQS:
        symbol = variable_symbol(_render(parts, 2026, seq))
        if symbol in seen:
            raise v.ValidationError(
                Message(
                    "The invoice number pattern gives invoices {first} and {second} of a year the same variable "
                    "symbol ({symbol}), so payments could not tell them apart; {help}.",
                    first=seen[symbol],
                    second=seq,
                    symbol=symbol,
                    help=PATTERN_HELP,
                ),
                "invoice_number_pattern",
            )
        seen[symbol] = seq


def format_number(pattern: str, year: int, seq: int) -> str:
    """The invoice number ``seq`` of ``year``; a pattern stored before the checks above is refused here."""
    return _render(pattern_parts(pattern), year, seq)


def _render(parts: list[tuple[str, int]], year: int, seq: int) -> str:
    pieces = []
    for text, width in parts:
        if width < 0:
            pieces.append(text)
        elif text == "year":
            pieces.append(str(year))
        elif text == "yy":
            pieces.append(f"{year % 100:02d}")
        else:
            pieces.append(str(seq).zfill(width))
    return "".join(pieces)


def variable_symbol(number: str) -> str:
    """The invoice number's digits 0-9 without leading zeros, at most the last 10 (what a Czech payment
    carries; other scripts' digits would never match a bank's variable symbol)."""
    return _ascii_digits(number).lstrip("0")[-10:]


def _ascii_digits(text: str) -> str:
    return "".join(ch for ch in text if "0" <= ch <= "9")


def check_text(value: Any, field: str, label: str, *, multiline: bool = False) -> str:
    """Text a person typed for a name, an address or a description, stripped; refused (not cleaned) when it
    holds control characters, so what is stored is what they see. One-line fields refuse line breaks too.

    ``label`` names the field in the refusal: a Message (``Message("address")``) so a face can say it in
    its language."""
    text = "" if value is None else str(value)
    if multiline:
        text = text.replace("\r\n", "\n")
    text = text.strip()
    if any("\ud800" <= ch <= "\udfff" for ch in text):
        raise v.ValidationError(
            Message("The {label} is not valid text: it holds bytes that are not UTF-8.", label=label), field
        )
    if has_control_characters(text, multiline=multiline):
        if multiline:
            message = Message(
                "The {label} cannot hold control characters such as ESC; line breaks are fine.", label=label
            )
        else:
            message = Message(
                "The {label} must be one line of text, without line breaks, tabs or control characters.", label=label
            )
        raise v.ValidationError(message, field)
    if len(text) > MAX_TEXT_LENGTH:
        raise v.ValidationError(
            Message("The {label} is longer than {limit} characters.", label=label, limit=MAX_TEXT_LENGTH), field
        )
    return text


def _check_bool(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in ("1", "true", "yes", "y", "ano", "on"):
        return True
    if text in ("0", "false", "no", "n", "ne", "off", ""):
        return False
    raise v.ValidationError(Message("{value} is not yes or no.", value=quoted(value)))


def check_days(value: Any, field: str = "payment_terms_days") -> int:
    text = str(value).strip()
    if not re.fullmatch(r"-?[0-9]{1,9}", text):  # ASCII digits only, and nothing int() would choke on
        raise v.ValidationError(
            Message("Payment terms {value} must be a whole number of days.", value=quoted(str(value))), field
        )
    days = int(text)
    if not 0 <= days <= 365:
        raise v.ValidationError(Message("Payment terms must be between 0 and 365 days, not {days}.", days=days), field)
    return days


def check_rate_percent(value: Any, field: str = "vat_rate") -> Decimal:
    rate = parse_amount(str(value))
    if not Decimal(0) <= rate < Decimal(100):
        raise v.ValidationError(
            Message("A VAT rate must be between 0 and 100 percent, not {value}.", value=value), field
        )
    return rate.normalize()


def _required_name(value: Any) -> str:
    name = check_text(value, "name", Message("name"))
    if not name:  # it heads every invoice: "profile edit --set name=" must not blank it
        raise v.ValidationError(Message("The name is required: it heads every invoice."), "name")
    return name


# Fields with a format of their own: first one line of text, then the format's check.
# The labels name the field in a refusal; IČO, DIČ, IBAN and BIC are the same in every language.
TYPED_CHECKS = (
    ("email", Message("e-mail"), v.check_email),
    ("ico", "IČO", v.check_ico),
    ("dic", "DIČ", v.check_dic),
    ("iban", "IBAN", v.check_iban),
    ("bic", "BIC", v.check_bic),
    ("bank_account", Message("account number"), v.check_cz_account),
    ("vat_payer", Message("VAT payer flag"), _check_bool),
    ("default_currency", Message("currency"), v.check_currency),
    ("payment_terms_days", Message("payment terms"), check_days),
    ("locale", Message("language"), v.check_language),
)


def update_profile(values: dict[str, Any]) -> BusinessProfile:
    """Validate ``values`` (field -> text or value) and save them; all-or-nothing."""
    unknown = set(values) - set(EDITABLE_FIELDS)
    if unknown:
        raise v.ValidationError(
            Message(
                "Unknown profile field {field}; known fields: {fields}.",
                field=quoted(sorted(unknown)[0]),
                fields=", ".join(EDITABLE_FIELDS),
            )
        )
    profile = get_profile()
    checker = Checker(values)
    checker.check("name", _required_name)
    checker.check("address", lambda x: check_text(x, "address", Message("address"), multiline=True))
    checker.check("phone", lambda x: check_text(x, "phone", Message("phone number")))
    checker.check("registry_line", lambda x: check_text(x, "registry_line", Message("registry line")))
    for name, label, check in TYPED_CHECKS:
        checker.check(name, lambda x, name=name, label=label, check=check: check(check_text(x, name, label)))
    checker.check("invoice_number_pattern", check_number_pattern)
    checker.check("default_vat_rate", lambda x: check_rate_percent(x, "default_vat_rate"))
    currency = checker.cleaned.get("default_currency") or profile.default_currency
    checker.check("default_hourly_rate", lambda x: _non_negative_minor(x, currency, "default_hourly_rate"))
    cleaned = checker.result()
    if {"iban", "bic", "bank_account"} & set(cleaned):
        # Each is valid on its own; the BIC must also be the bank of the account (IBAN, else the Czech one).
        v.check_bank_pair(
            cleaned.get("iban", profile.iban),
            cleaned.get("bic", profile.bic),
            cleaned.get("bank_account", profile.bank_account),
        )
    if currency != profile.default_currency and "default_hourly_rate" not in cleaned:
        # Keep the rate's face value (1500 stays 1500) in the new currency's minor units.
        cleaned["default_hourly_rate"] = to_minor(
            from_minor(profile.default_hourly_rate, profile.default_currency), currency
        )
    for name, value in cleaned.items():
        setattr(profile, name, value)
    if profile.id is None:
        profile.id = PROFILE_ID
        profile.save(force_insert=True)
    else:
        profile.save()
    return profile


def _non_negative_minor(value: Any, currency: str, field: str) -> int:
    amount = parse_amount(str(value))
    if amount < 0:
        raise v.ValidationError(Message("The hourly rate cannot be negative ({value}).", value=value), field)
    return exact_minor(amount, currency)


def profile_as_dict(profile: BusinessProfile) -> dict[str, Any]:
    """The profile for display and JSON: money as Decimal strings."""
    data = {name: getattr(profile, name) for name in EDITABLE_FIELDS}
    data["default_hourly_rate"] = str(from_minor(profile.default_hourly_rate, profile.default_currency))
    data["default_vat_rate"] = str(profile.default_vat_rate)
    return data


def supplier_snapshot(profile: BusinessProfile) -> dict[str, Any]:
    """What an invoice keeps of the supplier, frozen when it is issued."""
    return {
        "name": profile.name,
        "address": profile.address,
        "ico": profile.ico,
        "dic": profile.dic,
        "registry_line": profile.registry_line,
        "vat_payer": bool(profile.vat_payer),
        "iban": profile.iban,
        "bic": profile.bic,
        "bank_account": profile.bank_account,
        "email": profile.email,
        "phone": profile.phone,
    }
