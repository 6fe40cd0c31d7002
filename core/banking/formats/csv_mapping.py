"""The column mapping of the generic CSV reader: which header column holds what, and its options.

Parsed once from the setting text (``parse_mapping``); the reader (generic_csv.py) applies it row by row.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from core.banking.formats.movement import StatementError
from core.values.messages import Message

MAPPING_COLUMNS = (
    "date",
    "amount",
    "credit",
    "debit",
    "direction",
    "fee",
    "state",
    "currency",
    "vs",
    "counterparty",
    "account",
    "message",
    "id",
)
MAPPING_OPTIONS = ("date_format", "decimal", "delimiter")
MAPPING_VALUES = ("debit_values", "credit_values", "import_states")  # values of a column, several joined with +
MULTIPLE = ("message", *MAPPING_VALUES)
NO_CURRENCY_HINT = Message("map a currency column or set the account currency setting")
MAPPING_SPLIT = re.compile(r"[,;\n]\s*(?=[A-Za-z_]+\s*=)")  # before each "key=": "decimal=," stays whole

MAPPING_HELP = (
    "For format csv (any other bank's CSV): which header column holds what, as key=Column pairs separated by "
    "commas, e.g. date=Date,amount=Amount,currency=Currency,vs=VS,counterparty=Name,account=Account,"
    "message=Message,id=ID. Required: date and amount (a signed amount; or credit=Paid in,debit=Paid out "
    "for two unsigned columns). Direction in a column of its own: direction=Af Bij,debit_values=Af,"
    "credit_values=Bij (the amount's sign is then ignored; several values joined with +, e.g. "
    "debit_values=D+DBIT). Only some states: state=State,import_states=COMPLETED (other rows are skipped "
    "and counted in the log). fee=Fee: a fee column, subtracted from the amount. Optional: currency (else "
    "the account currency setting), vs, counterparty, account, message (several columns joined with +, "
    "e.g. message=Message+Note), id (the bank's unique id of the movement; without it rows are identified "
    "by a hash of their content). Options: date_format=%d.%m.%Y (strptime codes; default: YYYY-MM-DD, "
    "DD.MM.YYYY, YYYYMMDD, and DD/MM/YYYY or MM/DD/YYYY as the file's dates prove), decimal=, or "
    "decimal=. (default: guessed per value), delimiter=; (or , | tab; default: guessed). Column names "
    "must match the header exactly (case aside); lines before the header are skipped, and so are lines "
    "after the last movement that are no movements (a closing balance, totals). Or pick a preset."
)


@dataclass
class CsvMapping:
    columns: dict[str, list[str]]  # key -> column names (message may have several)
    date_format: str = ""
    decimal: str = ""
    delimiter: str = ""
    directions: dict[str, str] = field(default_factory=dict)  # casefolded direction value -> income/expense
    import_states: tuple[str, ...] = ()  # casefolded states whose rows are imported (as written, in values)
    states_written: tuple[str, ...] = ()


def parse_mapping(text: str) -> CsvMapping:
    """``date=Date,amount=Amount,decimal=,,delimiter=;`` -> CsvMapping; raises StatementError with a sentence."""
    columns, options, values = _mapping_items(text)
    if "date" not in columns:
        raise StatementError(Message("The column mapping names no date column (e.g. date=Date)."))
    if "amount" not in columns and not ({"credit", "debit"} & set(columns)):
        raise StatementError(
            Message(
                "The column mapping names no amount column (e.g. amount=Amount, or credit=... and "
                "debit=... for two unsigned columns)."
            )
        )
    if "amount" in columns and {"credit", "debit"} & set(columns):
        raise StatementError(
            Message("The column mapping names both an amount column and credit/debit columns; use one or the other.")
        )
    decimal_mark = options.get("decimal", "")
    if decimal_mark not in ("", ",", "."):
        raise StatementError(
            Message("The column mapping's decimal must be , or . (not {decimal}).", decimal=repr(decimal_mark))
        )
    delimiter = options.get("delimiter", "")
    if delimiter.lower() in ("tab", "\\t"):
        delimiter = "\t"
    if len(delimiter) > 1:
        raise StatementError(
            Message(
                "The column mapping's delimiter must be one character (or tab), not {delimiter}.",
                delimiter=repr(delimiter),
            )
        )
    states = values.get("import_states", [])
    if ("state" in columns) != bool(states):
        raise StatementError(
            Message(
                "The column mapping needs both a state column and the states to import "
                "(e.g. state=State,import_states=COMPLETED), or neither."
            )
        )
    return CsvMapping(
        columns,
        options.get("date_format", ""),
        decimal_mark,
        delimiter,
        _directions(columns, values),
        tuple(state.casefold() for state in states),
        tuple(states),
    )


def _directions(columns: dict[str, list[str]], values: dict[str, list[str]]) -> dict[str, str]:
    """The direction column's values -> income/expense, checked against the rest of the mapping."""
    debit, credit = values.get("debit_values", []), values.get("credit_values", [])
    if "direction" not in columns:
        if debit or credit:
            raise StatementError(
                Message(
                    "The column mapping gives debit_values or credit_values but no direction column "
                    "(e.g. direction=Af Bij,debit_values=Af,credit_values=Bij)."
                )
            )
        return {}
    if not (debit and credit):
        raise StatementError(
            Message(
                "The column mapping names a direction column but not both of its values "
                "(e.g. direction=Af Bij,debit_values=Af,credit_values=Bij)."
            )
        )
    if "amount" not in columns:
        raise StatementError(
            Message(
                "The column mapping names a direction column with credit/debit columns; a direction column "
                "goes with one amount column (amount=...)."
            )
        )
    both = {value.casefold() for value in debit} & {value.casefold() for value in credit}
    if both:
        raise StatementError(
            Message(
                "The column mapping gives {value} both as a debit value and a credit value.",
                value=repr(sorted(both)[0]),
            )
        )
    return {value.casefold(): "expense" for value in debit} | {value.casefold(): "income" for value in credit}


def _mapping_items(text: str) -> tuple[dict[str, list[str]], dict[str, str], dict[str, list[str]]]:
    """The mapping's ``key=Column`` items, ``option=value`` items and ``key=Value+Value`` lists, each checked."""
    columns: dict[str, list[str]] = {}
    options: dict[str, str] = {}
    values: dict[str, list[str]] = {}
    for item in MAPPING_SPLIT.split(text.strip()):
        item = item.strip()
        if not item:
            continue
        key, sep, value = item.partition("=")
        key = key.strip().lower()
        if not sep:
            raise StatementError(
                Message(
                    "The column mapping item {item} is not key=Column; see the help of the CSV column mapping setting.",
                    item=repr(item),
                )
            )
        if key in MAPPING_OPTIONS:
            options[key] = value.strip() or value
        elif key in MAPPING_COLUMNS or key in MAPPING_VALUES:
            names = [part.strip() for part in value.split("+")] if key in MULTIPLE else [value.strip()]
            if not all(names):
                raise StatementError(Message("The column mapping gives no column name for {key}.", key=repr(key)))
            (values if key in MAPPING_VALUES else columns)[key] = names
        else:
            keys = MAPPING_COLUMNS + MAPPING_VALUES + MAPPING_OPTIONS
            raise StatementError(
                Message("The column mapping has an unknown key {key}; use {keys}.", key=repr(key), keys=", ".join(keys))
            )
    return columns, options, values


# -- the rows --------------------------------------------------------------------------------------
