"""Inputs that validate as the person types: money and dates."""

from __future__ import annotations

from textual.validation import Function
from textual.widgets import Input

from core.values.dates import parse_date
from core.values.money import MoneyError, parse_amount
from core.values.validation import ValidationError
from tui.i18n import _, amount_input


def _is_amount(text: str) -> bool:
    if not text.strip():
        return True  # emptiness is the form's business (required or not)
    try:
        parse_amount(text)
    except MoneyError:
        return False
    return True


def _is_date(text: str) -> bool:
    if not text.strip():
        return True
    try:
        parse_date(text)
    except ValidationError:
        return False
    return True


class MoneyInput(Input):
    """An amount such as ``1234.50`` or ``1 234,50``."""

    def __init__(self, value: str = "", **kwargs):
        super().__init__(
            value=value,
            placeholder=kwargs.pop("placeholder", amount_input("0.00")),
            restrict=r"[0-9 ,.\-]*",
            validators=[Function(_is_amount, _("Type an amount such as 1234.50."))],
            **kwargs,
        )


class DateInput(Input):
    """A date: ``2026-11-21``, ``21.11.2026``, ``today`` or ``yesterday``."""

    def __init__(self, value: str = "", **kwargs):
        super().__init__(
            value=value,
            placeholder=kwargs.pop("placeholder", _("YYYY-MM-DD")),
            validators=[Function(_is_date, _("Type a date as YYYY-MM-DD."))],
            **kwargs,
        )
