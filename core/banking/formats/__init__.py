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
format setting (``auto`` or a reader's ``FORMAT``) and the refusals of a file
that is not what the setting says.

Golden files: tests/fixtures/golden/ holds the expected movements of every
statement fixture (tests/test_format_golden.py; ``FAKTURKA_REGENERATE_GOLDEN=1``
rewrites them).
"""

from __future__ import annotations

from types import ModuleType

from core.banking.formats import camt053, fio_csv, generic_csv
from core.banking.formats.csv_dialect import decode_text, looks_like_xml
from core.banking.formats.generic_csv import MAPPING_HELP, CsvMapping, parse_mapping
from core.banking.formats.movement import FileResult, Movement, StatementError, find_vs, is_currency_code

READERS: tuple[ModuleType, ...] = (camt053, fio_csv, generic_csv)
FORMATS = ("auto", *(reader.FORMAT for reader in READERS))  # the plugin's format setting


def pick_reader(data: bytes) -> ModuleType | None:
    """The first reader whose ``identify`` accepts ``data``; any other XML goes to camt053 (which says why not)."""
    for reader in READERS:
        if reader.identify(data):
            return reader
    return camt053 if looks_like_xml(data) else None


def parse_statement(
    data: bytes,
    name: str,
    *,
    fmt: str = "auto",
    mapping: CsvMapping | None = None,
    include_pending: bool = False,
    account_currency: str = "",
) -> FileResult:
    """Parse one statement file's bytes; raises StatementError (naming ``name``) for anything wrong."""
    if not data.strip():
        raise StatementError(f"{name} is empty; nothing was imported.")
    is_xml = looks_like_xml(data)
    if fmt == camt053.FORMAT or (fmt == "auto" and is_xml):
        if not is_xml:
            raise StatementError(
                f"{name} is not XML, so it is not a camt.053 statement (the format setting says "
                "camt053); nothing was imported."
            )
        return camt053.parse(data, name, include_pending=include_pending, account_currency=account_currency)
    if is_xml:
        raise StatementError(
            f"{name} is an XML file, not a CSV file (the format setting says {fmt}); nothing was imported."
        )
    text = decode_text(data, name)
    if fmt == fio_csv.FORMAT or (fmt == "auto" and pick_reader(data) is fio_csv):
        return fio_csv.parse_text(text, name, account_currency=account_currency)
    if fmt == generic_csv.FORMAT and mapping is None:
        raise StatementError("The format csv needs the CSV column mapping setting (e.g. date=Date,amount=Amount).")
    if mapping is not None:
        return generic_csv.parse_text(text, name, mapping, account_currency=account_currency)
    raise StatementError(
        f"{name} is in an unknown format: it is neither a camt.053 statement (XML) nor a Fio CSV "
        "export (no header with 'ID pohybu', 'Datum' and 'Objem'). For another bank's CSV set the "
        "CSV column mapping (and the format csv). Nothing was imported."
    )


__all__ = [
    "FORMATS",
    "MAPPING_HELP",
    "READERS",
    "CsvMapping",
    "FileResult",
    "Movement",
    "StatementError",
    "find_vs",
    "is_currency_code",
    "parse_mapping",
    "parse_statement",
    "pick_reader",
]
