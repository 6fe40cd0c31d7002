"""The corpus test: every statement fixture imports exactly the entries an independent reader finds in it.

Every file under tests/fixtures/ (the golden files, Markdown notes, hidden files and settings sidecars
aside) is found at test time, so a fixture added later is tested without touching this file. Each one is
imported by the real plugin (``bank-statement``; a Fio API answer by ``fio`` against the local server of
tests/fio_server.py) through the plugin test kit, in its own temporary home and database, and the stored
``MoneyTransaction`` rows are compared, as a multiset, with what tests/corpus_reader.py reads from the
file by the format's own rules: the count of booked entries and each entry's day, direction, amount (minor
units) and currency. A difference names the fixture and the first entry that differs.

Which reader a file needs is detected from its content (camt.053 XML, Fio CSV export, Fio API JSON). A
file that is refused on purpose, or that needs settings (a generic CSV's column mapping, an account
currency, pending entries, a time zone), is listed in ``TABLE`` below, or carries its settings in a
sidecar ``<file name>.settings.json`` next to it (a JSON object of the plugin's settings, e.g.
``{"csv_mapping": "date=Date,amount=Amount", "account_currency": "EUR"}``). A file that is in neither
fails the test with a sentence saying to add it: no fixture escapes the corpus silently.
"""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

import pytest
from corpus_reader import READERS, Entry, Found, fio_json_movements, is_camt053, is_fio_csv, is_fio_json
from fio_server import TOKEN, FioServer

from core.plugins.fio import FioPlugin
from core.plugins.statement import BankStatementImport
from core.plugins.testing import PluginTestKit, SyncResult
from core.values.money import from_minor

FIXTURES = Path(__file__).parent / "fixtures"
SIDECAR = ".settings.json"
NOT_FIXTURES = ("golden/",)  # expected outputs of tests/test_format_golden.py, not inputs


@dataclass(frozen=True)
class Spec:
    """How a fixture is imported: ``kind`` (camt053, fio-csv, csv, fio-api, or refused) and the plugin's
    settings (format, csv_mapping, account_currency, include_pending, timezone). A refused file must fail
    the run with a sentence naming it (and containing ``says``) and store nothing."""

    kind: str
    settings: dict = field(default_factory=dict)  # the plugin's settings, as a person sets them
    says: str = ""
    # The corpus reader's own csv_mapping/account_currency, when the plugin's settings are not them (a preset).
    reader: dict = field(default_factory=dict)

    def reader_options(self) -> dict:
        keys = ("include_pending", "timezone", "account_currency", "csv_mapping")
        options = {key: self.settings[key] for key in keys if self.settings.get(key) not in (None, "")}
        return {**options, **self.reader}


GENERIC_BANK_MAPPING = (
    "date=Date,amount=Amount,currency=Currency,vs=VS,counterparty=Name,account=Account,"
    "message=Message,id=ID,date_format=%d.%m.%Y,decimal=,,delimiter=;"
)

# Fixtures that are refused on purpose or need settings, by their path under tests/fixtures/. Add a row for
# a new fixture the content does not explain (a generic CSV, a broken file), with why in a comment.
TABLE: dict[str, Spec] = {
    # genkgo/camt's broken statement: a BkToCstmrStmt without any Stmt, nothing to import.
    "camt053/camt053.v2.wrong.xml": Spec("refused"),
    # This project's generic bank CSV: two preamble lines, Czech amounts, one EUR row among CZK rows.
    "generic-bank.csv": Spec("csv", {"format": "csv", "csv_mapping": GENERIC_BANK_MAPPING}),
    # Bank exports imported with the plugin's preset, as a person would; the corpus reader gets a mapping
    # written here from the file itself (not the preset's), so a wrong preset shows as a difference.
    # Air Bank (CZ), Windows-1250: the booking date (Datum zaúčtování), the signed amount in the account's
    # currency; the direction column (Příchozí/Odchozí) is left to the amount's sign.
    "csv-shapes/airbank.csv": Spec(
        "csv",
        {"preset": "airbank"},
        reader={"csv_mapping": "date=Datum zaúčtování,amount=Částka v měně účtu,currency=Měna účtu,delimiter=;"},
    ),
    # DKB (DE): only Gebucht rows (Vorgemerkt is pending), the signed Betrag (€), dates DD.MM.YY, EUR.
    "csv-shapes/dkb.csv": Spec(
        "csv",
        {"preset": "dkb"},
        reader={
            "csv_mapping": "date=Buchungsdatum,amount=Betrag (€),state=Status,import_states=Gebucht,decimal=,",
            "account_currency": "EUR",
        },
    ),
    # ING (NL): the amount is unsigned, Af (debit) / Bij (credit) gives the direction; dates YYYYMMDD, EUR.
    "csv-shapes/ing-nl.csv": Spec(
        "csv",
        {"preset": "ing-nl"},
        reader={
            "csv_mapping": "date=Datum,amount=Bedrag (EUR),direction=Af Bij,debit_values=Af,credit_values=Bij",
            "account_currency": "EUR",
        },
    ),
    # Revolut: only COMPLETED rows, on the day they completed; the fee leaves the account with the amount
    # (the Balance column drops by amount minus fee).
    "csv-shapes/revolut.csv": Spec(
        "csv",
        {"preset": "revolut"},
        reader={
            "csv_mapping": "date=Completed Date,amount=Amount,fee=Fee,currency=Currency,state=State,"
            "import_states=COMPLETED,delimiter=,"
        },
    ),
}


def discover() -> list[str]:
    """Every fixture file's path under tests/fixtures/ (as posix text), in order."""
    found = []
    for path in sorted(FIXTURES.rglob("*")):
        relative = path.relative_to(FIXTURES).as_posix()
        if (
            not path.is_file()
            or relative.startswith(NOT_FIXTURES)
            or any(part.startswith(".") or part == "__pycache__" for part in path.relative_to(FIXTURES).parts)
            or path.suffix.lower() == ".md"
            or path.name.endswith(SIDECAR)
        ):
            continue
        found.append(relative)
    return found


def spec_of(relative: str, root: Path = FIXTURES) -> Spec | None:
    """The table's row, else the sidecar's settings, else what the content says; None if nothing explains it."""
    if root == FIXTURES and relative in TABLE:
        return TABLE[relative]
    path = root / relative
    sidecar = path.with_name(path.name + SIDECAR)
    if sidecar.is_file():
        settings = json.loads(sidecar.read_text(encoding="utf-8"))
        kind = settings.pop("kind", None) or settings.get("format") or ("csv" if "csv_mapping" in settings else "")
        return Spec(kind, settings) if kind in (*READERS, "refused") else None
    suffix = path.suffix.lower()
    if suffix == ".xml" and is_camt053(path):
        return Spec("camt053")
    if suffix == ".csv" and is_fio_csv(path):
        return Spec("fio-csv")
    if suffix == ".json" and is_fio_json(path):
        return Spec("fio-api")
    return None


# -- the production side --------------------------------------------------------------------------------


def import_statement(path: Path, settings: dict) -> SyncResult:
    """One run of bank-statement on ``path`` in a fresh temporary home and database."""
    with PluginTestKit(BankStatementImport, settings={"path": str(path), **settings}) as kit:
        return kit.run()


def import_fio_json(path: Path, monkeypatch) -> SyncResult:
    """One run of the fio plugin against the local Fio server serving exactly this file's movements."""
    info, movements = fio_json_movements(path)
    with FioServer(fixture=False) as server:
        server.info = dict(info)
        server.add(*movements)
        # The plugin waits between requests by Fio's 30-second rule: the server's clock moves instead.
        monkeypatch.setattr(FioPlugin, "sleep", lambda self, seconds: server.clock.advance(seconds))
        first_day = min((str(m["column0"]["value"])[:10] for m in movements), default=date.today().isoformat())
        settings = {"base_url": server.base_url, "timeout": 5, "start_date": first_day}
        with PluginTestKit(FioPlugin, settings=settings, credentials={"token": TOKEN}) as kit:
            return kit.run()


def stored(result: SyncResult) -> list[Entry]:
    return [Entry(tx.transacted_on, tx.transaction_type, tx.amount, tx.currency) for tx in result.transactions]


# -- the comparison ---------------------------------------------------------------------------------------


def show(entry: Entry) -> str:
    try:
        amount = f"{from_minor(entry.minor, entry.currency)} {entry.currency}"
    except Exception:  # a stored code that is no currency: show what is stored
        amount = f"{entry.minor} minor units of {entry.currency!r}"
    return f"{entry.day.isoformat()} {entry.direction} {amount}"


def difference(name: str, expected: list[Found], rows: list[Entry]) -> str | None:
    """None when the stored rows are exactly the entries read (as multisets), else a sentence naming the
    fixture, both counts, and the first entry each side has that the other lacks."""
    wanted, got = Counter(found.entry for found in expected), Counter(rows)
    if wanted == got:
        return None
    missing, extra = wanted - got, got - wanted
    lines = [f"{name}: the corpus reader finds {len(expected)} entries, the import stored {len(rows)}."]
    first_missing = next((found for found in expected if missing[found.entry]), None)
    if first_missing:
        lines.append(f"First entry read but not stored: {first_missing.where}: {show(first_missing.entry)}.")
    first_extra = next((row for row in rows if extra[row]), None)
    if first_extra:
        lines.append(f"First stored entry the reader does not have: {show(first_extra)}.")
    return " ".join(lines)


# -- the tests ---------------------------------------------------------------------------------------------


def test_the_corpus_is_not_empty_and_the_table_names_existing_files():
    fixtures = discover()
    assert {"fio-export.csv", "generic-bank.csv", "camt053/camt053.v8.xml"} <= set(fixtures)
    stale = sorted(set(TABLE) - set(fixtures))
    assert not stale, f"TABLE in {Path(__file__).name} lists files that are not in tests/fixtures/: {stale}"


@pytest.mark.parametrize("relative", discover())
def test_every_fixture_imports_exactly_its_entries(relative, monkeypatch):
    path = FIXTURES / relative
    spec = spec_of(relative)
    assert spec is not None, (
        f"tests/fixtures/{relative} is no camt.053 statement, Fio CSV export or Fio API JSON that the corpus "
        f"reader recognises: add it to TABLE in tests/{Path(__file__).name} with its kind and settings "
        f"(or put them in a sidecar {path.name}{SIDECAR}), or mark it refused."
    )
    if spec.kind == "refused":
        result = import_statement(path, spec.settings)
        assert not result.ok, f"{relative} is listed as refused but was imported: {stored(result)}"
        assert result.backtrace is None, f"{relative}: refused by a crash, not a sentence: {result.error}"
        assert path.name in (result.error or ""), f"{relative}: the refusal does not name the file: {result.error}"
        assert spec.says in result.error
        assert result.transactions == []
        return

    expected = READERS[spec.kind](path, **spec.reader_options())
    assert expected, f"{relative}: the corpus reader finds no entry; a fixture with nothing to import proves nothing"

    result = import_fio_json(path, monkeypatch) if spec.kind == "fio-api" else import_statement(path, spec.settings)
    assert result.ok, f"{relative}: the import failed: {result.error}"
    assert result.transactions, f"{relative}: the import stored nothing"
    problem = difference(relative, expected, stored(result))
    assert problem is None, problem


# -- the corpus test's own parts, so a broken comparison cannot pass everything -------------------------------


def test_a_file_nothing_explains_is_not_silently_accepted(tmp_path):
    (tmp_path / "other-bank.csv").write_text("Date;Amount\n2026-03-02;10.00\n", encoding="utf-8")
    (tmp_path / "notes.txt").write_text("not a statement\n", encoding="utf-8")
    assert spec_of("other-bank.csv", tmp_path) is None
    assert spec_of("notes.txt", tmp_path) is None
    (tmp_path / f"other-bank.csv{SIDECAR}").write_text('{"csv_mapping": "date=Date,amount=Amount"}', encoding="utf-8")
    assert spec_of("other-bank.csv", tmp_path) == Spec("csv", {"csv_mapping": "date=Date,amount=Amount"})
    assert spec_of("fio-export.csv") == Spec("fio-csv")
    assert spec_of("fio/fiobank-transactions.json") == Spec("fio-api")


def test_the_difference_names_the_fixture_and_the_first_differing_entry():
    read = [
        Found(Entry(date(2026, 3, 2), "income", 2420000, "CZK"), "line 14"),
        Found(Entry(date(2026, 3, 5), "expense", 34950, "CZK"), "line 15"),
    ]
    rows = [found.entry for found in read]
    assert difference("x.csv", read, list(reversed(rows))) is None  # order does not matter
    flipped = [rows[0], rows[1]._replace(direction="income")]
    assert difference("x.csv", read, flipped) == (
        "x.csv: the corpus reader finds 2 entries, the import stored 2. First entry read but not stored: "
        "line 15: 2026-03-05 expense 349.50 CZK. First stored entry the reader does not have: "
        "2026-03-05 income 349.50 CZK."
    )
    message = difference("x.csv", read, [*rows, rows[1]])  # one stored twice: the count differs
    assert message.startswith("x.csv: the corpus reader finds 2 entries, the import stored 3.")
    assert difference("x.csv", read, rows[:1]).endswith(
        "First entry read but not stored: line 15: 2026-03-05 expense 349.50 CZK."
    )


def test_the_corpus_reader_reads_debit_and_credit_columns_a_footer_and_the_date_order(tmp_path):
    path = tmp_path / "bank.csv"
    path.write_text(
        "Booking date,Paid in,Paid out,Currency\n"
        '03/11/2026,"1,250.00",,EUR\n'
        "25/11/2026,,12.5,EUR\n"
        "26/11/2026,0.001,,EUR\n"  # zero in cents: no movement
        "Total,1250.00,12.50,\n",
        encoding="utf-8",
    )
    read = READERS["csv"](path, csv_mapping="date=Booking date,credit=Paid in,debit=Paid out,currency=Currency")
    assert [(found.where, found.entry) for found in read] == [
        ("line 2", Entry(date(2026, 11, 3), "income", 125000, "EUR")),  # 25/11 proves day-first
        ("line 3", Entry(date(2026, 11, 25), "expense", 1250, "EUR")),
    ]
