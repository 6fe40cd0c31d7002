"""Any other bank's CSV, read with a column mapping (``date=Date,amount=Amount,...``).

``identify(data)``: delimited text (``;``, ``,``, tab or ``|``) that is
neither XML nor a Fio export; whether the columns are there is only known
with the mapping, so this is the readers' last resort. ``read(data,
mapping)``: every row as a movement; ``parse(data, name, mapping)``: the
same with what the plugin logs. ``parse_mapping(text)`` turns the setting's
text into a :class:`CsvMapping` (its syntax is ``MAPPING_HELP``).

The header is searched for (preamble lines skipped) with the given or a
guessed delimiter, within the file's first 64 KB; the rows are then read one
by one. A file without that header is ``NotAStatement``. External id ``csv:<id column>``, or ``csv:sha256:<32 hex>``
of the row's date, amount, currency, counterparty, account, VS and message.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from decimal import Decimal

from core.banking.formats import fio_csv
from core.banking.formats.csv_dialect import (
    Rows,
    blank,
    cell_at,
    head_text,
    looks_like_xml,
    parse_date,
    parse_decimal,
    raw_row,
    text_encoding,
)
from core.banking.formats.movement import (
    DEFAULT_LIMITS,
    SNIFF_BYTES,
    FileResult,
    Ids,
    Limits,
    Movement,
    NotAStatement,
    Source,
    StatementError,
    check_amount,
    check_day,
    content_hash,
    currency_code,
    direction,
    find_vs,
    unique,
)

FORMAT = "csv"
LABEL = "CSV"
DELIMITERS = (";", ",", "\t", "|")
MAPPING_COLUMNS = ("date", "amount", "credit", "debit", "currency", "vs", "counterparty", "account", "message", "id")
MAPPING_OPTIONS = ("date_format", "decimal", "delimiter")
MAPPING_SPLIT = re.compile(r"[,;\n]\s*(?=[A-Za-z_]+\s*=)")  # before each "key=": "decimal=," stays whole

MAPPING_HELP = (
    "For format csv (any other bank's CSV): which header column holds what, as key=Column pairs separated by "
    "commas, e.g. date=Date,amount=Amount,currency=Currency,vs=VS,counterparty=Name,account=Account,"
    "message=Message,id=ID. Required: date and amount (a signed amount; or credit=Paid in,debit=Paid out "
    "for two unsigned columns). Optional: currency (else the account currency setting), vs, counterparty, "
    "account, message (several columns joined with +, e.g. message=Message+Note), id (the bank's unique "
    "id of the movement; without it rows are identified by a hash of their content). Options: "
    "date_format=%d.%m.%Y (strptime codes; default: YYYY-MM-DD, DD.MM.YYYY, DD/MM/YYYY are tried), "
    "decimal=, or decimal=. (default: guessed per value), delimiter=; (or , | tab; default: guessed). "
    "Column names must match the header exactly (case aside); lines before the header are skipped."
)


@dataclass
class CsvMapping:
    columns: dict[str, list[str]]  # key -> column names (message may have several)
    date_format: str = ""
    decimal: str = ""
    delimiter: str = ""


def identify(data: bytes) -> bool:
    """Delimited text that is not XML and not a Fio export (the mapping decides whether it can be read)."""
    if looks_like_xml(data) or fio_csv.identify(data):
        return False
    return any(delimiter in line for line in head_text(data).splitlines() for delimiter in DELIMITERS)


def read(
    data: bytes | Source,
    mapping: CsvMapping | str,
    name: str = "statement.csv",
    *,
    account_currency: str = "",
    limits: Limits = DEFAULT_LIMITS,
):
    """The movements of a CSV read with ``mapping`` (list[Movement]); raises StatementError naming ``name``."""
    return parse(data, name, mapping, account_currency=account_currency, limits=limits).movements


def parse(
    data: bytes | Source,
    name: str,
    mapping: CsvMapping | str,
    *,
    account_currency: str = "",
    limits: Limits = DEFAULT_LIMITS,
) -> FileResult:
    """The file's movements and warnings, read row by row; ``mapping`` as a CsvMapping or the setting's text."""
    if isinstance(mapping, str):
        mapping = parse_mapping(mapping)
    source = Source.of(data)
    table = _find_header(source, name, mapping, text_encoding(source), limits)
    table.result = FileResult(name, LABEL)
    table.account_currency = account_currency
    for line, cells in table.rows:
        if not blank(cells):
            _row(table, f"{name}, row {line}", cells)
    return table.result


# -- the mapping -----------------------------------------------------------------------------------


def parse_mapping(text: str) -> CsvMapping:
    """``date=Date,amount=Amount,decimal=,,delimiter=;`` -> CsvMapping; raises StatementError with a sentence."""
    columns, options = _mapping_items(text)
    if "date" not in columns:
        raise StatementError("The column mapping names no date column (e.g. date=Date).")
    if "amount" not in columns and not ({"credit", "debit"} & set(columns)):
        raise StatementError(
            "The column mapping names no amount column (e.g. amount=Amount, or credit=... and "
            "debit=... for two unsigned columns)."
        )
    if "amount" in columns and {"credit", "debit"} & set(columns):
        raise StatementError(
            "The column mapping names both an amount column and credit/debit columns; use one or the other."
        )
    decimal_mark = options.get("decimal", "")
    if decimal_mark not in ("", ",", "."):
        raise StatementError(f"The column mapping's decimal must be , or . (not {decimal_mark!r}).")
    delimiter = options.get("delimiter", "")
    if delimiter.lower() in ("tab", "\\t"):
        delimiter = "\t"
    if len(delimiter) > 1:
        raise StatementError(f"The column mapping's delimiter must be one character (or tab), not {delimiter!r}.")
    return CsvMapping(columns, options.get("date_format", ""), decimal_mark, delimiter)


def _mapping_items(text: str) -> tuple[dict[str, list[str]], dict[str, str]]:
    """The mapping's ``key=Column`` items and ``option=value`` items, each checked."""
    columns: dict[str, list[str]] = {}
    options: dict[str, str] = {}
    for item in MAPPING_SPLIT.split(text.strip()):
        item = item.strip()
        if not item:
            continue
        key, sep, value = item.partition("=")
        key = key.strip().lower()
        if not sep:
            raise StatementError(
                f"The column mapping item {item!r} is not key=Column; see the help of the CSV column mapping setting."
            )
        if key in MAPPING_OPTIONS:
            options[key] = value.strip() or value
        elif key in MAPPING_COLUMNS:
            names = [part.strip() for part in value.split("+")] if key == "message" else [value.strip()]
            if not all(names):
                raise StatementError(f"The column mapping gives no column name for {key!r}.")
            columns[key] = names
        else:
            raise StatementError(
                f"The column mapping has an unknown key {key!r}; use {', '.join(MAPPING_COLUMNS + MAPPING_OPTIONS)}."
            )
    return columns, options


# -- the rows --------------------------------------------------------------------------------------


@dataclass
class _Table:
    """The file's rows after the header, the header, and the state its rows are read with."""

    rows: Rows
    header: list[str]  # as written
    positions: dict[str, int]  # mapped column name -> index
    mapping: CsvMapping
    result: FileResult = field(default_factory=lambda: FileResult("", LABEL))
    ids: Ids = field(default_factory=Ids)
    account_currency: str = ""

    def cell(self, cells: list[str], key: str) -> str:
        """The mapped value of ``key`` in this row (several message columns joined with " | ")."""
        values = [cell_at(cells, self.positions[column]) for column in self.mapping.columns.get(key, [])]
        return " | ".join(unique(values)) if key == "message" else (values[0] if values else "")


def _find_header(source: Source, name: str, mapping: CsvMapping, encoding: str, limits: Limits) -> _Table:
    """The first line holding every mapped column (within the first 64 KB), with the mapping's delimiter
    or the first that works; the table's rows continue after it."""
    wanted = [column for names in mapping.columns.values() for column in names]
    for delimiter in [mapping.delimiter] if mapping.delimiter else list(DELIMITERS):
        rows = Rows(source, name, delimiter, encoding, limits)
        for _, cells in rows:
            header = [cell.strip().casefold() for cell in cells]
            if all(column.casefold() in header for column in wanted):
                positions = {column: header.index(column.casefold()) for column in wanted}
                rows.check_fields = True
                return _Table(rows, [cell.strip() for cell in cells], positions, mapping)
            if rows.characters_read > SNIFF_BYTES:
                break
        rows.close()
    raise NotAStatement(
        f"{name}: no header line with the mapped columns ({', '.join(wanted)}) was found; check "
        "the CSV column mapping (names must match the header) and the delimiter. "
        "Nothing was imported."
    )


def _amount(table: _Table, where: str, cells: list[str]) -> tuple[Decimal, str]:
    """The row's signed amount and how it was written (``-<debit>`` for a debit column)."""
    decimal_mark = table.mapping.decimal
    if "amount" in table.mapping.columns:
        amount_text = table.cell(cells, "amount")
        try:
            return parse_decimal(amount_text, decimal_mark), amount_text
        except ValueError:
            raise StatementError(
                f"{where}: the amount {amount_text!r} is not a number; nothing was imported."
            ) from None
    credit_text, debit_text = table.cell(cells, "credit"), table.cell(cells, "debit")
    try:
        credit = abs(parse_decimal(credit_text, decimal_mark)) if credit_text else Decimal(0)
        debit = abs(parse_decimal(debit_text, decimal_mark)) if debit_text else Decimal(0)
    except ValueError:
        raise StatementError(
            f"{where}: the amount {credit_text or debit_text!r} is not a number; nothing was imported."
        ) from None
    return credit - debit, credit_text or f"-{debit_text}"


def _row(table: _Table, where: str, cells: list[str]) -> None:
    """One movement row, appended to the result (a zero amount is counted and skipped)."""
    values = {key: table.cell(cells, key) for key in MAPPING_COLUMNS}
    try:
        day = parse_date(values["date"], table.mapping.date_format)
    except ValueError:
        expected = f" (expected {table.mapping.date_format})" if table.mapping.date_format else ""
        raise StatementError(
            f"{where}: the date {values['date']!r} is not a date{expected}; nothing was imported."
        ) from None
    check_day(day, where)
    amount, amount_text = _amount(table, where, cells)
    currency = currency_code(
        values["currency"], where, table.account_currency, "map a currency column or set the account currency setting"
    )
    if not check_amount(table.result, where, abs(amount), currency, amount_text):
        return
    reference = find_vs(values["vs"], bare=True) if values["vs"] else ""
    table.result.movements.append(
        Movement(
            external_id=_external_id(table, where, values, amount_text, currency),
            transaction_type=direction(amount),
            amount=abs(amount),
            currency=currency,
            transacted_on=day,
            description=values["message"],
            counterparty=values["counterparty"],
            counterparty_account=values["account"],
            reference=reference or find_vs(values["message"], bare=False),
            raw_data=raw_row(table.header, cells),
        )
    )


def _external_id(table: _Table, where: str, values: dict[str, str], amount_text: str, currency: str) -> str:
    """``csv:<id>``, or ``csv:sha256:<hash>`` of the row's content; unique within the file."""
    if values["id"]:
        base = f"csv:{values['id']}"
    else:
        parts = (values["counterparty"], values["account"], values["vs"], values["message"])
        base = "csv:sha256:" + content_hash(values["date"], amount_text, currency, *parts)
    external_id, repeated = table.ids(base)
    if repeated and values["id"]:
        table.result.warnings.append(
            f"{where}: the id {values['id']} appears more than once in this file; imported again as {external_id}."
        )
    return external_id
