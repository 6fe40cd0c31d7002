"""The UI's current language. Every visible string goes through ``_``.

One language per running app, so a module-level setting is enough; screens
re-compose when it changes (see ``SectionScreen``).
"""

from __future__ import annotations

from dataclasses import replace

from textual.binding import ActiveBinding

from core.values import i18n
from core.values.messages import in_language

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


def quantity(value) -> str:
    """A quantity as the language writes it (``7.5`` / ``7,5``), with as many decimals as it has."""
    return i18n.format_quantity(value, _language)


def day(d) -> str:
    return i18n.format_date(d, _language) if d else ""


WEEKDAY_MSGIDS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")


def weekday(index: int) -> str:
    """A weekday's name (0 is Monday) in the current language."""
    return _(WEEKDAY_MSGIDS[index]) if 0 <= index < len(WEEKDAY_MSGIDS) else str(index)


def pgettext(context: str, message: str) -> str:
    """A translation in a context (an audit source, a table name): the message itself when the catalog lacks it."""
    return i18n.pgettext(_language, context, message)


def amount_input(value) -> str:
    """What a money field shows for ``value`` (a Decimal or its text such as ``"1234.50"``), or the
    value unchanged when it is not a plain number (something the person typed)."""
    from decimal import Decimal, InvalidOperation

    text = str(value if value is not None else "").strip()
    try:
        amount = Decimal(text)
    except InvalidOperation:
        return text
    if not amount.is_finite():
        return text
    return i18n.format_amount_input(amount, _language)


def date_input(value) -> str:
    """What a date field shows: an ISO date in the language's style, ``today`` in its words."""
    from datetime import date

    text = str(value if value is not None else "").strip()
    if text in ("today", "yesterday"):
        return pgettext("date input", text)
    try:
        day = date.fromisoformat(text)
    except ValueError:
        return text
    return i18n.format_date_input(day, _language)


def translated_active_bindings(bindings: dict[str, ActiveBinding]) -> dict[str, ActiveBinding]:
    """The active bindings with descriptions (and tooltips) from the catalog.

    Textual's own widgets and screens declare English descriptions ("Focus Next", "Copy selected text",
    "Dismiss menu", the app's "palette"): the footer, the help screen and the key panel read them from
    ``active_bindings``, so they are translated here, at display time, whatever node declared them.
    A description already translated is not a msgid and comes back unchanged.
    """
    result = {}
    for key, active in bindings.items():
        binding = active.binding
        if binding.description:
            description = _(binding.description)
            tooltip = _(active.tooltip) if active.tooltip else active.tooltip
            if description != binding.description or tooltip != active.tooltip:
                binding = replace(
                    binding, description=description, tooltip=_(binding.tooltip) if binding.tooltip else ""
                )
                active = ActiveBinding(active.node, binding, active.enabled, tooltip)
        result[key] = active
    return result


class TranslatedBindings:
    """Mixed into every screen of the app (before ``Screen``): its active bindings in the current language."""

    @property
    def active_bindings(self) -> dict[str, ActiveBinding]:
        return translated_active_bindings(super().active_bindings)


def said(thing) -> str:
    """What core said (a Message, an exception raised with one, or plain text) in the UI's language."""
    return in_language(thing, _language)
