"""Translations (gettext catalogs) and locale-aware formatting (Babel).

Catalogs are plain ``.po`` files in ``data/locale/<lang>/LC_MESSAGES/fakturka.po``
(installed as the package ``fakturka.data``, read with importlib.resources),
compiled in memory on first use (``core.values.po``, checked against Babel's
reader by the tests, into a :class:`gettext.GNUTranslations`) and cached per language: no build step and
no committed ``.mo`` files. English source strings are the msgids; the
English catalog repeats them (so a reworded English text is a catalog edit,
not a code change).

Formatting choices (one place, so the PDF, the TUI and the CLI agree):

- money: Czech uses Babel's ``cs_CZ`` pattern (``1 234,50 Kč``); English uses
  Babel's ``en`` pattern, with a no-break space after a currency *code*
  (``CZK 1,234.50``, but ``€1,234.50``). The separators Babel puts in are
  no-break spaces (U+00A0) so an amount never wraps.
- dates: Babel's *medium* format: ``21. 11. 2026`` (cs), ``Nov 21, 2026`` (en).
- quantities: as many decimals as the value has (``7,5``, ``1 234,125``).
"""

from __future__ import annotations

import gettext as _gettext
import io
from datetime import date
from decimal import Decimal
from functools import lru_cache
from importlib import resources
from importlib.resources.abc import Traversable

from babel import Locale
from babel.dates import format_date as _babel_format_date
from babel.numbers import format_currency, format_decimal, format_percent, get_currency_symbol

from core.values.money import from_minor
from core.values.po import mo_bytes, parse_po

DOMAIN = "fakturka"
LANGUAGES = ("en", "cs")
DEFAULT_LANGUAGE = "en"
# The Babel locale used for formatting in each language.
BABEL_LOCALES = {"en": "en", "cs": "cs_CZ"}

NBSP = "\u00a0"


def po_path(lang: str) -> Traversable:
    """The catalog of ``lang`` inside the installed package (a wheel or the editable checkout alike)."""
    return resources.files("fakturka.data").joinpath("locale", lang, "LC_MESSAGES", f"{DOMAIN}.po")


def normalize_language(lang: str | None) -> str:
    """``"cs"``, ``"cs_CZ"``, ``"CS-cz"`` -> ``"cs"``; an unknown language is a ValueError."""
    code = (lang or "").strip().replace("-", "_").split("_")[0].lower()
    if code not in LANGUAGES:
        raise ValueError(f"unsupported language {lang!r}: Fakturka speaks {', '.join(LANGUAGES)}")
    return code


@lru_cache(maxsize=None)
def translations(lang: str) -> _gettext.GNUTranslations:
    """The compiled catalog for ``lang`` (cached; compiled from the .po on first use, core.values.po)."""
    code = normalize_language(lang)
    text = po_path(code).read_text("utf-8")
    return _gettext.GNUTranslations(io.BytesIO(mo_bytes(parse_po(text))))


def gettext(lang: str, msgid: str) -> str:
    return translations(lang).gettext(msgid)


def pgettext(lang: str, context: str, msgid: str) -> str:
    """A translation of ``msgid`` in a context (e.g. ``"unit"``, ``"h"`` -> ``"hod"``)."""
    return translations(lang).pgettext(context, msgid)


def ngettext(lang: str, singular: str, plural: str, n: int) -> str:
    """The plural form for ``n`` (Czech has three). The result is not formatted:
    ``ngettext("cs", "{n} day overdue", "{n} days overdue", 5).format(n=5)`` -> ``"5 dní po splatnosti"``."""
    return translations(lang).ngettext(singular, plural, n)


def babel_locale(lang: str) -> str:
    return BABEL_LOCALES[normalize_language(lang)]


@lru_cache(maxsize=4096)
def format_money(minor: int, currency: str, lang: str) -> str:
    """``123450, "CZK"`` -> ``"1 234,50 Kč"`` (cs) or ``"CZK 1,234.50"`` (en); no-break spaces."""
    currency = currency.upper()
    locale = babel_locale(lang)
    amount = from_minor(minor, currency)
    pattern = None
    symbol = get_currency_symbol(currency, locale)
    if symbol.isalpha() and symbol.isascii():
        # A currency code rather than a sign: keep it apart from the digits.
        standard = Locale.parse(locale).currency_formats["standard"].pattern
        if "¤#" in standard or "¤0" in standard:
            pattern = standard.replace("¤", "¤" + NBSP)
    return format_currency(amount, currency, format=pattern, locale=locale)


def format_date(d: date | None, lang: str) -> str:
    """Babel's medium date: ``"21. 11. 2026"`` (cs), ``"Nov 21, 2026"`` (en); ``""`` for None."""
    if d is None:
        return ""
    return _babel_format_date(d, format="medium", locale=babel_locale(lang))


@lru_cache(maxsize=1024)
def format_quantity(quantity: Decimal | int | str, lang: str) -> str:
    """``Decimal("7.50")`` -> ``"7,5"`` (cs) / ``"7.5"`` (en); never rounds a digit away."""
    value = Decimal(str(quantity))
    if value == value.to_integral_value():
        value = value.quantize(Decimal(1))
    else:
        value = value.normalize()
    return format_decimal(value, locale=babel_locale(lang), decimal_quantization=False)


@lru_cache(maxsize=256)
def format_percent_rate(rate: Decimal | int | str, lang: str) -> str:
    """A VAT rate given in percent: ``Decimal("21")`` -> ``"21 %"`` (cs) / ``"21%"`` (en)."""
    value = Decimal(str(rate)) / Decimal(100)
    return format_percent(value, locale=babel_locale(lang), decimal_quantization=False)


def country_name(code: str, lang: str) -> str:
    """``"DE"`` -> ``"Německo"`` / ``"Germany"``; the code itself when Babel does not know it."""
    if not code:
        return ""
    return Locale.parse(babel_locale(lang)).territories.get(code.upper(), code.upper())


def format_amount_input(value: Decimal | int | str, lang: str) -> str:
    """An amount as a form shows it for editing: ``"1234.5"`` -> ``"1 234,50"`` (cs) / ``"1,234.50"`` (en).

    At least two decimals (a grouped ``1,000`` would be ambiguous to parse_amount) and every digit the
    value has; plain spaces, so the text is what the person could type. Reads back with parse_amount.
    """
    amount = Decimal(str(value))
    exponent = amount.as_tuple().exponent  # "n"/"N"/"F" for NaN and infinity: two decimals then
    digits = max(2, -exponent) if isinstance(exponent, int) else 2
    text = format_decimal(amount, format="#,##0." + "0" * digits, locale=babel_locale(lang), decimal_quantization=False)
    return text.replace(NBSP, " ").replace("\u202f", " ")


def format_date_input(d: date, lang: str) -> str:
    """A date as a form shows it for editing: ``21. 11. 2026`` (cs), ``2026-11-21`` (en).

    English keeps ISO: Babel's ``Nov 21, 2026`` is not something parse_date reads back.
    """
    return format_date(d, lang) if normalize_language(lang) == "cs" else d.isoformat()
