"""A small statement reader for the corpus test (tests/test_statement_corpus.py), written apart from production.

It reads only what the corpus test compares, each entry's date, direction, amount and currency, straight
from the file with the standard library (``xml.etree.ElementTree``, ``csv``, ``json``), by the rules of the
formats themselves, and never calls the production readers (``core.banking.formats``) or the plugins. Its
one shared piece is ``core.values.money.to_minor`` (ISO 4217 minor units, rounded half up): that is how
money is stored, not how a statement is read.

Rules, each from the format, not from the production code:

- camt.053: every ``BkToCstmrStmt/Stmt/Ntry`` anywhere in the file (so a statement wrapped in an envelope
  is found), local names only (any namespace/version). Booked: ``Sts`` = BOOK, or ``Sts/Cd`` = BOOK, or no
  ``Sts`` at all; with ``include_pending`` also PDNG. Amount and currency: the entry's own ``Amt`` and its
  ``Ccy`` (a batch's ``TxDtls`` amounts are not the booking); an ``Amt`` without ``Ccy`` or with ``XXX``
  ("no currency") was booked in the account's currency, ``Acct/Ccy`` (else the ``account_currency``
  setting). Direction: ``CdtDbtInd`` CRDT income, DBIT
  expense (a reversal's indicator already is the reversal's direction). Date: ``BookgDt``, else ``ValDt``,
  else the end of the statement's period ``FrToDt/ToDtTm``; a ``Dt`` is the day as written, a ``DtTm``
  with an offset is the calendar day in the account's time zone (Europe/Prague unless set), one without an
  offset the day as written.
- Fio CSV export: ``;``-separated; the header is the line with ``Datum`` and ``Objem``; the lines before it
  are the account preamble (its ``currency`` line is the default currency). ``Objem`` signed, with a decimal
  comma and spaces between thousands; ``Datum`` dd.mm.yyyy; ``Měna``.
- Fio API JSON: ``accountStatement.transactionList.transaction[]``; column0 the date (the day as written,
  Fio writes it in its own zone), column1 the signed amount, column14 the currency (else ``info.currency``).
- Generic CSV: the ``csv_mapping`` text of the plugin setting, parsed here (see ``Mapping``).

An amount that is zero in the currency's minor unit is no movement (nothing was paid; the database holds
only amounts above zero). Anything this reader cannot read raises ``CorpusError`` naming the file and the
entry or row: the test then fails and says so, rather than comparing against a guess.
"""

from __future__ import annotations

import csv
import io
import json
import re
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import NamedTuple
from zoneinfo import ZoneInfo

from core.values.money import to_minor

DEFAULT_TIMEZONE = "Europe/Prague"
BOOKED = {"BOOK"}
PENDING = {"PDNG"}
NO_CURRENCY = {"", "XXX"}  # no Ccy, or ISO 4217's code for "no currency involved"


class CorpusError(Exception):
    """The corpus reader cannot read a fixture; the message names the file and the place."""


class Entry(NamedTuple):
    """What the corpus test compares: the day, income/expense, minor units and the currency code."""

    day: date
    direction: str
    minor: int
    currency: str


@dataclass
class Found:
    """One entry read from a fixture, with where it was (for the diff)."""

    entry: Entry
    where: str


def entry(path: Path, where: str, day: date, direction: str, amount: Decimal, currency: str) -> Found | None:
    """The entry, or None when its amount is zero in the currency's minor unit."""
    if not re.fullmatch(r"[A-Z]{3}", currency):
        raise CorpusError(f"{path.name}, {where}: no currency code ({currency!r}); set account_currency in the table.")
    minor = to_minor(abs(amount), currency)
    if minor == 0:
        return None
    return Found(Entry(day, direction, minor, currency), where)


# -- camt.053 -------------------------------------------------------------------------------------------


def local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def child(element: ET.Element | None, *names: str) -> ET.Element | None:
    """The first descendant along ``names`` (local names, direct children each step)."""
    for name in names:
        if element is None:
            return None
        element = next((c for c in element if local(c.tag) == name), None)
    return element


def text(element: ET.Element | None, *names: str) -> str:
    found = child(element, *names)
    return (found.text or "").strip() if found is not None else ""


def is_camt053(path: Path) -> bool:
    """XML with a ``BkToCstmrStmt`` element (a camt.053 message, wrapped in an envelope or not)."""
    try:
        root = ET.parse(path).getroot()
    except ET.ParseError:
        return False
    return any(local(e.tag) == "BkToCstmrStmt" for e in root.iter())


def day_of(element: ET.Element | None, zone: ZoneInfo) -> date | None:
    """A ``Dt`` as written, or a ``DtTm`` as the calendar day in ``zone`` (as written without an offset)."""
    if element is None:
        return None
    day_text = text(element, "Dt")
    if day_text:
        return date.fromisoformat(day_text[:10])  # xs:date may carry an offset; the day is what is written
    return stamp_day(text(element, "DtTm"), zone)


def stamp_day(stamp: str, zone: ZoneInfo) -> date | None:
    """An ISO date-time as the calendar day in ``zone`` when it has an offset, else its day as written."""
    if not stamp:
        return None
    moment = datetime.fromisoformat(stamp)
    return moment.astimezone(zone).date() if moment.tzinfo else moment.date()


def read_camt053(path: Path, *, include_pending: bool = False, timezone: str = "", account_currency: str = ""):
    zone = ZoneInfo(timezone or DEFAULT_TIMEZONE)
    statuses = BOOKED | (PENDING if include_pending else set())
    root = ET.parse(path).getroot()
    found: list[Found] = []
    statements = [s for e in root.iter() if local(e.tag) == "BkToCstmrStmt" for s in e if local(s.tag) == "Stmt"]
    if not statements:
        raise CorpusError(f"{path.name}: no BkToCstmrStmt/Stmt; list it in the table as refused.")
    for s_number, statement in enumerate(statements, start=1):
        account_ccy = text(statement, "Acct", "Ccy").upper()
        period_end = stamp_day(text(statement, "FrToDt", "ToDtTm"), zone)
        entries = [n for n in statement if local(n.tag) == "Ntry"]
        for n_number, ntry in enumerate(entries, start=1):
            where = f"Stmt {s_number}, Ntry {n_number}"
            status_element = child(ntry, "Sts")
            status = text(ntry, "Sts", "Cd") or text(ntry, "Sts", "Prtry") or text(ntry, "Sts")
            if status_element is not None and status.upper() not in statuses:
                continue
            amount_element = child(ntry, "Amt")
            if amount_element is None:
                raise CorpusError(f"{path.name}, {where}: no Amt.")
            try:
                amount = Decimal((amount_element.text or "").strip())
            except InvalidOperation:
                raise CorpusError(f"{path.name}, {where}: Amt {amount_element.text!r} is no amount.") from None
            currency = (amount_element.get("Ccy") or "").strip().upper()
            if currency in NO_CURRENCY:  # the amount booked on the account is in the account's currency
                currency = account_ccy or account_currency
            indicator = text(ntry, "CdtDbtInd")
            if indicator not in ("CRDT", "DBIT"):
                raise CorpusError(f"{path.name}, {where}: CdtDbtInd {indicator!r} is neither CRDT nor DBIT.")
            day = day_of(child(ntry, "BookgDt"), zone) or day_of(child(ntry, "ValDt"), zone) or period_end
            if day is None:
                raise CorpusError(f"{path.name}, {where}: no booking date, value date or statement period.")
            item = entry(path, where, day, "income" if indicator == "CRDT" else "expense", amount, currency)
            if item:
                found.append(item)
    return found


# -- CSV ---------------------------------------------------------------------------------------------------


def decode(path: Path) -> str:
    """The file's text: UTF-8 (with or without a BOM), UTF-16 with a BOM, else Windows-1250 (Czech banks)."""
    data = path.read_bytes()
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        return data.decode("utf-16")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        return data.decode("cp1250")


def rows(text_: str, delimiter: str) -> list[list[str]]:
    return list(csv.reader(io.StringIO(text_, newline=""), delimiter=delimiter))


def blank(row: list[str]) -> bool:
    return not any(cell.strip() for cell in row)


SPACES = re.compile(r"[\s\u00a0\u202f']")


def czech_amount(cell: str) -> Decimal:
    """``-1 290,50`` -> Decimal('-1290.50')."""
    return Decimal(SPACES.sub("", cell).replace(",", "."))


def is_fio_csv(path: Path) -> bool:
    try:
        return _fio_header(rows(decode(path), ";")) is not None
    except (UnicodeDecodeError, csv.Error):
        return False


def _fio_header(table: list[list[str]]) -> int | None:
    for index, row in enumerate(table):
        cells = [c.strip() for c in row]
        if "Datum" in cells and "Objem" in cells and ({"ID pohybu", "ID operace"} & set(cells)):
            return index
    return None


def read_fio_csv(path: Path, *, account_currency: str = "", **_ignored) -> list[Found]:
    table = rows(decode(path), ";")
    start = _fio_header(table)
    if start is None:
        raise CorpusError(f"{path.name}: no Fio header (Datum, Objem).")
    preamble = {row[0].strip(): row[1].strip() for row in table[:start] if len(row) >= 2}
    default_currency = preamble.get("currency", "") or account_currency
    header = [c.strip() for c in table[start]]
    column = {name: header.index(name) for name in header}
    found: list[Found] = []
    for line, row in enumerate(table[start + 1 :], start=start + 2):
        if blank(row):
            continue
        where = f"line {line}"
        try:
            day = datetime.strptime(row[column["Datum"]].strip(), "%d.%m.%Y").date()
            amount = czech_amount(row[column["Objem"]])
        except (ValueError, InvalidOperation, IndexError):
            raise CorpusError(f"{path.name}, {where}: Datum or Objem cannot be read.") from None
        currency = (row[column["Měna"]].strip() if "Měna" in column else "") or default_currency
        item = entry(path, where, day, "income" if amount > 0 else "expense", amount, currency.upper())
        if item:
            found.append(item)
    return found


# -- generic CSV with the plugin's column mapping ------------------------------------------------------

MAPPING_ITEM = re.compile(r"[,;\n]\s*(?=[A-Za-z_]+\s*=)")  # "decimal=," and "delimiter=;" stay whole
COLUMN_KEYS = {"date", "amount", "credit", "debit", "currency", "direction", "state", "fee"}
VALUE_KEYS = {"debit_values", "credit_values", "import_states"}  # several values joined with +
OPTION_KEYS = {"date_format", "decimal", "delimiter"}
NOT_COMPARED = {"vs", "counterparty", "account", "message", "id"}  # columns that hold no compared field
DATE_FORMATS = ("%Y-%m-%d", "%d.%m.%Y", "%d.%m.%y", "%Y%m%d", "%d/%m/%Y", "%m/%d/%Y", "%d-%m-%Y", "%Y/%m/%d")


@dataclass
class Mapping:
    """The ``csv_mapping`` setting as this reader understands it (only the keys of the compared fields).

    ``date``, ``amount`` (signed) or ``credit``/``debit`` (unsigned, one filled per row), ``currency``;
    ``direction`` with ``debit_values``/``credit_values`` (the direction is the column's, the amount's sign
    is ignored); ``state`` with ``import_states`` (other rows are no movements); ``fee`` (subtracted from
    the signed amount); ``date_format``, ``decimal``, ``delimiter``.
    """

    columns: dict[str, str] = field(default_factory=dict)
    values: dict[str, set[str]] = field(default_factory=dict)
    date_format: str = ""
    decimal: str = ""
    delimiter: str = ""


def parse_mapping(setting: str, name: str) -> Mapping:
    mapping = Mapping()
    for item in MAPPING_ITEM.split(setting.strip()):
        key, _, value = item.strip().partition("=")
        key = key.strip().lower()
        if key in NOT_COMPARED:
            continue
        if key in OPTION_KEYS:
            value = value if value.strip() == "" else value.strip()
            setattr(mapping, key, "\t" if value.lower() in ("tab", "\\t") else value)
        elif key in VALUE_KEYS:
            mapping.values[key] = {part.strip().casefold() for part in value.split("+") if part.strip()}
        elif key in COLUMN_KEYS:
            mapping.columns[key] = value.strip()
        else:
            raise CorpusError(
                f"{name}: the corpus reader does not know the mapping key {key!r}; teach it in "
                "tests/corpus_reader.py (parse_mapping and read_generic_csv)."
            )
    return mapping


def generic_amount(cell: str, decimal_mark: str) -> Decimal | None:
    """A signed amount (``-1.234,50``, ``(12.00)``, ``12.00-``), or None for an empty cell."""
    value = SPACES.sub("", cell).replace("€", "")
    if not value:
        return None
    negative = value.startswith("(") and value.endswith(")") or value.endswith("-")
    value = value.strip("()").rstrip("-")
    mark = decimal_mark or ("," if value.rfind(",") > value.rfind(".") else ".")
    other = "." if mark == "," else ","
    number = Decimal(value.replace(other, "").replace(mark, "."))
    return -number if negative else number


def read_generic_csv(path: Path, *, csv_mapping: str = "", account_currency: str = "", **_ignored) -> list[Found]:
    if not csv_mapping:
        raise CorpusError(
            f"{path.name}: a generic CSV needs its csv_mapping in the corpus table, written out even when the "
            "plugin uses a preset (the corpus reader does not read production presets)."
        )
    mapping = parse_mapping(csv_mapping, path.name)
    text_ = decode(path)
    wanted = {c.lower() for c in mapping.columns.values()}
    for delimiter in [mapping.delimiter] if mapping.delimiter else [";", ",", "\t", "|"]:
        table = rows(text_, delimiter)
        start = next((i for i, r in enumerate(table) if wanted <= {c.strip().lower() for c in r}), None)
        if start is not None:
            break
    else:
        raise CorpusError(f"{path.name}: no line holds every mapped column {sorted(wanted)}.")
    header = [c.strip().lower() for c in table[start]]

    def cell(row: list[str], key: str) -> str:
        name = mapping.columns.get(key)
        if not name:
            return ""
        index = header.index(name.lower())
        return row[index].strip() if index < len(row) else ""

    body = [(line, row) for line, row in enumerate(table[start + 1 :], start=start + 2) if not blank(row)]
    if "state" in mapping.columns:  # a row in another state (pending, declined, reverted) is no movement
        body = [(line, row) for line, row in body if cell(row, "state").casefold() in mapping.values["import_states"]]
    formats = [mapping.date_format] if mapping.date_format else _date_formats(path, [cell(r, "date") for _, r in body])
    found: list[Found] = []
    footer_from: int | None = None
    for line, row in body:
        where = f"line {line}"
        day = _date(cell(row, "date"), formats)
        amount = _signed_amount(mapping, cell, row, f"{path.name}, {where}") if day else None
        if day is None or amount is None:
            footer_from = footer_from or line  # not a movement: allowed only after the last movement
            continue
        if footer_from is not None:
            raise CorpusError(f"{path.name}: line {line} is a movement after line {footer_from}, which is not one.")
        currency = (cell(row, "currency") or account_currency).upper()
        item = entry(path, where, day, "income" if amount > 0 else "expense", amount, currency)
        if item:
            found.append(item)
    return found


def _signed_amount(mapping: Mapping, cell, row: list[str], where: str) -> Decimal | None:
    """The row's signed amount, fee subtracted; None if the row has none (a footer line)."""
    try:
        if "amount" in mapping.columns:
            amount = generic_amount(cell(row, "amount"), mapping.decimal)
        else:
            credit = generic_amount(cell(row, "credit"), mapping.decimal)
            debit = generic_amount(cell(row, "debit"), mapping.decimal)
            if credit and debit:
                raise CorpusError(f"{where}: both a credit and a debit amount.")
            amount = abs(credit) if credit else (-abs(debit) if debit is not None else None)
        fee = generic_amount(cell(row, "fee"), mapping.decimal) or Decimal(0)
    except InvalidOperation:
        return None
    if amount is None:
        return None
    if "direction" in mapping.columns:
        value = cell(row, "direction").casefold()
        if value in mapping.values.get("debit_values", set()):
            amount = -abs(amount)
        elif value in mapping.values.get("credit_values", set()):
            amount = abs(amount)
        else:
            raise CorpusError(f"{where}: the direction {value!r} is neither a debit nor a credit value.")
    return amount - fee


def _date(value: str, formats: list[str]) -> date | None:
    for candidate in (value, value.split(" ")[0], value.split("T")[0]):
        for fmt in formats:
            try:
                return datetime.strptime(candidate, fmt).date()
            except ValueError:
                continue
    return None


def _date_formats(path: Path, values: list[str]) -> list[str]:
    """The one date format every movement's date fits, read from the whole file (day or month first)."""
    dated = [v for v in values if _date(v, list(DATE_FORMATS))]
    fitting = [fmt for fmt in DATE_FORMATS if dated and all(_date(v, [fmt]) for v in dated)]
    if len(fitting) != 1:
        raise CorpusError(
            f"{path.name}: the dates fit {fitting or 'no format'}; give date_format in the table's csv_mapping."
        )
    return fitting[:1]


# -- Fio API JSON ----------------------------------------------------------------------------------------


def is_fio_json(path: Path) -> bool:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, ValueError):
        return False
    return isinstance(data, dict) and isinstance(data.get("accountStatement"), dict)


def fio_json_movements(path: Path) -> tuple[dict, list[dict]]:
    """The ``info`` and the movements of a Fio API answer (numbers as Decimal)."""
    statement = json.loads(path.read_text(encoding="utf-8"), parse_float=Decimal)["accountStatement"]
    return statement.get("info") or {}, (statement.get("transactionList") or {}).get("transaction") or []


def read_fio_json(path: Path, **_ignored) -> list[Found]:
    info, movements = fio_json_movements(path)
    found: list[Found] = []
    for number, movement in enumerate(movements, start=1):
        where = f"movement {number} (id {(movement.get('column22') or {}).get('value')})"
        day = date.fromisoformat(str(movement["column0"]["value"])[:10])
        amount = Decimal(str(movement["column1"]["value"]))
        currency = str((movement.get("column14") or {}).get("value") or info.get("currency") or "").upper()
        item = entry(path, where, day, "income" if amount > 0 else "expense", amount, currency)
        if item:
            found.append(item)
    return found


READERS = {"camt053": read_camt053, "fio-csv": read_fio_csv, "csv": read_generic_csv, "fio-api": read_fio_json}
