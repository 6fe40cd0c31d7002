"""The camt.053 reader alone (core/banking/formats/camt053.py): identify() and read(), no plugin, no database.

The plugin-level behaviour (logs, folders, re-import) is in tests/test_statement.py; every fixture's
movements are compared field by field with tests/fixtures/golden/ in tests/test_format_golden.py.
"""

from __future__ import annotations

import codecs
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest

from core.banking.formats import StatementError, camt053, fio_csv, generic_csv, pick_reader

FIXTURES = Path(__file__).parent / "fixtures"
CAMT = FIXTURES / "camt053"
OTHERS = [FIXTURES / "fio-export.csv", FIXTURES / "generic-bank.csv"]
ACCOUNT = "NL26VAYB8060476890"


def statement(entries: str, version: str = "02") -> bytes:
    return (
        f'<?xml version="1.0" encoding="UTF-8"?>\n'
        f'<Document xmlns="urn:iso:std:iso:20022:tech:xsd:camt.053.001.{version}"><BkToCstmrStmt>'
        f"<Stmt><Id>S-1</Id><Acct><Id><IBAN>CZ6508000000192000145399</IBAN></Id><Ccy>CZK</Ccy></Acct>"
        f"{entries}</Stmt></BkToCstmrStmt></Document>"
    ).encode("utf-8")


def entry(amount="100.00", ind="CRDT", sts="BOOK", ref="R1") -> str:
    return (
        f"<Ntry><Amt>{amount}</Amt><CdtDbtInd>{ind}</CdtDbtInd><Sts>{sts}</Sts>"
        f"<BookgDt><Dt>2026-03-02</Dt></BookgDt><AcctSvcrRef>{ref}</AcctSvcrRef></Ntry>"
    )


# -- identify ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("path", sorted(CAMT.glob("*.xml")), ids=lambda p: p.name)
def test_identify_accepts_every_camt053_fixture(path):
    assert camt053.identify(path.read_bytes())  # the wrong one too: it is camt.053, refused by read()


@pytest.mark.parametrize("path", OTHERS, ids=lambda p: p.name)
def test_identify_refuses_the_csv_fixtures(path):
    assert not camt053.identify(path.read_bytes())


def test_identify_reads_utf16_and_refuses_other_xml():
    text = (CAMT / "camt053.v3.xml").read_text(encoding="utf-8")
    assert camt053.identify(codecs.BOM_UTF16_LE + text.encode("utf-16-le"))
    assert not camt053.identify(b"<invoice/>")
    assert not camt053.identify(statement(entry()).replace(b"camt.053", b"camt.052").replace(b"Stmt", b"Rpt"))


def test_pick_reader_sends_every_xml_to_camt053():
    assert pick_reader((CAMT / "camt053.v8.xml").read_bytes()) is camt053
    assert pick_reader(b"<invoice/>") is camt053  # so its refusal says why it is not a statement
    assert not fio_csv.identify(b"<invoice/>") and not generic_csv.identify(b"<invoice/>")


# -- read ---------------------------------------------------------------------------------------------


def test_read_returns_the_movements_of_a_fixture():
    movements = camt053.read((CAMT / "camt053.v2.multi.statement.xml").read_bytes())
    assert [(m.transaction_type, m.amount, m.currency, m.transacted_on, m.reference) for m in movements] == [
        ("income", Decimal("8.85"), "EUR", date(2014, 12, 31), "000000001"),
        ("expense", Decimal("7.00"), "EUR", date(2014, 12, 31), "000000002"),
    ]
    assert movements[1].counterparty == "Company Name 2"
    assert all(m.external_id.startswith(f"{ACCOUNT}:sha256:") for m in movements)


def test_read_of_v8_takes_the_date_part_of_a_date_time_and_the_servicer_reference():
    (movement,) = camt053.read((CAMT / "camt053.v8.xml").read_bytes())
    assert movement.external_id == f"{ACCOUNT}:AAAASESS-FP-CN_98765/01"
    assert movement.transacted_on == date(2014, 12, 31) and movement.counterparty == "NAME NAME"


def test_the_wrong_fixture_is_refused_with_a_sentence():
    with pytest.raises(StatementError) as refused:
        camt053.read((CAMT / "camt053.v2.wrong.xml").read_bytes(), "camt053.v2.wrong.xml")
    assert str(refused.value) == (
        "camt053.v2.wrong.xml holds no statement (no Stmt element), so there is nothing to import; "
        "nothing was imported. Export the statement from the bank again."
    )


def test_pending_entries_are_left_out_unless_asked_for():
    data = statement(entry("1.00", ref="B") + entry("2.00", sts="PDNG", ref="P"))
    assert [m.amount for m in camt053.read(data)] == [Decimal("1.00")]
    assert [m.amount for m in camt053.read(data, include_pending=True)] == [Decimal("1.00"), Decimal("2.00")]
    result = camt053.parse(data, "s.xml")
    assert result.pending == 1 and result.label == "camt.053.001.02" and result.accounts == ["CZ6508000000192000145399"]


def test_the_currency_falls_back_to_the_account_and_a_debit_is_an_expense():
    (movement,) = camt053.read(statement(entry("12.50", "DBIT")))
    assert (movement.transaction_type, movement.amount, movement.currency) == ("expense", Decimal("12.50"), "CZK")


def test_an_untested_version_is_read_with_a_warning():
    result = camt053.parse(statement(entry(), version="12"), "s.xml")
    assert len(result.movements) == 1
    assert result.warnings == [
        "s.xml: camt.053.001.12 is not one of the versions this plugin was tested with (.02 to .08); read like them."
    ]


@pytest.mark.parametrize(
    "data,message",
    [
        (b"<Document><BkToCstmrStmt>", "x.xml is not well-formed XML ("),
        (b"<invoice/>", "x.xml is XML but not an ISO 20022 camt.053 statement"),
        (statement(entry()).replace(b"camt.053", b"camt.054"), "x.xml is a camt.054 file (a debit/credit notif"),
        (statement(entry(amount="1,00")), "x.xml, statement S-1, entry 1: the amount '1,00' is not a number"),
        (b'<!DOCTYPE d [<!ENTITY a "a">]><Document/>', "x.xml contains a DTD or entity declarations"),
    ],
)
def test_read_refuses_with_a_sentence_naming_the_file(data, message):
    with pytest.raises(StatementError) as refused:
        camt053.read(data, "x.xml")
    assert str(refused.value).startswith(message)


@pytest.mark.parametrize(
    "data,message",
    [
        (
            b'<Document xmlns="urn:iso:std:iso:20022:tech:xsd:camt.053.001.02">'
            + b"<a>" * 100_000
            + b"</a>" * 100_000
            + b"</Document>",
            "x.xml, line 1: the XML is nested more than 64 levels deep",
        ),
        (
            b'<?xml version="1.0" encoding="klingon"?>' + statement(entry()),
            "x.xml declares a text encoding this plugin cannot read (unknown encoding: klingon)",
        ),
        (
            b'<?xml version="1.0" encoding="utf-32"?>' + statement(entry()),
            "x.xml declares a text encoding this plugin cannot read",
        ),
        (
            statement(entry()).replace(b"<Amt>", b'<Amt Ccy="ABC">'),
            "x.xml, statement S-1, entry 1: 'ABC' is not a currency",
        ),
        (
            # XXX ("no currency") takes the account's currency with a warning (tests/test_bank_files_camt.py);
            # with no account currency to take, it is refused naming the setting.
            statement(entry()).replace(b"<Amt>", b'<Amt Ccy="XXX">').replace(b"<Ccy>CZK</Ccy>", b""),
            "x.xml, statement S-1, entry 1: the amount's currency is XXX (ISO's 'no currency') and the "
            "statement names no account currency",
        ),
        (statement(entry(amount="١٠٠.٠٠")), "x.xml, statement S-1, entry 1: the amount '١٠٠.٠٠' is not a number"),
        (statement(entry(amount="１００")), "x.xml, statement S-1, entry 1: the amount '１００' is not a number"),
        (
            statement(entry()).replace(b"2026-03-02", b"2026-W10-1"),
            "x.xml, statement S-1, entry 1: the booking date '2026-W10-1' is not a date (YYYY-MM-DD)",
        ),
        (
            statement(entry()).replace(b"2026-03-02", b"20260302"),
            "x.xml, statement S-1, entry 1: the booking date '20260302' is not a date (YYYY-MM-DD)",
        ),
        (
            statement(entry()).replace(b"2026-03-02", b"9999-03-02"),
            "x.xml, statement S-1, entry 1: 9999-03-02 is outside the dates Fakturka accepts",
        ),
        (
            statement(entry()).replace(b"2026-03-02", "２０２６-03-02".encode()),
            "x.xml, statement S-1, entry 1: the booking date '２０２６-03-02' is not a date",
        ),
    ],
    ids=[
        "deep",
        "unknown-encoding",
        "utf-32",
        "not-iso",
        "xxx",
        "arabic",
        "full-width",
        "week",
        "basic",
        "9999",
        "fw-date",
    ],
)
def test_hostile_input_is_refused_with_a_sentence_naming_the_file(data, message):
    with pytest.raises(StatementError) as refused:
        camt053.read(data, "x.xml")
    assert str(refused.value).startswith(message)


def test_a_variable_symbol_is_written_in_ascii_digits():
    data = statement(entry().replace("</Ntry>", "<AddtlNtryInf>VS ١٢٣٤</AddtlNtryInf></Ntry>"))
    (movement,) = camt053.read(data)
    assert movement.reference == ""
