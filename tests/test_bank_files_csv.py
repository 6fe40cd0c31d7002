"""Issue 15, the CSV kinds: direction and state columns, footer lines, the order of day and month, and the
bank presets (core/banking/formats/generic_csv.py, csv_dialect.py, presets.py; core/plugins/statement.py).

The preset files in tests/fixtures/csv-shapes/ are written in the exact shape of each bank's export
(tests/fixtures/SOURCES.md says where each shape comes from).
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest

from core.banking.formats import StatementError, generic_csv, parse_mapping
from core.banking.formats.csv_dialect import DAY_FIRST, MONTH_FIRST, DateOrderError, infer_date_order
from core.banking.formats.presets import PRESET_NAMES, PRESETS
from core.plugins.statement import BankStatementImport
from core.plugins.testing import PluginTestKit, run_plugin

FIXTURES = Path(__file__).parent / "fixtures"
SHAPES = FIXTURES / "csv-shapes"


def run(path, **settings):
    return run_plugin(BankStatementImport, settings={"path": str(path), **settings})


def seen(movements) -> list[tuple]:
    return [(m.transacted_on, m.transaction_type, m.amount, m.currency) for m in movements]


def logged(result, text: str) -> bool:
    return any(text in line for line in result.log)


# -- kind 5: the direction in a column of its own ------------------------------------------------------

# ING (NL) writes every amount unsigned and the direction in "Af Bij".
AF_BIJ = (
    '"Datum";"Naam / Omschrijving";"Af Bij";"Bedrag (EUR)"\n'
    '"20260305";"Beta B.V.";"Bij";"1210,00"\n'
    '"20260304";"Albert Heijn";"Af";"23,45"\n'
    '"20260303";"Refund";"bij";"-5,00"\n'
).encode()
DIRECTION = (
    "date=Datum,direction=Af Bij,debit_values=Af,credit_values=Bij,amount=Bedrag (EUR),"
    "counterparty=Naam / Omschrijving,decimal=,"
)


def test_a_direction_column_decides_income_and_expense():
    movements = generic_csv.read(AF_BIJ, DIRECTION, "ing.csv", account_currency="EUR")
    assert seen(movements) == [
        (date(2026, 3, 5), "income", Decimal("1210.00"), "EUR"),
        (date(2026, 3, 4), "expense", Decimal("23.45"), "EUR"),
        (date(2026, 3, 3), "income", Decimal("5.00"), "EUR"),  # the sign of the amount is not read
    ]


def test_several_direction_values_and_an_unknown_one_refused():
    data = "Date;Type;Amount\n2026-03-01;DBIT;5\n2026-03-02;C;6\n2026-03-03;X;7\n".encode()
    mapping = "date=Date,direction=Type,debit_values=D+DBIT,credit_values=C+CRDT,amount=Amount"
    with pytest.raises(StatementError) as refused:
        generic_csv.read(data, mapping, "d.csv", account_currency="CZK")
    assert str(refused.value) == (
        "d.csv, row 4: the direction 'X' is none of the mapping's debit_values (d+dbit) or credit_values "
        "(c+crdt); add it to one of them in the CSV column mapping; nothing was imported."
    )
    ok = generic_csv.read(data.replace(b";X;", b";CRDT;"), mapping, "d.csv", account_currency="CZK")
    assert [m.transaction_type for m in ok] == ["expense", "income", "income"]


def test_the_same_row_with_another_direction_is_another_movement():
    data = "Date;Type;Amount\n2026-03-01;D;5\n2026-03-01;C;5\n".encode()
    movements = generic_csv.read(
        data, "date=Date,direction=Type,debit_values=D,credit_values=C,amount=Amount", account_currency="CZK"
    )
    assert movements[0].external_id != movements[1].external_id and "#" not in movements[1].external_id


@pytest.mark.parametrize(
    "mapping,message",
    [
        ("date=D,amount=A,direction=T", "names a direction column but not both of its values"),
        ("date=D,amount=A,direction=T,debit_values=D", "names a direction column but not both of its values"),
        ("date=D,amount=A,debit_values=D,credit_values=C", "gives debit_values or credit_values but no direction"),
        ("date=D,credit=In,debit=Out,direction=T,debit_values=D,credit_values=C", "goes with one amount column"),
        ("date=D,amount=A,direction=T,debit_values=D,credit_values=d", "'d' both as a debit value and a credit"),
        ("date=D,amount=A,state=S", "needs both a state column and the states to import"),
        ("date=D,amount=A,import_states=DONE", "needs both a state column and the states to import"),
    ],
)
def test_a_bad_direction_or_state_mapping_is_a_sentence(mapping, message):
    with pytest.raises(StatementError, match=message):
        parse_mapping(mapping)


# -- kind 6: a state column --------------------------------------------------------------------------------


def test_rows_in_other_states_are_skipped_and_counted_per_state():
    result = generic_csv.parse((SHAPES / "revolut.csv").read_bytes(), "revolut.csv", PRESETS["revolut"].mapping)
    assert len(result.movements) == 3
    assert "revolut.csv: 4 rows skipped by state: PENDING 2, DECLINED 1, REVERTED 1 (only COMPLETED is imported)." in (
        result.warnings
    )


# -- kind 7: lines after the last movement -----------------------------------------------------------------

WITH_FOOTER = (
    "Date;Amount;Currency;Message\n"
    "2026-03-01;100,00;CZK;Invoice 1\n"
    "2026-03-02;-40,00;CZK;Rent\n"
    ";;;\n"
    "Closing balance;60,00;CZK\n"
    "Total;2\n"
    ";60,00\n"
).encode()
MAPPING = "date=Date,amount=Amount,currency=Currency,message=Message"


def test_footer_lines_after_the_last_movement_are_skipped_counted_and_logged():
    result = generic_csv.parse(WITH_FOOTER, "f.csv", MAPPING)
    assert seen(result.movements) == [
        (date(2026, 3, 1), "income", Decimal("100.00"), "CZK"),
        (date(2026, 3, 2), "expense", Decimal("40.00"), "CZK"),
    ]
    assert result.warnings == [
        "f.csv, row 5: 3 lines after the last movement are no movement (the first: 'Closing balance; 60,00; CZK'); "
        "skipped."
    ]


def test_the_plugin_logs_the_footer_and_imports_the_movements(tmp_path):
    path = tmp_path / "f.csv"
    path.write_bytes(WITH_FOOTER)
    result = run(path, csv_mapping=MAPPING)
    assert result.status == "completed", result.error
    assert len(result.transactions) == 2 and logged(result, "3 lines after the last movement are no movement")


def test_a_line_without_a_date_among_the_movements_is_still_refused():
    data = WITH_FOOTER.replace(b"2026-03-02;-40,00", b"Subtotal;-40,00", 1) + b"2026-03-09;5,00;CZK;Late\n"
    with pytest.raises(StatementError) as refused:
        generic_csv.read(data, MAPPING, "f.csv")
    assert str(refused.value).startswith("f.csv, row 3: the date 'Subtotal' is not a date")
    moved = WITH_FOOTER.replace(b"Total;2\n", b"Total;2\n2026-03-09;5,00;CZK;Late\n")
    with pytest.raises(StatementError, match=r"f.csv, row 5: the date 'Closing balance' is not a date"):
        generic_csv.read(moved, MAPPING, "f.csv")


def test_a_last_movement_with_a_malformed_date_or_amount_is_refused_not_skipped():
    with pytest.raises(StatementError, match=r"row 3: the date '2026/13/02' is not a date"):
        generic_csv.read(WITH_FOOTER.replace(b"2026-03-02", b"2026/13/02"), MAPPING, "f.csv")
    with pytest.raises(StatementError, match=r"row 3: the amount 'abc' is not a number"):
        generic_csv.read(WITH_FOOTER.replace(b"-40,00", b"abc"), MAPPING, "f.csv")


# -- kind 8: day-first or month-first, from the whole file ------------------------------------------------


def dated(*days: str) -> bytes:
    return ("Date;Amount;Currency\n" + "".join(f"{day};1;CZK\n" for day in days)).encode()


def test_one_date_proves_day_first_for_the_whole_file():
    movements = generic_csv.read(dated("03/11/2026", "25/11/2026"), "date=Date,amount=Amount,currency=Currency")
    assert [m.transacted_on for m in movements] == [date(2026, 11, 3), date(2026, 11, 25)]


def test_one_date_proves_month_first_for_the_whole_file():
    movements = generic_csv.read(dated("03/11/2026", "11/25/2026"), "date=Date,amount=Amount,currency=Currency")
    assert [m.transacted_on for m in movements] == [date(2026, 3, 11), date(2026, 11, 25)]


def test_day_first_dashes_are_read_too():
    movements = generic_csv.read(dated("21-06-2019", "02-07-2019"), "date=Date,amount=Amount,currency=Currency")
    assert [m.transacted_on for m in movements] == [date(2019, 6, 21), date(2019, 7, 2)]


@pytest.mark.parametrize(
    "days,reason,example",
    [
        (
            ("03/11/2026", "04/11/2026"),
            "every date such as '03/11/2026' reads both day-first and month-first",
            "date_format=%d/%m/%Y (day-first) or date_format=%m/%d/%Y (month-first)",
        ),
        (
            ("25/11/2026", "11/25/2026"),
            "'25/11/2026' is day-first but '11/25/2026' is month-first",
            "date_format=%d/%m/%Y (day-first) or date_format=%m/%d/%Y (month-first)",
        ),
        (
            ("03-11-2026",),
            "every date such as '03-11-2026' reads both day-first and month-first",
            "date_format=%d-%m-%Y (day-first) or date_format=%m-%d-%Y (month-first)",
        ),
    ],
    ids=["ambiguous", "both", "dashes"],
)
def test_a_file_that_cannot_tell_is_refused_naming_date_format(days, reason, example):
    with pytest.raises(StatementError) as refused:
        generic_csv.read(dated(*days), "date=Date,amount=Amount,currency=Currency", "d.csv")
    assert str(refused.value) == (
        f"d.csv: the dates do not tell day from month ({reason}); set date_format in the CSV column mapping, "
        f"e.g. {example}. Nothing was imported."
    )


def test_a_date_format_setting_decides_without_inference():
    movements = generic_csv.read(dated("03/11/2026"), "date=Date,amount=Amount,currency=Currency,date_format=%m/%d/%Y")
    assert movements[0].transacted_on == date(2026, 3, 11)


def test_an_unreadable_date_names_the_date_format_setting():
    with pytest.raises(StatementError) as refused:
        generic_csv.read(dated("21 June 2019"), "date=Date,amount=Amount,currency=Currency", "d.csv")
    assert str(refused.value).startswith("d.csv, row 2: the date '21 June 2019' is not a date in a form")
    assert "set date_format in the CSV column mapping" in str(refused.value)


def test_the_inference_itself():
    assert infer_date_order(["2026-03-01", "01.03.2026"]) == DAY_FIRST  # nothing depends on the order
    assert infer_date_order(["01/01/2026", "12/12/2026"]) == DAY_FIRST  # each reads the same either way
    assert infer_date_order(["01/02/2026", "01/13/2026 10:00"]) == MONTH_FIRST
    with pytest.raises(DateOrderError) as both:
        infer_date_order(["13/01/2026", "01/13/2026"])
    assert both.value.conflict


# -- presets ---------------------------------------------------------------------------------------------------


def test_every_preset_has_a_bank_an_export_and_a_format():
    assert set(PRESET_NAMES) >= {"fio", "revolut", "airbank", "dkb", "ing-nl"}
    for preset in PRESETS.values():
        assert preset.bank and preset.export and preset.format in ("csv", "fio-csv")
        if preset.format == "csv":
            parse_mapping(preset.mapping)  # a preset's mapping is valid
    field = next(f for f in BankStatementImport.fields if f.key == "preset")
    assert field.kind == "choice" and field.choices == PRESET_NAMES
    assert all(name in field.help for name in PRESET_NAMES)


PRESET_FILES = {
    "revolut": (
        "revolut.csv",
        [
            (date(2026, 3, 2), "income", Decimal("1210.00"), "EUR"),
            (date(2026, 3, 4), "expense", Decimal("4.50"), "EUR"),  # the completed day, not the started one
            (date(2026, 3, 5), "expense", Decimal("100.50"), "EUR"),  # the fee is charged on top
        ],
    ),
    "airbank": (
        "airbank.csv",
        [
            (date(2026, 3, 3), "income", Decimal("12100.00"), "CZK"),
            (date(2026, 3, 4), "expense", Decimal("2450.90"), "CZK"),
            (date(2026, 3, 17), "expense", Decimal("189.00"), "CZK"),
        ],
    ),
    "dkb": (
        "dkb.csv",
        [
            (date(2026, 3, 30), "income", Decimal("1500.00"), "EUR"),
            (date(2026, 3, 2), "expense", Decimal("85.00"), "EUR"),
        ],
    ),
    "ing-nl": (
        "ing-nl.csv",
        [
            (date(2026, 3, 5), "income", Decimal("1210.00"), "EUR"),
            (date(2026, 3, 4), "expense", Decimal("23.45"), "EUR"),
            (date(2026, 3, 1), "expense", Decimal("950.00"), "EUR"),
        ],
    ),
    "fio": (
        "../fio-export.csv",
        None,  # the Fio CSV reader's own fixture: its tests check every entry
    ),
}


@pytest.mark.parametrize("name", sorted(PRESET_FILES))
def test_a_preset_imports_its_banks_export(name, tmp_path):
    file_name, expected = PRESET_FILES[name]
    with PluginTestKit(BankStatementImport, settings={"path": str(SHAPES / file_name), "preset": name}) as kit:
        result, again = kit.run(), kit.run()
    assert result.status == "completed", result.error
    got = [(tx.transacted_on, tx.transaction_type, tx.amount_value, tx.currency) for tx in result.transactions]
    if expected is None:
        assert got and result.transactions[0].external_id.startswith("fio:")
    else:
        assert got == expected
    # a preset's ids are stable: the same file again creates nothing
    assert again.status == "completed" and again.created == 0 and again.skipped == len(got)


def test_the_preset_fills_the_details_of_the_movements():
    result = run(SHAPES / "airbank.csv", preset="airbank")
    first = result.transactions[0]
    assert (first.counterparty, first.counterparty_account, first.reference, first.description) == (
        "Beta a.s.",
        "2000145399/0800",
        "2026003",
        "Faktura 2026003",
    )
    assert first.external_id == "csv:160610143222"
    dkb = run(SHAPES / "dkb.csv", preset="dkb")
    assert logged(dkb, "1 row skipped by state: Vorgemerkt 1 (only Gebucht is imported).")
    assert dkb.transactions[0].counterparty == "Beta GmbH"


def test_an_explicit_mapping_wins_over_the_preset(tmp_path):
    result = run(
        SHAPES / "ing-nl.csv",
        preset="ing-nl",
        csv_mapping="date=Datum,amount=Bedrag (EUR),date_format=%Y%m%d,decimal=,",
        account_currency="USD",
    )
    assert result.status == "completed", result.error
    # no direction column in this mapping: every unsigned amount is income, in the currency set explicitly
    assert {(tx.transaction_type, tx.currency) for tx in result.transactions} == {("income", "USD")}


def test_an_unknown_preset_is_refused_with_the_choices(cli):
    code, out, err = cli("plugins", "configure", "bank-statement", "--set", "preset=abn")
    assert code != 0 and f"Bank preset: choose one of {', '.join(PRESET_NAMES)}." in err


def test_the_preset_is_set_from_the_command_line(ok):
    out = ok("plugins", "configure", "bank-statement", "--set", "preset=revolut")
    assert "bank-statement" in out
    shown = ok("plugins", "show", "bank-statement")
    assert "revolut" in shown


def test_a_banks_placeholder_text_is_no_description_or_counterparty():
    data = (
        "Date;Amount;Currency;Name;Message\n"
        "02.03.2026;100,00;CZK;NOTPROVIDED;Invoice 2026001\n"
        "03.03.2026;-5,00;CZK;Shop;N/A\n"
    ).encode()
    mapping = "date=Date,amount=Amount,currency=Currency,counterparty=Name,message=Message,date_format=%d.%m.%Y"
    result = generic_csv.parse(data, "p.csv", mapping)
    first, second = result.movements
    assert (first.counterparty, first.description) == ("", "Invoice 2026001")
    assert (second.counterparty, second.description) == ("Shop", "")
    assert first.raw_data["Name"] == "NOTPROVIDED" and second.raw_data["Message"] == "N/A"
    assert any("2 placeholder texts such as NOTPROVIDED" in warning for warning in result.warnings)
