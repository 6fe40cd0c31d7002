"""The UI's current language. Every visible string goes through ``_``.

One language per running app, so a module-level setting is enough; screens
re-compose when it changes (see ``SectionScreen``).
"""

from __future__ import annotations

from core.values import i18n

_language = "en"


def set_language(lang: str) -> None:
    global _language
    _language = i18n.normalize_language(lang)


def language() -> str:
    return _language


def _(message: str) -> str:
    return i18n.gettext(_language, message)


def ngettext(singular: str, plural: str, n: int) -> str:
    return i18n.ngettext(_language, singular, plural, n)


def money(minor: int, currency: str) -> str:
    return i18n.format_money(minor, currency, _language)


def day(d) -> str:
    return i18n.format_date(d, _language) if d else ""
