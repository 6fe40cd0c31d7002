"""Bank statements from files: ISO 20022 camt.053 (XML), Fio's CSV export, or any CSV with a column mapping.

The ``path`` setting is one file, or a folder: then every ``*.xml`` and
``*.csv`` file directly in it (not in sub-folders; hidden and ``~`` files
ignored) is a statement, and a re-sync reads only the files that are new or
changed since the last successful run (their size, modification time and
SHA-256 are kept in the plugin's state; a file that was only touched is
hashed, recognised and not parsed again). A single file is read on every
sync. Either way, importing the same movements again creates nothing: each
one has a stable external id, so it is found and left alone (or updated if
the bank changed it). One bad file fails the whole run and nothing is saved;
the message names the file (and the row or entry).

The format is detected from the content (``format = auto``): XML whose root is
``Document`` in a ``camt.053.001.NN`` namespace is a statement; a CSV with
Fio's header (``ID pohybu`` or ``ID operace``, ``Datum``, ``Objem``) is a Fio
export; any other CSV needs ``csv_mapping``.

Decisions (the tests in tests/test_statement.py hold them):

camt.053
    Versions .02 to .08 are read by element names, the namespace taken from
    the root element (other ``camt.053.001.NN`` versions are read the same way,
    with a warning). The XML is parsed with defusedxml, DTDs forbidden: a
    statement never has one, so a file with a DTD or entities is refused.
    A file with no ``Stmt`` is refused (nothing to import). Status ``BOOK`` is
    imported; ``PDNG``/``INFO``/others are skipped (and counted) unless
    ``include_pending``; an entry with no status counts as booked.
    Date: ``BookgDt/Dt``, or the date part of ``BookgDt/DtTm`` as written (no
    time-zone conversion); failing that the value date.

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
    Fio CSV: ``fio:<ID pohybu>`` (Fio's movement ids are unique across Fio).
    Generic CSV: ``csv:<id column>``, or ``csv:sha256:<32 hex>`` of the row's
    date, amount, currency, counterparty, account, VS and message.

Variable symbol (``reference``)
    Looked for in ``Refs/EndToEndId``, then ``RmtInf/Strd/CdtrRefInf/Ref``,
    then the ``Ustrd`` texts, then ``AddtlNtryInf``: ``VS 2026001``,
    ``VS:2026001``, ``/VS/2026001``, ``VS2026001``, "variabilní symbol 2026001";
    a reference that is nothing but 1-10 digits (leading zeros aside) counts
    too, except in free text. Kept as the bank wrote it (matching compares as
    integers). References of more than 10 digits (e.g. the fixtures'
    4654654654654654) are not variable symbols and stay in ``raw_data`` only.

Amount rounding
    Money is stored in the currency's minor units. An amount with more
    decimals than the currency has (the five-decimals fixture's name promises
    five; the file actually carries ``8.850``, which is exact) is rounded half
    up to the minor unit by ``core.values.money.to_minor`` (``8.85499`` EUR -> 8.85,
    ``8.85500`` -> 8.86), a warning is logged, and the amount exactly as the
    bank wrote it stays in ``raw_data["amount"]``. An entry that rounds to zero
    (or is zero) is skipped with a warning: there is no zero transaction.

Fio CSV export
    Semicolon-separated, Czech headers, ``dd.mm.yyyy`` dates, decimal comma
    with spaces between thousands (``-1 290,00``). The account lines before
    the header (``accountId``, ``iban``, ``currency``...) are skipped, their
    IBAN kept in ``raw_data["account"]`` and their currency used when a row's
    ``Měna`` is empty. Signed ``Objem`` -> income/expense with a positive
    amount; ``VS`` -> reference (else a "VS ..." in the message); counterparty
    ``Název protiúčtu``, account ``Protiúčet/Kód banky`` (an IBAN as it is);
    description = message, note and comment without repeats (else ``Typ``,
    e.g. "Připsaný úrok"); ``raw_data`` = every non-empty column by its
    header name.

Generic CSV and encodings
    ``csv_mapping`` (see its help) names the columns; the header is searched
    for (preamble lines skipped) with the given or a guessed delimiter. A CSV
    is decoded as UTF-8 (BOM or not), UTF-16 with a BOM, or Windows-1250 (the
    older Czech export encoding); anything else is refused.

Counterparty
    The debtor for income, the creditor for an expense (``Nm`` in .02, ``Pty/Nm``
    in .08); their account ``IBAN`` (or ``Othr/Id``). When that party is absent
    the counterparty is left empty rather than guessed from the other side
    (which is usually the account owner); both parties are in ``raw_data``.
"""

from __future__ import annotations

import codecs
import csv
import hashlib
import io
import re
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from pathlib import Path

from defusedxml import DefusedXmlException, ElementTree

from core.plugins.base import Bool, Choice, PathField, Plugin, SyncError, Text
from core.values.money import MoneyError, from_minor, parse_amount, to_minor

FORMATS = ("auto", "camt053", "fio-csv", "csv")
FORMAT_LABELS = {"fio-csv": "Fio CSV export", "csv": "CSV"}
STATEMENT_SUFFIXES = (".xml", ".csv")
TESTED_CAMT_VERSIONS = {f"{n:02d}" for n in range(2, 9)}
CAMT_NAMESPACE = re.compile(r"^urn:iso:std:iso:20022:tech:xsd:camt\.(\d{3})\.001\.(\d{2})$")
CAMT_KINDS = {"052": "an account report", "054": "a debit/credit notification"}
XML_AMOUNT = re.compile(r"^\d+(\.\d+)?$")
CURRENCY = re.compile(r"^[A-Z]{3}$")

# "VS 2026001", "VS:2026001", "/VS/2026001", "VS2026001", "variabilní symbol 2026001".
VS_PATTERNS = (
    re.compile(r"(?<![A-Za-z0-9])VS\s*[:=/#.\-]?\s*(\d{1,10})(?!\d)", re.IGNORECASE),
    re.compile(r"variabiln[ií]\s+symbol\s*[:=]?\s*(\d{1,10})(?!\d)", re.IGNORECASE),
)
BARE_VS = re.compile(r"^\s*(\d{1,10}|0+\d{1,10})\s*$")

MAPPING_COLUMNS = ("date", "amount", "credit", "debit", "currency", "vs", "counterparty", "account", "message", "id")
MAPPING_OPTIONS = ("date_format", "decimal", "delimiter")
MAPPING_SPLIT = re.compile(r"[,;\n]\s*(?=[A-Za-z_]+\s*=)")  # before each "key=": "decimal=," stays whole
CSV_DATE_FORMATS = ("%Y-%m-%d", "%d.%m.%Y", "%d. %m. %Y", "%d.%m.%y", "%d/%m/%Y", "%Y/%m/%d", "%Y%m%d")

# Fio's CSV columns (the API's transactions.csv says "ID pohybu", the internet banking export "ID operace").
FIO_COLUMNS = {
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
class Movement:
    external_id: str
    transaction_type: str
    amount: Decimal
    currency: str
    transacted_on: date
    description: str = ""
    counterparty: str = ""
    counterparty_account: str = ""
    reference: str = ""
    raw_data: dict = field(default_factory=dict)


@dataclass
class FileResult:
    name: str
    label: str  # "camt.053.001.02", "Fio CSV export", "CSV"
    movements: list[Movement] = field(default_factory=list)
    pending: int = 0  # camt entries skipped because they are not booked
    ignored: int = 0  # zero amounts
    warnings: list[str] = field(default_factory=list)
    accounts: list[str] = field(default_factory=list)


# -- shared helpers ----------------------------------------------------------------------------


def find_vs(text: str, *, bare: bool) -> str:
    """A variable symbol in ``text``: a "VS ..." pattern, or (``bare``) the whole text being digits."""
    text = text or ""
    if bare:
        match = BARE_VS.match(text)
        if match:
            return _short_digits(match.group(1))
    for pattern in VS_PATTERNS:
        match = pattern.search(text)
        if match:
            return match.group(1)
    return ""


def _short_digits(digits: str) -> str:
    """Digits as written, or without leading zeros when they make it longer than 10 digits."""
    return digits if len(digits) <= 10 else (digits.lstrip("0") or "0")


def _unique(values) -> list[str]:
    seen, out = set(), []
    for value in values:
        value = (value or "").strip()
        if value and value.casefold() not in seen:
            seen.add(value.casefold())
            out.append(value)
    return out


def _hash(*parts: str) -> str:
    return hashlib.sha256("\x1f".join(parts).encode("utf-8")).hexdigest()[:32]


class _Ids:
    """Makes ids unique within one file: the second occurrence of ``x`` is ``x#2``."""

    def __init__(self):
        self.seen: dict[str, int] = {}

    def __call__(self, base: str) -> tuple[str, bool]:
        count = self.seen.get(base, 0) + 1
        self.seen[base] = count
        return (base if count == 1 else f"{base}#{count}"), count > 1


def _check_amount(result: FileResult, where: str, amount: Decimal, currency: str, written: str) -> bool:
    """False (and a warning) for an amount that is or rounds to zero; a warning when it is rounded."""
    try:
        minor = to_minor(amount, currency)
    except MoneyError:
        raise SyncError(f"{where}: {written!r} is not an amount; nothing was imported.") from None
    if minor == 0:
        result.ignored += 1
        result.warnings.append(
            f"{where}: the amount {written} {currency} is zero (in {currency}'s minor unit); skipped."
        )
        return False
    stored = from_minor(minor, currency)
    if stored != amount:
        result.warnings.append(
            f"{where}: the amount {written} {currency} has more decimals than {currency} uses; "
            f"stored as {stored} (rounded half up)."
        )
    return True


def _currency(value: str, where: str, fallback: str, hint: str) -> str:
    code = (value or "").strip().upper() or fallback
    if not code:
        raise SyncError(f"{where}: no currency is given ({hint}); nothing was imported.")
    if not CURRENCY.match(code):
        raise SyncError(
            f"{where}: {code!r} is not a currency code (three letters such as CZK or EUR); nothing was imported."
        )
    return code


# -- camt.053 ------------------------------------------------------------------------------------


def _local(tag) -> str:
    return tag.rsplit("}", 1)[-1] if isinstance(tag, str) else ""


class _Xml:
    """Finds elements by local-name paths ("Acct/Id/IBAN") in one namespace."""

    def __init__(self, namespace: str):
        self.prefix = f"{{{namespace}}}" if namespace else ""

    def _path(self, path: str) -> str:
        return "/".join(self.prefix + part for part in path.split("/"))

    def find(self, element, path: str):
        return None if element is None else element.find(self._path(path))

    def findall(self, element, path: str) -> list:
        return [] if element is None else element.findall(self._path(path))

    def text(self, element, path: str) -> str:
        node = self.find(element, path)
        return " ".join((node.text or "").split()) if node is not None else ""

    def texts(self, element, path: str) -> list[str]:
        return [t for t in (" ".join((n.text or "").split()) for n in self.findall(element, path)) if t]


def _canonical_lines(entry) -> list[str]:
    lines: list[str] = []

    def walk(element, path: str) -> None:
        for child in element:
            name = _local(child.tag)
            if not name or (not path and name == "Sts"):
                continue
            here = f"{path}/{name}"
            attrs = "".join(f"[{k}={v}]" for k, v in sorted(child.attrib.items()))
            lines.append(f"{here}{attrs}={' '.join((child.text or '').split())}")
            walk(child, here)

    walk(entry, "")
    return lines


def parse_camt053(data: bytes, name: str, *, include_pending: bool = False, account_currency: str = "") -> FileResult:
    try:
        root = ElementTree.fromstring(data, forbid_dtd=True)
    except DefusedXmlException:
        raise SyncError(
            f"{name} contains a DTD or entity declarations, which a bank statement never has; "
            "it was refused for safety and nothing was imported."
        ) from None
    except ElementTree.ParseError as exc:
        raise SyncError(f"{name} is not well-formed XML ({exc}); nothing was imported.") from None
    namespace = root.tag[1:].split("}", 1)[0] if root.tag.startswith("{") else ""
    if _local(root.tag) != "Document":
        raise SyncError(
            f"{name} is XML but not an ISO 20022 camt.053 statement (its root element is "
            f"<{_local(root.tag)}>, not <Document>); nothing was imported."
        )
    match = CAMT_NAMESPACE.match(namespace)
    if namespace and not match:
        raise SyncError(
            f"{name} is XML in the namespace {namespace}, not an ISO 20022 camt.053 statement; nothing was imported."
        )
    if match and match.group(1) != "053":
        kind = CAMT_KINDS.get(match.group(1), "another ISO 20022 message")
        raise SyncError(
            f"{name} is a camt.{match.group(1)} file ({kind}), not a camt.053 bank statement; "
            "export the statement (camt.053) instead. Nothing was imported."
        )
    label = f"camt.053.001.{match.group(2)}" if match else "camt.053 (no namespace)"
    result = FileResult(name, label)
    if match and match.group(2) not in TESTED_CAMT_VERSIONS:
        result.warnings.append(
            f"{name}: {label} is not one of the versions this plugin was tested with (.02 to .08); read like them."
        )
    x = _Xml(namespace)
    body = x.find(root, "BkToCstmrStmt")
    if body is None:
        raise SyncError(
            f"{name} is not a camt.053 bank statement: it has no BkToCstmrStmt element; nothing was imported."
        )
    statements = x.findall(body, "Stmt")
    if not statements:
        raise SyncError(
            f"{name} holds no statement (no Stmt element), so there is nothing to import; "
            "nothing was imported. Export the statement from the bank again."
        )
    ids = _Ids()
    for number, stmt in enumerate(statements, start=1):
        account_el = x.find(stmt, "Acct")
        account = x.text(account_el, "Id/IBAN") or x.text(account_el, "Id/Othr/Id")
        if account and account not in result.accounts:
            result.accounts.append(account)
        statement_ccy = x.text(account_el, "Ccy").upper()
        statement_id = x.text(stmt, "Id")
        for index, entry in enumerate(x.findall(stmt, "Ntry"), start=1):
            where = f"{name}, statement {statement_id or number}, entry {index}"
            movement = _camt_entry(
                x,
                entry,
                where,
                account,
                statement_id,
                statement_ccy or account_currency,
                include_pending,
                result,
                ids,
                label,
            )
            if movement is not None:
                result.movements.append(movement)
    return result


def _camt_party(x: _Xml, tx, role: str) -> tuple[str, str]:
    name = x.text(tx, f"RltdPties/{role}/Nm") or x.text(tx, f"RltdPties/{role}/Pty/Nm")
    account = x.text(tx, f"RltdPties/{role}Acct/Id/IBAN") or x.text(tx, f"RltdPties/{role}Acct/Id/Othr/Id")
    return name, account


def _camt_amount_text(x: _Xml, element, path: str) -> str:
    node = x.find(element, path)
    if node is None or not (node.text or "").strip():
        return ""
    currency = node.get("Ccy", "")
    return f"{node.text.strip()} {currency}".strip()


def _camt_entry(
    x: _Xml,
    entry,
    where: str,
    account: str,
    statement_id: str,
    fallback_ccy: str,
    include_pending: bool,
    result: FileResult,
    ids: _Ids,
    label: str,
) -> Movement | None:
    status = (x.text(entry, "Sts/Cd") or x.text(entry, "Sts/Prtry") or x.text(entry, "Sts")).upper()
    if status not in ("BOOK", "") and not include_pending:
        result.pending += 1
        return None
    amount_el = x.find(entry, "Amt")
    written = (amount_el.text or "").strip() if amount_el is not None else ""
    if not written:
        raise SyncError(f"{where} has no amount (Amt); nothing was imported.")
    if not XML_AMOUNT.match(written):
        raise SyncError(f"{where}: the amount {written!r} is not a number such as 1234.50; nothing was imported.")
    amount = Decimal(written)
    currency = _currency(
        amount_el.get("Ccy", ""),
        where,
        fallback_ccy,
        "no Ccy on the amount nor on the account; set the account currency setting",
    )
    indicator = x.text(entry, "CdtDbtInd").upper()
    if indicator not in ("CRDT", "DBIT"):
        raise SyncError(
            f"{where}: the credit/debit indicator (CdtDbtInd) is {indicator or 'missing'!s}, "
            "not CRDT or DBIT; nothing was imported."
        )
    reversal = x.text(entry, "RvslInd").lower() in ("true", "1")
    booking = x.text(entry, "BookgDt/Dt") or x.text(entry, "BookgDt/DtTm")
    value_date = x.text(entry, "ValDt/Dt") or x.text(entry, "ValDt/DtTm")
    day_text = booking or value_date
    if not day_text:
        raise SyncError(f"{where} has no booking date (BookgDt) nor value date (ValDt); nothing was imported.")
    try:
        day = date.fromisoformat(day_text[:10])
    except ValueError:
        raise SyncError(
            f"{where}: the booking date {day_text!r} is not a date (YYYY-MM-DD); nothing was imported."
        ) from None
    if not _check_amount(result, where, amount, currency, written):
        return None

    details = [tx for group in x.findall(entry, "NtryDtls") for tx in x.findall(group, "TxDtls")]
    role = "Dbtr" if (indicator == "CRDT") != reversal else "Cdtr"
    transactions, symbols, names, accounts, texts = [], [], [], [], []
    for tx in details:
        debtor, debtor_account = _camt_party(x, tx, "Dbtr")
        creditor, creditor_account = _camt_party(x, tx, "Cdtr")
        end_to_end = x.text(tx, "Refs/EndToEndId")
        structured = x.texts(tx, "RmtInf/Strd/CdtrRefInf/Ref")
        unstructured = x.texts(tx, "RmtInf/Ustrd")
        info = x.text(tx, "AddtlTxInf")
        vs = ""
        if end_to_end.upper() != "NOTPROVIDED":
            vs = find_vs(end_to_end, bare=True)
        for text in structured:
            vs = vs or find_vs(text, bare=True)
        for text in unstructured:
            vs = vs or find_vs(text, bare=False)
        if vs:
            symbols.append(vs)
        party, party_account = (debtor, debtor_account) if role == "Dbtr" else (creditor, creditor_account)
        names.append(party)
        accounts.append(party_account)
        texts.extend(unstructured + ([info] if info else []))
        record = {
            "end_to_end_id": end_to_end,
            "acct_svcr_ref": x.text(tx, "Refs/AcctSvcrRef"),
            "instr_id": x.text(tx, "Refs/InstrId"),
            "tx_id": x.text(tx, "Refs/TxId"),
            "amount": _camt_amount_text(x, tx, "Amt") or _camt_amount_text(x, tx, "AmtDtls/TxAmt/Amt"),
            "debtor": debtor,
            "debtor_account": debtor_account,
            "creditor": creditor,
            "creditor_account": creditor_account,
            "remittance": unstructured,
            "structured_refs": structured,
            "additional_info": info,
            "variable_symbol": vs,
        }
        transactions.append({k: v for k, v in record.items() if v not in ("", [])})
    entry_info = x.text(entry, "AddtlNtryInf")
    if not symbols and entry_info:
        found = find_vs(entry_info, bare=False)
        if found:
            symbols.append(found)
    distinct: list[str] = []
    for vs in symbols:  # "02026001" and "2026001" are the same symbol
        if int(vs) not in {int(d) for d in distinct}:
            distinct.append(vs)
    reference = distinct[0] if len(distinct) == 1 else ""

    parts = _unique(texts + [entry_info])
    if len(details) > 1:
        parts.insert(0, f"Batch of {len(details)} payments")
    description = " | ".join(parts)
    if reversal:
        description = f"Reversal: {description}" if description else "Reversal"

    servicer_ref = x.text(entry, "AcctSvcrRef")
    entry_ref = x.text(entry, "NtryRef")
    tx_ref = x.text(details[0], "Refs/AcctSvcrRef") if len(details) == 1 else ""
    prefix = account or "camt"
    if servicer_ref:
        base = f"{prefix}:{servicer_ref}"
    elif entry_ref:
        base = f"{prefix}:ntry:{entry_ref}"
    elif tx_ref:
        base = f"{prefix}:tx:{tx_ref}"
    else:
        base = f"{prefix}:sha256:{_hash(prefix, *_canonical_lines(entry))}"
    external_id, repeated = ids(base)
    if repeated:
        result.warnings.append(
            f"{where}: the reference {base} appears more than once in this file; imported again as {external_id}."
        )

    code = x.find(entry, "BkTxCd")
    bank_code = "/".join(
        t for t in (x.text(code, "Domn/Cd"), x.text(code, "Domn/Fmly/Cd"), x.text(code, "Domn/Fmly/SubFmlyCd")) if t
    ) or x.text(code, "Prtry/Cd")
    raw = {
        "format": label,
        "statement_id": statement_id,
        "account": account,
        "amount": written,
        "currency": currency,
        "credit_debit": indicator,
        "reversal": "true" if reversal else "false",
        "status": status,
        "booking_date": booking,
        "value_date": value_date,
        "entry_ref": entry_ref,
        "acct_svcr_ref": servicer_ref,
        "bank_transaction_code": bank_code,
        "additional_info": entry_info,
        "transactions": transactions,
    }
    raw = {k: v for k, v in raw.items() if v not in ("", [])}
    if len(distinct) > 1:
        raw["variable_symbols"] = distinct
    return Movement(
        external_id=external_id,
        transaction_type="income" if indicator == "CRDT" else "expense",
        amount=amount,
        currency=currency,
        transacted_on=day,
        description=description,
        counterparty="; ".join(_unique(names)),
        counterparty_account=(_unique(accounts)[0] if len(_unique(accounts)) == 1 else ""),
        reference=reference,
        raw_data=raw,
    )


# -- CSV: reading ----------------------------------------------------------------------------------


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
    raise SyncError(
        f"{name} is not in a text encoding this plugin reads (UTF-8, UTF-16 or Windows-1250); "
        "export it again as UTF-8. Nothing was imported."
    )


def _csv_rows(text: str, name: str, delimiter: str) -> list[tuple[int, list[str]]]:
    """``(line number, cells)`` for every row; the line number is where the row starts in the file."""
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    rows, line = [], 1
    try:
        for cells in reader:
            rows.append((line, cells))
            line = reader.line_num + 1
    except csv.Error as exc:
        raise SyncError(
            f"{name}, row {reader.line_num}: the file is not a readable CSV file ({exc}); nothing was imported."
        ) from None
    return rows


def _blank(cells: list[str]) -> bool:
    return not any(cell.strip() for cell in cells)


def _decimal(text: str, decimal_mark: str = "") -> Decimal:
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
    if not re.match(r"^[+-]?\d+(\.\d+)?$", raw):
        raise ValueError(text)
    try:
        return Decimal(raw)
    except InvalidOperation:
        raise ValueError(text) from None


def _csv_date(text: str, date_format: str = "") -> date:
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


def _direction(amount: Decimal) -> str:
    return "income" if amount > 0 else "expense"


# -- Fio CSV ----------------------------------------------------------------------------------------


def _fio_header(rows) -> int | None:
    for position, (_, cells) in enumerate(rows):
        names = {cell.strip() for cell in cells}
        if "Datum" in names and "Objem" in names and names & set(FIO_COLUMNS["id"]):
            return position
    return None


def parse_fio_csv(text: str, name: str, *, account_currency: str = "") -> FileResult:
    rows = _csv_rows(text, name, ";")
    header_at = _fio_header(rows)
    if header_at is None:
        raise SyncError(
            f"{name} is not a Fio CSV export: no header line with 'ID pohybu' (or 'ID operace'), "
            "'Datum' and 'Objem' was found; nothing was imported."
        )
    preamble = {cells[0].strip(): cells[1].strip() for _, cells in rows[:header_at] if len(cells) >= 2}
    header = [cell.strip() for cell in rows[header_at][1]]
    where_is: dict[str, int] = {}
    for key, names in FIO_COLUMNS.items():
        for column in names:
            if column in header:
                where_is[key] = header.index(column)
                break
    account = preamble.get("iban") or preamble.get("IBAN") or preamble.get("accountId", "")
    currency_fallback = (preamble.get("currency") or preamble.get("Měna") or account_currency).upper()
    result = FileResult(name, FORMAT_LABELS["fio-csv"], accounts=[account] if account else [])
    ids = _Ids()
    for line, cells in rows[header_at + 1 :]:
        if _blank(cells):
            continue
        where = f"{name}, row {line}"

        def cell(key: str) -> str:
            position = where_is.get(key)
            return cells[position].strip() if position is not None and position < len(cells) else ""

        movement_id = cell("id")
        if not movement_id:
            raise SyncError(f"{where}: the movement has no ID pohybu; nothing was imported.")
        try:
            amount = _decimal(cell("amount"), ",")
        except ValueError:
            raise SyncError(
                f"{where}: the amount {cell('amount')!r} (column Objem) is not a number; nothing was imported."
            ) from None
        try:
            day = _csv_date(cell("date"), "%d.%m.%Y") if "." in cell("date") else _csv_date(cell("date"))
        except ValueError:
            raise SyncError(
                f"{where}: the date {cell('date')!r} (column Datum) is not a date like 31.12.2026; "
                "nothing was imported."
            ) from None
        currency = _currency(
            cell("currency"), where, currency_fallback, "the Měna column is empty; set the account currency setting"
        )
        if not _check_amount(result, where, abs(amount), currency, cell("amount")):
            continue
        counter_account, bank_code = cell("account"), cell("bank_code")
        if counter_account and bank_code and "/" not in counter_account and not counter_account[:2].isalpha():
            counter_account = f"{counter_account}/{bank_code}"
        vs = cell("vs")
        reference = find_vs(vs, bare=True) if vs else ""
        if not reference:
            reference = find_vs(cell("message"), bare=False) or find_vs(cell("comment"), bare=False)
        external_id, repeated = ids(f"fio:{movement_id}")
        if repeated:
            result.warnings.append(
                f"{where}: the movement {movement_id} appears more than once in this file; "
                f"imported again as {external_id}."
            )
        raw = {
            column: cells[i].strip()
            for i, column in enumerate(header)
            if column and i < len(cells) and cells[i].strip()
        }
        if account:
            raw["account"] = account
        result.movements.append(
            Movement(
                external_id=external_id,
                transaction_type=_direction(amount),
                amount=abs(amount),
                currency=currency,
                transacted_on=day,
                description=" | ".join(_unique([cell("message"), cell("note"), cell("comment")])) or cell("type"),
                counterparty=cell("account_name"),
                counterparty_account=counter_account,
                reference=reference,
                raw_data=raw,
            )
        )
    return result


# -- generic CSV --------------------------------------------------------------------------------------


@dataclass
class CsvMapping:
    columns: dict[str, list[str]]  # key -> column names (message may have several)
    date_format: str = ""
    decimal: str = ""
    delimiter: str = ""


def parse_mapping(text: str) -> CsvMapping:
    """``date=Date,amount=Amount,decimal=,,delimiter=;`` -> CsvMapping; raises SyncError with a sentence."""
    columns: dict[str, list[str]] = {}
    options: dict[str, str] = {}
    for item in MAPPING_SPLIT.split(text.strip()):
        item = item.strip()
        if not item:
            continue
        key, sep, value = item.partition("=")
        key = key.strip().lower()
        if not sep:
            raise SyncError(
                f"The column mapping item {item!r} is not key=Column; see the help of the CSV column mapping setting."
            )
        if key in MAPPING_OPTIONS:
            options[key] = value.strip() or value
        elif key in MAPPING_COLUMNS:
            names = [part.strip() for part in value.split("+")] if key == "message" else [value.strip()]
            if not all(names):
                raise SyncError(f"The column mapping gives no column name for {key!r}.")
            columns[key] = names
        else:
            raise SyncError(
                f"The column mapping has an unknown key {key!r}; use {', '.join(MAPPING_COLUMNS + MAPPING_OPTIONS)}."
            )
    if "date" not in columns:
        raise SyncError("The column mapping names no date column (e.g. date=Date).")
    if "amount" not in columns and not ({"credit", "debit"} & set(columns)):
        raise SyncError(
            "The column mapping names no amount column (e.g. amount=Amount, or credit=... and "
            "debit=... for two unsigned columns)."
        )
    if "amount" in columns and {"credit", "debit"} & set(columns):
        raise SyncError(
            "The column mapping names both an amount column and credit/debit columns; use one or the other."
        )
    decimal_mark = options.get("decimal", "")
    if decimal_mark not in ("", ",", "."):
        raise SyncError(f"The column mapping's decimal must be , or . (not {decimal_mark!r}).")
    delimiter = options.get("delimiter", "")
    if delimiter.lower() in ("tab", "\\t"):
        delimiter = "\t"
    if len(delimiter) > 1:
        raise SyncError(f"The column mapping's delimiter must be one character (or tab), not {delimiter!r}.")
    return CsvMapping(columns, options.get("date_format", ""), decimal_mark, delimiter)


def parse_generic_csv(text: str, name: str, mapping: CsvMapping, *, account_currency: str = "") -> FileResult:
    wanted = [column for names in mapping.columns.values() for column in names]
    found = None
    for delimiter in [mapping.delimiter] if mapping.delimiter else [";", ",", "\t", "|"]:
        rows = _csv_rows(text, name, delimiter)
        for position, (_, cells) in enumerate(rows):
            header = [cell.strip().casefold() for cell in cells]
            if all(column.casefold() in header for column in wanted):
                found = (rows, position, header)
                break
        if found:
            break
    if found is None:
        raise SyncError(
            f"{name}: no header line with the mapped columns ({', '.join(wanted)}) was found; check "
            "the CSV column mapping (names must match the header) and the delimiter. "
            "Nothing was imported."
        )
    rows, header_at, header = found
    original_header = [cell.strip() for cell in rows[header_at][1]]
    position_of = {column: header.index(column.casefold()) for column in wanted}
    result = FileResult(name, FORMAT_LABELS["csv"])
    ids = _Ids()
    for line, cells in rows[header_at + 1 :]:
        if _blank(cells):
            continue
        where = f"{name}, row {line}"

        def cell(key: str) -> str:
            values = []
            for column in mapping.columns.get(key, []):
                position = position_of[column]
                values.append(cells[position].strip() if position < len(cells) else "")
            return " | ".join(_unique(values)) if key == "message" else (values[0] if values else "")

        date_text = cell("date")
        try:
            day = _csv_date(date_text, mapping.date_format)
        except ValueError:
            expected = f" (expected {mapping.date_format})" if mapping.date_format else ""
            raise SyncError(f"{where}: the date {date_text!r} is not a date{expected}; nothing was imported.") from None
        if "amount" in mapping.columns:
            amount_text = cell("amount")
            try:
                amount = _decimal(amount_text, mapping.decimal)
            except ValueError:
                raise SyncError(f"{where}: the amount {amount_text!r} is not a number; nothing was imported.") from None
        else:
            credit_text, debit_text = cell("credit"), cell("debit")
            try:
                credit = abs(_decimal(credit_text, mapping.decimal)) if credit_text else Decimal(0)
                debit = abs(_decimal(debit_text, mapping.decimal)) if debit_text else Decimal(0)
            except ValueError:
                raise SyncError(
                    f"{where}: the amount {credit_text or debit_text!r} is not a number; nothing was imported."
                ) from None
            amount = credit - debit
            amount_text = credit_text or f"-{debit_text}"
        currency = _currency(
            cell("currency"), where, account_currency, "map a currency column or set the account currency setting"
        )
        if not _check_amount(result, where, abs(amount), currency, amount_text):
            continue
        message = cell("message")
        reference = find_vs(cell("vs"), bare=True) if cell("vs") else ""
        reference = reference or find_vs(message, bare=False)
        if cell("id"):
            base = f"csv:{cell('id')}"
        else:
            base = "csv:sha256:" + _hash(
                date_text, amount_text, currency, cell("counterparty"), cell("account"), cell("vs"), message
            )
        external_id, repeated = ids(base)
        if repeated and cell("id"):
            result.warnings.append(
                f"{where}: the id {cell('id')} appears more than once in this file; imported again as {external_id}."
            )
        raw = {
            column: cells[i].strip()
            for i, column in enumerate(original_header)
            if column and i < len(cells) and cells[i].strip()
        }
        result.movements.append(
            Movement(
                external_id=external_id,
                transaction_type=_direction(amount),
                amount=abs(amount),
                currency=currency,
                transacted_on=day,
                description=message,
                counterparty=cell("counterparty"),
                counterparty_account=cell("account"),
                reference=reference,
                raw_data=raw,
            )
        )
    return result


# -- one file, any format -------------------------------------------------------------------------


def _looks_like_xml(data: bytes) -> bool:
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return data.decode("utf-16", errors="ignore").lstrip().startswith("<")
    return data.lstrip(b"\xef\xbb\xbf \t\r\n").startswith(b"<")


def parse_statement(
    data: bytes,
    name: str,
    *,
    fmt: str = "auto",
    mapping: CsvMapping | None = None,
    include_pending: bool = False,
    account_currency: str = "",
) -> FileResult:
    """Parse one statement file's bytes; raises SyncError (naming ``name``) for anything wrong."""
    if not data.strip():
        raise SyncError(f"{name} is empty; nothing was imported.")
    is_xml = _looks_like_xml(data)
    if fmt == "camt053" or (fmt == "auto" and is_xml):
        if not is_xml:
            raise SyncError(
                f"{name} is not XML, so it is not a camt.053 statement (the format setting says "
                "camt053); nothing was imported."
            )
        return parse_camt053(data, name, include_pending=include_pending, account_currency=account_currency)
    if is_xml:
        raise SyncError(f"{name} is an XML file, not a CSV file (the format setting says {fmt}); nothing was imported.")
    text = decode_text(data, name)
    if fmt == "fio-csv":
        return parse_fio_csv(text, name, account_currency=account_currency)
    if fmt == "csv":
        if mapping is None:
            raise SyncError("The format csv needs the CSV column mapping setting (e.g. date=Date,amount=Amount).")
        return parse_generic_csv(text, name, mapping, account_currency=account_currency)
    if _fio_header(_csv_rows(text, name, ";")) is not None:
        return parse_fio_csv(text, name, account_currency=account_currency)
    if mapping is not None:
        return parse_generic_csv(text, name, mapping, account_currency=account_currency)
    raise SyncError(
        f"{name} is in an unknown format: it is neither a camt.053 statement (XML) nor a Fio CSV "
        "export (no header with 'ID pohybu', 'Datum' and 'Objem'). For another bank's CSV set the "
        "CSV column mapping (and the format csv). Nothing was imported."
    )


# -- the plugin -------------------------------------------------------------------------------------


class BankStatementImport(Plugin):
    name = "bank-statement"
    version = "1.0.0"
    fields = [
        PathField(
            "path",
            "Statement file or folder",
            required=True,
            help="A bank statement file (camt.053 XML or CSV), or a folder: then its new .xml and .csv "
            "files are imported on each sync. Importing a file again creates nothing new.",
        ),
        Choice(
            "format",
            "Format",
            FORMATS,
            default="auto",
            help="auto: detected from the content (camt.053 XML, Fio CSV export, or a CSV read with the "
            "column mapping). camt053: ISO 20022 bank statement, versions .02 to .08. fio-csv: Fio "
            "banka's CSV export. csv: another bank's CSV, read with the column mapping.",
        ),
        Text("csv_mapping", "CSV column mapping", help=MAPPING_HELP),
        Bool(
            "include_pending",
            "Include pending entries",
            default=False,
            help="camt.053 only. Off: only booked entries (status BOOK) are imported; pending (PDNG) and "
            "information (INFO) entries are skipped and counted in the log.",
        ),
        Text(
            "account_currency",
            "Account currency",
            help="ISO code such as CZK, for files that name no currency on a movement (a CSV without a "
            "currency column, a statement without Ccy).",
        ),
    ]

    def sync(self, ctx):
        settings = ctx.settings
        target = Path(str(settings["path"])).expanduser()
        fmt = settings.get("format") or "auto"
        if fmt not in FORMATS:
            raise SyncError(f"The format {fmt!r} is unknown; choose one of {', '.join(FORMATS)}.")
        include_pending = bool(settings.get("include_pending"))
        account_currency = (settings.get("account_currency") or "").strip().upper()
        if account_currency and not CURRENCY.match(account_currency):
            raise SyncError(
                f"The account currency {account_currency!r} is not a currency code (three letters such as CZK or EUR)."
            )
        mapping_text = (settings.get("csv_mapping") or "").strip()
        mapping = parse_mapping(mapping_text) if mapping_text else None
        if fmt == "csv" and mapping is None:
            raise SyncError("The format csv needs the CSV column mapping setting (e.g. date=Date,amount=Amount).")
        if mapping is not None and "currency" not in mapping.columns and not account_currency and fmt == "csv":
            raise SyncError(
                "The CSV column mapping names no currency column and the account currency setting is "
                "empty: set one of them."
            )

        if not target.exists():
            raise SyncError(f"The statement path {target} does not exist (check the Statement file or folder setting).")
        known: dict[str, dict] = dict((ctx.state or {}).get("files") or {})
        folder = target.is_dir()
        if folder:
            try:
                entries = sorted(target.iterdir(), key=lambda p: p.name)
            except OSError as exc:
                raise SyncError(f"The folder {target} cannot be read ({exc.strerror or exc}).") from None
            candidates = [
                p
                for p in entries
                if p.is_file() and p.suffix.lower() in STATEMENT_SUFFIXES and not p.name.startswith((".", "~"))
            ]
            others = sum(1 for p in entries if p.is_file()) - len(candidates)
        elif target.is_file():
            candidates, others = [target], 0
        else:
            raise SyncError(f"The statement path {target} is neither a file nor a folder.")

        to_read, unchanged = [], []
        for path in candidates:
            try:
                stat = path.stat()
            except OSError as exc:
                raise SyncError(f"{path.name} cannot be read ({exc.strerror or exc}); nothing was imported.") from None
            key = str(path.resolve())
            seen = known.get(key)
            if folder and seen and seen.get("size") == stat.st_size and seen.get("mtime_ns") == stat.st_mtime_ns:
                unchanged.append(path.name)
            else:
                to_read.append((path, key, stat))
        if folder:
            ctx.log(
                f"Folder {target}: {len(candidates)} statement file(s), {len(to_read)} new or changed, "
                f"{len(unchanged)} already imported"
                + (f"; {others} other file(s) ignored (only .xml and .csv are read)" if others else "")
                + "."
            )

        results: list[FileResult] = []
        for done, (path, key, stat) in enumerate(to_read, start=1):
            try:
                data = path.read_bytes()
            except OSError as exc:
                raise SyncError(f"{path.name} cannot be read ({exc.strerror or exc}); nothing was imported.") from None
            digest = hashlib.sha256(data).hexdigest()
            record = {"size": stat.st_size, "mtime_ns": stat.st_mtime_ns, "sha256": digest}
            if folder and (known.get(key) or {}).get("sha256") == digest:
                known[key] = record
                unchanged.append(path.name)
                ctx.log(f"{path.name}: content unchanged since it was imported; not read again.")
                ctx.progress(done, len(to_read))
                continue
            result = parse_statement(
                data,
                path.name,
                fmt=fmt,
                mapping=mapping,
                include_pending=include_pending,
                account_currency=account_currency,
            )
            for warning in result.warnings:
                ctx.log(warning, "warning")
            account = f", account {', '.join(result.accounts)}" if result.accounts else ""
            count = len(result.movements)
            line = f"{path.name} ({result.label}{account}): {count} {'entry' if count == 1 else 'entries'}"
            if result.pending:
                line += f", {result.pending} pending skipped"
            if result.ignored:
                line += f", {result.ignored} zero amounts skipped"
            ctx.log(line + ".")
            known[key] = record
            results.append(result)
            ctx.progress(done, len(to_read))

        total = sum(len(result.movements) for result in results)
        done = 0
        for result in results:
            for movement in result.movements:
                ctx.upsert_transaction(
                    external_id=movement.external_id,
                    transaction_type=movement.transaction_type,
                    amount=movement.amount,
                    currency=movement.currency,
                    transacted_on=movement.transacted_on,
                    description=movement.description,
                    counterparty=movement.counterparty,
                    counterparty_account=movement.counterparty_account,
                    reference=movement.reference,
                    raw_data=movement.raw_data,
                )
                done += 1
                ctx.progress(done, total)

        if folder:  # forget files that left the folder
            folder_key = str(target.resolve())
            present = {str(p.resolve()) for p in candidates}
            known = {k: v for k, v in known.items() if str(Path(k).parent) != folder_key or k in present}
        ctx.state = {**(ctx.state or {}), "files": known}
        ctx.metadata.update(
            path=str(target),
            files=[result.name for result in results],
            unchanged_files=unchanged,
            entries=total,
            skipped=sum(result.pending for result in results),
            zero_amounts=sum(result.ignored for result in results),
        )
