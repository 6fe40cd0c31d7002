"""Nothing stored from outside can drive the terminal (issue 14, point 1).

Every known terminal attack (an OSC title set, clear screen, hidden text, the 8-bit CSI, cursor moves,
BEL, a backspace or carriage-return overwrite, a bidi override, text that looks like markup) goes in
through each plugin that stores text: bank-statement with a camt.053, a Fio CSV and a generic CSV file,
the fio plugin against the local fake server, and the time CSV import. Then each face is checked:

- the database holds no control character (the texts are cleaned when stored);
- the terminal app, driven headless, shows none on the Bank, Time, History and Audit screens (lists
  and details), nor in the Plugins screen's live log: neither in the widgets' content nor on the
  rendered screen, and markup-looking text shows as typed;
- the command line (``transactions``, ``--json``, ``entries``, ``history show``, ``audit verify``)
  prints none (JSON stays valid and holds the cleaned text).

A row stored before texts were cleaned (written straight through the model) is shown safely too.
"""

from __future__ import annotations

import csv
import io
import json
import re
from datetime import date, timedelta
from pathlib import Path
from xml.sax.saxutils import escape

import pytest
from fio_server import TOKEN, FioServer, movement
from helpers import notifications, screen_text
from textual.widgets import DataTable, Log, Static

from core.platform import plugin_config
from core.platform.sync import run_sync
from core.plugins import use_plugins
from core.plugins.fio import FioPlugin
from core.store.db import db
from core.store.models import Client, MoneyTransaction, Project, SyncHistory, WorkEntry
from tui.app import FakturkaApp
from tui.screens.audit import AuditDetailScreen
from tui.screens.bank import TransactionDetailScreen
from tui.screens.history import RunDetailScreen
from tui.widgets.paged_table import PagedTable
from tui.widgets.shown import shown, shown_lines

ATTACKS = {
    "osc-title": "\x1b]0;X\x07",
    "clear-screen": "\x1b[2J",
    "hidden-text": "\x1b[8m",
    "csi-8bit": "\x9b2J",
    "cursor-move": "\x1b[10;10H\x1b[1A",
    "bel": "\x07",
    "backspace": "Paid\x08\x08\x08\x08Owed",
    "carriage-return": "Honest\rEvil",
    "bidi": "\u202eevil",
    "markup": "[bold red]x[/]",
}
# XML 1.0 refuses C0 controls (even as &#27;): a camt.053 can carry the 8-bit forms and the rest.
XML_ATTACKS = {
    "osc-title-8bit": "\x9d0;X\x9c",
    "csi-8bit": "\x9b2J",
    "hidden-8bit": "\x9b8m",
    "cursor-8bit": "\x9b10;10H",
    "carriage-return": "Honest\rEvil",
    "bidi": "\u202eevil",
    "markup": "[bold red]x[/]",
}
MARKUP = ATTACKS["markup"]
SIZE = (200, 50)

# What a terminal acts on: C0 (tab and newline included: a cell is one line), DEL, C1; and the bidi
# overrides and isolates, which make a line read backwards.
ON_SCREEN = re.compile("[\x00-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")
STORED = re.compile("[\x00-\x1f\x7f-\x9f]")
STORED_LINES = re.compile("[\x00-\x09\x0b-\x1f\x7f-\x9f]")  # a log or a raw document keeps its line breaks
PRINTED = re.compile("[\x00-\x09\x0b-\x1f\x7f-\x9f]")  # the command line: newline only


# -- hostile files, one movement per attack ------------------------------------------------------


def payer(attack: str) -> str:
    return f"Acme {attack}"


def message(attack: str) -> str:
    return f"Invoice {attack} paid"


def camt053(attacks: dict[str, str]) -> str:
    entries = "".join(
        f"""
      <Ntry>
        <NtryRef>HX-{number}</NtryRef>
        <Amt Ccy="CZK">{100 + number}.00</Amt>
        <CdtDbtInd>CRDT</CdtDbtInd>
        <Sts>BOOK</Sts>
        <BookgDt><Dt>2026-03-{number + 1:02d}</Dt></BookgDt>
        <AcctSvcrRef>HX-{number}</AcctSvcrRef>
        <NtryDtls><TxDtls>
          <RltdPties><Dbtr><Nm>{escape(payer(attack))}</Nm></Dbtr></RltdPties>
          <RmtInf><Ustrd>{escape(message(attack))}</Ustrd></RmtInf>
        </TxDtls></NtryDtls>
      </Ntry>"""
        for number, attack in enumerate(attacks.values())
    )
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<Document xmlns="urn:iso:std:iso:20022:tech:xsd:camt.053.001.02">
  <BkToCstmrStmt>
    <GrpHdr><MsgId>HOSTILE-1</MsgId><CreDtTm>2026-03-31T18:00:00</CreDtTm></GrpHdr>
    <Stmt>
      <Id>HOSTILE-STMT-1</Id>
      <CreDtTm>2026-03-31T18:00:00</CreDtTm>
      <Acct><Id><IBAN>CZ6508000000192000145399</IBAN></Id><Ccy>CZK</Ccy></Acct>{entries}
    </Stmt>
  </BkToCstmrStmt>
</Document>
"""


def csv_text(header: list[str], rows: list[dict[str, str]], *, lead: str = "", delimiter: str = ";") -> str:
    """A CSV file: every field quoted (a carriage return inside a field stays inside it)."""
    out = io.StringIO()
    out.write(lead)
    writer = csv.DictWriter(out, header, restval="", delimiter=delimiter, quoting=csv.QUOTE_ALL, lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    return out.getvalue()


FIO_HEADER = [
    "ID pohybu", "Datum", "Objem", "Měna", "Protiúčet", "Název protiúčtu", "Kód banky", "Název banky", "KS",
    "VS", "SS", "Poznámka", "Zpráva pro příjemce", "Typ", "Provedl", "Upřesnění", "Komentář", "BIC", "ID pokynu",
]  # fmt: skip


def fio_csv(attacks: dict[str, str]) -> str:
    lead = '"accountId";"2001234567"\n"bankId";"2010"\n"currency";"CZK"\n\n'
    rows = [
        {
            "ID pohybu": f"2650000{number:04d}",
            "Datum": f"{number + 1:02d}.03.2026",
            "Objem": f"{100 + number},00",
            "Měna": "CZK",
            "Protiúčet": "1234567890",
            "Kód banky": "0800",
            "Název protiúčtu": payer(attack),
            "VS": f"{2026000 + number}",
            "Poznámka": message(attack),
            "Zpráva pro příjemce": message(attack),
            "Typ": "Bezhotovostní příjem",
        }  # fmt: skip
        for number, attack in enumerate(attacks.values())
    ]
    return csv_text(FIO_HEADER, rows, lead=lead)


GENERIC_MAPPING = (
    "date=Date,amount=Amount,currency=Currency,vs=VS,counterparty=Name,account=Account,"
    "message=Message,id=ID,date_format=%d.%m.%Y,decimal=,,delimiter=;"
)


def generic_csv(attacks: dict[str, str]) -> str:
    rows = [
        {
            "Date": f"{number + 1:02d}.03.2026",
            "Amount": f"{100 + number},00",
            "Currency": "CZK",
            "VS": f"{2026000 + number}",
            "Name": payer(attack),
            "Account": "19-2000145399/0800",
            "Message": message(attack),
            "ID": f"TX-{number}",
        }  # fmt: skip
        for number, attack in enumerate(attacks.values())
    ]
    return csv_text(["Date", "Amount", "Currency", "VS", "Name", "Account", "Message", "ID"], rows)


# -- syncing them --------------------------------------------------------------------------------


def configure(name: str, settings: dict, secrets: dict | None = None) -> None:
    plugin_config.configure(name, settings, secrets or {})
    plugin_config.set_enabled(name, True)


def sync(name: str) -> int:
    outcome = run_sync(name)
    assert outcome.status == "completed", outcome.error
    return outcome.run_id


def statement(tmp_path: Path, name: str, text: str, **settings) -> int:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    configure("bank-statement", {"path": str(path), **settings})
    return sync("bank-statement")


@pytest.fixture
def bundled(database):
    use_plugins(None)
    yield
    use_plugins(None)


@pytest.fixture
def fio_api(monkeypatch):
    with FioServer(fixture=False) as server:
        monkeypatch.setattr(FioPlugin, "sleep", lambda self, seconds: server.clock.advance(seconds))
        yield server


def sync_fio(server: FioServer) -> int:
    day = date.today() - timedelta(days=2)
    server.add(
        *(
            movement(
                20000000100 + number,
                day,
                f"{100 + number}.00",
                counterparty_name=payer(attack),
                message=message(attack),
                comment=attack,
                vs=f"{2026000 + number}",
            )
            for number, attack in enumerate(ATTACKS.values())
        )
    )
    configure("fio", {"base_url": server.base_url, "timeout": 5}, {"token": TOKEN})
    return sync("fio")


SOURCES = ["camt053", "fio-csv", "generic-csv", "fio-api"]


@pytest.fixture(params=SOURCES)
def hostile_bank(request, bundled, tmp_path):
    """The attacks synced from one source; (source name, its run id)."""
    if request.param == "camt053":
        return "bank-statement", statement(tmp_path, "hostile.xml", camt053(XML_ATTACKS))
    if request.param == "fio-csv":
        return "bank-statement", statement(tmp_path, "hostile-fio.csv", fio_csv(ATTACKS))
    if request.param == "generic-csv":
        return "bank-statement", statement(
            tmp_path, "hostile.csv", generic_csv(ATTACKS), format="csv", csv_mapping=GENERIC_MAPPING
        )
    return "fio", sync_fio(request.getfixturevalue("fio_api"))


TOGGL_HEADER = "User,Email,Client,Project,Task,Description,Billable,Start date,Start time,End date,End time,Duration"


@pytest.fixture
def hostile_time(bundled, tmp_path) -> int:
    """The attacks as descriptions of a Toggl export, imported by time-csv; its run id."""
    Project.create(client=Client.create(name="Acme s.r.o.", currency="CZK"), name="Web")
    rows = [
        {
            "User": "Jana",
            "Client": "Acme s.r.o.",
            "Project": "Web",
            "Description": message(attack),
            "Billable": "Yes",
            "Start date": f"2026-03-{number + 1:02d}",
            "Start time": "09:00:00",
            "Duration": "01:30:00",
        }  # fmt: skip
        for number, attack in enumerate(ATTACKS.values())
    ]
    path = tmp_path / "toggl.csv"
    path.write_text(csv_text(TOGGL_HEADER.split(","), rows, delimiter=","), encoding="utf-8")
    configure("time-csv", {"path": str(path)})
    return sync("time-csv")


# -- the database --------------------------------------------------------------------------------


def stored_texts(sql: str) -> list[str]:
    return [value for row in db.execute_sql(sql).fetchall() for value in row if isinstance(value, str)]


def assert_database_clean() -> None:
    texts = stored_texts(
        "SELECT external_id, description, counterparty, counterparty_account, reference, raw_data, match_note "
        "FROM money_transactions"
    )
    texts += stored_texts("SELECT external_id, description FROM work_entries")
    texts += stored_texts("SELECT changes FROM audit_records")
    texts += stored_texts("SELECT error_message FROM sync_histories")
    assert texts and not [text for text in texts if STORED.search(text)]
    logs = stored_texts("SELECT log FROM sync_histories")
    assert logs and not [log for log in logs if STORED_LINES.search(log)]
    # Stored JSON escapes C0 controls: decoded, the raw movement holds none either.
    for tx in MoneyTransaction.select():
        assert not [text for text in document_strings(tx.raw_data) if STORED_LINES.search(text)]


def document_strings(value) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return [text for key, item in value.items() for text in document_strings(key) + document_strings(item)]
    if isinstance(value, list):
        return [text for item in value for text in document_strings(item)]
    return []


def test_the_database_holds_no_control_character(hostile_bank):
    source, _run = hostile_bank
    assert MoneyTransaction.select().where(MoneyTransaction.source == source).count() >= len(XML_ATTACKS)
    assert_database_clean()
    # What is printable stays as the bank wrote it: brackets, and the letters around a removed control.
    assert MoneyTransaction.select().where(MoneyTransaction.counterparty == payer(MARKUP)).count() == 1
    assert MoneyTransaction.select().where(MoneyTransaction.counterparty == "Acme 2J").count() == 1


def test_time_import_stores_no_control_character(hostile_time):
    assert WorkEntry.select().count() == len(ATTACKS)
    assert_database_clean()
    assert WorkEntry.select().where(WorkEntry.description == message(MARKUP)).count() == 1


def test_a_camt053_with_a_raw_escape_is_refused_with_a_sentence(bundled, tmp_path):
    path = tmp_path / "esc.xml"
    path.write_text(camt053({"esc": "\x1b]0;X\x07"}), encoding="utf-8")
    configure("bank-statement", {"path": str(path)})
    outcome = run_sync("bank-statement")
    assert outcome.status == "failed" and "esc.xml" in outcome.error
    assert SyncHistory.get_by_id(outcome.run_id).error_backtrace is None
    assert MoneyTransaction.select().count() == 0


# -- the terminal app ----------------------------------------------------------------------------


def widget_texts(screen) -> list[str]:
    """What the screen's tables, logs and static texts hold (before the terminal renders them)."""
    texts: list[str] = []
    for table in screen.query(DataTable):
        for index in range(table.row_count):
            texts += [str(cell) for cell in table.get_row_at(index)]
    for log in screen.query(Log):
        texts += list(log.lines)
    for static in screen.query(Static):
        rendered = static.render()
        texts += str(getattr(rendered, "plain", rendered)).split("\n")
    return texts


def assert_screen_safe(app) -> list[str]:
    texts = widget_texts(app.screen)
    shown = texts + screen_text(app).split("\n") + notifications(app)
    unsafe = [text for text in shown if ON_SCREEN.search(text)]
    assert not unsafe, unsafe[:5]
    return texts


async def open_section(pilot, key: str, table_id: str) -> PagedTable:
    await pilot.press(key)
    await pilot.pause()
    table = pilot.app.screen.query_one(f"#{table_id}", PagedTable)
    assert table.row_count > 0
    return table


async def open_row(pilot, table: PagedTable, index: int, screen_type: type) -> None:
    table.focus()
    table.move_cursor(row=index)
    await pilot.pause()
    await pilot.press("enter")
    await pilot.pause()
    assert isinstance(pilot.app.screen, screen_type), type(pilot.app.screen).__name__


async def close(pilot) -> None:
    await pilot.press("escape")
    await pilot.pause()


async def check_bank_screen(pilot) -> list[str]:
    table = await open_section(pilot, "b", "tx-list")
    texts = assert_screen_safe(pilot.app)
    for index in range(table.row_count):
        await open_row(pilot, table, index, TransactionDetailScreen)
        texts += assert_screen_safe(pilot.app)
        await close(pilot)
    return texts


async def check_history_and_audit(pilot, run_id: int) -> None:
    history = await open_section(pilot, "h", "history-list")
    await open_row(pilot, history, history.get_row_index(str(run_id)), RunDetailScreen)
    assert assert_screen_safe(pilot.app)
    await close(pilot)
    audit = await open_section(pilot, "a", "audit-list")
    assert_screen_safe(pilot.app)
    for index in range(min(audit.row_count, 3)):
        await open_row(pilot, audit, index, AuditDetailScreen)
        assert_screen_safe(pilot.app)
        await close(pilot)


async def test_the_terminal_app_shows_no_escape_sequence(hostile_bank, database):
    _source, run_id = hostile_bank
    app = FakturkaApp(db_path=database, first_start_prompt=False)
    async with app.run_test(size=SIZE) as pilot:
        texts = await check_bank_screen(pilot)
        # Text that looks like markup is shown as typed, in the list and in the detail.
        assert payer(MARKUP) in texts and any(MARKUP in text for text in texts if text.startswith("Counterparty"))
        await check_history_and_audit(pilot, run_id)


async def test_the_time_screen_shows_imported_descriptions_safely(hostile_time, database):
    app = FakturkaApp(db_path=database, first_start_prompt=False)
    async with app.run_test(size=SIZE) as pilot:
        await open_section(pilot, "t", "entries")
        assert message(MARKUP) in assert_screen_safe(pilot.app)
        await check_history_and_audit(pilot, hostile_time)


async def test_the_plugins_screen_live_log_is_safe(bundled, database, tmp_path):
    path = tmp_path / "hostile.csv"
    path.write_text(generic_csv(ATTACKS), encoding="utf-8")
    configure("bank-statement", {"path": str(path), "format": "csv", "csv_mapping": GENERIC_MAPPING})
    app = FakturkaApp(db_path=database, first_start_prompt=False)
    async with app.run_test(size=SIZE) as pilot:
        table = await open_section(pilot, "p", "plugin-list")
        table.move_cursor(row=table.get_row_index("bank-statement"))
        await pilot.press("r")
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert app.current_sync.status == "completed", app.current_sync.message
        assert any("hostile.csv" in line for line in assert_screen_safe(app))


# -- the command line ----------------------------------------------------------------------------


def printed(cli, *argv: str) -> str:
    code, out, err = cli(*argv)
    assert code == 0, err
    unsafe = [line for line in (out + err).split("\n") if PRINTED.search(line)]
    assert not unsafe, f"fakturka {' '.join(argv)} printed control characters: {unsafe[:3]!r}"
    return out


def test_the_command_line_prints_no_control_character(hostile_bank, cli):
    _source, run_id = hostile_bank
    assert "Acme" in printed(cli, "transactions")
    rows = json.loads(printed(cli, "transactions", "--json"))
    stored = {(tx.counterparty, tx.description) for tx in MoneyTransaction.select()}
    assert {(row["counterparty"], row["description"]) for row in rows} == stored
    assert payer(MARKUP) in {row["counterparty"] for row in rows}
    assert "Acme" in printed(cli, "history", "show", str(run_id))
    printed(cli, "audit", "verify")


def test_the_command_line_prints_imported_entries_safely(hostile_time, cli):
    assert "Invoice" in printed(cli, "entries")
    assert "Invoice" in printed(cli, "history", "show", str(hostile_time))


# -- a row stored before texts were cleaned --------------------------------------------------------

OLD_TEXT = "Old\x1b]0;owned\x07 row\x1b[2J\x9b8m\r\u202e" + MARKUP


@pytest.fixture
def old_rows(database):
    """Written straight through the models, as rows imported before this change were stored."""
    client = Client.create(name="Acme\x1b[2J s.r.o.", currency="CZK")
    WorkEntry.create(
        project=Project.create(client=client, name="Web"), date=date(2026, 3, 2), minutes=60, description=OLD_TEXT
    )
    MoneyTransaction.create(
        source="bank-statement",
        external_id="old-1",
        transaction_type="income",
        amount=10000,
        currency="CZK",
        transacted_on=date(2026, 3, 2),
        counterparty=OLD_TEXT,
        description=OLD_TEXT + "x" * 1_000_000,
        reference="2026\x07001",
        raw_data={"name": OLD_TEXT},
    )


async def test_rows_stored_before_the_change_are_shown_safely(old_rows, database):
    app = FakturkaApp(db_path=database, first_start_prompt=False)
    async with app.run_test(size=SIZE) as pilot:
        texts = await check_bank_screen(pilot)
        # A megabyte message is cut in the list and in the detail, not written out.
        assert max(len(text) for text in texts) < 5000
        await open_section(pilot, "t", "entries")
        assert_screen_safe(app)
        audit = await open_section(pilot, "a", "audit-list")
        for index in range(audit.row_count):
            await open_row(pilot, audit, index, AuditDetailScreen)
            assert_screen_safe(app)
            await close(pilot)
        clients = await open_section(pilot, "c", "clients")  # last: "a" archives there
        assert str(clients.get_row_at(0)[0]) == "Acme [2J s.r.o."
        assert_screen_safe(app)


def test_a_huge_value_is_cut_before_it_is_cleaned():
    # 50 MB: only its first characters are looked at, and the cut is marked.
    assert shown("\x1b[2J" + "x" * 50_000_000, 12) == " [2Jxxxxxxx…"
    assert shown(MARKUP) == MARKUP and shown(None) == "" and shown("\u202eevil") == "evil"
    assert shown_lines("a\x1b\r\n" * 100_000, 10, max_lines=3) == "a \na \na \n…"
