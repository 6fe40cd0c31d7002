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
of the row's date, amount, currency, counterparty, account, VS and message
(and its fee, when a fee column is mapped).

What real exports need (issue 15):

- Direction in a column of its own (``direction=Af Bij,debit_values=Af,
  credit_values=Bij``): the amount's sign is then ignored; a value in neither
  list refuses the file naming the row and both lists.
- A state column (``state=State,import_states=COMPLETED``): rows in another
  state are skipped and counted per value in one warning; a row without a
  state and without a date is left to the footer rule below.
- A fee column (``fee=Fee``, Revolut): the fee is charged, so its size is
  subtracted from the movement (the account's balance moves by amount - fee).
- Lines after the last movement whose date cell is empty or does not start
  with a digit ("Closing balance;...", a totals line, a short line) are
  skipped, counted and named in a warning. The same line with a movement after
  it, or a last line whose date merely has the wrong form, refuses the file.
- Without ``date_format`` the order of day and month is inferred from all the
  file's dates (``csv_dialect.infer_date_order``); a file that cannot tell is
  refused with a sentence naming ``date_format``.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from core.banking.formats import fio_csv
from core.banking.formats.csv_dialect import (
    DAY_FIRST,
    MONTH_FIRST,
    DateOrderError,
    Rows,
    blank,
    cell_at,
    date_format_example,
    head_text,
    infer_date_order,
    looks_like_xml,
    parse_date,
    parse_decimal,
    raw_row,
    row_of,
    text_encoding,
)
from core.banking.formats.csv_mapping import (  # noqa: F401 (MAPPING_HELP, parse_mapping: this module's API too)
    MAPPING_COLUMNS,
    MAPPING_HELP,
    NO_CURRENCY_HINT,
    CsvMapping,
    parse_mapping,
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
    meaningful,
    placeholder_warning,
    unique,
)
from core.values.messages import Message, message_of

FORMAT = "csv"
LABEL = "CSV"
DELIMITERS = (";", ",", "\t", "|")


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
            _line(table, row_of(name, line), cells)
    _finish(table, name)
    return table.result


# -- the mapping -----------------------------------------------------------------------------------


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
    # Lines without a date since the last movement: (where, refusal, the line); a footer if nothing follows.
    trailing: list[tuple[str, Message, str]] = field(default_factory=list)
    by_state: Counter = field(default_factory=Counter)  # skipped rows per state as written
    dated: list[tuple[Movement, str, str]] = field(default_factory=list)  # (movement, where, date text)
    placeholders: int = 0  # texts such as NOTPROVIDED left out of descriptions and counterparties

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
        Message(
            "{name}: no header line with the mapped columns ({columns}) was found; check "
            "the CSV column mapping (names must match the header) and the delimiter. "
            "Nothing was imported.",
            name=name,
            columns=", ".join(wanted),
        )
    )


def _readable_date(mapping: CsvMapping, text: str) -> bool:
    """``text`` is a date in the mapping's format, or (without one) in either order of day and month."""
    orders = [""] if mapping.date_format else [DAY_FIRST, MONTH_FIRST]
    for order in orders:
        try:
            parse_date(text, mapping.date_format, order)
            return True
        except ValueError:
            continue
    return False


def _date_refusal(mapping: CsvMapping, where: str, text: str) -> Message:
    if mapping.date_format:
        return Message(
            "{where}: the date {date} is not a date (expected {date_format}); nothing was imported.",
            where=where,
            date=repr(text),
            date_format=mapping.date_format,
        )
    return Message(
        "{where}: the date {date} is not a date in a form this reader knows (YYYY-MM-DD, DD.MM.YYYY, "
        "DD/MM/YYYY, MM/DD/YYYY, YYYYMMDD); set date_format in the CSV column mapping to the file's form "
        "(e.g. date_format=%d %b %Y); nothing was imported.",
        where=where,
        date=repr(text),
    )


def _line(table: _Table, where: str, cells: list[str]) -> None:
    """One non-blank line after the header: a movement, a row skipped by its state, or a line without a date
    (kept aside: a footer if no movement follows it, else the file is refused)."""
    mapping = table.mapping
    date_text = table.cell(cells, "date")
    dated = _readable_date(mapping, date_text)
    state = table.cell(cells, "state") if mapping.import_states else None
    skipped = state is not None and state.casefold() not in mapping.import_states and bool(state or dated)
    if not skipped and not dated:
        refusal = _date_refusal(mapping, where, date_text)
        # A footer's date cell is empty or words ("Closing balance"); a date in another form is a bad movement.
        if date_text[:1].isdigit():
            raise StatementError(refusal)
        table.trailing.append((where, refusal, "; ".join(cell.strip() for cell in cells if cell.strip())))
        return
    if table.trailing:  # a line that is no movement, among the movements
        raise StatementError(table.trailing[0][1])
    if skipped:
        table.by_state[state or "(empty)"] += 1
        return
    _row(table, where, cells, date_text)


def _finish(table: _Table, name: str) -> None:
    """The footer and state warnings, then every movement's date in the order the whole file shows."""
    result, mapping = table.result, table.mapping
    if table.trailing:
        where, _, text = table.trailing[0]
        shown = text if len(text) <= 60 else text[:59] + "…"
        count = len(table.trailing)
        if count > 1:
            footer = Message(
                "{where}: {count} lines after the last movement are no movement (the first: {line}); skipped.",
                where=where,
                count=count,
                line=repr(shown),
            )
        else:
            footer = Message(
                "{where}: 1 line after the last movement is no movement (the first: {line}); skipped.",
                where=where,
                line=repr(shown),
            )
        result.warnings.append(footer)
    if table.by_state:
        total = sum(table.by_state.values())
        counts = ", ".join(f"{state} {count}" for state, count in table.by_state.most_common())
        states = ", ".join(mapping.states_written)
        if total > 1:
            by_state = Message(
                "{name}: {total} rows skipped by state: {counts} (only {states} is imported).",
                name=name,
                total=total,
                counts=counts,
                states=states,
            )
        else:
            by_state = Message(
                "{name}: 1 row skipped by state: {counts} (only {states} is imported).",
                name=name,
                counts=counts,
                states=states,
            )
        result.warnings.append(by_state)
    if table.placeholders:
        result.warnings.append(placeholder_warning(name, table.placeholders))
    order = ""
    if not mapping.date_format:
        try:
            order = infer_date_order(text for _, _, text in table.dated)
        except DateOrderError as exc:
            raise StatementError(
                Message(
                    "{name}: the dates do not tell day from month ({reason}); set date_format in the CSV column "
                    "mapping, e.g. {example}. Nothing was imported.",
                    name=name,
                    reason=message_of(exc),
                    example=date_format_example(exc),
                )
            ) from None
    for movement, where, text in table.dated:
        try:
            day = parse_date(text, mapping.date_format, order)
        except ValueError:
            raise StatementError(_date_refusal(mapping, where, text)) from None
        movement.transacted_on = check_day(day, where)
    table.dated = []


def _amount(table: _Table, where: str, cells: list[str]) -> tuple[Decimal, str]:
    """The row's signed amount and how it was written (``-<debit>`` for a debit column or direction), less its fee."""
    amount, written = _gross(table, where, cells)
    fee_text = table.cell(cells, "fee")
    if fee_text:
        try:
            fee = abs(parse_decimal(fee_text, table.mapping.decimal))
        except ValueError:
            raise StatementError(
                Message(
                    "{where}: the fee {fee} is not a number; nothing was imported.", where=where, fee=repr(fee_text)
                )
            ) from None
        amount -= fee
    return amount, written


def _gross(table: _Table, where: str, cells: list[str]) -> tuple[Decimal, str]:
    """The row's signed amount as written, the direction column deciding its sign when there is one."""
    decimal_mark = table.mapping.decimal
    if "amount" in table.mapping.columns:
        amount_text = table.cell(cells, "amount")
        try:
            amount = parse_decimal(amount_text, decimal_mark)
        except ValueError:
            raise StatementError(
                Message(
                    "{where}: the amount {amount} is not a number; nothing was imported.",
                    where=where,
                    amount=repr(amount_text),
                )
            ) from None
        if not table.mapping.directions:
            return amount, amount_text
        value = table.cell(cells, "direction")
        kind = table.mapping.directions.get(value.casefold())
        if kind is None:
            debit = [v for v, k in table.mapping.directions.items() if k == "expense"]
            credit = [v for v, k in table.mapping.directions.items() if k == "income"]
            raise StatementError(
                Message(
                    "{where}: the direction {value} is none of the mapping's debit_values ({debit}) "
                    "or credit_values ({credit}); add it to one of them in the CSV column mapping; "
                    "nothing was imported.",
                    where=where,
                    value=repr(value),
                    debit="+".join(debit),
                    credit="+".join(credit),
                )
            )
        unsigned = amount_text.strip().lstrip("+-\u2212").strip()
        return (abs(amount), unsigned) if kind == "income" else (-abs(amount), f"-{unsigned}")
    credit_text, debit_text = table.cell(cells, "credit"), table.cell(cells, "debit")
    try:
        credit = abs(parse_decimal(credit_text, decimal_mark)) if credit_text else Decimal(0)
        debit = abs(parse_decimal(debit_text, decimal_mark)) if debit_text else Decimal(0)
    except ValueError:
        raise StatementError(
            Message(
                "{where}: the amount {amount} is not a number; nothing was imported.",
                where=where,
                amount=repr(credit_text or debit_text),
            )
        ) from None
    return credit - debit, credit_text or f"-{debit_text}"


def _row(table: _Table, where: str, cells: list[str], date_text: str) -> None:
    """One movement row, appended to the result (a zero amount is counted and skipped); its date is read in
    ``_finish``, once the whole file has shown the order of day and month."""
    values = {key: table.cell(cells, key) for key in MAPPING_COLUMNS}
    amount, amount_text = _amount(table, where, cells)
    currency = currency_code(values["currency"], where, table.account_currency, NO_CURRENCY_HINT)
    if not check_amount(table.result, where, abs(amount), currency, amount_text):
        return
    reference = find_vs(values["vs"], bare=True) if values["vs"] else ""
    # A bank's placeholder (NOTPROVIDED, N/A) is no text; raw_data keeps it, the id's hash uses the row as written.
    shown = {key: meaningful(values[key]) for key in ("message", "counterparty", "account")}
    table.placeholders += sum(1 for key in ("message", "counterparty") if values[key].strip() and not shown[key])
    movement = Movement(
        external_id=_external_id(table, where, values, amount_text, currency),
        transaction_type=direction(amount),
        amount=abs(amount),
        currency=currency,
        transacted_on=date.min,  # read in _finish
        description=shown["message"],
        counterparty=shown["counterparty"],
        counterparty_account=shown["account"],
        reference=reference or find_vs(shown["message"], bare=False),
        raw_data=raw_row(table.header, cells),
    )
    table.result.movements.append(movement)
    table.dated.append((movement, where, date_text))


def _external_id(table: _Table, where: str, values: dict[str, str], amount_text: str, currency: str) -> str:
    """``csv:<id>``, or ``csv:sha256:<hash>`` of the row's content; unique within the file."""
    if values["id"]:
        base = f"csv:{values['id']}"
    else:
        parts = (values["counterparty"], values["account"], values["vs"], values["message"])
        if "fee" in table.mapping.columns:  # only then: the ids of files read without a fee stay as they were
            parts += (values["fee"],)
        base = "csv:sha256:" + content_hash(values["date"], amount_text, currency, *parts)
    external_id, repeated = table.ids(base)
    if repeated and values["id"]:
        table.result.warnings.append(
            Message(
                "{where}: the id {id} appears more than once in this file; imported again as {external_id}.",
                where=where,
                id=values["id"],
                external_id=external_id,
            )
        )
    return external_id
