"""ISO 20022 camt.053 bank statements (XML), versions .02 to .08.

``identify(data)``: XML that names the camt.053 namespace or has a
``BkToCstmrStmt`` element near its start (an envelope around the Document
too: its header names the message, the Document's namespace follows).
``read(data)``: the booked entries as movements; ``parse(data, name)``: the
same with what the plugin logs (warnings, pending entries skipped, the
statement's accounts). Decisions
(tests/test_statement.py and tests/test_format_camt053.py hold them):

Versions
    Versions .02 to .08 are read by element names, the namespace taken from
    the root element (other ``camt.053.001.NN`` versions are read the same way,
    with a warning). The XML is parsed with defusedxml, DTDs forbidden: a
    statement never has one, so a file with a DTD or entities is refused.
    A file with no ``Stmt`` is refused (nothing to import); XML that is not a
    camt.053 statement at all (another root, namespace or camt message) is
    ``NotAStatement``.

Envelopes
    A bank or a network may wrap the ``Document`` in an envelope: the
    business application header (``AppHdr``, ``head.001.001.0x``) beside it
    in a ``BizMsgEnvlp`` or ``Envelope`` element, ``BizMsgEnvlp/Hdr`` and
    ``BizMsgEnvlp/Doc`` containers, SOAP. When the file's first 64 KB name
    camt.053 (``identify``) and the root is not a ``Document``, the first
    element named ``Document`` within ``ENVELOPE_DEPTH`` (8) levels is read
    as the statement (its namespace checked as a root's would be: a camt.052
    inside an envelope is refused as one); the envelope's other elements are
    passed over unread, the nesting limit still applies. Any other root is
    refused at once as before. A second Document of the same version in one
    envelope is read on; of another version, refused.

Streaming
    The file is parsed as a stream (64 KB at a time): a statement's ``Id``,
    ``CreDtTm``, ``FrToDt``, ``Acct`` (and a ``Bal`` while no currency is
    known) and one ``Ntry`` at a time are built, read and let go, so memory
    does not grow with the number of entries. The schema puts them before the
    entries; an entry is read with what came before it.
    Every text and attribute is checked against the field length limit as it
    arrives (a 200 MB text node is refused after its first few kilobytes),
    nesting deeper than 64 levels is refused, and so is an XML declaration
    naming an encoding the parser cannot read.

Entries
    Each ``Ntry`` is read by ``camt053_entry.entry`` (its status, dates,
    direction and reversals, batch bookings, external ids, variable symbol,
    currency, placeholders) with its ``File``, ``Statement`` and ``Where``;
    the one-per-file warnings its counts call for are written here.
"""

from __future__ import annotations

import re
from sys import intern
from zoneinfo import ZoneInfo

from core.banking.formats.camt053_entry import (
    ACCOUNT_CURRENCY_SETTING,
    BALANCE_CURRENCY,
    NO_CURRENCY,
    File,
    Statement,
    Where,
    entry,
)
from core.banking.formats.csv_dialect import head_text, looks_like_xml
from core.banking.formats.movement import (
    DEFAULT_LIMITS,
    DEFAULT_TIMEZONE,
    FileResult,
    Ids,
    Limits,
    NotAStatement,
    Source,
    StatementError,
    placeholder_warning,
    time_zone,
)
from core.banking.formats.xml_paths import StreamTarget, XmlPaths, local_name, read_stream
from core.values.messages import Message

FORMAT = "camt053"
TESTED_VERSIONS = {f"{n:02d}" for n in range(2, 9)}
NAMESPACE = re.compile(r"^urn:iso:std:iso:20022:tech:xsd:camt\.(\d{3})\.001\.(\d{2})$")
KINDS = {"052": Message("an account report"), "054": Message("a debit/credit notification")}
ANOTHER_KIND = Message("another ISO 20022 message")
SNIFF = re.compile(r"camt\.053\.001\.\d{2}|<(?:\w+:)?BkToCstmrStmt[\s>]")
# An envelope (a business application header's wrapper, SOAP, a bank's own) nests the Document a few levels
# down; deeper than this it is no envelope a bank sends.
ENVELOPE_DEPTH = 8
ACCOUNT_CURRENCY = Message("the currency of the statement's account")
SETTING_CURRENCY = Message("the setting {setting}", setting=ACCOUNT_CURRENCY_SETTING)
NO_NAMESPACE = Message("camt.053 (no namespace)")  # the label of a statement without one


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
    timezone: str = DEFAULT_TIMEZONE,
):
    """The movements of a camt.053 file (list[Movement]); raises StatementError naming ``name``."""
    return parse(
        data,
        name,
        include_pending=include_pending,
        account_currency=account_currency,
        limits=limits,
        timezone=timezone,
    ).movements


def parse(
    data: bytes | Source,
    name: str,
    *,
    include_pending: bool = False,
    account_currency: str = "",
    limits: Limits = DEFAULT_LIMITS,
    timezone: str = DEFAULT_TIMEZONE,
) -> FileResult:
    """The file's movements, warnings, skipped counts and accounts; raises StatementError naming ``name``.

    The file is parsed as a stream: each ``Ntry`` is built, read and let go in turn, so memory does not
    grow with the file (every text and the nesting are checked as they arrive). ``timezone`` (an IANA
    name) is the account's: a date-time with an offset is the calendar day there.
    """
    source = Source.of(data)
    zone = time_zone(timezone)
    sniffed = SNIFF.search(head_text(source.head())) is not None
    document = _Document(name, include_pending, account_currency, limits, zone, sniffed)
    read_stream(document, source)
    return document.finish()


# -- the document, as a stream ------------------------------------------------------------------


class _Document(StreamTarget):
    """A camt.053 document as it streams by: builds a statement's ``Id``, dates, ``Acct`` and ``Bal`` and one
    ``Ntry`` at a time (read at its end, then let go). The Document is the root element, or is found inside
    an envelope (at most ``ENVELOPE_DEPTH`` levels down) when the file's head names camt.053."""

    def __init__(
        self, name: str, include_pending: bool, account_currency: str, limits: Limits, zone: ZoneInfo, sniffed: bool
    ):
        super().__init__(name, limits)
        self.include_pending = include_pending
        self.account_currency = account_currency
        self.zone = zone
        self.sniffed = sniffed  # the head names camt.053: an envelope around it is looked into
        self.file: File | None = None
        self.base = 0  # the depth of the Document element being read (0: none yet, or it ended)
        self.envelope = ""  # the root element's local name when the Document is inside it
        self.bodies = 0  # BkToCstmrStmt elements
        self.statements = 0
        self.statement: Statement | None = None
        self.body = False  # inside a BkToCstmrStmt
        self.tags: dict[str, str] = {}  # local name -> the tag in the document's namespace

    def begin(self, tag: str) -> None:
        """The root element: a camt.053 Document, an envelope around one, or NotAStatement / StatementError."""
        if local_name(tag) == "Document" or not self.sniffed:
            self._open(tag)
        else:
            self.envelope = local_name(tag)[:60]

    def _open(self, tag: str) -> None:
        """A Document element starts at ``self.depth``: its namespace (the version) is read and checked."""
        namespace, version = _namespace(tag, self.name)
        if self.file is not None:  # a second Document in one envelope: read on, if it is the same version
            if self.file.x.prefix != XmlPaths(namespace).prefix:
                raise StatementError(
                    Message(
                        "{name} holds camt.053 documents of different versions; export each statement "
                        "as its own file. Nothing was imported.",
                        name=self.name,
                    )
                )
            self.base = self.depth
            return
        label = f"camt.053.001.{version}" if version else NO_NAMESPACE
        result = FileResult(self.name, label)
        if version and version not in TESTED_VERSIONS:
            result.warnings.append(
                Message(
                    "{name}: {label} is not one of the versions this plugin was tested with (.02 to .08); "
                    "read like them.",
                    name=self.name,
                    label=label,
                )
            )
        x = XmlPaths(namespace)
        # raw_data keeps the label as plain text (a stored value, not a sentence)
        self.file = File(x, result, Ids(), str(label), self.include_pending, self.account_currency, self.zone)
        parts = ("BkToCstmrStmt", "Stmt", "Id", "Acct", "Ntry", "CreDtTm", "FrToDt", "Bal")
        self.tags = {part: x.prefix + part for part in parts}
        self.base = self.depth

    def starts(self, tag: str) -> bool:
        """A body or a statement is noted, not built; a statement's Id, dates, Acct, Bal and each Ntry are
        built. Outside a Document (in an envelope) a Document element is looked for."""
        tags, level = self.tags, self.depth - self.base
        if not self.base:
            if self.envelope and self.depth <= ENVELOPE_DEPTH and local_name(tag) == "Document":
                self._open(tag)
        elif level == 1:
            self.body = tag == tags["BkToCstmrStmt"]
            self.bodies += self.body
        elif level == 2 and self.body and tag == tags["Stmt"]:
            self.statements += 1
            self.statement = Statement(self.statements)
        elif level == 3 and self.statement is not None:
            if tag == tags["Bal"]:  # only while no currency is known: a statement has a few balances
                return not (self.statement.currency or self.statement.balance_currency)
            return tag in (tags["Id"], tags["Acct"], tags["Ntry"], tags["CreDtTm"], tags["FrToDt"])
        return False

    def ended(self, tag: str) -> None:
        if not self.base:
            return
        level = self.depth - self.base
        if level == 2:
            self.statement = None
        elif level == 1:
            self.body = False
        elif level == 0:  # the Document ends; an envelope may go on (a signature, another Document)
            self.base = 0

    def built(self, element) -> None:
        statement, file = self.statement, self.file
        if statement is None or file is None:
            return
        x, tags = file.x, self.tags
        if element.tag == tags["Ntry"]:
            statement.entries += 1
            where = Message(
                "{name}, statement {statement}, entry {entry}",
                name=self.name,
                statement=statement.statement_id or statement.number,
                entry=statement.entries,
            )
            currency, whose = _fallback_currency(statement, file)
            context = Where(where, statement.account, statement.statement_id, currency, whose, statement)
            movement = entry(file, element, context)
            if movement is not None:
                file.result.movements.append(movement)
        elif element.tag == tags["Id"]:
            if not statement.statement_id:
                statement.statement_id = " ".join((element.text or "").split())
        elif element.tag == tags["CreDtTm"]:
            statement.created = statement.created or " ".join((element.text or "").split())
        elif element.tag == tags["FrToDt"]:
            statement.period_end = statement.period_end or x.text(element, "ToDtTm")
        elif element.tag == tags["Bal"]:
            amount = x.find(element, "Amt")
            if amount is not None and not statement.balance_currency:
                statement.balance_currency = intern(amount.get("Ccy", "").strip().upper())
        elif not statement.has_account:  # the first Acct, as the schema has one
            statement.has_account = True
            statement.account = x.text(element, "Id/IBAN") or x.text(element, "Id/Othr/Id")
            statement.currency = x.text(element, "Ccy").upper()
            if statement.account and statement.account not in file.result.accounts:
                file.result.accounts.append(statement.account)

    def finish(self) -> FileResult:
        """The result, once the whole document was read; a document with no statement is refused."""
        if self.file is None:
            if self.envelope:  # the head named camt.053, but no Document was found in the envelope
                raise NotAStatement(
                    Message(
                        "{name} is XML but not an ISO 20022 camt.053 statement (its root element is "
                        "<{root}> and no <Document> is inside it within {depth} levels); "
                        "nothing was imported.",
                        name=self.name,
                        root=self.envelope,
                        depth=ENVELOPE_DEPTH,
                    )
                )
            # not reached: the parser refuses a document without a root element
            raise StatementError(Message("{name} holds no XML element; nothing was imported.", name=self.name))
        if not self.bodies:
            raise NotAStatement(
                Message(
                    "{name} is not a camt.053 bank statement: it has no BkToCstmrStmt element; nothing was imported.",
                    name=self.name,
                )
            )
        if not self.statements:
            raise StatementError(
                Message(
                    "{name} holds no statement (no Stmt element), so there is nothing to import; "
                    "nothing was imported. Export the statement from the bank again.",
                    name=self.name,
                )
            )
        _summary_warnings(self.name, self.file)
        return self.file.result


def _fallback_currency(statement: Statement, file: File) -> tuple[str, str]:
    """The currency an entry without one (or with XXX) is in, and whose it is: the account's, its balance's,
    or the setting's ("" when none)."""
    if statement.currency:
        return statement.currency, ACCOUNT_CURRENCY
    if statement.balance_currency:
        return statement.balance_currency, BALANCE_CURRENCY
    if file.account_currency:
        return file.account_currency, SETTING_CURRENCY
    return "", ""


def _summary_warnings(name: str, file: File) -> None:
    """One warning per file for each kind of entry read with a stand-in: a date, a currency, placeholders."""
    warnings = file.result.warnings
    undated = file.by_value_date + file.by_period
    if undated:
        warnings.append(_undated_warning(name, file, undated))
    if file.stand_in_currency:
        where, _, code, whose = file.stand_in_currency[0]
        more = len(file.stand_in_currency) - 1
        if more == 1:
            where = Message("{where} (and 1 more entry)", where=where)
        elif more:
            where = Message("{where} (and {more} more entries)", where=where, more=more)
        written = {entry[1] for entry in file.stand_in_currency}
        what = {
            frozenset({NO_CURRENCY}): Message("is XXX (ISO's 'no currency')"),
            frozenset({""}): Message("is not given"),
        }.get(frozenset(written), Message("is XXX (ISO's 'no currency') or not given"))
        warnings.append(
            Message(
                "{where}: the amount's currency {what}; read in {code}, {whose}.",
                where=where,
                what=what,
                code=code,
                whose=whose,
            )
        )
    if file.placeholders:
        warnings.append(placeholder_warning(name, file.placeholders))


def _undated_warning(name: str, file: File, undated: int) -> Message:
    """The one warning about the entries without a booking date: how many, and what dated them."""
    by_value, by_period = file.by_value_date, file.by_period
    parts: list[Message] = []
    if by_value == 1:
        parts.append(Message("1 was dated by its value date (ValDt)"))
    elif by_value:
        parts.append(Message("{count} were dated by their value date (ValDt)", count=by_value))
    if by_period == 1 and parts:
        parts.append(Message("1 by the end of its statement's period (FrToDt/ToDtTm) or its creation (CreDtTm)"))
    elif by_period and parts:
        parts.append(
            Message(
                "{count} by the end of their statement's period (FrToDt/ToDtTm) or its creation (CreDtTm)",
                count=by_period,
            )
        )
    elif by_period == 1:
        parts.append(
            Message("1 was dated by the end of its statement's period (FrToDt/ToDtTm) or its creation (CreDtTm)")
        )
    elif by_period:
        parts.append(
            Message(
                "{count} were dated by the end of their statement's period (FrToDt/ToDtTm) or its creation (CreDtTm)",
                count=by_period,
            )
        )
    dated = parts[0] if len(parts) == 1 else Message("{first} and {second}", first=parts[0], second=parts[1])
    if undated == 1:
        return Message("{name}: 1 entry has no booking date (BookgDt); {dated}.", name=name, dated=dated)
    return Message(
        "{name}: {count} entries have no booking date (BookgDt); {dated}.", name=name, count=undated, dated=dated
    )


def _namespace(tag: str, name: str) -> tuple[str, str]:
    """``(namespace, version)`` of a camt.053 root element ("" for none); anything else is refused with what it is."""
    namespace = tag[1:].split("}", 1)[0] if tag.startswith("{") else ""
    if local_name(tag) != "Document":
        raise NotAStatement(
            Message(
                "{name} is XML but not an ISO 20022 camt.053 statement (its root element is "
                "<{root}>, not <Document>); nothing was imported.",
                name=name,
                root=local_name(tag)[:60],
            )
        )
    match = NAMESPACE.match(namespace)
    if namespace and not match:
        raise NotAStatement(
            Message(
                "{name} is XML in the namespace {namespace}, not an ISO 20022 camt.053 statement; "
                "nothing was imported.",
                name=name,
                namespace=namespace[:200],
            )
        )
    if match and match.group(1) != "053":
        raise NotAStatement(
            Message(
                "{name} is a camt.{number} file ({kind}), not a camt.053 bank statement; "
                "export the statement (camt.053) instead. Nothing was imported.",
                name=name,
                number=match.group(1),
                kind=KINDS.get(match.group(1), ANOTHER_KIND),
            )
        )
    return namespace, (match.group(2) if match else "")
