"""Messages that core says to a person: English text that can also be said in the person's language.

Core does not know which language a face speaks (the TUI switches at run time, the PDF follows the
client). So a refusal, a validation error or a sync log line is written as a :class:`Message`: a
``str`` holding the English sentence (so ``str(exc)``, logs and tests read as before) that also keeps
its msgid and parameters, so a face can say it again in its language with :func:`in_language`::

    raise InvoiceError(Message("Invoice {number} is already paid.", number=invoice.number))
    ...
    in_language(exc, "cs")  # -> "Faktura 2026-0001 už je zaplacená."

The msgid is the English text with ``{name}`` placeholders, extracted from the code by
tests/test_czech_complete.py like every ``_()`` of the TUI, so a Message without a Czech
translation fails the suite. Parameters are shown as they are (names, numbers, file names);
a parameter that is itself a Message is translated too.
"""

from __future__ import annotations

from typing import Any


class Message(str):
    """An English sentence that remembers its msgid and parameters (see the module docstring)."""

    msgid: str
    params: dict[str, Any]

    def __new__(cls, msgid: str, /, **params: Any) -> Message:
        self = super().__new__(cls, msgid.format(**params) if params else msgid)
        self.msgid = msgid
        self.params = params
        return self

    def __reduce__(self):  # pickles (a worker process, a copied exception) as the same Message
        return (_rebuild, (self.msgid, self.params))

    def translated(self, lang: str) -> str:
        """This message in ``lang``; the English text when the catalog lacks it or does not fit."""
        if lang == "en":
            return str.__str__(self)
        from core.values import i18n  # imported late: Babel is not needed to raise an error

        translation = i18n.gettext(lang, self.msgid)
        if not self.params:
            return translation
        params = {
            key: value.translated(lang) if isinstance(value, (Message, Amount)) else value
            for key, value in self.params.items()
        }
        try:
            return translation.format(**params)
        except (KeyError, IndexError, ValueError):  # a translation naming a parameter the code does not pass
            return str.__str__(self)


class Amount:
    """An amount of money in a Message, written as each language writes it ("CZK 1,234.50", "1 234,50 Kč")."""

    def __init__(self, minor: int, currency: str):
        self.minor, self.currency = minor, currency

    def __format__(self, spec: str) -> str:  # the English sentence
        return self.translated("en")

    def __repr__(self) -> str:
        return f"Amount({self.minor}, {self.currency!r})"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Amount) and (self.minor, self.currency) == (other.minor, other.currency)

    def translated(self, lang: str) -> str:
        from core.values import i18n  # imported late, as in Message.translated

        return i18n.format_money(self.minor, self.currency, lang)


def _rebuild(msgid: str, params: dict[str, Any]) -> Message:
    return Message(msgid, **params)


def message_of(said: object) -> str:
    """The text of ``said`` (a Message, a plain string, or an exception whose first argument is one)."""
    if isinstance(said, BaseException):
        first = said.args[0] if said.args else None
        return first if isinstance(first, Message) else str(said)
    return said if isinstance(said, str) else str(said)


def in_language(said: object, lang: str) -> str:
    """``said`` (a Message, an exception raised with one, or any text) in ``lang``.

    Text that is not a Message (from a plugin, a library, the operating system) is returned as it is:
    it has no msgid to look up."""
    text = message_of(said)
    return text.translated(lang) if isinstance(text, Message) else str(text)
