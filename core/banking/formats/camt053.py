"""ISO 20022 camt.053 bank statements (XML), versions .02 to .08.

``identify(data)``: XML that names the camt.053 namespace or has a
``BkToCstmrStmt`` element near its start. ``read(data)``: the booked entries
as movements; ``parse(data, name)``: the same with what the plugin logs
(warnings, pending entries skipped, the statement's accounts). Decisions
(tests/test_statement.py and tests/test_format_camt053.py hold them):

Versions
    Versions .02 to .08 are read by element names, the namespace taken from
    the root element (other ``camt.053.001.NN`` versions are read the same way,
    with a warning). The XML is parsed with defusedxml, DTDs forbidden: a
    statement never has one, so a file with a DTD or entities is refused.
    A file with no ``Stmt`` is refused (nothing to import); XML that is not a
    camt.053 statement at all (another root, namespace or camt message) is
    ``NotAStatement``.

Streaming
    The file is parsed as a stream (64 KB at a time): a statement's ``Id`` and
    ``Acct`` and one ``Ntry`` at a time are built, read and let go, so memory
    does not grow with the number of entries. The schema puts ``Id`` and
    ``Acct`` before the entries; an entry is read with what came before it.
    Every text and attribute is checked against the field length limit as it
    arrives (a 200 MB text node is refused after its first few kilobytes),
    nesting deeper than 64 levels is refused, and so is an XML declaration
    naming an encoding the parser cannot read. Status ``BOOK`` is
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

Variable symbol (``reference``)
    Looked for in ``Refs/EndToEndId``, then ``RmtInf/Strd/CdtrRefInf/Ref``,
    then the ``Ustrd`` texts, then ``AddtlNtryInf`` (the patterns are
    ``movement.find_vs``'s); a reference that is nothing but 1-10 digits
    (leading zeros aside) counts too, except in free text. References of more
    than 10 digits (e.g. the fixtures' 4654654654654654) are not variable
    symbols and stay in ``raw_data`` only.

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
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from sys import intern

from core.banking.formats.csv_dialect import head_text, looks_like_xml
from core.banking.formats.movement import (
    DEFAULT_LIMITS,
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
    find_vs,
    fit_text,
    iso_day,
    unique,
)
from core.banking.formats.xml_paths import StreamTarget, XmlPaths, canonical_lines, local_name, read_stream

FORMAT = "camt053"
TESTED_VERSIONS = {f"{n:02d}" for n in range(2, 9)}
NAMESPACE = re.compile(r"^urn:iso:std:iso:20022:tech:xsd:camt\.(\d{3})\.001\.(\d{2})$")
KINDS = {"052": "an account report", "054": "a debit/credit notification"}
XML_AMOUNT = re.compile(r"^[0-9]+(\.[0-9]+)?$")  # ASCII digits: \d would take other scripts' digits too
SNIFF = re.compile(r"camt\.053\.001\.\d{2}|<(?:\w+:)?BkToCstmrStmt[\s>]")
# Values that repeat from entry to entry (dates, codes, parties, accounts) are interned (sys.intern): the
# run keeps every movement until it commits, and one string per distinct value keeps that small.


def identify(data: bytes) -> bool:
    """XML that looks like a camt.053 statement (its namespace, or a BkToCstmrStmt element, near the start)."""
    return looks_like_xml(data) and SNIFF.search(head_text(data)) is not None


def read(
    data: bytes | Source,
    name: str = "statement.xml",
    *,
    include_pending: bool = False,
    account_currency: str = "",
    limits: Limits = DEFAULT_LIMITS,
):
    """The movements of a camt.053 file (list[Movement]); raises StatementError naming ``name``."""
    return parse(
        data, name, include_pending=include_pending, account_currency=account_currency, limits=limits
    ).movements


def parse(
    data: bytes | Source,
    name: str,
    *,
    include_pending: bool = False,
    account_currency: str = "",
    limits: Limits = DEFAULT_LIMITS,
) -> FileResult:
    """The file's movements, warnings, skipped counts and accounts; raises StatementError naming ``name``.

    The file is parsed as a stream: each ``Ntry`` is built, read and let go in turn, so memory does not
    grow with the file (every text and the nesting are checked as they arrive).
    """
    document = _Document(name, include_pending, account_currency, limits)
    read_stream(document, Source.of(data))
    return document.finish()


# -- the document, as a stream ------------------------------------------------------------------


@dataclass
class _File:
    """What every entry of one file is read with."""

    x: XmlPaths
    result: FileResult
    ids: Ids
    label: str
    include_pending: bool
    account_currency: str


@dataclass
class _Statement:
    """The statement being read: its number in the file, its Id and its account, as far as seen."""

    number: int
    statement_id: str = ""
    account: str = ""
    currency: str = ""
    entries: int = 0
    has_account: bool = False  # its (first) Acct was read


class _Document(StreamTarget):
    """A camt.053 document as it streams by: builds a statement's ``Id`` and ``Acct`` and one ``Ntry`` at
    a time (read at its end, then let go)."""

    def __init__(self, name: str, include_pending: bool, account_currency: str, limits: Limits):
        super().__init__(name, limits)
        self.include_pending = include_pending
        self.account_currency = account_currency
        self.file: _File | None = None
        self.bodies = 0  # BkToCstmrStmt elements
        self.statements = 0
        self.statement: _Statement | None = None
        self.body = False  # inside a BkToCstmrStmt
        self.tags: dict[str, str] = {}  # local name -> the tag in the document's namespace

    def begin(self, tag: str) -> None:
        """The root element: a camt.053 Document (its version read), or NotAStatement / StatementError."""
        namespace, version = _namespace(tag, self.name)
        label = f"camt.053.001.{version}" if version else "camt.053 (no namespace)"
        result = FileResult(self.name, label)
        if version and version not in TESTED_VERSIONS:
            result.warnings.append(
                f"{self.name}: {label} is not one of the versions this plugin was tested with (.02 to .08); "
                "read like them."
            )
        x = XmlPaths(namespace)
        self.file = _File(x, result, Ids(), label, self.include_pending, self.account_currency)
        self.tags = {part: x.prefix + part for part in ("BkToCstmrStmt", "Stmt", "Id", "Acct", "Ntry")}

    def starts(self, tag: str) -> bool:
        """A body or a statement is noted, not built; a statement's Id, Acct and each Ntry are built."""
        tags = self.tags
        if self.depth == 2:
            self.body = tag == tags["BkToCstmrStmt"]
            self.bodies += self.body
        elif self.depth == 3 and self.body and tag == tags["Stmt"]:
            self.statements += 1
            self.statement = _Statement(self.statements)
        elif self.depth == 4 and self.statement is not None:
            return tag in (tags["Id"], tags["Acct"], tags["Ntry"])
        return False

    def ended(self, tag: str) -> None:
        if self.depth == 3:
            self.statement = None

    def built(self, element) -> None:
        statement, file = self.statement, self.file
        if statement is None or file is None:
            return
        x = file.x
        if element.tag == self.tags["Ntry"]:
            statement.entries += 1
            where = f"{self.name}, statement {statement.statement_id or statement.number}, entry {statement.entries}"
            currency = statement.currency or file.account_currency
            movement = _entry(file, element, _Where(where, statement.account, statement.statement_id, currency))
            if movement is not None:
                file.result.movements.append(movement)
        elif element.tag == self.tags["Id"]:
            if not statement.statement_id:
                statement.statement_id = " ".join((element.text or "").split())
        elif not statement.has_account:  # the first Acct, as the schema has one
            statement.has_account = True
            statement.account = x.text(element, "Id/IBAN") or x.text(element, "Id/Othr/Id")
            statement.currency = x.text(element, "Ccy").upper()
            if statement.account and statement.account not in file.result.accounts:
                file.result.accounts.append(statement.account)

    def finish(self) -> FileResult:
        """The result, once the whole document was read; a document with no statement is refused."""
        if self.file is None:  # not reached: the parser refuses a document without a root element
            raise StatementError(f"{self.name} holds no XML element; nothing was imported.")
        if not self.bodies:
            raise NotAStatement(
                f"{self.name} is not a camt.053 bank statement: it has no BkToCstmrStmt element; nothing was imported."
            )
        if not self.statements:
            raise StatementError(
                f"{self.name} holds no statement (no Stmt element), so there is nothing to import; "
                "nothing was imported. Export the statement from the bank again."
            )
        return self.file.result


def _namespace(tag: str, name: str) -> tuple[str, str]:
    """``(namespace, version)`` of a camt.053 root element ("" for none); anything else is refused with what it is."""
    namespace = tag[1:].split("}", 1)[0] if tag.startswith("{") else ""
    if local_name(tag) != "Document":
        raise NotAStatement(
            f"{name} is XML but not an ISO 20022 camt.053 statement (its root element is "
            f"<{local_name(tag)[:60]}>, not <Document>); nothing was imported."
        )
    match = NAMESPACE.match(namespace)
    if namespace and not match:
        raise NotAStatement(
            f"{name} is XML in the namespace {namespace[:200]}, not an ISO 20022 camt.053 statement; "
            "nothing was imported."
        )
    if match and match.group(1) != "053":
        kind = KINDS.get(match.group(1), "another ISO 20022 message")
        raise NotAStatement(
            f"{name} is a camt.{match.group(1)} file ({kind}), not a camt.053 bank statement; "
            "export the statement (camt.053) instead. Nothing was imported."
        )
    return namespace, (match.group(2) if match else "")


# -- one entry -------------------------------------------------------------------------------------


@dataclass
class _Where:
    """Where an entry is: the sentence prefix, its statement's account, id and currency."""

    text: str
    account: str
    statement_id: str
    currency: str


@dataclass
class _Basics:
    """An entry's status, amount, direction and dates, checked."""

    status: str
    written: str
    amount: Decimal
    currency: str
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


def _entry(file: _File, entry, where: _Where) -> Movement | None:
    x = file.x
    status = intern((x.text(entry, "Sts/Cd") or x.text(entry, "Sts/Prtry") or x.text(entry, "Sts")).upper())
    if status not in ("BOOK", "") and not file.include_pending:
        file.result.pending += 1
        return None
    basics = _basics(x, entry, where, status)
    if not check_amount(file.result, where.text, basics.amount, basics.currency, basics.written):
        return None
    details = _details(x, entry, basics)
    entry_info = x.text(entry, "AddtlNtryInf")
    symbols = _distinct_symbols(details.symbols, entry_info)
    description = _description(details, entry_info, basics.reversal)
    accounts = unique(details.accounts)
    return Movement(
        external_id=_external_id(file, entry, where),
        transaction_type="income" if basics.indicator == "CRDT" else "expense",
        amount=basics.amount,
        currency=basics.currency,
        transacted_on=basics.day,
        description=fit_text(file.result, where.text, "description", description),
        counterparty=fit_text(file.result, where.text, "counterparty", "; ".join(unique(details.names))),
        counterparty_account=(accounts[0] if len(accounts) == 1 else ""),
        reference=symbols[0] if len(symbols) == 1 else "",
        raw_data=_raw(file, entry, where, basics, details, symbols),
    )


def _basics(x: XmlPaths, entry, where: _Where, status: str) -> _Basics:
    amount_el = x.find(entry, "Amt")
    written = (amount_el.text or "").strip() if amount_el is not None else ""
    if not written:
        raise StatementError(f"{where.text} has no amount (Amt); nothing was imported.")
    if not XML_AMOUNT.match(written):
        raise StatementError(
            f"{where.text}: the amount {written!r} is not a number such as 1234.50; nothing was imported."
        )
    currency = intern(
        currency_code(
            amount_el.get("Ccy", ""),
            where.text,
            where.currency,
            "no Ccy on the amount nor on the account; set the account currency setting",
        )
    )
    indicator = intern(x.text(entry, "CdtDbtInd").upper())
    if indicator not in ("CRDT", "DBIT"):
        raise StatementError(
            f"{where.text}: the credit/debit indicator (CdtDbtInd) is {indicator or 'missing'!s}, "
            "not CRDT or DBIT; nothing was imported."
        )
    reversal = x.text(entry, "RvslInd").lower() in ("true", "1")
    booking = intern(x.text(entry, "BookgDt/Dt") or x.text(entry, "BookgDt/DtTm"))
    value_date = intern(x.text(entry, "ValDt/Dt") or x.text(entry, "ValDt/DtTm"))
    day_text = booking or value_date
    if not day_text:
        raise StatementError(
            f"{where.text} has no booking date (BookgDt) nor value date (ValDt); nothing was imported."
        )
    day = iso_day(day_text)
    if day is None:
        raise StatementError(
            f"{where.text}: the booking date {day_text!r} is not a date (YYYY-MM-DD); nothing was imported."
        )
    check_day(day, where.text)
    return _Basics(status, written, Decimal(written), currency, indicator, reversal, booking, value_date, day)


def _details(x: XmlPaths, entry, basics: _Basics) -> _Details:
    """Every TxDtls of the entry; the counterparty is the debtor of income, the creditor of an expense."""
    details = [tx for group in x.findall(entry, "NtryDtls") for tx in x.findall(group, "TxDtls")]
    role = "Dbtr" if (basics.indicator == "CRDT") != basics.reversal else "Cdtr"
    out = _Details(len(details), [], [], [], [], [])
    for tx in details:
        record = _detail(x, tx)
        if record.get("variable_symbol"):
            out.symbols.append(record["variable_symbol"])
        out.names.append(record.get("debtor" if role == "Dbtr" else "creditor", ""))
        out.accounts.append(record.get("debtor_account" if role == "Dbtr" else "creditor_account", ""))
        info = record.get("additional_info", "")
        out.texts.extend(record.get("remittance", []) + ([info] if info else []))
        out.transactions.append(record)
    return out


def _detail(x: XmlPaths, tx) -> dict:
    """One TxDtls as a record of non-empty strings (and lists of strings)."""
    debtor, debtor_account = _party(x, tx, "Dbtr")
    creditor, creditor_account = _party(x, tx, "Cdtr")
    end_to_end = x.text(tx, "Refs/EndToEndId")
    structured = x.texts(tx, "RmtInf/Strd/CdtrRefInf/Ref")
    unstructured = x.texts(tx, "RmtInf/Ustrd")
    vs = ""
    if end_to_end.upper() != "NOTPROVIDED":
        vs = find_vs(end_to_end, bare=True)
    for text in structured:
        vs = vs or find_vs(text, bare=True)
    for text in unstructured:
        vs = vs or find_vs(text, bare=False)
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


def _external_id(file: _File, entry, where: _Where) -> str:
    """``<account>:<AcctSvcrRef>``, ``:ntry:<NtryRef>``, ``:tx:<TxDtls ref>`` or ``:sha256:<hash>``; unique."""
    x = file.x
    details = [tx for group in x.findall(entry, "NtryDtls") for tx in x.findall(group, "TxDtls")]
    servicer_ref = x.text(entry, "AcctSvcrRef")
    entry_ref = x.text(entry, "NtryRef")
    tx_ref = x.text(details[0], "Refs/AcctSvcrRef") if len(details) == 1 else ""
    prefix = where.account or "camt"
    if servicer_ref:
        base = f"{prefix}:{servicer_ref}"
    elif entry_ref:
        base = f"{prefix}:ntry:{entry_ref}"
    elif tx_ref:
        base = f"{prefix}:tx:{tx_ref}"
    else:
        base = f"{prefix}:sha256:{content_hash(prefix, *canonical_lines(entry))}"
    external_id, repeated = file.ids(base)
    if repeated:
        file.result.warnings.append(
            f"{where.text}: the reference {base} appears more than once in this file; imported again as {external_id}."
        )
    return external_id


def _raw(file: _File, entry, where: _Where, basics: _Basics, details: _Details, symbols: list[str]) -> dict:
    """The entry as the bank wrote it, for ``raw_data``: strings and lists, empty values left out."""
    x = file.x
    code = x.find(entry, "BkTxCd")
    bank_code = "/".join(
        t for t in (x.text(code, "Domn/Cd"), x.text(code, "Domn/Fmly/Cd"), x.text(code, "Domn/Fmly/SubFmlyCd")) if t
    ) or x.text(code, "Prtry/Cd")
    raw = {
        "format": file.label,
        "statement_id": where.statement_id,
        "account": where.account,
        "amount": basics.written,
        "currency": basics.currency,
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
