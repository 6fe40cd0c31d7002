"""Bank statement formats: one reader module per format, tried in the order of ``READERS``.

Each reader module has ``FORMAT`` (its name in the plugin's format setting),
``identify(data: bytes) -> bool`` (a cheap sniff of the file's first bytes:
does this look like my format? never raises) and ``read(data: bytes, ...) ->
list[Movement]`` (the generic CSV reader also takes its column mapping), plus
``parse(data, name, ...) -> FileResult`` with what the plugin logs. A file
that cannot be read raises :class:`StatementError`, one sentence naming the
file (and the row or entry); nothing here imports the plugin contract.

``pick_reader(data)`` is the one place where the readers are tried;
``parse_statement()`` reads one file for the bank-statement plugin: the
format setting (``auto`` or a reader's ``FORMAT``), the size limit, and the
refusals of a file that is not what the setting says. A reader takes the
file's bytes or a ``Source`` (a file read as a stream, as the plugin passes
it) and its ``Limits``; a file that is no statement at all is refused with
``NotAStatement`` (a ``StatementError``), decided before any entry is read.
A Fio API answer (JSON, ``{"accountStatement": ...``) is such a file too, but
its refusal says that the ``fio`` plugin reads Fio's API and how to set it up
(in a watched folder it is skipped with that sentence as the warning).
``timezone`` (an IANA name, ``Europe/Prague`` by default) is the account's:
a date-time with an offset is read as the calendar day there.

Golden files: tests/fixtures/golden/ holds the expected movements of every
statement fixture (tests/test_format_golden.py; ``FAKTURKA_REGENERATE_GOLDEN=1``
rewrites them).
"""

from __future__ import annotations

import codecs
import re
from types import ModuleType

from core.banking.formats import camt053, fio_csv, generic_csv
from core.banking.formats.csv_dialect import looks_like_xml
from core.banking.formats.generic_csv import MAPPING_HELP, CsvMapping, parse_mapping
from core.banking.formats.movement import (
    DEFAULT_LIMITS,
    DEFAULT_TIMEZONE,
    MB,
    FileResult,
    Limits,
    Movement,
    NotAStatement,
    Source,
    StatementError,
    find_vs,
    is_currency_code,
    meaningful,
    time_zone,
)
from core.values.messages import Message

READERS: tuple[ModuleType, ...] = (camt053, fio_csv, generic_csv)
FORMATS = ("auto", *(reader.FORMAT for reader in READERS))  # the plugin's format setting
# Fio's API answer: {"accountStatement": {"info": ..., "transactionList": ...}} (pretty-printed or not).
FIO_API_JSON = re.compile(rb'^\s*\{\s*"accountStatement"\s*:')


def pick_reader(data: bytes) -> ModuleType | None:
    """The first reader whose ``identify`` accepts ``data``; any other XML goes to camt053 (which says why not)."""
    for reader in READERS:
        if reader.identify(data):
            return reader
    return camt053 if looks_like_xml(data) else None


def parse_statement(
    data: bytes | Source,
    name: str,
    *,
    fmt: str = "auto",
    mapping: CsvMapping | None = None,
    include_pending: bool = False,
    account_currency: str = "",
    limits: Limits = DEFAULT_LIMITS,
    timezone: str = DEFAULT_TIMEZONE,
) -> FileResult:
    """Parse one statement (bytes, or a ``Source`` on a file, read as a stream); raises StatementError
    naming ``name`` for anything wrong, NotAStatement for a file that is no statement at all.
    ``timezone`` is the account's IANA time zone (a StatementError naming the setting when unknown)."""
    source = Source.of(data)
    time_zone(timezone)  # an unknown name is refused before any file is read
    try:
        return _parse(source, name, fmt, mapping, include_pending, account_currency, limits, timezone)
    except OSError as exc:  # the file went away or cannot be read while it is read
        raise StatementError(
            Message("{name} cannot be read ({error}); nothing was imported.", name=name, error=str(exc.strerror or exc))
        ) from None


def _parse(source, name, fmt, mapping, include_pending, account_currency, limits, timezone) -> FileResult:
    head = source.head()
    if not head.strip() and source.size() <= len(head):
        raise NotAStatement(Message("{name} is empty; nothing was imported.", name=name))
    if FIO_API_JSON.match(head.removeprefix(codecs.BOM_UTF8)):
        raise NotAStatement(
            Message(
                "{name} is a statement from Fio's API (JSON), which the bank-statement plugin does not read: "
                "the fio plugin reads Fio's API itself, so set it up with your API token "
                "(fakturka plugins configure fio --secret token) and sync it instead; nothing was imported.",
                name=name,
            )
        )
    is_xml = looks_like_xml(head)
    if fmt == camt053.FORMAT or (fmt == "auto" and is_xml):
        if not is_xml:
            raise NotAStatement(
                Message(
                    "{name} is not XML, so it is not a camt.053 statement (the format setting says "
                    "camt053); nothing was imported.",
                    name=name,
                )
            )
        _check_size(source, name, limits, camt053.identify(head))
        return camt053.parse(
            source,
            name,
            include_pending=include_pending,
            account_currency=account_currency,
            limits=limits,
            timezone=timezone,
        )
    if is_xml:
        raise NotAStatement(
            Message(
                "{name} is an XML file, not a CSV file (the format setting says {format}); nothing was imported.",
                name=name,
                format=fmt,
            )
        )
    if fmt == fio_csv.FORMAT or (fmt == "auto" and pick_reader(head) is fio_csv):
        _check_size(source, name, limits, fio_csv.identify(head))
        return fio_csv.parse(source, name, account_currency=account_currency, limits=limits)
    if fmt == generic_csv.FORMAT and mapping is None:
        raise StatementError(
            Message("The format csv needs the CSV column mapping setting (e.g. date=Date,amount=Amount).")
        )
    if mapping is not None:
        _check_size(source, name, limits, True)
        return generic_csv.parse(source, name, mapping, account_currency=account_currency, limits=limits)
    raise NotAStatement(
        Message(
            "{name} is in an unknown format: it is neither a camt.053 statement (XML) nor a Fio CSV "
            "export (no header with 'ID pohybu', 'Datum' and 'Objem'). For another bank's CSV set the "
            "CSV column mapping (and the format csv). Nothing was imported.",
            name=name,
        )
    )


def _check_size(source: Source, name: str, limits: Limits, looks_like_one: bool) -> None:
    """Over the size limit: refused, naming the setting; a file that does not even look like one is skipped."""
    size = source.size()
    if size > limits.max_file_bytes and not looks_like_one:
        raise NotAStatement(
            Message(
                "{name} does not look like a statement (nothing in its first 64 KB says so) and is larger "
                "than the largest statement file this plugin reads; nothing was imported.",
                name=name,
            )
        )
    limits.check_size(size, name)


__all__ = [
    "FORMATS",
    "MAPPING_HELP",
    "READERS",
    "CsvMapping",
    "DEFAULT_LIMITS",
    "DEFAULT_TIMEZONE",
    "MB",
    "FileResult",
    "Limits",
    "Movement",
    "NotAStatement",
    "Source",
    "StatementError",
    "find_vs",
    "is_currency_code",
    "meaningful",
    "parse_mapping",
    "parse_statement",
    "pick_reader",
    "time_zone",
]
