"""Reading banks' text files: encodings, CSV rows, amounts and dates as banks write them.

A CSV is decoded as UTF-8 (BOM or not), UTF-16 with a BOM, or Windows-1250
(the older Czech export encoding); anything else is refused. The sniffing
helpers (``looks_like_xml``, ``head_text``) look at the first bytes only and
never raise: they serve the readers' ``identify()``.
"""

from __future__ import annotations

import codecs
import csv
import io
import re
from datetime import date, datetime
from decimal import Decimal, InvalidOperation

from core.banking.formats.movement import StatementError
from core.values.money import MoneyError, parse_amount

CSV_DATE_FORMATS = ("%Y-%m-%d", "%d.%m.%Y", "%d. %m. %Y", "%d.%m.%y", "%d/%m/%Y", "%Y/%m/%d", "%Y%m%d")
SNIFF_BYTES = 64 * 1024
PLAIN_NUMBER = re.compile(r"^[+-]?\d+(\.\d+)?$")


def looks_like_xml(data: bytes) -> bool:
    """The first non-blank character is ``<`` (UTF-8 with or without BOM, or UTF-16 with a BOM)."""
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return data.decode("utf-16", errors="ignore").lstrip().startswith("<")
    return data.lstrip(b"\xef\xbb\xbf \t\r\n").startswith(b"<")


def head_text(data: bytes, size: int = SNIFF_BYTES) -> str:
    """The first ``size`` bytes as text, for sniffing: undecodable bytes are replaced, never refused."""
    head = data[:size]
    if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return head[: len(head) // 2 * 2].decode("utf-16", errors="replace")
    try:
        return head.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        if exc.start >= len(head) - 3:  # a character cut at the end of the head
            return head[: exc.start].decode("utf-8-sig")
        return head.decode("cp1250", errors="replace")


def decode_text(data: bytes, name: str) -> str:
    """UTF-8 (with or without BOM), UTF-16 with a BOM, or Windows-1250 (older Czech bank exports)."""
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        try:
            return data.decode("utf-16")
        except UnicodeDecodeError:
            pass
    else:
        try:
            return data.decode("utf-8-sig")
        except UnicodeDecodeError:
            try:
                return data.decode("cp1250")
            except UnicodeDecodeError:
                pass
    raise StatementError(
        f"{name} is not in a text encoding this plugin reads (UTF-8, UTF-16 or Windows-1250); "
        "export it again as UTF-8. Nothing was imported."
    )


def csv_rows(text: str, name: str, delimiter: str) -> list[tuple[int, list[str]]]:
    """``(line number, cells)`` for every row; the line number is where the row starts in the file."""
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    rows, line = [], 1
    try:
        for cells in reader:
            rows.append((line, cells))
            line = reader.line_num + 1
    except csv.Error as exc:
        raise StatementError(
            f"{name}, row {reader.line_num}: the file is not a readable CSV file ({exc}); nothing was imported."
        ) from None
    return rows


def sniff_rows(data: bytes, delimiter: str) -> list[list[str]]:
    """The cells of the rows in the file's head; nothing (rather than an error) when it is not CSV."""
    try:
        return [cells for _, cells in csv_rows(head_text(data), "", delimiter)]
    except StatementError:
        return []


def blank(cells: list[str]) -> bool:
    return not any(cell.strip() for cell in cells)


def cell_at(cells: list[str], position: int | None) -> str:
    """The stripped cell at ``position``; empty when the row is shorter or the column is absent."""
    return cells[position].strip() if position is not None and position < len(cells) else ""


def raw_row(header: list[str], cells: list[str]) -> dict[str, str]:
    """Every non-empty cell by its header name (the row as the bank wrote it, for ``raw_data``)."""
    return {
        column: cells[i].strip() for i, column in enumerate(header) if column and i < len(cells) and cells[i].strip()
    }


def parse_decimal(text: str, decimal_mark: str = "") -> Decimal:
    """A signed amount as banks write it: ``-1 290,00``, ``1500.00``, ``+20000``; raises ValueError."""
    raw = (text or "").strip().replace("\u2212", "-")
    for space in (" ", "\u00a0", "\u202f", "'"):
        raw = raw.replace(space, "")
    if not raw:
        raise ValueError("empty")
    if decimal_mark == ",":
        raw = raw.replace(".", "").replace(",", ".")
    elif decimal_mark == ".":
        raw = raw.replace(",", "")
    else:
        try:
            return parse_amount(raw)
        except MoneyError:
            raise ValueError(text) from None
    if not PLAIN_NUMBER.match(raw):
        raise ValueError(text)
    try:
        return Decimal(raw)
    except InvalidOperation:
        raise ValueError(text) from None


def parse_date(text: str, date_format: str = "") -> date:
    """A date in ``date_format``, or in one of the usual bank formats (a time part ignored); raises ValueError."""
    value = (text or "").strip()
    if date_format:
        return datetime.strptime(value, date_format).date()
    candidates = (
        [value] + ([value.split()[0]] if " " in value else []) + ([value.split("T")[0]] if "T" in value else [])
    )
    for candidate in candidates:
        for fmt in CSV_DATE_FORMATS:
            try:
                return datetime.strptime(candidate, fmt).date()
            except ValueError:
                continue
    raise ValueError(value)
