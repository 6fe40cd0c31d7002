"""Fio banka's CSV export: semicolons, Czech headers, ``dd.mm.yyyy`` dates, ``-1 290,00`` amounts.

``identify(data)``: a header line with ``ID pohybu`` (the API's
transactions.csv) or ``ID operace`` (the internet banking export),
``Datum`` and ``Objem`` near the start. ``read(data)``: every movement;
``parse(data, name)``: the same with what the plugin logs.

The account lines before the header (``accountId``, ``iban``, ``currency``...)
are skipped, their IBAN kept in ``raw_data["account"]`` and their currency
used when a row's ``Měna`` is empty. Signed ``Objem`` -> income/expense with
a positive amount; ``VS`` -> reference (else a "VS ..." in the message);
counterparty ``Název protiúčtu``, account ``Protiúčet/Kód banky`` (an IBAN as
it is); description = message, note and comment without repeats (else
``Typ``); ``raw_data`` = every non-empty column by its header name; external
id ``fio:<ID pohybu>``.

A ``Měna`` of ``XXX`` (ISO's "no currency") is read in the export's account
currency (its ``currency`` line, else the Account currency setting) with a
warning; with neither it is refused naming that setting. A bank's
placeholder text (``NOTPROVIDED``, ``N/A``, ``-``...: ``movement.meaningful``)
is no counterparty or description; what was left out is counted in one
warning per file and kept in ``raw_data``.

The file is read row by row; the header must start within its first 64 KB
(a file without it is ``NotAStatement``).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from core.banking.formats.csv_dialect import (
    Rows,
    blank,
    cell_at,
    looks_like_xml,
    parse_date,
    parse_decimal,
    raw_row,
    row_of,
    sniff_rows,
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
    currency_code,
    direction,
    find_vs,
    meaningful,
    placeholder_warning,
    unique,
)
from core.values.messages import Message

FORMAT = "fio-csv"
LABEL = Message("Fio CSV export")
NO_CURRENCY = "XXX"  # ISO 4217: "no currency is involved"
ACCOUNT_CURRENCY_SETTING = Message("Account currency (account_currency)")
# Whose currency a row without one (or with XXX) is read in, as the warning says it.
EXPORT_CURRENCY = Message("the currency of the export's account")
SETTING_CURRENCY = Message("the setting {setting}", setting=ACCOUNT_CURRENCY_SETTING)
NO_CURRENCY_HINT = Message("the Měna column is empty; set the setting {setting}", setting=ACCOUNT_CURRENCY_SETTING)

# Fio's CSV columns (the API's transactions.csv says "ID pohybu", the internet banking export "ID operace").
COLUMNS = {
    "id": ("ID pohybu", "ID operace"),
    "date": ("Datum",),
    "amount": ("Objem",),
    "currency": ("Měna",),
    "account": ("Protiúčet",),
    "account_name": ("Název protiúčtu",),
    "bank_code": ("Kód banky",),
    "bank_name": ("Název banky",),
    "ks": ("KS", "Konstantní symbol"),
    "vs": ("VS", "Variabilní symbol"),
    "ss": ("SS", "Specifický symbol"),
    "note": ("Poznámka", "Uživatelská identifikace"),
    "message": ("Zpráva pro příjemce",),
    "type": ("Typ",),
    "executed_by": ("Provedl",),
    "detail": ("Upřesnění",),
    "comment": ("Komentář",),
    "bic": ("BIC",),
    "instruction_id": ("ID pokynu",),
}


def header_position(rows: list[list[str]]) -> int | None:
    """The index of Fio's header among the rows' cells, or None."""
    for position, cells in enumerate(rows):
        names = {cell.strip() for cell in cells}
        if "Datum" in names and "Objem" in names and names & set(COLUMNS["id"]):
            return position
    return None


def identify(data: bytes) -> bool:
    """A CSV with Fio's header (``ID pohybu`` or ``ID operace``, ``Datum``, ``Objem``) near the start."""
    return not looks_like_xml(data) and header_position(sniff_rows(data, ";")) is not None


def read(
    data: bytes | Source, name: str = "statement.csv", *, account_currency: str = "", limits: Limits = DEFAULT_LIMITS
):
    """The movements of a Fio CSV export (list[Movement]); raises StatementError naming ``name``."""
    return parse(data, name, account_currency=account_currency, limits=limits).movements


@dataclass
class _Export:
    """One export's header, account and the state its rows are read with."""

    result: FileResult
    ids: Ids
    header: list[str]
    positions: dict[str, int]
    account: str
    currency: str
    whose: str  # whose currency ``currency`` is: the export's account's or the setting's
    stand_ins: list[str] = field(default_factory=list)  # rows whose Měna XXX was read in ``currency``
    placeholders: int = 0  # placeholder texts left out


def parse(
    data: bytes | Source, name: str, *, account_currency: str = "", limits: Limits = DEFAULT_LIMITS
) -> FileResult:
    """The file's movements, warnings and account, read row by row; raises StatementError naming ``name``.

    The header must start within the file's first 64 KB (the account lines before it are few).
    """
    source = Source.of(data)
    rows = Rows(source, name, ";", text_encoding(source), limits)
    preamble: dict[str, str] = {}
    header: list[str] = []
    for _, cells in rows:
        if header_position([cells]) is not None:
            header = [cell.strip() for cell in cells]
            rows.check_fields = True
            break
        if rows.characters_read > SNIFF_BYTES:
            rows.close()
            break
        if len(cells) >= 2:
            preamble[cells[0].strip()] = cells[1].strip()
    if not header:
        raise NotAStatement(
            Message(
                "{name} is not a Fio CSV export: no header line with 'ID pohybu' (or 'ID operace'), "
                "'Datum' and 'Objem' was found; nothing was imported.",
                name=name,
            )
        )
    positions: dict[str, int] = {}
    for key, names in COLUMNS.items():
        for column in names:
            if column in header:
                positions[key] = header.index(column)
                break
    account = preamble.get("iban") or preamble.get("IBAN") or preamble.get("accountId", "")
    own_currency = (preamble.get("currency") or preamble.get("Měna") or "").upper()
    currency = own_currency or account_currency.upper()
    whose = EXPORT_CURRENCY if own_currency else SETTING_CURRENCY
    result = FileResult(name, LABEL, accounts=[account] if account else [])
    export = _Export(result, Ids(), header, positions, account, currency, whose)
    for line, cells in rows:
        if not blank(cells):
            _row(export, row_of(name, line), cells)
    if export.stand_ins:
        where, more = export.stand_ins[0], len(export.stand_ins) - 1
        if more == 1:
            where = Message("{where} (and 1 more row)", where=where)
        elif more:
            where = Message("{where} (and {more} more rows)", where=where, more=more)
        result.warnings.append(
            Message(
                "{where}: the currency (column Měna) is XXX (ISO's 'no currency'); read in {currency}, {whose}.",
                where=where,
                currency=currency,
                whose=whose,
            )
        )
    if export.placeholders:
        result.warnings.append(placeholder_warning(name, export.placeholders))
    return result


def _row(export: _Export, where: str, cells: list[str]) -> None:
    """One movement row, appended to the result (a zero amount is counted and skipped)."""
    values = {key: cell_at(cells, position) for key, position in export.positions.items()}
    values.update({key: "" for key in COLUMNS if key not in values})
    movement_id = values["id"]
    if not movement_id:
        raise StatementError(Message("{where}: the movement has no ID pohybu; nothing was imported.", where=where))
    try:
        amount = parse_decimal(values["amount"], ",")
    except ValueError:
        raise StatementError(
            Message(
                "{where}: the amount {amount} (column Objem) is not a number; nothing was imported.",
                where=where,
                amount=repr(values["amount"]),
            )
        ) from None
    try:
        day = parse_date(values["date"], "%d.%m.%Y") if "." in values["date"] else parse_date(values["date"])
    except ValueError:
        raise StatementError(
            Message(
                "{where}: the date {date} (column Datum) is not a date like 31.12.2026; nothing was imported.",
                where=where,
                date=repr(values["date"]),
            )
        ) from None
    check_day(day, where)
    currency = _currency(export, where, values["currency"])
    if not check_amount(export.result, where, abs(amount), currency, values["amount"]):
        return
    external_id, repeated = export.ids(f"fio:{movement_id}")
    if repeated:
        export.result.warnings.append(
            Message(
                "{where}: the movement {id} appears more than once in this file; imported again as {external_id}.",
                where=where,
                id=movement_id,
                external_id=external_id,
            )
        )
    raw = raw_row(export.header, cells)  # as written: a placeholder stays here
    if export.account:
        raw["account"] = export.account
    shown = ("account_name", "account", "message", "note", "comment", "type")
    for key in shown:
        kept = meaningful(values[key])
        export.placeholders += 1 if values[key].strip() and not kept else 0
        values[key] = kept
    export.result.movements.append(
        Movement(
            external_id=external_id,
            transaction_type=direction(amount),
            amount=abs(amount),
            currency=currency,
            transacted_on=day,
            description=" | ".join(unique([values["message"], values["note"], values["comment"]])) or values["type"],
            counterparty=values["account_name"],
            counterparty_account=_counter_account(values["account"], values["bank_code"]),
            reference=_reference(values),
            raw_data=raw,
        )
    )


def _currency(export: _Export, where: str, written: str) -> str:
    """The row's Měna; empty, the export's currency; XXX, the export's currency with a warning."""
    code = written.strip().upper()
    if code != NO_CURRENCY:
        return currency_code(code, where, export.currency, NO_CURRENCY_HINT)
    if not export.currency:
        raise StatementError(
            Message(
                "{where}: the currency (column Měna) is XXX (ISO's 'no currency') and the export names no "
                "account currency; set the setting {setting} to the account's currency. "
                "Nothing was imported.",
                where=where,
                setting=ACCOUNT_CURRENCY_SETTING,
            )
        )
    export.stand_ins.append(where)
    return currency_code(export.currency, where, "", "")


def _counter_account(account: str, bank_code: str) -> str:
    """``Protiúčet/Kód banky`` for a Czech account number; an IBAN (or one already with its code) as it is."""
    if account and bank_code and "/" not in account and not account[:2].isalpha():
        return f"{account}/{bank_code}"
    return account


def _reference(values: dict[str, str]) -> str:
    """The VS column, else a "VS ..." in the message or the comment."""
    reference = find_vs(values["vs"], bare=True) if values["vs"] else ""
    return reference or find_vs(values["message"], bare=False) or find_vs(values["comment"], bare=False)
