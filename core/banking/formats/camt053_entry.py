"""One camt.053 entry (``Ntry``) read as a movement, with what its file and statement give it.

``entry(file, element, where)``: one ``Ntry``'s movement, or None for a
pending entry skipped. ``File``, ``Statement`` and ``Where`` are what
``camt053``'s streaming document reads it with: the file's result, ids and
counts, the statement as far as read, the entry's place. Decisions
(tests/test_statement.py and tests/test_format_camt053.py hold them):

Status
    Status ``BOOK`` is imported; ``PDNG``/``INFO``/others are skipped (and
    counted) unless ``include_pending``; an entry with no status counts as
    booked.

Date
    ``BookgDt/Dt``, else ``BookgDt/DtTm``. A date-time with an offset or
    ``Z`` is an instant: the movement's day is its calendar day in the
    account's time zone (``timezone``, an IANA name, ``Europe/Prague`` by
    default; ``2014-01-04T23:00:00.000Z`` is 5 January in Prague); one
    without an offset is the bank's local time, its date taken as written;
    the same for ``ValDt/DtTm`` and the statement's dates. An entry without a
    booking date takes its value date (``ValDt/Dt`` or ``/DtTm``), then the
    end of its statement's period (``Stmt/FrToDt/ToDtTm``), then the
    statement's ``Stmt/CreDtTm``, with one warning per file counting the
    entries dated so; with none of these the entry is refused, naming it. The
    bank's texts stay in ``raw_data`` (``booking_date``, ``value_date``).

Direction and reversals
    ``CdtDbtInd`` CRDT is income, DBIT an expense; the amount stays positive.
    A reversal (``RvslInd`` true) is *not* flipped again: ISO 20022 defines
    ``CdtDbtInd`` of a reversal entry as the direction of the reversal itself
    ("If the CreditDebitIndicator is CRDT and ReversalIndicator is Yes, the
    original operation was a debit entry", and vice versa). So a reversal of a
    credit (money we had received goes back) arrives as DBIT + RvslInd and is
    an expense; a reversal of a debit (a payment of ours comes back) arrives as
    CRDT + RvslInd and is income. Flipping it would book every returned payment
    the wrong way round. The description starts with "Reversal", raw_data has
    ``reversal: "true"``, and the counterparty is taken from the original
    payment's other side (the creditor of a reversed debit, the debtor of a
    reversed credit).

Batch bookings
    One transaction per ``Ntry``: the entry amount is what was booked on the
    account (the ``TxDtls`` amounts of a batch are optional, and are not
    reliably consistent with the entry: the shared v3/v4/v8 fixtures carry
    105.750 EUR and 0 SEK under an 8.85 EUR entry). All its ``TxDtls`` are kept
    in ``raw_data["transactions"]``; the description says "Batch of N
    payments" and joins their texts; the counterparty names are joined with
    "; ". The variable symbol goes to ``reference`` only when the details agree
    on one (compared as integers); with several different ones the reference
    is empty (matching must not pay one invoice with a whole batch) and all of
    them are listed in ``raw_data["variable_symbols"]``.

External ids
    ``<account>:<AcctSvcrRef>``; else ``<account>:ntry:<NtryRef>``; else, for an
    entry with one ``TxDtls``, ``<account>:tx:<TxDtls/Refs/AcctSvcrRef>``; else
    ``<account>:sha256:<32 hex>`` of the entry's canonical text (every element's
    path, attributes and whitespace-normalised text, with local names so the
    namespace/version and the file's formatting do not matter, the status left
    out so a pending entry that gets booked keeps its id, and the account
    prefixed). ``<account>`` is the statement's ``Acct/Id/IBAN`` (or
    ``Acct/Id/Othr/Id``, or ``camt`` if none): bank references are unique per
    bank, not across the accounts and banks one person may import. An id seen
    again *within one file* gets ``#2``, ``#3``... (two identical card
    payments on one day are two payments); the same id in another file is the
    same movement (overlapping statements import once).

Variable symbol (``reference``)
    Looked for in ``Refs/EndToEndId``, then ``RmtInf/Strd/CdtrRefInf/Ref``,
    then the ``Ustrd`` texts, then ``AddtlNtryInf`` (the patterns are
    ``movement.find_vs``'s); a reference that is nothing but 1-10 digits
    (leading zeros aside) counts too, except in free text. References of more
    than 10 digits (e.g. the fixtures' 4654654654654654) are not variable
    symbols and stay in ``raw_data`` only.

Currency
    The amount's ``Ccy``. An entry is booked in its account's currency, so
    an amount with no ``Ccy`` is read in the account's ``Acct/Ccy`` (else the
    Account currency setting) as always; with neither, the first balance's
    ``Ccy`` stands in, with a warning. ISO's "no currency" code ``XXX`` is
    read the same way, always with a warning (one per file, naming the first
    entry and counting the others; ``raw_data["currency_written"]`` keeps
    ``XXX``). With no currency to stand in, the entry is refused naming the
    setting Account currency (account_currency).

Placeholders
    A counterparty's name or account, a remittance text (``Ustrd``,
    ``AddtlTxInf``, ``AddtlNtryInf``) or a reference that is wholly a bank's
    placeholder (``NOTPROVIDED``, ``N/A``, ``NONREF``, ``-``...:
    ``movement.meaningful``) is left out of the counterparty, the
    description and the variable symbol search; the names and texts left
    out are counted in one warning per file, and ``raw_data`` keeps them.

Amount rounding
    As ``movement.check_amount`` says (the five-decimals fixture carries
    ``8.850``, exact); the amount as written stays in ``raw_data["amount"]``.

Counterparty
    The debtor for income, the creditor for an expense (``Nm`` in .02, ``Pty/Nm``
    in .08); their account ``IBAN`` (or ``Othr/Id``). When that party is absent
    the counterparty is left empty rather than guessed from the other side
    (which is usually the account owner); both parties are in ``raw_data``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from sys import intern
from zoneinfo import ZoneInfo

from core.banking.formats.camt053_ids import entry_external_id
from core.banking.formats.movement import (
    COUNTERPARTY,
    DESCRIPTION,
    FileResult,
    Ids,
    Movement,
    StatementError,
    check_amount,
    check_day,
    currency_code,
    find_vs,
    fit_text,
    iso_day,
    local_day,
    meaningful,
    unique,
)
from core.banking.formats.xml_paths import XmlPaths
from core.values.messages import Message

XML_AMOUNT = re.compile(r"^[0-9]+(\.[0-9]+)?$")  # ASCII digits: \d would take other scripts' digits too
NO_CURRENCY = "XXX"  # ISO 4217: "no currency is involved"
ACCOUNT_CURRENCY_SETTING = Message("Account currency (account_currency)")
BALANCE_CURRENCY = Message("the currency of the statement's balance")
# What an entry's currency "is" when another stands in for it, and what its date is taken from (as refusals say).
IS_NO_CURRENCY = Message("is XXX (ISO's 'no currency')")
IS_NOT_GIVEN = Message("is not given (no Ccy)")
BOOKING_DATE = Message("booking date")
VALUE_DATE = Message("value date")
PERIOD_END = Message("statement's period end (FrToDt/ToDtTm)")
CREATION = Message("statement's CreDtTm")
DATE_TIME_FORM = Message("YYYY-MM-DDThh:mm:ss with an optional offset")
# Values that repeat from entry to entry (dates, codes, parties, accounts) are interned (sys.intern): the
# run keeps every movement until it commits, and one string per distinct value keeps that small.


# -- what an entry is read with ------------------------------------------------------------------


@dataclass
class File:
    """What every entry of one file is read with."""

    x: XmlPaths
    result: FileResult
    ids: Ids
    label: str
    include_pending: bool
    account_currency: str
    zone: ZoneInfo
    by_value_date: int = 0  # entries without a booking date, dated by their value date
    by_period: int = 0  # ... by their statement's period end (or creation)
    placeholders: int = 0  # placeholder texts left out (NOTPROVIDED...)
    stand_in_currency: list[tuple[str, str, str, str]] = field(default_factory=list)  # where, written, code, whose


@dataclass
class Statement:
    """The statement being read: its number in the file, its Id, dates and account, as far as seen."""

    number: int
    statement_id: str = ""
    account: str = ""
    currency: str = ""
    balance_currency: str = ""  # the first Bal's Ccy, when the account names none
    created: str = ""  # CreDtTm
    period_end: str = ""  # FrToDt/ToDtTm
    entries: int = 0
    has_account: bool = False  # its (first) Acct was read


# -- one entry -------------------------------------------------------------------------------------


@dataclass
class Where:
    """Where an entry is: the sentence prefix, its statement's account, id, currency (and whose) and dates."""

    text: str
    account: str
    statement_id: str
    currency: str  # for an entry whose amount names none (or XXX); "" when the statement and settings name none
    whose: str  # "the currency of the statement's account"... (a Message)
    statement: Statement


@dataclass
class _Basics:
    """An entry's status, amount, direction and dates, checked."""

    status: str
    written: str
    amount: Decimal
    currency: str
    currency_written: str  # the Ccy as written, when another currency stands in for it (XXX)
    indicator: str
    reversal: bool
    booking: str
    value_date: str
    day: date


@dataclass
class _Details:
    """What the entry's TxDtls say, together."""

    count: int
    transactions: list[dict]
    symbols: list[str]
    names: list[str]
    accounts: list[str]
    texts: list[str]
    placeholders: int = 0  # placeholder names and texts left out


def entry(file: File, entry, where: Where) -> Movement | None:
    x = file.x
    status = intern((x.text(entry, "Sts/Cd") or x.text(entry, "Sts/Prtry") or x.text(entry, "Sts")).upper())
    if status not in ("BOOK", "") and not file.include_pending:
        file.result.pending += 1
        return None
    basics = _basics(file, entry, where, status)
    if not check_amount(file.result, where.text, basics.amount, basics.currency, basics.written):
        return None
    details = _details(x, entry, basics)
    written_info = x.text(entry, "AddtlNtryInf")
    entry_info = meaningful(written_info)
    file.placeholders += details.placeholders + (1 if written_info and not entry_info else 0)
    symbols = _distinct_symbols(details.symbols, entry_info)
    description = _description(details, entry_info, basics.reversal)
    accounts = unique(details.accounts)
    return Movement(
        external_id=entry_external_id(file, entry, where),
        transaction_type="income" if basics.indicator == "CRDT" else "expense",
        amount=basics.amount,
        currency=basics.currency,
        transacted_on=basics.day,
        description=fit_text(file.result, where.text, DESCRIPTION, description),
        counterparty=fit_text(file.result, where.text, COUNTERPARTY, "; ".join(unique(details.names))),
        counterparty_account=(accounts[0] if len(accounts) == 1 else ""),
        reference=symbols[0] if len(symbols) == 1 else "",
        raw_data=_raw(file, entry, where, basics, details, symbols),
    )


def _basics(file: File, entry, where: Where, status: str) -> _Basics:
    x = file.x
    amount_el = x.find(entry, "Amt")
    written = (amount_el.text or "").strip() if amount_el is not None else ""
    if not written:
        raise StatementError(Message("{where} has no amount (Amt); nothing was imported.", where=where.text))
    if not XML_AMOUNT.match(written):
        raise StatementError(
            Message(
                "{where}: the amount {amount} is not a number such as 1234.50; nothing was imported.",
                where=where.text,
                amount=repr(written),
            )
        )
    currency_written = amount_el.get("Ccy", "").strip().upper()
    currency = intern(_currency(file, where, currency_written))
    indicator = intern(x.text(entry, "CdtDbtInd").upper())
    if not indicator:
        raise StatementError(
            Message(
                "{where}: the credit/debit indicator (CdtDbtInd) is missing, not CRDT or DBIT; nothing was imported.",
                where=where.text,
            )
        )
    if indicator not in ("CRDT", "DBIT"):
        raise StatementError(
            Message(
                "{where}: the credit/debit indicator (CdtDbtInd) is {indicator}, not CRDT or DBIT; "
                "nothing was imported.",
                where=where.text,
                indicator=indicator,
            )
        )
    reversal = x.text(entry, "RvslInd").lower() in ("true", "1")
    booking = intern(x.text(entry, "BookgDt/Dt") or x.text(entry, "BookgDt/DtTm"))
    value_date = intern(x.text(entry, "ValDt/Dt") or x.text(entry, "ValDt/DtTm"))
    day = _day(file, entry, where, booking, value_date)
    return _Basics(
        status,
        written,
        Decimal(written),
        currency,
        currency_written if currency_written != currency else "",
        indicator,
        reversal,
        booking,
        value_date,
        day,
    )


def _currency(file: File, where: Where, written: str) -> str:
    """The entry's currency: its Ccy; for none (or XXX) the account's, its balance's or the setting's."""
    if written and written != NO_CURRENCY:
        return currency_code(written, where.text, "", "")
    if not where.currency:
        raise StatementError(
            Message(
                "{where}: the amount's currency {what} and the statement names no account currency; set the "
                "setting {setting} to the account's currency. Nothing was imported.",
                where=where.text,
                what=IS_NO_CURRENCY if written else IS_NOT_GIVEN,
                setting=ACCOUNT_CURRENCY_SETTING,
            )
        )
    code = currency_code(where.currency, where.text, "", "")
    # An entry is booked in its account's currency (ISO 20022): a missing Ccy is read in the account's Ccy or
    # the setting silently, as always; XXX, or a currency inferred from a balance, is said.
    if written or where.whose == BALANCE_CURRENCY:
        file.stand_in_currency.append((where.text, written, code, where.whose))
    return code


def _day(file: File, entry, where: Where, booking: str, value_date: str) -> date:
    """The booking date; failing that the value date, then the statement's period end (or creation), counted.
    A date-time with an offset is the day in the account's time zone; one without is taken as written."""
    x = file.x
    if booking:
        text, what, is_time = booking, BOOKING_DATE, not x.text(entry, "BookgDt/Dt")
    elif value_date:
        file.by_value_date += 1
        text, what, is_time = value_date, VALUE_DATE, not x.text(entry, "ValDt/Dt")
    elif where.statement.period_end or where.statement.created:
        file.by_period += 1
        text = where.statement.period_end or where.statement.created
        what = PERIOD_END if where.statement.period_end else CREATION
        is_time = True
    else:
        raise StatementError(
            Message(
                "{where} has no booking date (BookgDt) nor value date (ValDt), and its statement names no "
                "period (FrToDt) nor creation time (CreDtTm) to date it by; nothing was imported.",
                where=where.text,
            )
        )
    day = local_day(text, file.zone) if is_time else iso_day(text)
    if day is None:
        raise StatementError(
            Message(
                "{where}: the {what} {date} is not a date ({form}); nothing was imported.",
                where=where.text,
                what=what,
                date=repr(text),
                form=DATE_TIME_FORM if is_time else "YYYY-MM-DD",
            )
        )
    check_day(day, where.text)
    return day


def _details(x: XmlPaths, entry, basics: _Basics) -> _Details:
    """Every TxDtls of the entry; the counterparty is the debtor of income, the creditor of an expense."""
    details = [tx for group in x.findall(entry, "NtryDtls") for tx in x.findall(group, "TxDtls")]
    role = "Dbtr" if (basics.indicator == "CRDT") != basics.reversal else "Cdtr"
    out = _Details(len(details), [], [], [], [], [])
    party = "debtor" if role == "Dbtr" else "creditor"
    for tx in details:
        record = _detail(x, tx)  # as written: a placeholder stays in raw_data
        if record.get("variable_symbol"):
            out.symbols.append(record["variable_symbol"])
        info = record.get("additional_info", "")
        shown = [record.get(party, ""), record.get(f"{party}_account", "")]
        shown += record.get("remittance", []) + ([info] if info else [])
        kept = [meaningful(text) for text in shown]
        out.placeholders += sum(1 for text, k in zip(shown, kept, strict=True) if text and not k)
        out.names.append(kept[0])
        out.accounts.append(kept[1])
        out.texts.extend(text for text in kept[2:] if text)
        out.transactions.append(record)
    return out


def _detail(x: XmlPaths, tx) -> dict:
    """One TxDtls as a record of non-empty strings (and lists of strings)."""
    debtor, debtor_account = _party(x, tx, "Dbtr")
    creditor, creditor_account = _party(x, tx, "Cdtr")
    end_to_end = x.text(tx, "Refs/EndToEndId")
    structured = x.texts(tx, "RmtInf/Strd/CdtrRefInf/Ref")
    unstructured = x.texts(tx, "RmtInf/Ustrd")
    vs = find_vs(meaningful(end_to_end), bare=True)
    for text in structured:
        vs = vs or find_vs(meaningful(text), bare=True)
    for text in unstructured:
        vs = vs or find_vs(meaningful(text), bare=False)
    record = {
        "end_to_end_id": end_to_end,
        "acct_svcr_ref": x.text(tx, "Refs/AcctSvcrRef"),
        "instr_id": x.text(tx, "Refs/InstrId"),
        "tx_id": x.text(tx, "Refs/TxId"),
        "amount": _amount_text(x, tx, "Amt") or _amount_text(x, tx, "AmtDtls/TxAmt/Amt"),
        "debtor": debtor,
        "debtor_account": debtor_account,
        "creditor": creditor,
        "creditor_account": creditor_account,
        "remittance": unstructured,
        "structured_refs": structured,
        "additional_info": x.text(tx, "AddtlTxInf"),
        "variable_symbol": vs,
    }
    return {k: v for k, v in record.items() if v not in ("", [])}


def _party(x: XmlPaths, tx, role: str) -> tuple[str, str]:
    name = x.text(tx, f"RltdPties/{role}/Nm") or x.text(tx, f"RltdPties/{role}/Pty/Nm")
    account = x.text(tx, f"RltdPties/{role}Acct/Id/IBAN") or x.text(tx, f"RltdPties/{role}Acct/Id/Othr/Id")
    return intern(name), intern(account)


def _amount_text(x: XmlPaths, element, path: str) -> str:
    node = x.find(element, path)
    if node is None or not (node.text or "").strip():
        return ""
    currency = node.get("Ccy", "")
    return f"{node.text.strip()} {currency}".strip()


def _distinct_symbols(symbols: list[str], entry_info: str) -> list[str]:
    """The details' variable symbols (else one in AddtlNtryInf), each once compared as integers."""
    if not symbols and entry_info:
        found = find_vs(entry_info, bare=False)
        if found:
            symbols = [found]
    distinct: list[str] = []
    for vs in symbols:  # "02026001" and "2026001" are the same symbol
        if int(vs) not in {int(d) for d in distinct}:
            distinct.append(vs)
    return distinct


def _description(details: _Details, entry_info: str, reversal: bool) -> str:
    parts = unique(details.texts + [entry_info])
    if details.count > 1:
        parts.insert(0, f"Batch of {details.count} payments")
    description = " | ".join(parts)
    if reversal:
        description = f"Reversal: {description}" if description else "Reversal"
    return description


def _raw(file: File, entry, where: Where, basics: _Basics, details: _Details, symbols: list[str]) -> dict:
    """The entry as the bank wrote it, for ``raw_data``: strings and lists, empty values left out."""
    x = file.x
    code = x.find(entry, "BkTxCd")
    bank_code = "/".join(
        t for t in (x.text(code, "Domn/Cd"), x.text(code, "Domn/Fmly/Cd"), x.text(code, "Domn/Fmly/SubFmlyCd")) if t
    ) or x.text(code, "Prtry/Cd")
    raw: dict = {
        "format": file.label,
        "statement_id": where.statement_id,
        "account": where.account,
        "amount": basics.written,
        "currency": basics.currency,
        "currency_written": basics.currency_written,
        "credit_debit": basics.indicator,
        "reversal": "true" if basics.reversal else "false",
        "status": basics.status,
        "booking_date": basics.booking,
        "value_date": basics.value_date,
        "entry_ref": x.text(entry, "NtryRef"),
        "acct_svcr_ref": x.text(entry, "AcctSvcrRef"),
        "bank_transaction_code": intern(bank_code),
        "additional_info": x.text(entry, "AddtlNtryInf"),
        "transactions": details.transactions,
    }
    raw = {k: v for k, v in raw.items() if v not in ("", [])}
    if len(symbols) > 1:
        raw["variable_symbols"] = symbols
    return raw
