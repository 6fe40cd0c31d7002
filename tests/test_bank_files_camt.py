"""Statement files as real banks write them (issue 15, the readers' part): date-times with offsets, entries
without a booking date, envelopes around the camt.053 Document, a Fio API file given to bank-statement,
ISO's "no currency" code and banks' placeholder texts.

The files are under tests/fixtures/camt053/shapes/ (written in the shapes real banks and tools use; their
origin is in tests/fixtures/SOURCES.md); the variants of one file are made from it here.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest

from core.banking.formats import NotAStatement, StatementError, camt053, fio_csv, parse_statement
from core.banking.formats.xml_paths import MAX_DEPTH

FIXTURES = Path(__file__).parent / "fixtures"
SHAPES = FIXTURES / "camt053" / "shapes"
FIO_CSV = FIXTURES / "fio-export.csv"
FIO_JSON = FIXTURES / "fio" / "fiobank-transactions.json"
ENVELOPES = ["envelope-bizmsgenvlp.xml", "envelope-swift.xml", "envelope-hdr-doc.xml"]


def shape(name: str) -> bytes:
    return (SHAPES / name).read_bytes()


def by_ref(result) -> dict:
    return {m.raw_data["acct_svcr_ref"]: m for m in result.movements}


# -- kind 1: a booking date-time with an offset is the account's calendar day ---------------------------


def test_a_utc_booking_date_time_is_the_day_in_prague():
    result = parse_statement(shape("booking-datetime-utc.xml"), "utc.xml")
    days = {ref: m.transacted_on for ref, m in by_ref(result).items()}
    assert days == {
        "UTC-1": date(2014, 1, 5),  # 23:00 UTC in winter is midnight in Prague, the value date's day
        "UTC-2": date(2014, 8, 1),  # 22:30 UTC in summer (CEST, +02:00) is 00:30 the next day
        "LOCAL-3": date(2014, 1, 4),  # no offset: taken as written
        "IST-4": date(2014, 3, 9),  # 01:30 in India is 21:00 the evening before in Prague
    }
    # what the bank wrote stays in raw_data
    assert by_ref(result)["UTC-1"].raw_data["booking_date"] == "2014-01-04T23:00:00.000Z"


def test_the_time_zone_setting_decides_the_day():
    result = parse_statement(shape("booking-datetime-utc.xml"), "utc.xml", timezone="UTC")
    days = {ref: m.transacted_on for ref, m in by_ref(result).items()}
    assert days["UTC-1"] == date(2014, 1, 4) and days["UTC-2"] == date(2014, 7, 31)
    new_york = parse_statement(shape("booking-datetime-utc.xml"), "utc.xml", timezone="America/New_York")
    assert by_ref(new_york)["UTC-1"].transacted_on == date(2014, 1, 4)


def test_a_value_date_time_is_converted_too():
    data = shape("booking-datetime-utc.xml").replace(
        b"<BookgDt><DtTm>2014-01-04T23:00:00.000Z</DtTm></BookgDt>\n        <ValDt><Dt>2014-01-05</Dt></ValDt>",
        b"<ValDt><DtTm>2014-01-04T23:30:00Z</DtTm></ValDt>",
    )
    assert b"BookgDt><DtTm>2014-01-04T23:00:00.000Z" not in data
    assert by_ref(parse_statement(data, "v.xml"))["UTC-1"].transacted_on == date(2014, 1, 5)


@pytest.mark.parametrize("zone", ["Mars/Olympus", "../etc/passwd", "", "Europe", "x" * 5000])
def test_an_unknown_time_zone_is_refused_naming_the_setting(zone):
    with pytest.raises(StatementError) as refused:
        parse_statement(shape("booking-datetime-utc.xml"), "utc.xml", timezone=zone)
    message = str(refused.value)
    assert "Time zone (timezone)" in message and "Europe/Prague" in message
    assert not isinstance(refused.value, NotAStatement)


def test_a_date_time_that_is_no_time_is_refused_with_a_sentence():
    data = shape("booking-datetime-utc.xml").replace(b"2014-01-04T23:00:00.000Z", b"2014-01-04T25:61:00Z")
    with pytest.raises(StatementError) as refused:
        parse_statement(data, "bad.xml")
    message = str(refused.value)
    assert message.startswith("bad.xml, statement 2014-001, entry 1: the booking date '2014-01-04T25:61:00Z' is not")


# -- kind 2: entries without a booking date ----------------------------------------------------------------


def test_entries_without_a_booking_date_take_the_value_date_then_the_statement_period():
    result = parse_statement(shape("no-booking-date.xml"), "period.xml")
    days = {ref: m.transacted_on for ref, m in by_ref(result).items()}
    assert days == {
        "BOOKED-1": date(2014, 1, 8),
        "VALUE-2": date(2014, 1, 10),
        "VALUE-3": date(2014, 1, 15),  # 23:30 UTC is 00:30 in Prague
        "PERIOD-4": date(2014, 1, 31),  # ToDtTm 22:59:59 UTC is 23:59:59 in Prague
    }
    assert [w for w in result.warnings if "booking date" in w] == [
        "period.xml: 3 entries have no booking date (BookgDt); 2 were dated by their value date (ValDt) "
        "and 1 by the end of its statement's period (FrToDt/ToDtTm) or its creation (CreDtTm)."
    ]


def test_without_a_period_the_statement_creation_dates_the_entry():
    data = shape("no-booking-date.xml")
    start, end = data.index(b"<FrToDt>"), data.index(b"</FrToDt>") + len(b"</FrToDt>")
    data = data[:start] + data[end:]
    result = parse_statement(data, "created.xml")
    assert by_ref(result)["PERIOD-4"].transacted_on == date(2014, 2, 1)  # CreDtTm 2014-02-01T07:15+01:00


def test_an_entry_with_no_date_at_all_is_refused_naming_the_entry():
    data = shape("no-booking-date.xml")
    for tag in (b"FrToDt", b"CreDtTm"):
        while b"<" + tag + b">" in data:
            start, end = data.index(b"<" + tag + b">"), data.index(b"</" + tag + b">") + len(tag) + 3
            data = data[:start] + data[end:]
    with pytest.raises(StatementError) as refused:
        parse_statement(data, "nodate.xml")
    message = str(refused.value)
    assert message.startswith("nodate.xml, statement STMT-2014-01, entry 4 has no booking date (BookgDt)")
    assert "nothing was imported" in message


# -- kind 3: an envelope around the Document ----------------------------------------------------------------


@pytest.mark.parametrize("name", ENVELOPES)
def test_a_statement_in_an_envelope_is_read(name):
    data = shape(name)
    assert camt053.identify(data)
    result = parse_statement(data, name)
    assert [(m.external_id, m.transaction_type, m.amount, m.currency, m.transacted_on) for m in result.movements] == [
        ("CZ6508000000192000145399:ENV-1", "income", Decimal("24200.00"), "CZK", date(2026, 3, 2)),
        ("CZ6508000000192000145399:ENV-2", "expense", Decimal("349.50"), "CZK", date(2026, 3, 5)),
    ]
    assert result.movements[0].reference == "2026001" and result.movements[0].counterparty == "Acme s.r.o."
    assert result.accounts == ["CZ6508000000192000145399"]
    assert result.label.startswith("camt.053.001.0")


def test_an_envelope_reads_the_same_movements_as_its_bare_document():
    data = shape("envelope-swift.xml")
    start, end = data.index(b"<Document"), data.index(b"</Document>") + len(b"</Document>")
    bare = parse_statement(data[start:end], "bare.xml").movements
    wrapped = parse_statement(data, "bare.xml").movements
    assert wrapped == bare


def test_an_envelope_without_a_camt053_document_is_not_a_statement():
    pain = shape("envelope-swift.xml").replace(b"camt.053.001.08", b"camt.052.001.08")
    with pytest.raises(NotAStatement) as refused:
        parse_statement(pain, "report.xml")
    assert str(refused.value).startswith("report.xml is a camt.052 file (an account report)")
    header_only = b'<Envelope><AppHdr xmlns="urn:iso:std:iso:20022:tech:xsd:head.001.001.02"/></Envelope>'
    with pytest.raises(NotAStatement) as refused:
        parse_statement(header_only, "hdr.xml")
    assert str(refused.value).startswith("hdr.xml is XML but not an ISO 20022 camt.053 statement")


def test_the_depth_limit_holds_inside_an_envelope():
    data = (
        shape("envelope-bizmsgenvlp.xml")
        .replace(b"<BizMsgEnvlp>", b"<BizMsgEnvlp>" + b"<w>" * MAX_DEPTH)
        .replace(b"</BizMsgEnvlp>", b"</w>" * MAX_DEPTH + b"</BizMsgEnvlp>")
    )
    with pytest.raises(StatementError) as refused:
        parse_statement(data, "deep.xml")
    assert "nested more than 64 levels deep" in str(refused.value)


# -- kind 10a: a Fio API file given to bank-statement ---------------------------------------------------------


@pytest.mark.parametrize("fmt", ["auto", "fio-csv", "camt053"])
def test_a_fio_api_json_file_points_to_the_fio_plugin(fmt):
    with pytest.raises(NotAStatement) as refused:  # a folder skips it with this sentence as its warning
        parse_statement(FIO_JSON.read_bytes(), "fio.json", fmt=fmt)
    message = str(refused.value)
    assert message.startswith("fio.json is a statement from Fio's API (JSON)")
    assert "fio plugin" in message and "fakturka plugins configure fio --secret token" in message


def test_a_compact_fio_api_answer_is_recognised_too():
    data = b'\xef\xbb\xbf{"accountStatement":{"info":{},"transactionList":{"transaction":[]}}}'
    with pytest.raises(NotAStatement, match="fio plugin"):
        parse_statement(data, "fio.json")


# -- kind 10b: ISO's "no currency" code --------------------------------------------------------------------


def test_xxx_takes_the_account_currency_with_a_warning():
    result = parse_statement(shape("placeholders-no-currency.xml"), "ph.xml")
    movements = by_ref(result)
    assert {ref: m.currency for ref, m in movements.items()} == {"PH-1": "EUR", "PH-2": "EUR", "PH-3": "EUR"}
    assert movements["PH-1"].raw_data["currency_written"] == "XXX"
    # entry 2 has no Ccy: the account's Ccy says what it is, as before (ISO: an entry is in the account's currency)
    assert [w for w in result.warnings if "currency" in w] == [
        "ph.xml, statement PH-2026-03, entry 1: the amount's currency is XXX (ISO's 'no currency'); "
        "read in EUR, the currency of the statement's account."
    ]


def test_the_balance_currency_stands_in_for_a_missing_account_currency():
    data = shape("placeholders-no-currency.xml").replace(
        b"<Ccy>EUR</Ccy>",
        b'</Acct><Bal><Tp><CdOrPrtry><Cd>OPBD</Cd></CdOrPrtry></Tp><Amt Ccy="EUR">1.00</Amt>'
        b"<CdtDbtInd>CRDT</CdtDbtInd><Dt><Dt>2026-03-01</Dt></Dt></Bal><Acct>",
    )
    result = parse_statement(data, "bal.xml")
    assert [m.currency for m in result.movements] == ["EUR", "EUR", "EUR"]
    assert [w for w in result.warnings if "currency" in w] == [
        "bal.xml, statement PH-2026-03, entry 1 (and 1 more entry): the amount's currency is XXX (ISO's "
        "'no currency') or not given; read in EUR, the currency of the statement's balance."
    ]


def test_xxx_without_an_account_currency_is_refused_naming_the_setting():
    data = shape("placeholders-no-currency.xml").replace(b"<Ccy>EUR</Ccy>", b"")
    with pytest.raises(StatementError) as refused:
        parse_statement(data, "ph.xml")
    message = str(refused.value)
    assert message.startswith("ph.xml, statement PH-2026-03, entry 1:")
    assert "XXX" in message and "Account currency (account_currency)" in message
    assert parse_statement(data, "ph.xml", account_currency="EUR").movements[0].currency == "EUR"


def test_a_fio_csv_row_with_xxx_takes_the_export_currency_with_a_warning():
    data = FIO_CSV.read_bytes().replace(b'"-349,50";"CZK"', b'"-349,50";"XXX"')
    assert b'"XXX"' in data
    result = fio_csv.parse(data, "fio.csv")
    assert [m.currency for m in result.movements] == ["CZK"] * 5
    assert [w for w in result.warnings if "currency" in w] == [
        "fio.csv, row 15: the currency (column Měna) is XXX (ISO's 'no currency'); read in CZK, "
        "the currency of the export's account."
    ]


def test_a_fio_csv_row_with_xxx_and_no_account_currency_is_refused_naming_the_setting():
    data = FIO_CSV.read_bytes().replace(b'"currency";"CZK"\r\n', b"").replace(b'"-349,50";"CZK"', b'"-349,50";"XXX"')
    with pytest.raises(StatementError) as refused:
        fio_csv.parse(data, "fio.csv")
    assert str(refused.value).startswith("fio.csv, row 14:")
    assert "Account currency (account_currency)" in str(refused.value)


# -- kind 10c: placeholder texts ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text,kept",
    [
        ("NOTPROVIDED", ""),
        ("notprovided", ""),
        ("Not Provided", ""),
        ("  N/A ", ""),
        ("NONREF", ""),
        ("NOREF", ""),
        ("unknown", ""),
        ("-", ""),
        ("", ""),
        ("Acme s.r.o.", "Acme s.r.o."),
        ("N/A Consulting", "N/A Consulting"),  # only a whole value is a placeholder
        ("Unknown Pleasures Ltd", "Unknown Pleasures Ltd"),
        ("--", "--"),
    ],
)
def test_meaningful_drops_only_a_whole_placeholder(text, kept):
    from core.banking.formats.movement import meaningful  # the shared helper (generic CSV uses it too)

    assert meaningful(text) == kept


def test_camt_placeholders_are_left_out_and_counted():
    result = parse_statement(shape("placeholders-no-currency.xml"), "ph.xml")
    movements = by_ref(result)
    one, two, three = movements["PH-1"], movements["PH-2"], movements["PH-3"]
    assert (one.counterparty, one.description, one.reference) == ("", "", "")
    assert (two.counterparty, two.description) == ("", "Rechnung 2026-17")
    assert two.counterparty_account == "DE02120300000000202051"
    assert (three.counterparty, three.description, three.reference) == ("Jana Novakova", "", "2026005")
    # the bank's text stays in raw_data
    assert one.raw_data["transactions"][0]["debtor"] == "NOTPROVIDED"
    assert one.raw_data["transactions"][0]["end_to_end_id"] == "NOTPROVIDED"
    assert two.raw_data["additional_info"] == "-"
    assert [w for w in result.warnings if "placeholder" in w] == [
        "ph.xml: 5 placeholder texts such as NOTPROVIDED were left out of descriptions and counterparties "
        "(they are kept in each movement's raw data)."
    ]


def test_fio_csv_placeholders_are_left_out_and_counted():
    data = (
        FIO_CSV.read_bytes()
        .replace(b'"Pronaj\xc3\xadmatel s.r.o."', b'"N/A"')
        .replace(b'"N\xc3\xa1jem 03/2026";"N\xc3\xa1jem 03/2026"', b'"NOTPROVIDED";"-"')
    )
    assert b'"N/A"' in data and b'"NOTPROVIDED";"-"' in data
    result = fio_csv.parse(data, "fio.csv")
    rent = next(m for m in result.movements if m.external_id == "fio:26500000103")
    assert rent.counterparty == "" and rent.description == "Bezhotovostní platba"  # the Typ column
    assert rent.raw_data["Název protiúčtu"] == "N/A" and rent.raw_data["Poznámka"] == "NOTPROVIDED"
    assert [w for w in result.warnings if "placeholder" in w] == [
        "fio.csv: 3 placeholder texts such as NOTPROVIDED were left out of descriptions and counterparties "
        "(they are kept in each movement's raw data)."
    ]


def test_a_file_without_placeholders_or_odd_dates_gains_no_warning():
    result = parse_statement((FIXTURES / "camt053" / "camt053.v8.xml").read_bytes(), "v8.xml")
    assert not [w for w in result.warnings if "placeholder" in w or "booking date" in w or "currency" in w]
    assert fio_csv.parse(FIO_CSV.read_bytes(), "fio.csv").warnings == []
