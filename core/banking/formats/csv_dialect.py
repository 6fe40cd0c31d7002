"""Reading banks' text files: encodings, CSV rows, amounts and dates as banks write them.

A CSV is decoded as UTF-8 (BOM or not), UTF-16 with a BOM, or Windows-1250
(the older Czech export encoding); anything else is refused. The sniffing
helpers (``looks_like_xml``, ``head_text``) look at the first bytes only and
never raise: they serve the readers' ``identify()``.

Files are read as a stream, row by row (``Rows``): the encoding is
decided by one pass over the bytes (all of it UTF-8, else Windows-1250),
then the rows are decoded as they are read. No cell may be longer than the
field length limit, and no line longer than ``FIELDS_PER_LINE`` times it.
Amounts and dates are read in the ASCII digits 0-9 only (Python's
``Decimal()`` and ``strptime()`` would also read Arabic-Indic or full-width
digits).

Day-first or month-first (``infer_date_order``): a date with two small numbers
before the year (``03/11/2026``, ``03-11-2026``) is read in the order the whole
file shows: a first number above 12 proves day-first, a second above 12 proves
month-first. A file that proves both, or whose every such date reads both ways,
is refused by the caller with a sentence naming its date format setting; a
date is never read in one order while another date of the file proves the other.
"""

from __future__ import annotations

import codecs
import csv
import io
import re
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from sys import intern
from typing import Iterable, Iterator

from core.banking.formats.movement import SNIFF_BYTES, Limits, Source, StatementError
from core.values.messages import Message
from core.values.money import MoneyError, parse_amount

CSV_DATE_FORMATS = ("%Y-%m-%d", "%d.%m.%Y", "%d. %m. %Y", "%d.%m.%y", "%d/%m/%Y", "%Y/%m/%d", "%Y%m%d")
PLAIN_NUMBER = re.compile(r"^[+-]?[0-9]+(\.[0-9]+)?$")
# Two numbers of one or two digits before a four-digit year: the order of day and month is the file's to tell.
TWO_WAY_DATE = re.compile(r"^([0-9]{1,2})([/-])([0-9]{1,2})\2([0-9]{4})$")
DAY_FIRST, MONTH_FIRST = "day-first", "month-first"
CHUNK_BYTES = 64 * 1024
# A physical line may hold this many fields of the longest length (a longer one is no statement row).
FIELDS_PER_LINE = 64
A_CELL = Message("a cell")  # what a field_too_long refusal names


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


def encoding_problem(name: str) -> StatementError:
    return StatementError(
        Message(
            "{name} is not in a text encoding this plugin reads (UTF-8, UTF-16 or Windows-1250); "
            "export it again as UTF-8. Nothing was imported.",
            name=name,
        )
    )


def row_of(name: str, line: int) -> Message:
    """Where a CSV row is, as a sentence begins: ``statement.csv, row 5``."""
    return Message("{name}, row {line}", name=name, line=line)


def not_csv(name: str, line: int, exc: csv.Error) -> StatementError:
    return StatementError(
        Message(
            "{where}: the file is not a readable CSV file ({error}); nothing was imported.",
            where=row_of(name, line),
            error=str(exc),
        )
    )


def text_encoding(source: Source) -> str:
    """``utf-16`` with a BOM, ``utf-8-sig`` when every byte is UTF-8, else ``cp1250`` (one pass, nothing kept)."""
    if source.head().startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return "utf-16"
    decoder = codecs.getincrementaldecoder("utf-8")()
    with source.open() as stream:
        try:
            while chunk := stream.read(CHUNK_BYTES):
                decoder.decode(chunk)
            decoder.decode(b"", final=True)
        except UnicodeDecodeError:
            return "cp1250"
    return "utf-8-sig"


class _Lines:
    """A text stream's lines for the csv module, each refused past ``cap`` characters (never read whole)."""

    def __init__(self, text, name: str, limits: Limits):
        self.text = text
        self.name = name
        self.limits = limits
        self.cap = limits.max_field_length * FIELDS_PER_LINE
        self.number = 0  # physical lines read
        self.since_row = 0  # characters read since the last row was handed out
        self.total = 0

    def __iter__(self) -> "_Lines":
        return self

    def __next__(self) -> str:
        line = self.text.readline(self.cap + 1)
        if not line:
            raise StopIteration
        self.number += 1
        if len(line) > self.cap:
            raise StatementError(
                Message(
                    "{where}: the line is longer than {cap:,} characters "
                    "({fields} fields of the longest field, {longest:,} "
                    "characters), which no statement row is; if the file is right, raise the setting "
                    "Longest field (max_field_length). Nothing was imported.",
                    where=Message("{name}, line {line}", name=self.name, line=self.number),
                    cap=self.cap,
                    fields=FIELDS_PER_LINE,
                    longest=self.limits.max_field_length,
                )
            )
        self.since_row += len(line)
        self.total += len(line)
        return line


class Rows:
    """A CSV file's rows, read and decoded as they come: ``(line number, cells)``, the line number being
    where the row starts in the file. Iterate once.

    Once ``check_fields`` is set (after the header: a wrong delimiter tried while looking for it makes
    long cells of whole lines), a cell longer than the field length limit is refused. A broken CSV and
    bytes the encoding cannot decode are refused with a sentence naming the file and row.
    """

    def __init__(self, source: Source, name: str, delimiter: str, encoding: str, limits: Limits):
        self.check_fields = False
        self._rows = self._read(source, name, delimiter, encoding, limits)
        self._lines: _Lines | None = None

    @property
    def characters_read(self) -> int:
        return self._lines.total if self._lines is not None else 0

    def __iter__(self) -> Iterator[tuple[int, list[str]]]:
        return self._rows

    def close(self) -> None:
        self._rows.close()

    def _read(self, source: Source, name: str, delimiter: str, encoding: str, limits: Limits):
        limit = limits.max_field_length
        with source.open() as raw:
            lines = self._lines = _Lines(io.TextIOWrapper(raw, encoding=encoding, newline=""), name, limits)
            reader = csv.reader(lines, delimiter=delimiter)
            line = 1
            try:
                for cells in reader:
                    # No cell can be longer than the characters its row was read from: most rows skip the look.
                    if self.check_fields and lines.since_row > limit and any(len(cell) > limit for cell in cells):
                        raise limits.field_too_long(row_of(name, line), A_CELL)
                    lines.since_row = 0
                    yield line, cells
                    line = reader.line_num + 1
            except csv.Error as exc:
                raise not_csv(name, reader.line_num, exc) from None
            except UnicodeDecodeError:
                raise encoding_problem(name) from None


def csv_rows(text: str, name: str, delimiter: str) -> list[tuple[int, list[str]]]:
    """``(line number, cells)`` for every row of ``text`` (a file's head, for sniffing)."""
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    rows, line = [], 1
    try:
        for cells in reader:
            rows.append((line, cells))
            line = reader.line_num + 1
    except csv.Error as exc:
        raise not_csv(name, reader.line_num, exc) from None
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
    """Every non-empty cell by its header name (the row as the bank wrote it, for ``raw_data``).

    The values are interned: the run keeps every row until it commits, and most columns (dates, codes,
    currencies, names, types) repeat from row to row.
    """
    return {
        column: intern(cells[i].strip())
        for i, column in enumerate(header)
        if column and i < len(cells) and cells[i].strip()
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


def parse_date(text: str, date_format: str = "", order: str = "") -> date:
    """A date in ``date_format``, or in one of the usual bank formats (a time part ignored); raises ValueError.

    With ``order`` (DAY_FIRST or MONTH_FIRST, from ``infer_date_order``) a date such as ``03/11/2026`` or
    ``03-11-2026`` is read in that order only; without it, the slash form is read day-first (Fio's use).
    """
    value = (text or "").strip()
    if not value.isascii():  # strptime reads other scripts' digits too
        raise ValueError(value)
    if date_format:
        return datetime.strptime(value, date_format).date()
    for candidate in _date_part(value):
        two_way = TWO_WAY_DATE.match(candidate)
        if order and two_way:
            first, second, year = int(two_way.group(1)), int(two_way.group(3)), int(two_way.group(4))
            return date(year, second, first) if order == DAY_FIRST else date(year, first, second)
        for fmt in CSV_DATE_FORMATS:
            try:
                return datetime.strptime(candidate, fmt).date()
            except ValueError:
                continue
    raise ValueError(value)


def _date_part(value: str) -> list[str]:
    """The value, then its part before a time (``2026-03-02 10:00``, ``2026-03-02T10:00``)."""
    return [value] + ([value.split()[0]] if " " in value else []) + ([value.split("T")[0]] if "T" in value else [])


class DateOrderError(ValueError):
    """The file's dates do not tell day from month: ``str()`` says why (``message_of()``: the Message, for the
    sentence that quotes it); ``example`` is a date that reads both ways (or proves one order), ``separator`` its
    separator; ``conflict`` when both orders are proven."""

    def __init__(self, reason: Message, example: str, conflict: bool):
        super().__init__(reason)
        self.example = example
        self.separator = "-" if "-" in example else "/"
        self.conflict = conflict


def two_way_parts(text: str) -> tuple[int, int] | None:
    """The two numbers before the year of ``03/11/2026`` or ``03-11-2026`` (a time part aside), or None."""
    value = (text or "").strip()
    for candidate in _date_part(value) if value.isascii() else []:
        match = TWO_WAY_DATE.match(candidate)
        if match:
            return int(match.group(1)), int(match.group(3))
    return None


def infer_date_order(texts: Iterable[str]) -> str:
    """DAY_FIRST or MONTH_FIRST as the dates prove it; DAY_FIRST when no date depends on the order (each reads
    the same either way); raises DateOrderError when the dates prove both orders or none while one matters."""
    day_first = month_first = either = ""
    for text in texts:
        parts = two_way_parts(text)
        if parts is None:
            continue
        first, second = parts
        if first > 12 >= second:
            day_first = day_first or text.strip()
        elif second > 12 >= first:
            month_first = month_first or text.strip()
        elif first != second and first <= 12 and second <= 12:
            either = either or text.strip()
    if day_first and month_first:
        reason = Message(
            "{day_first} is day-first but {month_first} is month-first",
            day_first=repr(day_first),
            month_first=repr(month_first),
        )
        raise DateOrderError(reason, day_first, conflict=True)
    if month_first:
        return MONTH_FIRST
    if day_first or not either:
        return DAY_FIRST
    reason = Message("every date such as {example} reads both day-first and month-first", example=repr(either))
    raise DateOrderError(reason, either, conflict=False)


def date_format_example(error: DateOrderError) -> Message:
    """``date_format=%d/%m/%Y (day-first) or date_format=%m/%d/%Y (month-first)`` in the file's separator."""
    return Message(
        "date_format=%d{sep}%m{sep}%Y (day-first) or date_format=%m{sep}%d{sep}%Y (month-first)", sep=error.separator
    )
