"""The Fio banka plugin (core/plugins/fio.py), tested only through a real local HTTP server.

The server (tests/fio_server.py) speaks Fio's ``periods`` endpoint, checks
the token, enforces the 30-second rule on a clock the test controls and can
be told to fail in every way Fio does. ``FioPlugin.sleep`` is replaced for
every test so the plugin's waits advance that clock instead of sleeping:
nothing here waits for real except the 1-second client timeout of the hang
test. See issue 6 and the shared specs, banking.md.
"""

from __future__ import annotations

import json
import logging
import threading
from datetime import date, timedelta
from decimal import Decimal

import httpx
import pytest
from fio_server import TOKEN, FioServer, load_fixture, movement

from core.banking.matching import match_transactions
from core.demo import load_demo
from core.platform import plugin_config
from core.platform.sync import run_sync
from core.plugins import use_plugins
from core.plugins.fio import FioPlugin
from core.store.audit import AuditRecord
from core.store.db import db
from core.store.models import Invoice, MoneyTransaction, PluginConfiguration, SyncHistory
from core.values.money import from_minor

TODAY = date.today()
FIXTURE_DAY = date(2016, 8, 3)  # both movements of the shared fixture
FIXTURE_START = "2016-08-01"  # so the fixture's movements are in the requested range


# -- fixtures and helpers ---------------------------------------------------------------


def _request_threads() -> list[threading.Thread]:
    return [t for t in threading.enumerate() if "process_request_thread" in t.name or t.name == "fio-test-server"]


@pytest.fixture
def server():
    with FioServer() as running:
        yield running
    assert not _request_threads(), "the server's threads (hanging requests included) end with it"


@pytest.fixture(autouse=True)
def fake_sleep(server, monkeypatch):
    """The plugin's waits advance the server's clock; the seconds asked for are recorded."""
    sleeps: list[float] = []

    def sleep(self, seconds):
        sleeps.append(seconds)
        server.clock.advance(seconds)

    monkeypatch.setattr(FioPlugin, "sleep", sleep)
    return sleeps


@pytest.fixture
def fio(database, server):
    """The fio plugin (the bundled registry), configured against the local server and enabled."""
    use_plugins(None)
    plugin_config.configure("fio", {"base_url": server.base_url, "timeout": 1}, {"token": TOKEN})
    plugin_config.set_enabled("fio", True)
    yield
    use_plugins(None)


def configure(**settings) -> None:
    plugin_config.configure("fio", settings)


def sync(**kw):
    """One run through the real engine; returns (outcome, its sync_histories row)."""
    outcome = run_sync("fio", **kw)
    return outcome, SyncHistory.get_by_id(outcome.run_id)


def state() -> dict:
    return dict(PluginConfiguration.get(PluginConfiguration.plugin_name == "fio").state or {})


def set_state(value: dict) -> None:
    row = PluginConfiguration.get(PluginConfiguration.plugin_name == "fio")
    row.state = value
    row.save()


def transactions() -> list[MoneyTransaction]:
    return list(MoneyTransaction.select().where(MoneyTransaction.source == "fio").order_by(MoneyTransaction.id))


def assert_nothing_written(outcome, history, state_before: dict | None = None) -> None:
    assert outcome.status == "failed"
    assert history.status == "failed"
    assert history.error_message == outcome.error
    assert history.error_backtrace is None, "a Fio failure is a sentence, not a crash"
    assert (history.records_created, history.records_updated, history.records_skipped) == (0, 0, 0)
    assert MoneyTransaction.select().count() == 0
    assert AuditRecord.select().where(AuditRecord.sync_run == history.id).count() == 0
    assert state() == (state_before or {})


def fixture_movements() -> list[dict]:
    return load_fixture()["accountStatement"]["transactionList"]["transaction"]


# -- the shared fixture ---------------------------------------------------------------------


def test_the_shared_fixture_imports_two_card_payments(fio, server):
    configure(start_date=FIXTURE_START)
    outcome, history = sync()

    assert outcome.status == "completed", outcome.error
    assert (history.records_processed, history.records_created, history.records_skipped) == (2, 2, 0)
    assert [r.status for r in server.requests] == [200]
    request = server.requests[0]
    assert (request.date_from, request.date_to) == (date(2016, 8, 1), TODAY)

    rows = {tx.external_id: tx for tx in transactions()}
    assert set(rows) == {"fio:10000000001", "fio:10000000002"}  # Fio's movement ids (column 22)
    ordr, billa = rows["fio:10000000002"], rows["fio:10000000001"]
    for tx in (ordr, billa):
        assert tx.transaction_type == "expense"
        assert tx.currency == "CZK"
        assert tx.transacted_on == FIXTURE_DAY  # the date part of "2016-08-03+0200"
        assert tx.counterparty == ""  # card payments: column 10 is null
        assert tx.counterparty_account == ""
        assert tx.match_status == "unmatched" and tx.invoice_id is None
    assert ordr.amount == 13000 and ordr.amount_value == Decimal("130.00")
    assert billa.amount == 35329 and billa.amount_value == Decimal("353.29")
    assert ordr.reference == "5678" and billa.reference == "1234"
    # Message and comment are the same text in the fixture: it appears once.
    assert ordr.description == "Nákup: ORDR, PRAGUE, CZ, dne 1.8.2016, částka  130.00 CZK"
    assert billa.description == "Nákup: Billa Ul. Konevova, Praha - Vitko, CZ, dne 1.8.2016, částka  353.29 CZK"

    # The whole movement is kept, every non-empty column, values as text (amounts exactly as sent).
    source = {f"fio:{m['column22']['value']}": m for m in fixture_movements()}
    for ext, tx in rows.items():
        sent = {key: cell for key, cell in source[ext].items() if cell is not None}
        assert len(tx.raw_data) == len(sent) == 11
        assert sorted(tx.raw_data.values()) == sorted(str(cell["value"]) for cell in sent.values())
    assert ordr.raw_data["amount"] == "-130.0"
    assert billa.raw_data["amount"] == "-353.29"
    assert ordr.raw_data["type"] == "Platba kartou"
    assert ordr.raw_data["executed_by"] == "Javorek, Jan"
    assert ordr.raw_data["instruction_id"] == "12210748893"
    assert ordr.raw_data["date"] == "2016-08-03+0200"

    assert outcome.metadata["account"] == "CZ1220100000001234567890"  # imported although it fails mod-97
    assert outcome.metadata["movements"] == 2
    assert state() == {"last_date": TODAY.isoformat()}
    audit = [
        (r.table_name, r.action, r.source, r.row_id)
        for r in AuditRecord.select().where(AuditRecord.sync_run == history.id)
    ]
    assert sorted(a for a in audit if a[0] == "money_transactions") == sorted(
        ("money_transactions", "create", "fio", tx.id) for tx in rows.values()
    )
    assert [a[:3] for a in audit if a[0] != "money_transactions"] == [
        ("plugin_configurations", "update", "fio")
    ]  # the saved state
    assert any("Fio sent 2 movement(s) for account CZ1220100000001234567890" in line for line in outcome.log)


def test_the_server_serves_the_shared_fixture_as_it_is(server):
    """The test server itself: the fixture's movements, digit for digit, in Fio's shape."""
    url = f"{server.base_url}periods/{TOKEN}/2016-08-01/2016-08-31/transactions.json"
    answer = httpx.get(url, timeout=5)
    assert answer.status_code == 200
    statement = json.loads(answer.content, parse_float=Decimal)["accountStatement"]
    assert statement["transactionList"]["transaction"] == fixture_movements()
    assert b'"value":-353.29' in answer.content and b'"value":-130.0' in answer.content
    assert statement["info"]["iban"] == "CZ1220100000001234567890"
    server.clock.advance(30)
    empty = httpx.get(f"{server.base_url}periods/{TOKEN}/2016-08-04/2016-08-31/transactions.json", timeout=5)
    assert json.loads(empty.content)["accountStatement"]["transactionList"] == {"transaction": []}
    assert httpx.get(url, timeout=5).status_code == 409  # within 30 s of the previous one
    assert httpx.get(url.replace(TOKEN, "Y" * 64), timeout=5).status_code == 500
    assert httpx.get(f"{server.base_url}last/{TOKEN}/transactions.json", timeout=5).status_code == 404
    assert server.statuses == [200, 200, 409, 500, 404]


def test_amounts_are_decimal_and_every_column_is_mapped(fio, server):
    """A payment from a business account: signs, big amounts exact, counterparty, symbols, texts."""
    day = TODAY - timedelta(days=2)
    server.add(
        movement(
            20000000001,
            day,
            "1234567890123456.78",
            vs="0020250042",
            ks="0308",
            ss="77",
            counterparty_account="2900123456",
            bank_code="2010",
            counterparty_name="Pekárna U Šťastných s.r.o.",
            bank_name="Fio banka, a.s.",
            message="Faktura 2025-0042",
            comment="Platba za e-shop",
            bic="FIOBCZPPXXX",
            instruction_id=30000000001,
        ),
        movement(
            20000000002,
            day,
            "-0.10",
            currency="EUR",
            counterparty_account="DE89370400440532013000",
            counterparty_name="Nordlicht Software GmbH",
            kind="Poplatek",
        ),
        movement(20000000003, day, "0.00", kind="Poplatek", message="Zero fee line"),  # nothing moved
    )
    outcome, history = sync()
    assert outcome.status == "completed", outcome.error
    income, fee = transactions()
    assert len(transactions()) == 2
    # Through float this would be 1234567890123456.8: Decimal keeps every digit.
    assert income.amount == 123456789012345678
    assert income.raw_data["amount"] == "1234567890123456.78"
    assert income.transaction_type == "income"
    assert income.reference == "0020250042"  # as sent; matching compares it as an integer
    assert income.counterparty == "Pekárna U Šťastných s.r.o."
    assert income.counterparty_account == "2900123456/2010"
    assert income.description == "Faktura 2025-0042 · Platba za e-shop"
    assert income.raw_data["constant_symbol"] == "0308" and income.raw_data["specific_symbol"] == "77"
    assert income.raw_data["bank_name"] == "Fio banka, a.s." and income.raw_data["bic"] == "FIOBCZPPXXX"
    assert fee.transaction_type == "expense" and fee.amount == 10 and fee.currency == "EUR"
    assert fee.counterparty_account == "DE89370400440532013000"  # an IBAN, no bank code
    assert fee.description == "Poplatek"  # no message or comment: the movement type
    assert history.records_processed == 2


# -- a realistic income pays a demo invoice ----------------------------------------------------


def test_an_income_with_the_invoice_vs_pays_a_demo_invoice(fio, server):
    load_demo()
    invoice = (
        Invoice.select().where((Invoice.status == "sent") & (Invoice.currency == "CZK")).order_by(Invoice.id).first()
    )
    assert invoice is not None, "the demo has a sent CZK invoice"
    paid_on = TODAY - timedelta(days=1)
    amount = from_minor(invoice.total, "CZK")
    server.add(
        movement(
            21000000001,
            paid_on,
            amount,
            vs=invoice.variable_symbol,
            counterparty_account="2501234567",
            bank_code="0300",
            counterparty_name="Pekárna U Šťastných s.r.o.",
            bank_name="ČSOB, a.s.",
            message=f"Faktura {invoice.number}",
            executed_by="Pekárna U Šťastných s.r.o.",
        )
    )

    outcome, history = sync()  # no start_date: the default window (the fixture's 2016 movements are outside)
    assert outcome.status == "completed", outcome.error
    assert history.records_created == 1
    assert server.requests[-1].date_from == TODAY - timedelta(days=89)

    match_transactions()  # the engine will run matching inside the sync; until then, explicitly (idempotent)
    tx = transactions()[0]
    assert (tx.transaction_type, tx.amount, tx.reference) == ("income", invoice.total, invoice.variable_symbol)
    assert tx.invoice_id == invoice.id and tx.match_status == "matched"
    invoice = Invoice.get_by_id(invoice.id)
    assert invoice.status == "paid"
    assert invoice.paid_on == paid_on


# -- errors become sentences and nothing is written ---------------------------------------------

ERRORS = {
    404: "Fio did not recognise the request (HTTP 404); check the API address setting.",
    413: "Fio would send more than 50,000 movements at once (HTTP 413); set a later first day.",
    422: "Fio needs strong authorisation for data older than 90 days (HTTP 422)",
    500: "Fio refused the token: it is invalid, inactive or expired",
    503: "Fio answered with HTTP 503; nothing was imported. Try again later.",
}


@pytest.mark.parametrize("status", sorted(ERRORS))
def test_every_error_status_becomes_its_sentence_and_nothing_is_written(fio, server, status):
    configure(start_date=FIXTURE_START)  # the server has movements to send: none must land
    server.respond(status)
    outcome, history = sync()
    assert ERRORS[status] in outcome.error
    assert_nothing_written(outcome, history)
    assert outcome.error in history.log
    assert server.statuses == [status]  # asked once: only 409 is retried


def test_a_wrong_token_gets_500_from_the_server(fio, server):
    plugin_config.configure("fio", {}, {"token": "X" * 64})
    outcome, history = sync()
    assert outcome.error.startswith(ERRORS[500])
    assert_nothing_written(outcome, history)
    assert server.statuses == [500]


def test_a_wrong_api_address_gets_404(fio, server):
    configure(base_url=f"http://127.0.0.1:{server.port}/rest/")  # without /v1
    outcome, history = sync()
    assert outcome.error == ERRORS[404]
    assert_nothing_written(outcome, history)


def test_more_than_the_limit_of_movements_gets_413(fio, server):
    server.max_items = 1
    configure(start_date=FIXTURE_START)
    outcome, history = sync()
    assert outcome.error == ERRORS[413]
    assert_nothing_written(outcome, history)


@pytest.mark.parametrize("base_url", ["http://[::1/v1/rest/", "http://127.0.0.1:80x/v1/rest/"])
def test_a_mistyped_api_address_is_a_sentence(fio, server, base_url):
    configure(base_url=base_url)
    outcome, history = sync()
    assert "is not a valid URL; check the API address setting" in outcome.error
    assert_nothing_written(outcome, history)


def test_a_server_that_is_not_there_is_a_sentence(fio, server):
    port = server.port
    server.stop()
    configure(base_url=f"http://127.0.0.1:{port}/v1/rest/")
    outcome, history = sync()
    assert outcome.error.startswith(f"Could not reach Fio at 127.0.0.1:{port}")
    assert_nothing_written(outcome, history)


# -- the 30-second rule ---------------------------------------------------------------------


def test_409_waits_with_a_visible_countdown_then_succeeds(fio, server, fake_sleep):
    configure(start_date=FIXTURE_START)
    server.add(movement(24000000001, TODAY, "250.00", vs="7"))
    first, _ = sync()
    assert first.status == "completed"

    seen: list[tuple[float, str]] = []  # (server clock, line) as the person sees the lines arrive
    outcome, history = sync(on_log=lambda line: seen.append((server.clock.now(), line)))  # at once: 409

    assert outcome.status == "completed", outcome.error
    assert server.statuses == [200, 409, 200]
    refused, retried = server.requests[1], server.requests[2]
    assert retried.at - refused.at == 30  # waited exactly the window, on the fake clock
    assert sum(fake_sleep) == 30 and all(s <= 1 for s in fake_sleep)  # in steps: a cancel can land
    countdown = [
        (at - refused.at, line.split("WARNING", 1)[1].strip()) for at, line in seen if "trying again in" in line
    ]
    assert countdown == [
        (0, "Fio allows one request every 30 seconds; trying again in 30 s"),
        (10, "Fio allows one request every 30 seconds; trying again in 20 s"),
        (20, "Fio allows one request every 30 seconds; trying again in 10 s"),
        (27, "Fio allows one request every 30 seconds; trying again in 3 s"),
        (28, "Fio allows one request every 30 seconds; trying again in 2 s"),
        (29, "Fio allows one request every 30 seconds; trying again in 1 s"),
    ]
    assert [line for _, line in seen] == outcome.log == history.log.splitlines()
    assert (history.records_created, history.records_skipped) == (0, 1)


def test_409_forever_fails_after_a_bounded_number_of_tries(fio, server, fake_sleep):
    configure(start_date=FIXTURE_START)
    server.respond(409, times=100)
    outcome, history = sync()
    tries = FioPlugin.RATE_LIMIT_RETRIES + 1
    assert outcome.error == (
        f"Fio allows one request every 30 seconds and still refused after {tries} tries; wait a minute and sync again."
    )
    assert server.statuses == [409] * tries
    assert sum(fake_sleep) == 30 * FioPlugin.RATE_LIMIT_RETRIES
    assert_nothing_written(outcome, history)


def test_a_cancel_during_the_countdown_stops_the_wait_and_writes_nothing(fio, server, fake_sleep):
    configure(start_date=FIXTURE_START)
    server.respond(409)
    cancel = threading.Event()

    def on_log(line: str) -> None:
        if "trying again in 20 s" in line:  # the person presses cancel 10 s into the wait
            cancel.set()

    outcome, history = sync(on_log=on_log, cancel_event=cancel)
    assert outcome.error == "Cancelled by the user; nothing was saved."
    assert sum(fake_sleep) == 10  # it stopped at once, not at the end of the 30 s
    assert server.statuses == [409]  # and did not try again
    assert_nothing_written(outcome, history)


# -- timeouts and broken answers ----------------------------------------------------------------


def test_a_hanging_server_becomes_a_timeout_sentence(fio, server):
    server.hang()
    outcome, history = sync()
    assert outcome.error.startswith("Fio did not answer within 1 s.")
    assert "token may be invalid" in outcome.error
    assert server.statuses == [None]
    assert_nothing_written(outcome, history)


@pytest.mark.parametrize("breakage", ["malformed", "truncated"])
def test_malformed_or_truncated_json_is_a_sentence(fio, server, breakage):
    configure(start_date=FIXTURE_START)
    getattr(server, breakage)()
    outcome, history = sync()
    assert outcome.error == (
        "Fio sent an answer that is not valid JSON (it may have been cut off); nothing was imported. Try again."
    )
    assert server.statuses == [200]
    assert_nothing_written(outcome, history)


@pytest.mark.parametrize("body", [b"[]", b'{"error": "maintenance"}', b'{"accountStatement": null}'])
def test_json_without_an_account_statement_is_a_sentence(fio, server, body):
    server.respond_raw(body)
    outcome, history = sync()
    assert outcome.error == "Fio's answer has no account statement; nothing was imported."
    assert_nothing_written(outcome, history)


def test_a_connection_dropped_mid_answer_is_a_sentence(fio, server):
    configure(start_date=FIXTURE_START)
    server.drop_connection()
    outcome, history = sync()
    assert outcome.error.startswith(f"Could not reach Fio at 127.0.0.1:{server.port}")
    assert_nothing_written(outcome, history)


def test_a_null_transaction_list_is_success_with_nothing_created(fio, server):
    configure(start_date=FIXTURE_START)
    server.null_transaction_list()
    outcome, history = sync()
    assert outcome.status == "completed", outcome.error
    assert (history.records_processed, history.records_created) == (0, 0)
    assert transactions() == []
    assert outcome.metadata["movements"] == 0
    assert state() == {"last_date": TODAY.isoformat()}


# -- re-runs, the overlap window, state ------------------------------------------------------------


def test_a_re_run_creates_nothing(fio, server):
    configure(start_date=FIXTURE_START)
    server.add(
        movement(23000000001, TODAY - timedelta(days=1), "1500.00", vs="42", counterparty_name="A"),
        movement(23000000002, TODAY, "-99.90", message="Poplatek za vedení účtu"),
    )
    first, _ = sync()
    assert first.counts.created == 4  # the fixture's two and today's two
    ids = [(tx.id, tx.external_id) for tx in transactions()]

    server.clock.advance(30)
    second, history = sync()  # the overlap window re-reads the recent two
    assert second.status == "completed", second.error
    assert (history.records_processed, history.records_created, history.records_updated, history.records_skipped) == (
        2,
        0,
        0,
        2,
    )
    assert (
        AuditRecord.select()
        .where((AuditRecord.sync_run == history.id) & (AuditRecord.table_name == "money_transactions"))
        .count()
        == 0
    )

    set_state({})  # the saved state lost: the whole range comes again, deduplicated by movement id
    server.clock.advance(30)
    third, history = sync()
    assert (history.records_processed, history.records_created, history.records_skipped) == (4, 0, 4)
    assert [(tx.id, tx.external_id) for tx in transactions()] == ids
    assert server.statuses == [200, 200, 200]


def test_the_second_sync_re_reads_the_overlap_window(fio, server):
    server.add(
        movement(22000000001, TODAY - timedelta(days=10), "500.00", vs="1"),
        movement(22000000002, TODAY, "600.00", vs="2"),
    )
    first, _ = sync()
    assert first.status == "completed" and first.counts.created == 2
    assert state() == {"last_date": TODAY.isoformat()}

    # A movement booked late, dated yesterday, shows up after the first sync.
    server.add(movement(22000000003, TODAY - timedelta(days=1), "700.00", vs="3"))
    server.clock.advance(30)
    second, history = sync()
    since = TODAY - timedelta(days=3)  # last synced day minus the default overlap of 3 days
    assert server.requests[-1].date_from == since
    assert f"/{since.isoformat()}/{TODAY.isoformat()}/transactions.json" in server.requests[-1].path
    assert (history.records_processed, history.records_created, history.records_skipped) == (2, 1, 1)
    assert sorted(tx.external_id for tx in transactions()) == ["fio:22000000001", "fio:22000000002", "fio:22000000003"]

    configure(overlap_days=7)
    server.clock.advance(30)
    third, history = sync()
    assert server.requests[-1].date_from == TODAY - timedelta(days=7)
    assert (history.records_created, history.records_skipped) == (0, 2)


def test_the_overlap_never_reaches_before_the_first_day(fio, server):
    configure(start_date=(TODAY - timedelta(days=1)).isoformat())
    sync()
    server.clock.advance(30)
    sync()
    assert [r.date_from for r in server.requests] == [TODAY - timedelta(days=1)] * 2


def test_state_is_saved_only_on_success_so_a_failure_loses_nothing(fio, server):
    configure(start_date=FIXTURE_START)
    server.respond(500)
    outcome, history = sync()
    assert_nothing_written(outcome, history)  # state still {}

    set_state({"last_date": "2016-08-05"})  # as if an earlier run had synced up to that day
    server.clock.advance(30)
    server.truncated()
    outcome, history = sync()
    assert_nothing_written(outcome, history, {"last_date": "2016-08-05"})
    assert server.requests[-1].date_from == date(2016, 8, 2)

    server.clock.advance(30)
    outcome, history = sync()  # the same window again: what the failures missed arrives now
    assert outcome.status == "completed", outcome.error
    assert server.requests[-1].date_from == date(2016, 8, 2)
    assert history.records_created == 2
    assert state() == {"last_date": TODAY.isoformat()}


# -- the token is never stored ----------------------------------------------------------------------


def test_the_token_is_absent_from_everything_stored(fio, server, database, fakturka_home, caplog):
    caplog.set_level(logging.DEBUG)  # a log handler anywhere in the process must not see it either
    configure(start_date=FIXTURE_START)
    lines: list[str] = []

    def run(prepare=None):
        server.clock.advance(30)
        if prepare:
            prepare()
        return sync(on_log=lines.append)

    outcomes = [
        run(),  # success
        run(lambda: server.respond(404)),  # the error page echoes the path, token included
        run(lambda: server.respond(409)),  # countdown, then success
        run(server.hang),
        run(server.drop_connection),
        run(server.truncated),
        run(lambda: server.respond(500)),
        run(
            lambda: server.add(
                {
                    "column22": {"value": 1, "name": "ID pohybu", "id": 22},
                    "column0": {"value": f"{TODAY}+0200", "name": "Datum", "id": 0},
                    "column1": {"value": "not a number", "name": "Objem", "id": 1},
                }
            )
        ),
    ]
    assert [o.status for o, _ in outcomes] == [
        "completed",
        "failed",
        "completed",
        "failed",
        "failed",
        "failed",
        "failed",
        "failed",
    ]
    # The token really travelled (in the URL path): the checks below are not vacuous.
    assert all(r.token == TOKEN for r in server.requests)
    assert all(TOKEN in path for path in server.paths)

    assert lines and not [line for line in lines if TOKEN in line]
    for outcome, _ in outcomes:
        assert TOKEN not in json.dumps([outcome.error, outcome.log, outcome.metadata], default=str)
    for run_row in SyncHistory.select():
        for text in (
            run_row.log,
            run_row.error_message,
            run_row.error_backtrace,
            json.dumps(run_row.metadata, default=str),
        ):
            assert TOKEN not in (text or "")
    for record in AuditRecord.select():
        assert TOKEN not in json.dumps(record.changes, default=str)
    for row in PluginConfiguration.select():
        assert TOKEN not in json.dumps([row.settings, row.state], default=str)
        assert TOKEN.encode() not in bytes(row.credentials or b"")  # encrypted
    for table in db.get_tables():  # every text column of every table, as SQLite has it
        for row in db.execute_sql(f'SELECT * FROM "{table}"').fetchall():
            assert TOKEN not in repr(row), table
    assert TOKEN not in caplog.text
    assert "/periods/***/" in caplog.text  # httpx did log the requests, with the token masked

    needle = TOKEN.encode()
    files = [database, database.with_name(database.name + "-wal")]
    assert files[1].exists(), "the database runs in WAL mode: its -wal file is checked too"
    files += [p for p in fakturka_home.rglob("*") if p.is_file() and p not in files]
    for path in files:
        assert needle not in path.read_bytes(), path


# -- hostile answers and settings -----------------------------------------------------------------

BASIC_PASSWORD = "pa55-W0rd%2Fsecret"  # percent-encoded in the URL, as a person would write a "/"


def test_a_user_and_password_in_the_api_address_are_never_echoed(fio, server, caplog):
    caplog.set_level(logging.DEBUG)
    configure(start_date=FIXTURE_START, base_url=f"http://jana:{BASIC_PASSWORD}@127.0.0.1:{server.port}/v1/rest/")
    lines: list[str] = []
    ok, _ = sync(on_log=lines.append)
    assert ok.status == "completed", ok.error
    assert any(f"(127.0.0.1:{server.port})" in line for line in lines)  # the host, without the user
    configure(base_url=f"http://jana:{BASIC_PASSWORD}@[::1/v1/rest/")
    mistyped, _ = sync(on_log=lines.append)
    assert "is not a valid URL" in mistyped.error
    port = server.port
    server.stop()
    configure(base_url=f"http://jana:{BASIC_PASSWORD}@127.0.0.1:{port}/v1/rest/")
    unreachable, _ = sync(on_log=lines.append)
    assert unreachable.error.startswith(f"Could not reach Fio at 127.0.0.1:{port} ")
    # httpx logs every request's URL (the settings row itself keeps the address as typed: peewee's debug log
    # of that write is not the sync's)
    http_log = [record.getMessage() for record in caplog.records if record.name.startswith(("httpx", "httpcore"))]
    assert any("HTTP Request: GET http://127.0.0.1:" in line for line in http_log)
    shown = json.dumps([lines, http_log, [o.error for o in (ok, mistyped, unreachable)]])
    for secret in (BASIC_PASSWORD, "pa55-W0rd/secret", "jana:"):
        assert secret not in shown
    for run_row in SyncHistory.select():
        assert "pa55" not in (run_row.log or "") + (run_row.error_message or "")


def fio_body(info="{}", transactions="[]") -> bytes:
    return f'{{"accountStatement": {{"info": {info}, "transactionList": {{"transaction": {transactions}}}}}}}'.encode()


def one_movement(**columns) -> str:
    cells = {"column22": 1, "column0": "2016-08-03+0200", "column1": 100.0, "column14": "CZK", **columns}
    return "[{" + ", ".join(f'"{key}": {{"value": {value}}}' for key, value in _json_values(cells)) + "}]"


def _json_values(cells: dict):
    for key, value in cells.items():
        raw = isinstance(value, str) and (value[:1] in '[{"' or value == "NaN")  # JSON text as it is
        yield key, (value if raw else json.dumps(value))


@pytest.mark.parametrize(
    "body,says",
    [
        (fio_body(info="[1, 2]"), "Fio's answer has an account description (info) that is not an object"),
        (fio_body(transactions='{"a": 1}'), "Fio's answer has a transaction list that is not a list"),
        (fio_body(transactions="[7]"), "Fio's answer has a movement (number 1) that is not an object"),
        (b'{"accountStatement": ' + b"[" * 50_000 + b"]" * 50_000 + b"}", "Fio sent an answer that is not valid JSON"),
        (fio_body(transactions=one_movement(column1="NaN")), "Fio sent an answer that is not valid JSON"),
        (fio_body(transactions=one_movement(column1='"NaN"')), "Fio movement 1 has an amount or date that cannot"),
        (fio_body(transactions=one_movement(column1="١٢٣")), "Fio movement 1 has an amount or date that cannot be"),
        (fio_body(transactions=one_movement(column1="1e999999")), "Fio movement 1 has an amount or date that cannot"),
        (fio_body(transactions=one_movement(column0="2016-W31-3")), "Fio movement 1 has an amount or date that cannot"),
        (fio_body(transactions=one_movement(column0="9999-08-03+0200")), "transaction 'fio:1': 9999-08-03 is outside"),
        (fio_body(transactions=one_movement(column14="ABC")), "transaction 'fio:1': 'ABC' is not a currency code"),
        (fio_body(transactions=one_movement(column1=1e30)), "Fio sent a movement Fakturka cannot keep: transaction"),
    ],
    ids=[
        "info",
        "list",
        "movement",
        "deep",
        "nan",
        "nan-text",
        "arabic",
        "huge",
        "week-date",
        "year",
        "currency",
        "too-large",
    ],
)
def test_a_hostile_answer_is_a_sentence_and_nothing_is_written(fio, server, body, says):
    configure(start_date=FIXTURE_START)
    server.respond_raw(body)
    outcome, history = sync()
    assert says in outcome.error
    assert_nothing_written(outcome, history)


def test_an_unknown_column_is_kept_under_its_own_key(fio, server):
    configure(start_date=FIXTURE_START)
    server.respond_raw(fio_body(transactions=one_movement(columnX="7", column999="8")))
    outcome, _ = sync()
    assert outcome.status == "completed", outcome.error
    (tx,) = transactions()
    assert tx.raw_data["columnX"] == "7" and tx.raw_data["column999"] == "8"


@pytest.mark.parametrize("key,value", [("overlap_days", "2.5"), ("overlap_days", "100000000"), ("timeout", "99999")])
def test_a_number_setting_out_of_range_is_a_sentence(fio, server, key, value):
    configure(**{key: value})
    outcome, history = sync()
    assert outcome.error.startswith("The setting ") and f"({key}) must be" in outcome.error
    assert_nothing_written(outcome, history)
