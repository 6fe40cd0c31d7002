"""The generic CSV reader alone (core/banking/formats/generic_csv.py): identify(), read() and the mapping.

tests/fixtures/generic-bank.csv read with ``GENERIC_MAPPING`` (the mapping tests/test_statement.py uses)
is compared with its golden file in tests/test_format_golden.py.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest

from core.banking.formats import StatementError, camt053, fio_csv, generic_csv, parse_mapping, pick_reader

FIXTURES = Path(__file__).parent / "fixtures"
GENERIC_CSV = FIXTURES / "generic-bank.csv"
OTHERS = [*sorted((FIXTURES / "camt053").glob("*.xml")), FIXTURES / "fio-export.csv"]
GENERIC_MAPPING = (
    "date=Date,amount=Amount,currency=Currency,vs=VS,counterparty=Name,account=Account,"
    "message=Message,id=ID,date_format=%d.%m.%Y,decimal=,,delimiter=;"
)
CREDIT_DEBIT = (
    "Posted,Description,Paid in,Paid out\n"
    '2026-04-01,"Client, Ltd VS 42","1,250.00",\n'
    "2026-04-02,Office rent,,800.00\n"
    "2026-04-02,Office rent,,800.00\n"
).encode("utf-8")


# -- identify ---------------------------------------------------------------------------------------


def test_identify_accepts_other_banks_csv_files():
    assert generic_csv.identify(GENERIC_CSV.read_bytes())
    assert generic_csv.identify(CREDIT_DEBIT)
    assert generic_csv.identify("Datum\tČástka\n1.3.2026\t5\n".encode("cp1250"))
    assert pick_reader(GENERIC_CSV.read_bytes()) is generic_csv


@pytest.mark.parametrize("path", OTHERS, ids=lambda p: p.name)
def test_identify_refuses_the_other_fixtures(path):
    assert not generic_csv.identify(path.read_bytes())


def test_the_generic_csv_is_not_taken_by_the_other_readers():
    data = GENERIC_CSV.read_bytes()
    assert not camt053.identify(data) and not fio_csv.identify(data)
    assert not generic_csv.identify(b"just one word\n") and pick_reader(b"just one word\n") is None


# -- read ---------------------------------------------------------------------------------------------


def test_read_with_the_mapping_skips_the_preamble():
    movements = generic_csv.read(GENERIC_CSV.read_bytes(), GENERIC_MAPPING, "generic-bank.csv")
    assert [(m.external_id, m.transaction_type, m.amount, m.currency, m.transacted_on) for m in movements] == [
        ("csv:TX-9001", "income", Decimal("12100.00"), "CZK", date(2026, 3, 3)),
        ("csv:TX-9002", "expense", Decimal("2450.90"), "CZK", date(2026, 3, 4)),
        ("csv:TX-9003", "income", Decimal("99.99"), "EUR", date(2026, 3, 17)),
    ]
    assert [m.reference for m in movements] == ["2026003", "", "2026004"]  # the last from /VS/ in the message


def test_read_takes_a_parsed_mapping_too():
    mapping = parse_mapping(GENERIC_MAPPING)
    assert generic_csv.read(GENERIC_CSV.read_bytes(), mapping) == generic_csv.read(
        GENERIC_CSV.read_bytes(), GENERIC_MAPPING
    )


def test_credit_and_debit_columns_the_account_currency_and_hashed_ids():
    mapping = "date=Posted,credit=Paid in,debit=Paid out,message=Description"
    result = generic_csv.parse(CREDIT_DEBIT, "bank.csv", mapping, account_currency="GBP")
    movements = result.movements
    assert [(m.transaction_type, m.amount, m.currency, m.reference) for m in movements] == [
        ("income", Decimal("1250.00"), "GBP", "42"),
        ("expense", Decimal("800.00"), "GBP", ""),
        ("expense", Decimal("800.00"), "GBP", ""),
    ]
    assert movements[0].external_id.startswith("csv:sha256:")
    assert movements[2].external_id == movements[1].external_id + "#2"
    assert result.label == "CSV" and result.warnings == []  # no id column: a repeat is two payments


def test_message_columns_are_joined_without_repeats():
    data = "Date;Amount;Currency;Message;Note\n2026-03-01;5;CZK;Rent;Rent\n2026-03-02;6;CZK;Rent;March\n"
    movements = generic_csv.read(data.encode("utf-8"), "date=Date,amount=Amount,currency=Currency,message=Message+Note")
    assert [m.description for m in movements] == ["Rent", "Rent | March"]


@pytest.mark.parametrize(
    "change,message",
    [
        (("-2 450,90", "abc"), "b.csv, row 5: the amount 'abc' is not a number; nothing was imported."),
        (
            ("17.03.2026", "2026-03-17"),
            "b.csv, row 6: the date '2026-03-17' is not a date (expected %d.%m.%Y); nothing was imported.",
        ),
        (("Currency", "Ccy"), "b.csv: no header line with the mapped columns (Date, Amount, Currency, VS,"),
    ],
)
def test_read_refuses_with_a_sentence_naming_file_and_row(change, message):
    data = GENERIC_CSV.read_text(encoding="utf-8").replace(*change).encode("utf-8")
    with pytest.raises(StatementError) as refused:
        generic_csv.read(data, GENERIC_MAPPING, "b.csv")
    assert str(refused.value).startswith(message)


@pytest.mark.parametrize(
    "mapping,message",
    [
        ("date=Date,amount=Amount,colour=Red", "unknown key 'colour'"),
        ("amount=Amount", "names no date column"),
        ("date=Date,amount=Amount,credit=In", "both an amount column and credit/debit columns"),
        ("date=Date,amount=Amount,delimiter=;;", "delimiter must be one character"),
        ("date=Date,message=A+", "gives no column name for 'message'"),
    ],
)
def test_a_bad_mapping_is_a_sentence(mapping, message):
    with pytest.raises(StatementError, match=message):
        parse_mapping(mapping)


@pytest.mark.parametrize(
    "change,message",
    [
        (("-2 450,90", "-٢ ٤٥٠,٩٠"), "b.csv, row 5: the amount '-٢ ٤٥٠,٩٠' is not a number"),
        (("17.03.2026", "١٧.٠٣.٢٠٢٦"), "b.csv, row 6: the date '١٧.٠٣.٢٠٢٦' is not a date (expected %d.%m.%Y)"),
        (("17.03.2026", "17.03.1900"), "b.csv, row 6: 1900-03-17 is outside the dates Fakturka accepts"),
    ],
    ids=["arabic-amount", "arabic-date", "year-1900"],
)
def test_hostile_values_are_refused_with_a_sentence(change, message):
    data = GENERIC_CSV.read_text(encoding="utf-8").replace(*change).encode("utf-8")
    with pytest.raises(StatementError) as refused:
        generic_csv.read(data, GENERIC_MAPPING, "b.csv")
    assert str(refused.value).startswith(message)


def test_guessed_amounts_and_dates_take_only_ascii_digits():
    data = "Date;Amount;Currency\n2026-03-01;١٢;CZK\n".encode()
    with pytest.raises(StatementError, match="the amount '١٢' is not a number"):
        generic_csv.read(data, "date=Date,amount=Amount,currency=Currency")
