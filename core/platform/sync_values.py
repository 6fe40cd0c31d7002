"""Checking what a plugin hands over: currency codes, text columns, one-line values, raw data documents.

Every value a plugin gives ``ctx.upsert_transaction`` or ``ctx.add_work_entry`` passes these before it is
collected: a wrong one is refused with a sentence naming the value (RefusedValue), and nothing reaches the
database that its column would store differently from what was given.
"""

from __future__ import annotations

from typing import Any

from core.plugins.base import SyncError
from core.store.models import MoneyTransaction
from core.values.limits import MAX_TEXT_LENGTH
from core.values.messages import Message
from core.values.text import ELLIPSIS, clean_text
from core.values.validation import check_currency


class RefusedValue(SyncError, ValueError):
    """A value from the plugin's source that Fakturka does not keep: too long, a date or a duration out of
    range, a code that is not money. The sentence names the field and the record.

    A SyncError, because the data is at fault and not the plugin's code: the run fails with this sentence
    and no backtrace. A ValueError, so a plugin that catches ValueError around a ctx call (to skip one
    record and log it) still does.
    """


# Codes already checked, as a plugin writes them -> as stored: Babel's look-up once per code (an import
# checks every movement). Only three-letter spellings are kept, so the table stays small.
_CURRENCIES: dict[str, str] = {}
_TRANSACTION_TYPES = MoneyTransaction.TYPES


def _currency_code(currency: Any) -> str:
    """An ISO 4217 code of money in capitals, or ValueError ("EURO", "", None, "XXX")."""
    if type(currency) is not str:
        raise ValueError(f"currency must be a code such as 'CZK' or 'EUR', not {currency!r}")
    code = check_currency(currency)
    if len(currency) == 3:
        _CURRENCIES[currency] = code
    return code


_TEXT_FIELD = MoneyTransaction._meta.fields["description"]


def _text(value: Any) -> str:
    """A text column's value: "" for nothing, and what the column would make of anything else."""
    if type(value) is str:
        return value
    return _TEXT_FIELD.db_value(value) if value else ""


def _too_long(length: int, name: str, where: str) -> RefusedValue:
    return RefusedValue(
        Message(
            "{where}: its {name} is {length:,} characters long; Fakturka keeps at most {most:,} in one field.",
            where=where,
            name=name,
            length=length,
            most=MAX_TEXT_LENGTH,
        )
    )


def _one_line(value: str, name: str, where: str) -> str:
    """``value`` as a one-line field keeps it: without control characters, or RefusedValue when too long."""
    if not value.isprintable():  # false for controls, and for a few harmless marks: clean_text decides
        value = clean_text(value)
    if len(value) > MAX_TEXT_LENGTH:
        raise _too_long(len(value), name, where)
    return value


_PLAIN_SCALARS = (int, float, bool)


def stored_raw_data(raw_data: Any, external_id: Any) -> Any:
    """A movement's raw_data as it is written: strings without control characters (tabs and line breaks
    kept), or RefusedValue naming the movement when a string is too long or the nesting too deep."""
    if type(raw_data) is dict and _plain_document(raw_data):
        return raw_data
    return _clean_document(raw_data, _movement_label(external_id))


def _plain_document(raw_data: dict) -> bool:
    """Whether raw_data can be stored as it is: plain keys, and short printable strings, numbers or None.

    The usual document passes on this quick look (its keys are the same few names in every movement:
    a set remembers them); any other one is walked by :func:`_clean_document`.
    """
    if not raw_data.keys() <= _PLAIN_KEYS and not _plain_keys(raw_data):
        return False
    for value in raw_data.values():
        if type(value) is str:
            if len(value) > MAX_TEXT_LENGTH or not value.isprintable():
                return False
        elif value is not None and type(value) not in _PLAIN_SCALARS:
            return False
    return True


_PLAIN_KEYS: set[Any] = set()  # raw_data keys seen to be short printable strings


def _plain_keys(raw_data: dict) -> bool:
    for key in raw_data:
        if type(key) is not str or len(key) > MAX_TEXT_LENGTH or not key.isprintable():
            return False
    if len(_PLAIN_KEYS) < 10_000:  # a plugin that makes up keys per movement gains nothing: stop growing
        _PLAIN_KEYS.update(raw_data)
    return True


_MAX_DEPTH = 64  # nesting of a raw_data document (a bank's record is a few levels deep)


def _clean_document(value: Any, where: str, path: str = "raw_data", depth: int = 0) -> Any:
    """raw_data as stored: every string (keys too) without control characters, at most the longest text.

    Line breaks and tabs stay: the document is kept as the source wrote it (and JSON escapes them).
    """
    if depth > _MAX_DEPTH:
        raise RefusedValue(
            Message("{where}: its raw_data is nested more than {most} levels deep.", where=where, most=_MAX_DEPTH)
        )
    if isinstance(value, str):
        value = clean_text(value, multiline=True)
        if len(value) > MAX_TEXT_LENGTH:
            raise _too_long(len(value), path, where)
        return value
    if isinstance(value, dict):
        return {
            _clean_document(key, where, path, depth): _clean_document(item, where, f"{path}[{key!r}]", depth + 1)
            for key, item in value.items()
        }
    if isinstance(value, (list, tuple)):
        return [_clean_document(item, where, f"{path}[{index}]", depth + 1) for index, item in enumerate(value)]
    return value


def _movement_label(external_id: Any) -> Message:
    """How an error names a bank movement a plugin sent (repr: an id with control characters shows them escaped)."""
    return Message("transaction {id}", id=_id_text(external_id))


def _entry_label(external_id: str | None) -> Message:
    """How an error names a work entry a plugin sent: by its id in the source, when it has one."""
    return Message("work entry") if external_id is None else Message("work entry {id}", id=_id_text(external_id))


def _id_text(external_id: Any) -> str:
    # An id of a megabyte would make the sentence (and the run's history) a megabyte long.
    if isinstance(external_id, str) and len(external_id) > _ID_SHOWN:
        return f"{external_id[:_ID_SHOWN]!r}{ELLIPSIS}"
    return repr(external_id)


_ID_SHOWN = 80
