"""The person's own business profile (one row)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from core.store.models import BusinessProfile
from core.values import validation as v
from core.values.forms import Checker
from core.values.money import exact_minor, from_minor, parse_amount, to_minor

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


def check_number_pattern(pattern: str) -> str:
    pattern = (pattern or "").strip()
    if "{seq" not in pattern:
        raise v.ValidationError(
            "The invoice number pattern needs {seq}, e.g. {year}{seq:04}.", "invoice_number_pattern"
        )
    try:
        sample = format_number(pattern, 2026, 1)
        longest = format_number(pattern, 2026, 9999)
    except (KeyError, ValueError, IndexError) as exc:
        raise v.ValidationError(
            f"The invoice number pattern {pattern!r} is not valid ({exc}); "
            "use {year}, {yy}, {seq} or {seq:04}.",
            "invoice_number_pattern",
        ) from None
    if "{year" not in pattern and "{yy" not in pattern:
        # The sequence restarts every year; without the year numbers would repeat.
        raise v.ValidationError(
            "The invoice number pattern needs {year} or {yy}: the sequence starts again "
            "each year, e.g. {year}{seq:04}.",
            "invoice_number_pattern",
        )
    if not any(ch.isdigit() for ch in sample):
        raise v.ValidationError("The invoice number pattern must produce digits.", "invoice_number_pattern")
    if len("".join(ch for ch in longest if ch.isdigit())) > 10:
        raise v.ValidationError(
            "The invoice number pattern makes numbers with more than 10 digits; the variable symbol allows 10.",
            "invoice_number_pattern",
        )
    return pattern


def format_number(pattern: str, year: int, seq: int) -> str:
    return pattern.format(year=year, yy=f"{year % 100:02d}", seq=seq)


def _check_bool(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in ("1", "true", "yes", "y", "ano", "on"):
        return True
    if text in ("0", "false", "no", "n", "ne", "off", ""):
        return False
    raise v.ValidationError(f"{value!r} is not yes or no.")


def check_days(value: Any, field: str = "payment_terms_days") -> int:
    try:
        days = int(str(value).strip())
    except ValueError:
        raise v.ValidationError(f"Payment terms {value!r} must be a whole number of days.", field) from None
    if not 0 <= days <= 365:
        raise v.ValidationError(f"Payment terms must be between 0 and 365 days, not {days}.", field)
    return days


def check_rate_percent(value: Any, field: str = "vat_rate") -> Decimal:
    rate = parse_amount(str(value))
    if not Decimal(0) <= rate < Decimal(100):
        raise v.ValidationError(f"A VAT rate must be between 0 and 100 percent, not {value}.", field)
    return rate.normalize()


def _required_name(value: Any) -> str:
    name = str(value or "").strip()
    if not name:  # it heads every invoice: "profile edit --set name=" must not blank it
        raise v.ValidationError("The name is required: it heads every invoice.", "name")
    return name


def update_profile(values: dict[str, Any]) -> BusinessProfile:
    """Validate ``values`` (field -> text or value) and save them; all-or-nothing."""
    unknown = set(values) - set(EDITABLE_FIELDS)
    if unknown:
        raise v.ValidationError(
            f"Unknown profile field {sorted(unknown)[0]!r}; known fields: {', '.join(EDITABLE_FIELDS)}."
        )
    profile = get_profile()
    checker = Checker(values)
    checker.check("name", _required_name)
    for name in ("address", "phone", "registry_line"):
        checker.check(name, lambda x: str(x).strip())
    checker.check("email", v.check_email)
    checker.check("ico", v.check_ico)
    checker.check("dic", v.check_dic)
    checker.check("iban", v.check_iban)
    checker.check("bic", v.check_bic)
    checker.check("bank_account", v.check_cz_account)
    checker.check("vat_payer", _check_bool)
    checker.check("default_currency", v.check_currency)
    checker.check("payment_terms_days", check_days)
    checker.check("invoice_number_pattern", check_number_pattern)
    checker.check("locale", v.check_language)
    checker.check("default_vat_rate", lambda x: check_rate_percent(x, "default_vat_rate"))
    currency = checker.cleaned.get("default_currency") or profile.default_currency
    checker.check("default_hourly_rate", lambda x: _non_negative_minor(x, currency, "default_hourly_rate"))
    cleaned = checker.result()
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
        raise v.ValidationError(f"The hourly rate cannot be negative ({value}).", field)
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
