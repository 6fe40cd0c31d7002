"""The Fio CSV reader alone (core/banking/formats/fio_csv.py): identify() and read(), no plugin, no database.

Every movement of tests/fixtures/fio-export.csv is compared with its golden file in
tests/test_format_golden.py; the plugin runs are in tests/test_statement.py.
"""

from __future__ import annotations

import codecs
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest

from core.banking.formats import StatementError, camt053, fio_csv, generic_csv, pick_reader

FIXTURES = Path(__file__).parent / "fixtures"
FIO_CSV = FIXTURES / "fio-export.csv"
OTHERS = [*sorted((FIXTURES / "camt053").glob("*.xml")), FIXTURES / "generic-bank.csv"]
INTERNET_BANKING = (
    '"Výpis č. 3/2026 z účtu ""2001234567/2010"""\n"Období: 01.03.2026 - 31.03.2026"\n\n'
    '"ID operace";"Datum";"Objem";"Měna";"Protiúčet";"Název protiúčtu";"Kód banky";"VS";'
    '"Uživatelská identifikace";"Zpráva pro příjemce";"Typ"\n'
    '"27737637241";"14.07.2026";"-20000";"CZK";"19-2000145399";"Žluťoučký kůň s.r.o.";"0800";"0099";'
    '"";"Záloha";"Bezhotovostní platba"\n'
)


# -- identify ---------------------------------------------------------------------------------------


def test_identify_accepts_the_fio_export_and_its_variants():
    assert fio_csv.identify(FIO_CSV.read_bytes())
    assert fio_csv.identify(INTERNET_BANKING.encode("cp1250"))  # "ID operace", Windows-1250
    assert fio_csv.identify(codecs.BOM_UTF16_LE + FIO_CSV.read_text(encoding="utf-8").encode("utf-16-le"))
    assert pick_reader(FIO_CSV.read_bytes()) is fio_csv


@pytest.mark.parametrize("path", OTHERS, ids=lambda p: p.name)
def test_identify_refuses_the_other_fixtures(path):
    assert not fio_csv.identify(path.read_bytes())


def test_the_fio_export_is_not_taken_by_the_other_readers():
    data = FIO_CSV.read_bytes()
    assert not camt053.identify(data) and not generic_csv.identify(data)


# -- read ---------------------------------------------------------------------------------------------


def test_read_returns_every_movement_signed_by_direction():
    movements = fio_csv.read(FIO_CSV.read_bytes(), "fio-export.csv")
    assert [(m.external_id, m.transaction_type, m.amount) for m in movements] == [
        ("fio:26500000101", "income", Decimal("24200.00")),
        ("fio:26500000102", "expense", Decimal("349.50")),
        ("fio:26500000103", "expense", Decimal("1500.00")),
        ("fio:26500000104", "income", Decimal("1000.00")),
        ("fio:26500000105", "income", Decimal("0.53")),
    ]
    first = movements[0]
    assert (first.transacted_on, first.currency, first.reference) == (date(2026, 3, 2), "CZK", "2026001")
    assert first.counterparty_account == "1234567890/0800"
    assert first.raw_data["account"] == "CZ6520100000002001234567"


def test_parse_names_the_account_from_the_preamble():
    result = fio_csv.parse(FIO_CSV.read_bytes(), "fio-export.csv")
    assert (result.label, result.accounts, result.warnings) == ("Fio CSV export", ["CZ6520100000002001234567"], [])


def test_read_of_the_internet_banking_variant():
    (movement,) = fio_csv.read(INTERNET_BANKING.encode("cp1250"))
    assert (movement.external_id, movement.amount, movement.counterparty_account, movement.description) == (
        "fio:27737637241",
        Decimal("20000"),
        "19-2000145399/0800",
        "Záloha",
    )


def test_a_repeated_movement_id_is_kept_with_a_warning():
    lines = FIO_CSV.read_text(encoding="utf-8").splitlines()
    result = fio_csv.parse(("\n".join(lines + [lines[-1]]) + "\n").encode("utf-8"), "f.csv")
    assert result.movements[-1].external_id == "fio:26500000105#2"
    assert result.warnings == [
        "f.csv, row 19: the movement 26500000105 appears more than once in this file; "
        "imported again as fio:26500000105#2."
    ]


@pytest.mark.parametrize(
    "change,message",
    [
        (('"-1 500,00"', '"-1 5OO,00"'), "f.csv, row 16: the amount '-1 5OO,00' (column Objem) is not a number"),
        (('"02.03.2026"', '"31.02.2026"'), "f.csv, row 14: the date '31.02.2026' (column Datum) is not a date"),
        (('"26500000103"', '""'), "f.csv, row 16: the movement has no ID pohybu"),
        (('"ID pohybu"', '"Id"'), "f.csv is not a Fio CSV export: no header line with 'ID pohybu'"),
    ],
)
def test_read_refuses_with_a_sentence_naming_file_and_row(change, message):
    data = FIO_CSV.read_text(encoding="utf-8").replace(*change).encode("utf-8")
    with pytest.raises(StatementError) as refused:
        fio_csv.read(data, "f.csv")
    assert str(refused.value).startswith(message)


def test_an_unreadable_encoding_is_refused():
    with pytest.raises(StatementError, match="odd.csv is not in a text encoding this plugin reads"):
        fio_csv.read(b"ID pohybu;Datum;Objem\n\x81\x98\x90;1;2\n", "odd.csv")


@pytest.mark.parametrize(
    "change,message",
    [
        (('"-1 500,00"', '"-١ ٥٠٠,٠٠"'), "f.csv, row 16: the amount '-١ ٥٠٠,٠٠' (column Objem) is not a number"),
        (
            ('"-1 500,00"', '"-１ ５００,００"'),
            "f.csv, row 16: the amount '-１ ５００,００' (column Objem) is not a number",
        ),
        (('"02.03.2026"', '"٠٢.٠٣.٢٠٢٦"'), "f.csv, row 14: the date '٠٢.٠٣.٢٠٢٦' (column Datum) is not a date"),
        (('"02.03.2026"', '"02.03.9999"'), "f.csv, row 14: 9999-03-02 is outside the dates Fakturka accepts"),
        (('"02.03.2026"', '"2026-W10-1"'), "f.csv, row 14: the date '2026-W10-1' (column Datum) is not a date"),
        (('"CZK";"1234567890"', '"ABC";"1234567890"'), "f.csv, row 14: 'ABC' is not a currency code"),
        (('"CZK";"1234567890"', '"XTS";"1234567890"'), "f.csv, row 14: XTS is not money"),
    ],
    ids=["arabic-amount", "full-width-amount", "arabic-date", "year-9999", "week-date", "not-iso", "xts"],
)
def test_hostile_values_are_refused_with_a_sentence_naming_file_and_row(change, message):
    data = FIO_CSV.read_text(encoding="utf-8").replace(*change, 1).encode("utf-8")
    with pytest.raises(StatementError) as refused:
        fio_csv.read(data, "f.csv")
    assert str(refused.value).startswith(message)
