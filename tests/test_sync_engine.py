"""The sync engine (core/sync.py): one run of one plugin, recorded, all-or-nothing, secrets masked.

See DESIGN.md "Sync engine" and issue 5. Every test runs against a fresh
database under a temporary FAKTURKA_HOME; the registry is swapped with
``use_plugins`` and always restored.
"""

from __future__ import annotations

import json
import multiprocessing
import os
import re
import signal
import sqlite3
import threading
from datetime import date
from urllib.parse import quote, quote_plus

import httpx
import pytest

from core.platform import plugin_config
from core.platform.history import run_changes
from core.platform.sync import SyncCancelled, SyncRefused, recover_interrupted_runs, run_sync
from core.plugins import use_plugins
from core.plugins.base import Plugin, Secret, SyncError, Text
from core.store.audit import AuditBypassError, AuditRecord
from core.store.db import close_database, db, open_database
from core.store.models import Client, Invoice, MoneyTransaction, PluginConfiguration, Project, SyncHistory, WorkEntry

SECRET = "S3CRET-token-4711"
WAIT = 30  # seconds: a guard against a hung test, never a timing assertion


# -- fixtures and helpers ------------------------------------------------------------------


@pytest.fixture
def registry(database):
    """``registry(*classes)`` swaps the plugin registry; the bundled one is restored afterwards."""
    yield lambda *classes: use_plugins(list(classes))
    use_plugins(None)


def ready(name: str, settings: dict | None = None, secrets: dict | None = None) -> None:
    plugin_config.configure(name, settings or {}, secrets or {})
    plugin_config.set_enabled(name, True)


BANK_FIELDS = [Secret("token", "API token", required=True), Text("account", "Account number", required=True)]


@pytest.fixture
def bank(registry):
    """A configured, enabled plugin "bank" whose sync body the test sets: ``bank(fn)``."""
    body = {"fn": lambda ctx: None}

    class Bank(Plugin):
        name = "bank"
        version = "1.2.3"
        fields = BANK_FIELDS

        def sync(self, ctx):
            return body["fn"](ctx)

    registry(Bank)
    ready("bank", {"account": "2001234567"}, {"token": SECRET})

    def set_body(fn):
        body["fn"] = fn

    return set_body


def tx(ctx, ext, amount="100.00", description="", **kw):
    ctx.upsert_transaction(
        external_id=ext,
        transaction_type=kw.pop("transaction_type", "income"),
        amount=amount,
        currency=kw.pop("currency", "CZK"),
        transacted_on=kw.pop("transacted_on", date(2025, 3, 1)),
        description=description,
        **kw,
    )


def project() -> Project:
    client = Client.get_or_none(Client.name == "Acme") or Client.create(name="Acme")
    return Project.get_or_none(Project.name == "Web") or Project.create(client=client, name="Web")


def domain_snapshot() -> dict:
    return {
        "transactions": list(MoneyTransaction.select().order_by(MoneyTransaction.id).dicts()),
        "entries": list(WorkEntry.select().order_by(WorkEntry.id).dicts()),
        "clients": list(Client.select().order_by(Client.id).dicts()),
        "audit": list(AuditRecord.select().order_by(AuditRecord.id).dicts()),
        "state": PluginConfiguration.get(PluginConfiguration.plugin_name == "bank").state,
    }


def record_status_changes() -> None:
    """Triggers that log every status a sync_histories row takes (the engine's own connection)."""
    db.execute_sql("CREATE TABLE status_log (run INTEGER, status TEXT)")
    db.execute_sql(
        "CREATE TRIGGER log_insert AFTER INSERT ON sync_histories "
        "BEGIN INSERT INTO status_log VALUES (NEW.id, NEW.status); END"
    )
    db.execute_sql(
        "CREATE TRIGGER log_update AFTER UPDATE OF status ON sync_histories "
        "WHEN NEW.status IS NOT OLD.status BEGIN INSERT INTO status_log VALUES (NEW.id, NEW.status); END"
    )


def statuses(run_id: int) -> list[str]:
    return [r[0] for r in db.execute_sql("SELECT status FROM status_log WHERE run = ? ORDER BY rowid", (run_id,))]


def run_in_thread(name: str, **kw):
    """Start run_sync in a thread (its own peewee connection); returns (thread, result dict)."""
    result: dict = {}

    def target():
        try:
            result["outcome"] = run_sync(name, **kw)
        except BaseException as exc:  # noqa: BLE001 - handed to the test
            result["error"] = exc
        finally:
            db.close()

    thread = threading.Thread(target=target)
    thread.start()
    return thread, result


# -- success ---------------------------------------------------------------------------------


def test_success_records_the_run_counts_metadata_log_and_audit(bank):
    record_status_changes()
    web = project()
    seen_inside = {}

    def body(ctx):
        run = SyncHistory.get_by_id(ctx.run_id)
        seen_inside.update(
            status=run.status,
            started=run.started_at,
            clients=[c.name for c in ctx.clients()],
            projects=[p.name for p in ctx.projects()],
            settings=ctx.settings,
            credentials=ctx.credentials,
            source=ctx.source,
        )
        ctx.log("Downloading statement")
        ctx.progress(1, 3)
        tx(ctx, "A-1", "1500.50", "Invoice 2025001", reference="2025001")
        tx(ctx, "A-2", "20", "Fee", transaction_type="expense")
        ctx.progress(2, 3)
        ctx.add_work_entry(project=web, date=date(2025, 3, 2), minutes=90, description="Call", external_id="W-1")
        ctx.progress(3, 3)
        ctx.log("Statement has 2 rows", level="warning")
        ctx.metadata.update(statement_id=42, period="2025-03")
        ctx.state["cursor"] = "A-2"

    bank(body)
    lines, progress, started = [], [], []
    outcome = run_sync(
        "bank", on_log=lines.append, on_progress=lambda d, t: progress.append((d, t)), on_started=started.append
    )

    assert outcome.status == "completed" and outcome.error is None
    run = SyncHistory.get_by_id(outcome.run_id)
    assert started == [run.id]
    assert statuses(run.id) == ["pending", "running", "completed"]
    assert seen_inside == {
        "status": "running",
        "started": run.started_at,
        "clients": ["Acme"],
        "projects": ["Web"],
        "settings": {"account": "2001234567"},
        "credentials": {"token": SECRET},
        "source": "bank",
    }
    assert run.plugin_name == "bank" and run.trigger == "cli"
    assert run.started_at <= run.completed_at
    assert (run.records_processed, run.records_created, run.records_updated, run.records_skipped) == (3, 3, 0, 0)
    assert (outcome.counts.processed, outcome.counts.created) == (3, 3)
    assert run.metadata == outcome.metadata == {"statement_id": 42, "period": "2025-03"}
    assert run.error_message is None and run.error_backtrace is None
    # The full log is stored, in order, and is what the live callback saw.
    assert run.log.splitlines() == outcome.log == lines
    assert "bank 1.2.3: sync started" in lines[0]
    assert "INFO" in lines[1] and lines[1].endswith("Downloading statement")
    assert "WARNING" in lines[2] and lines[2].endswith("Statement has 2 rows")
    assert "Done: 3 processed, 3 created, 0 updated, 0 unchanged." in lines[-1]
    assert progress == [(1, 3), (2, 3), (3, 3)]
    # The rows, attributed to the plugin.
    a1 = MoneyTransaction.get(MoneyTransaction.external_id == "A-1")
    assert (a1.source, a1.amount, a1.currency, a1.transaction_type, a1.reference) == (
        "bank",
        150050,
        "CZK",
        "income",
        "2025001",
    )
    entry = WorkEntry.get(WorkEntry.external_id == "W-1")
    assert (entry.source, entry.minutes, entry.project_id) == ("bank", 90, web.id)
    # One audit record per write, under the plugin's name with the run attached.
    changes = run_changes(run.id)
    assert {(c.table_name, c.row_id, c.action) for c in changes} == {
        ("money_transactions", a1.id, "create"),
        ("money_transactions", MoneyTransaction.get(MoneyTransaction.external_id == "A-2").id, "create"),
        ("work_entries", entry.id, "create"),
        ("plugin_configurations", PluginConfiguration.get(PluginConfiguration.plugin_name == "bank").id, "update"),
    }
    assert all(c.source == "bank" and c.sync_run == run.id for c in changes)
    a1_audit = next(c for c in changes if c.row_id == a1.id and c.table_name == "money_transactions")
    assert a1_audit.changes["amount"] == [None, 150050]
    assert AuditRecord.select().where(AuditRecord.source == "bank").count() == len(changes)
    assert PluginConfiguration.get(PluginConfiguration.plugin_name == "bank").state == {"cursor": "A-2"}


def test_upsert_counts_created_updated_unchanged_and_last_word_wins(bank):
    bank(lambda ctx: [tx(ctx, "1", "10"), tx(ctx, "2", "20"), tx(ctx, "3", "30", raw_data={"n": 1})])
    first = run_sync("bank")
    assert (first.counts.created, first.counts.updated, first.counts.skipped) == (3, 0, 0)
    ids = {t.external_id: t.id for t in MoneyTransaction.select()}

    def second_body(ctx):
        tx(ctx, "1", "10")  # unchanged
        tx(ctx, "2", "20", description="corrected")  # changed text (a booked amount never changes)
        tx(ctx, "3", "30", raw_data={"n": 1})  # unchanged, raw data included
        tx(ctx, "4", "41", description="first word")
        tx(ctx, "4", "41", description="last word")  # the same movement again in one run: the last one wins

    bank(second_body)
    second = run_sync("bank")
    run = SyncHistory.get_by_id(second.run_id)
    # A record sent twice is one record: processed = created + updated + unchanged.
    assert (run.records_processed, run.records_created, run.records_updated, run.records_skipped) == (4, 1, 1, 2)
    rows = {t.external_id: t for t in MoneyTransaction.select()}
    assert sorted(rows) == ["1", "2", "3", "4"]
    assert {k: ids[k] for k in "123"} == {k: rows[k].id for k in "123"}  # updated in place, not re-created
    assert (rows["2"].description, rows["4"].amount, rows["4"].description) == ("corrected", 4100, "last word")
    changes = run_changes(second.run_id)
    assert sorted(
        (c.table_name, c.row_id, c.action) for c in changes if c.table_name == "money_transactions"
    ) == sorted([("money_transactions", rows["2"].id, "update"), ("money_transactions", rows["4"].id, "create")])
    update = next(c for c in changes if c.action == "update" and c.table_name == "money_transactions")
    assert update.changes == {"description": ["", "corrected"]}

    # A third identical run changes nothing at all.
    audit_before = AuditRecord.select().count()
    third = run_sync("bank")
    assert (third.counts.created, third.counts.updated, third.counts.skipped) == (0, 0, 4)
    assert AuditRecord.select().count() == audit_before


@pytest.mark.parametrize("stored, sent", [(40, 40), (40, 3)], ids=["most-sent: one pass", "few-sent: look-ups"])
def test_upsert_finds_stored_rows_whether_a_run_sends_most_or_few(bank, monkeypatch, stored, sent):
    """Stored rows are found by one pass over the plugin's rows or by look-ups per id (core.platform.sync chooses by
    count); either way the counts are right and another source's rows with the same ids are not touched."""

    MoneyTransaction.create(
        source="other",
        external_id="1",
        transaction_type="income",
        amount=777,
        currency="CZK",
        transacted_on=date(2025, 3, 1),
    )
    bank(lambda ctx: [tx(ctx, str(i), f"{i + 1}.00") for i in range(stored)])
    run_sync("bank")
    ids_before = {t.external_id: t.id for t in MoneyTransaction.select().where(MoneyTransaction.source == "bank")}
    statements: list[str] = []
    execute = db.execute_sql
    monkeypatch.setattr(db, "execute_sql", lambda sql, *a, **kw: statements.append(sql) or execute(sql, *a, **kw))

    def body(ctx):
        tx(ctx, "0", "1.00")  # unchanged
        tx(ctx, "1", "2.00", description="changed")  # changed
        for i in range(2, sent):
            tx(ctx, str(i), f"{i + 1}.00")  # unchanged
        tx(ctx, "new", "5.00")  # not stored yet

    bank(body)
    outcome = run_sync("bank")
    assert (outcome.counts.created, outcome.counts.updated, outcome.counts.skipped) == (1, 1, sent - 1)
    rows = {t.external_id: t for t in MoneyTransaction.select().where(MoneyTransaction.source == "bank")}
    assert {k: rows[k].id for k in ids_before} == ids_before
    assert (rows["1"].description, rows["new"].amount) == ("changed", 500)
    assert [t.amount for t in MoneyTransaction.select().where(MoneyTransaction.source == "other")] == [777]
    # The comparing read (it selects raw_data); a new row's check against other plugins looks up by id anyway.
    compared = [sql for sql in statements if "money_transactions" in sql and '"raw_data"' in sql]
    looked_up = any('"external_id" IN (' in sql for sql in compared)
    assert looked_up == (sent < stored / 2), "the way chosen for this mix"


def test_upserted_values_are_stored_as_their_columns_keep_them_and_rerun_unchanged(bank):
    """A datetime is stored as its date, a number in a text field as its text, nothing as "";
    re-sending the same values is recognised as unchanged."""
    from datetime import datetime

    def body(ctx):
        ctx.upsert_transaction(
            external_id=4711,
            transaction_type="income",
            amount=125,
            currency="czk",
            transacted_on=datetime(2025, 3, 1, 23, 59),
            description=2024001,
            counterparty=None,
            reference=2024001,
            raw_data={"vs": 2024001},
        )
        ctx.upsert_transaction(
            external_id="day", transaction_type="expense", amount="1", currency="CZK", transacted_on=Day(2025, 3, 2)
        )

    class Day(date):
        """A date subclass, as some date libraries return."""

    bank(body)
    first = run_sync("bank")
    assert first.counts.created == 2
    assert MoneyTransaction.get(MoneyTransaction.external_id == "day").transacted_on == date(2025, 3, 2)
    row = MoneyTransaction.get(MoneyTransaction.external_id == "4711")
    assert (row.external_id, row.amount, row.currency, row.transacted_on) == ("4711", 12500, "CZK", date(2025, 3, 1))
    assert (row.description, row.counterparty, row.reference, row.raw_data) == (
        "2024001",
        "",
        "2024001",
        {"vs": 2024001},
    )
    created = run_changes(first.run_id)[0].changes
    assert created["transacted_on"] == [None, "2025-03-01"] and created["description"] == [None, "2024001"]
    again = run_sync("bank")
    assert (again.counts.created, again.counts.updated, again.counts.skipped) == (0, 0, 2)


def test_work_entry_upsert_counts_and_last_word_wins(bank):
    web = project()

    def body(ctx):
        ctx.add_work_entry(project=web, date=date(2025, 3, 3), minutes=30, description="draft", external_id="e1")
        ctx.add_work_entry(project=web, date=date(2025, 3, 3), minutes=45, description="final", external_id="e1")
        ctx.add_work_entry(project=web, date=date(2025, 3, 4), minutes=60, external_id="e2")

    bank(body)
    outcome = run_sync("bank")
    # e1 sent twice is one record.
    assert (outcome.counts.processed, outcome.counts.created, outcome.counts.updated, outcome.counts.skipped) == (
        2,
        2,
        0,
        0,
    )
    e1 = WorkEntry.get(WorkEntry.external_id == "e1")
    assert (e1.minutes, e1.description) == (45, "final")
    assert WorkEntry.select().count() == 2
    # One create record per entry, not a create and then an update for the duplicate.
    assert sorted(c.action for c in run_changes(outcome.run_id) if c.table_name == "work_entries") == [
        "create",
        "create",
    ]

    bank(
        lambda ctx: [
            ctx.add_work_entry(project=web, date=date(2025, 3, 3), minutes=45, description="final", external_id="e1"),
            ctx.add_work_entry(project=web, date=date(2025, 3, 4), minutes=75, external_id="e2"),
        ]
    )
    again = run_sync("bank")
    assert (again.counts.created, again.counts.updated, again.counts.skipped) == (0, 1, 1)
    assert WorkEntry.get(WorkEntry.external_id == "e2").minutes == 75


def test_write_helpers_refuse_bad_values(bank):
    web = project()
    errors = []

    def body(ctx):
        for call in (
            lambda: tx(ctx, "x", "-5"),
            lambda: tx(ctx, "x", "5", transaction_type="refund"),
            lambda: tx(ctx, "x", "5", transacted_on="2025-03-01"),
            lambda: ctx.add_work_entry(project=web, date=date(2025, 1, 1), minutes=0),
        ):
            try:
                call()
            except ValueError as exc:
                errors.append(str(exc))

    bank(body)
    outcome = run_sync("bank")
    assert outcome.status == "completed" and outcome.counts.processed == 0
    assert len(errors) == 4
    assert "positive" in errors[0] and "'income' or 'expense'" in errors[1] and "date" in errors[2]
    assert "minutes" in errors[3]
    # Each names the movement it is about: a statement has thousands.
    assert all(error.startswith("transaction 'x': ") for error in errors[:3])
    assert errors[3].startswith("work entry: ")


def test_a_bad_amount_fails_the_run_naming_the_movement_and_writes_nothing(bank):
    bank(lambda ctx: [tx(ctx, "ok-1", "10.00"), tx(ctx, "typo-2", "1O.00")])
    outcome = run_sync("bank")
    assert outcome.status == "failed"
    assert "transaction 'typo-2': '1O.00' is not an amount of money." in outcome.error
    assert MoneyTransaction.select().count() == 0
    run = SyncHistory.get_by_id(outcome.run_id)
    # The source's value is at fault, not the plugin's code: a sentence, no backtrace (RefusedValue).
    assert "typo-2" in run.error_message and run.error_backtrace is None


@pytest.mark.parametrize(
    "currency, message",
    [
        ("", "'' is not a currency code"),
        ("EURO", "'EURO' is not a currency code"),
        ("XYZ", "'XYZ' is not a currency code"),
        (None, "currency must be a code such as 'CZK' or 'EUR', not None"),
    ],
)
def test_an_unknown_currency_is_refused_naming_the_movement(bank, currency, message):
    # Before: "" and "EURO" were stored, and reading the amount later failed far from the cause.
    bank(lambda ctx: tx(ctx, "eur-7", "10.00", currency=currency))
    outcome = run_sync("bank")
    assert outcome.status == "failed"
    assert f"transaction 'eur-7': {message}" in outcome.error
    assert MoneyTransaction.select().count() == 0


def test_a_currency_in_small_letters_is_stored_in_capitals(bank):
    bank(lambda ctx: tx(ctx, "eur-8", "10.00", currency="eur"))
    assert run_sync("bank").status == "completed"
    assert MoneyTransaction.get().currency == "EUR"


def test_work_entry_values_are_checked_and_name_the_entry(bank):
    web = project()
    errors = []

    def body(ctx):
        for call in (
            lambda: ctx.add_work_entry(project=web, date="garbage", minutes=30, external_id="W1"),
            lambda: ctx.add_work_entry(project=web, date=None, minutes=30, external_id="W2"),
            lambda: ctx.add_work_entry(project="Web", date=date(2025, 1, 1), minutes=30, external_id="W3"),
        ):
            try:
                call()
            except ValueError as exc:
                errors.append(str(exc))

    bank(body)
    assert run_sync("bank").status == "completed"
    assert errors == [
        "work entry 'W1': date must be a date, not 'garbage'",
        "work entry 'W2': date must be a date, not None",
        "work entry 'W3': project must be a Project from ctx.projects() or its id, not 'Web'",
    ]
    assert WorkEntry.select().count() == 0


def test_a_work_entry_on_a_project_that_does_not_exist_fails_the_run_naming_it(bank):
    web = project()
    bank(
        lambda ctx: [
            ctx.add_work_entry(project=web, date=date(2025, 1, 1), minutes=30, external_id="ok"),
            ctx.add_work_entry(project=9999, date=date(2025, 1, 1), minutes=30, external_id="W9"),
        ]
    )
    outcome = run_sync("bank")
    assert outcome.status == "failed"
    assert "work entry 'W9': there is no project with the id 9999" in outcome.error
    assert WorkEntry.select().count() == 0  # all or nothing: the good entry is not saved either


def test_an_unknown_log_level_is_refused(bank):
    bank(lambda ctx: ctx.log("x", "fatal"))
    outcome = run_sync("bank")
    assert outcome.status == "failed"
    assert "log level 'fatal' is not one of debug, info, warning, error" in outcome.error


def test_ctrl_c_during_a_sync_closes_the_run_as_failed_with_its_log(bank):
    def body(ctx):
        ctx.log("downloading")
        raise KeyboardInterrupt

    bank(body)
    with pytest.raises(KeyboardInterrupt):
        run_sync("bank")
    run = SyncHistory.select().order_by(SyncHistory.id.desc()).get()
    assert run.status == "failed"  # not left "running" for the next start to call interrupted
    assert run.error_message == "Interrupted (ctrl+c); nothing was saved."
    assert "downloading" in run.log


# -- failures write nothing ------------------------------------------------------------------


def test_exception_mid_run_writes_nothing_and_keeps_message_and_backtrace(bank):
    bank(lambda ctx: tx(ctx, "old", "1"))
    run_sync("bank")
    web = project()
    before = domain_snapshot()

    def failing_download(ctx):
        tx(ctx, "new-1", "10")
        tx(ctx, "old", "99")  # would be an update
        ctx.add_work_entry(project=web, date=date(2025, 3, 1), minutes=10, external_id="w")
        ctx.state["cursor"] = "moved"
        ctx.metadata["pages"] = 2
        raise RuntimeError("page 3 came back empty")

    bank(failing_download)
    outcome = run_sync("bank")

    assert outcome.status == "failed"
    assert domain_snapshot() == before
    run = SyncHistory.get_by_id(outcome.run_id)
    assert run.status == "failed" and run.completed_at is not None
    assert run.error_message == outcome.error == "bank failed: RuntimeError: page 3 came back empty"
    assert run.error_backtrace.startswith("Traceback (most recent call last):")
    assert "failing_download" in run.error_backtrace
    assert run.error_backtrace.rstrip().endswith("RuntimeError: page 3 came back empty")
    assert (run.records_created, run.records_updated, run.records_skipped) == (0, 0, 0)
    assert run.metadata == {"pages": 2}
    assert "page 3 came back empty" in run.log.splitlines()[-1]
    assert run_changes(run.id) == []


def test_failure_while_applying_rolls_back_the_whole_run(bank):
    web = project()
    before = domain_snapshot()

    def body(ctx):
        for i in range(600):  # more than one insert batch
            tx(ctx, f"t{i}", "1")
        ctx.add_work_entry(project=web, date=date(2025, 3, 1), minutes=10, external_id="w")
        ctx.state["cursor"] = "t599"

        def breaks():
            Client.create(name="Written in the commit")
            raise ValueError("a deferred write failed")

        ctx.apply(breaks)

    bank(body)
    outcome = run_sync("bank")
    assert outcome.status == "failed"
    assert "ValueError: a deferred write failed" in outcome.error
    assert domain_snapshot() == before
    assert run_changes(outcome.run_id) == []
    assert "breaks" in SyncHistory.get_by_id(outcome.run_id).error_backtrace


def test_sync_error_gives_its_message_without_a_backtrace(bank):
    def body(ctx):
        tx(ctx, "1", "1")
        raise SyncError("The bank refused the token: it expired on 2025-03-01.")

    bank(body)
    outcome = run_sync("bank")
    run = SyncHistory.get_by_id(outcome.run_id)
    assert run.status == outcome.status == "failed"
    assert run.error_message == outcome.error == "The bank refused the token: it expired on 2025-03-01."
    assert run.error_backtrace is None
    assert "Traceback" not in run.log
    assert MoneyTransaction.select().count() == 0


# -- cancel --------------------------------------------------------------------------------------


def test_cancel_from_another_thread_stops_at_the_next_ctx_call(bank):
    cancel, downloading, go_on = threading.Event(), threading.Event(), threading.Event()
    reached = []

    def body(ctx):
        tx(ctx, "1", "1")
        downloading.set()
        go_on.wait(WAIT)
        reached.append("after the wait")
        tx(ctx, "2", "2")  # raises: the run was cancelled meanwhile
        reached.append("after the second call")

    bank(body)
    before = domain_snapshot()
    thread, result = run_in_thread("bank", cancel_event=cancel)
    assert downloading.wait(WAIT)
    cancel.set()
    go_on.set()
    thread.join(WAIT)
    outcome = result["outcome"]
    assert reached == ["after the wait"]
    assert outcome.status == "failed" and outcome.error.startswith("Cancelled")
    run = SyncHistory.get_by_id(outcome.run_id)
    assert run.status == "failed" and run.error_message.startswith("Cancelled") and run.error_backtrace is None
    assert domain_snapshot() == before


def test_cancel_from_a_log_callback(bank):
    cancel = threading.Event()
    calls = []

    def on_log(line):
        if "page 1" in line:
            cancel.set()

    def body(ctx):
        tx(ctx, "1", "1")
        ctx.log("page 1")
        calls.append("logged")
        try:
            ctx.progress(1, 2)
        except Exception:  # SyncCancelled is a BaseException: a plugin's broad except cannot catch it
            calls.append("caught by the plugin")
            raise
        except SyncCancelled:
            calls.append("progress raised")
            raise
        calls.append("never")

    bank(body)
    before = domain_snapshot()
    outcome = run_sync("bank", on_log=on_log, cancel_event=cancel)
    assert calls == ["logged", "progress raised"]
    assert outcome.status == "failed" and outcome.error.startswith("Cancelled")
    assert domain_snapshot() == before
    assert SyncHistory.get_by_id(outcome.run_id).error_message.startswith("Cancelled")


def test_cancel_is_honoured_even_if_the_plugin_swallows_the_exception(bank):
    cancel = threading.Event()

    def body(ctx):
        tx(ctx, "1", "1")
        cancel.set()
        try:
            tx(ctx, "2", "2")
        except Exception:  # a careless plugin
            pass

    bank(body)
    outcome = run_sync("bank", cancel_event=cancel)
    assert outcome.status == "failed" and outcome.error.startswith("Cancelled")
    assert MoneyTransaction.select().count() == 0


# -- two processes, a killed process ---------------------------------------------------------------

_CHILD: dict = {}


class SlowBank(Plugin):
    """In a child process it signals and then holds its run open; in the test process it runs straight."""

    name = "slow"
    version = "1.0.0"

    def sync(self, ctx):
        for i in range(3):
            ctx.upsert_transaction(
                external_id=f"s{i}",
                transaction_type="income",
                amount=i + 1,
                currency="CZK",
                transacted_on=date(2025, 3, 1),
            )
        if "inside" in _CHILD:
            _CHILD["inside"].set()
            _CHILD["release"].wait(120)


def child_sync(inside, release) -> None:
    """Runs in a spawned process: plugins must be registered there too."""
    use_plugins([SlowBank])
    _CHILD.update(inside=inside, release=release)
    open_database()
    try:
        outcome = run_sync("slow", trigger="cli")
        raise SystemExit(0 if outcome.status == "completed" else 3)
    finally:
        close_database()


@pytest.fixture
def slow(registry):
    registry(SlowBank)
    ready("slow")
    mp = multiprocessing.get_context("spawn")
    inside, release = mp.Event(), mp.Event()
    child = mp.Process(target=child_sync, args=(inside, release))
    child.start()
    yield child, inside, release
    if child.is_alive():  # (never set() the event after a kill: a dead waiter would make set() wait forever)
        release.set()
        child.join(WAIT)
    if child.is_alive():
        child.kill()
        child.join()


def test_a_second_process_is_refused_while_the_first_syncs(slow):
    child, inside, release = slow
    assert inside.wait(WAIT), "the child never reached sync()"
    with pytest.raises(SyncRefused) as refused:
        run_sync("slow", trigger="tui")
    assert re.fullmatch(
        r"slow is already syncing \(started \d\d:\d\d:\d\d by the command line\)\.", str(refused.value)
    ), str(refused.value)
    # The refusal created no run, and did not disturb the running one.
    assert [r.status for r in SyncHistory.select()] == ["running"]
    release.set()
    child.join(WAIT)
    assert child.exitcode == 0
    assert [r.status for r in SyncHistory.select()] == ["completed"]
    assert MoneyTransaction.select().count() == 3


def test_a_killed_run_is_recovered_on_next_start_and_rerun_imports_once(slow):
    child, inside, release = slow
    assert inside.wait(WAIT), "the child never reached sync()"
    # Still running: recovery must leave it alone.
    assert recover_interrupted_runs() == 0
    assert SyncHistory.get().status == "running"
    os.kill(child.pid, signal.SIGKILL)
    child.join(WAIT)
    assert child.exitcode == -signal.SIGKILL
    assert SyncHistory.get().status == "running"  # what the dead process left behind

    assert recover_interrupted_runs() == 1
    killed = SyncHistory.get()
    assert killed.status == "failed" and killed.error_message.startswith("Interrupted")
    assert killed.completed_at is not None
    assert MoneyTransaction.select().count() == 0
    assert recover_interrupted_runs() == 0

    rerun = run_sync("slow")
    assert (rerun.status, rerun.counts.created) == ("completed", 3)
    again = run_sync("slow")
    assert (again.counts.created, again.counts.skipped) == (0, 3)
    assert sorted(t.external_id for t in MoneyTransaction.select()) == ["s0", "s1", "s2"]
    assert AuditRecord.select().where(AuditRecord.table_name == "money_transactions").count() == 3


def test_a_run_in_progress_in_this_process_is_not_recovered(bank):
    downloading, go_on = threading.Event(), threading.Event()
    bank(lambda ctx: (downloading.set(), go_on.wait(WAIT)))
    thread, result = run_in_thread("bank")
    assert downloading.wait(WAIT)
    try:
        assert recover_interrupted_runs() == 0
        assert SyncHistory.get().status == "running"
        with pytest.raises(SyncRefused, match=r"bank is already syncing \(started \d\d:\d\d:\d\d by the command line"):
            run_sync("bank")
    finally:
        go_on.set()
        thread.join(WAIT)
    assert result["outcome"].status == "completed"


# -- secrets are masked everywhere ---------------------------------------------------------------


def lower_escapes(text: str) -> str:
    return re.sub(r"%[0-9A-F]{2}", lambda m: m.group().lower(), text)


def secret_forms(secret: str) -> list[str]:
    """How a secret shows up in text: as itself, and URL-encoded the ways HTTP clients do it."""
    forms = {secret, quote(secret, safe=""), quote_plus(secret), quote(secret), lower_escapes(quote(secret, safe=""))}
    path_url = str(httpx.URL(f"https://bank.example/v1/rest/{secret}/transactions.json"))
    query_url = str(httpx.URL("https://bank.example/v1/", params={"token": secret}))
    forms.add(path_url.split("/rest/")[1].rsplit("/transactions.json")[0])
    forms.add(query_url.split("token=")[1])
    return sorted(forms)


@pytest.mark.parametrize("secret", [SECRET, "pa/ss+w0rd &x=1%žluť"], ids=["plain", "special-characters"])
def test_secrets_are_stored_as_stars_everywhere(registry, secret):
    forms = secret_forms(secret)
    assert len(forms) >= (1 if secret == SECRET else 5)

    class Leaky(Plugin):
        name = "leaky"
        version = "1.0.0"
        fields = [Secret("token", "API token", required=True)]
        mode = "ok"

        def sync(self, ctx):
            token = ctx.credentials["token"]
            path_url = httpx.URL(f"https://bank.example/v1/rest/{token}/transactions.json")
            query_url = httpx.URL("https://bank.example/v1/", params={"token": token})
            ctx.log(f"GET {path_url}")
            ctx.log(f"GET {query_url}")
            ctx.log(f"token={token}; quoted {quote(token, safe='')}; lower {lower_escapes(quote(token, safe=''))}")
            ctx.metadata.update(url=str(path_url), nested=[{"q": str(query_url)}], **{token: "as a key"})
            tx(ctx, "1", "1", description="a payment")
            if Leaky.mode == "crash":
                raise RuntimeError(f"401 Unauthorized for url '{path_url}' (also {query_url}, token {token})")
            if Leaky.mode == "refused":
                raise SyncError(f"The bank refused {token} at {query_url}")

    registry(Leaky)
    ready("leaky", secrets={"token": secret})
    shown = []
    outcomes = []
    for mode in ("ok", "crash", "refused"):
        Leaky.mode = mode
        outcomes.append(run_sync("leaky", on_log=shown.append))
    assert [o.status for o in outcomes] == ["completed", "failed", "failed"]

    stored = []
    for run in SyncHistory.select():
        stored += [run.log, run.error_message or "", run.error_backtrace or "", json.dumps(run.metadata)]
    for record in AuditRecord.select():
        stored.append(json.dumps(record.changes))
    for outcome in outcomes:
        stored += outcome.log + [outcome.error or "", json.dumps(outcome.metadata)]
    stored += shown
    everything = "\n".join(stored)
    for form in forms:
        assert form not in everything, f"{form!r} leaked"
    assert "***" in outcomes[0].metadata["url"] and "***" in outcomes[0].metadata
    assert everything.count("***") >= 10
    assert "RuntimeError: 401 Unauthorized" in outcomes[1].error
    assert SyncHistory.get_by_id(outcomes[1].run_id).error_backtrace.count("***") >= 1

    # Nor in the bytes on disk: the database file and its write-ahead log.
    path = db.database
    raw = b""
    for suffix in ("", "-wal"):
        if os.path.exists(path + suffix):
            with open(path + suffix, "rb") as fh:
                raw += fh.read()
    assert len(raw) > 0
    for form in forms:
        for encoding in ("utf-8", "utf-16-le"):
            assert form.encode(encoding) not in raw, f"{form!r} ({encoding}) is in the database file"


def test_secrets_a_plugin_copies_into_written_data_are_stored_as_stars(bank):
    def leak(ctx):
        token = ctx.credentials["token"]
        tx(
            ctx,
            "1",
            description=f"paid with {token}",
            counterparty=token,
            reference=token,
            counterparty_account=f"{token}/0800",
            raw_data={"url": f"https://bank.example/{token}/x", token: [token, {"deep": token}], "ok": "plain"},
        )

    bank(leak)
    assert run_sync("bank").status == "completed"

    row = MoneyTransaction.get()
    stored = json.dumps([row.description, row.counterparty, row.reference, row.counterparty_account, row.raw_data])
    audited = json.dumps([r.changes for r in AuditRecord.select()])
    assert SECRET not in stored and SECRET not in audited
    assert row.raw_data == {"url": "https://bank.example/***/x", "***": ["***", {"deep": "***"}], "ok": "plain"}
    assert (row.description, row.counterparty_account) == ("paid with ***", "***/0800")


@pytest.mark.parametrize(
    "secret",
    [SECRET, 'with"quotes"and\\back', "two words", "žluťoučký-kůň"],
    ids=["plain", "json-escaped", "space", "non-ascii"],
)
def test_masker_finds_a_secret_anywhere_in_plugin_data(secret):
    """The masker skips whole documents that cannot hold a secret (one substring test over their JSON);
    every form of the secret, in keys, values and lists, is still replaced."""
    from core.platform.sync import MASK, Masker

    masker = Masker([secret])
    forms = [form for form in secret_forms(secret) if form != secret] + [secret]
    for form in forms:
        data = {
            "column0": {"value": "2026-11-20+0100"},
            form: "as a key",
            "nested": [{"text": f"before {form} after"}, 7, None, True],
            "plain": "nothing here",
        }
        masked = masker.data(data)
        assert form not in json.dumps(masked, ensure_ascii=False), form
        assert masked["nested"][0]["text"] == f"before {MASK} after"
        assert masked[MASK] == "as a key" and masked["column0"] == {"value": "2026-11-20+0100"}
        assert masker.text(f"x{form}y") == f"x{MASK}y"
    innocent = {"column0": {"value": "2026-11-20+0100"}, "column16": {"value": "Platba 100 %"}, "n": [1, 2.5]}
    assert masker.data(innocent) == innocent


# -- state -------------------------------------------------------------------------------------------


def test_state_is_saved_only_when_the_run_succeeds(bank):
    def first(ctx):
        assert ctx.state == {}
        ctx.state["cursor"] = 10

    bank(first)
    assert run_sync("bank").status == "completed"

    seen = []

    def failing(ctx):
        seen.append(dict(ctx.state))
        ctx.state["cursor"] = 20
        raise SyncError("the bank is down")

    bank(failing)
    assert run_sync("bank").status == "failed"
    assert PluginConfiguration.get(PluginConfiguration.plugin_name == "bank").state == {"cursor": 10}

    cancel = threading.Event()

    def cancelled(ctx):
        seen.append(dict(ctx.state))
        ctx.state["cursor"] = 30
        cancel.set()

    bank(cancelled)
    assert run_sync("bank", cancel_event=cancel).status == "failed"
    assert PluginConfiguration.get(PluginConfiguration.plugin_name == "bank").state == {"cursor": 10}

    def later(ctx):
        seen.append(dict(ctx.state))
        ctx.state["cursor"] = 40

    bank(later)
    ok = run_sync("bank")
    assert seen == [{"cursor": 10}, {"cursor": 10}, {"cursor": 10}]
    assert PluginConfiguration.get(PluginConfiguration.plugin_name == "bank").state == {"cursor": 40}
    state_audit = [c for c in run_changes(ok.run_id) if c.table_name == "plugin_configurations"]
    assert [c.changes["state"] for c in state_audit] == [[{"cursor": 10}, {"cursor": 40}]]


# -- async and plain plugins --------------------------------------------------------------------------


class PlainPlugin(Plugin):
    name = "plain"
    version = "1.0.0"

    def sync(self, ctx):
        ctx.log("plain sync")
        tx(ctx, "p1", "12.34")
        ctx.metadata["thread"] = threading.current_thread().name


class AsyncPlugin(Plugin):
    name = "async"
    version = "1.0.0"

    async def sync(self, ctx):
        import asyncio

        await asyncio.sleep(0)
        ctx.log("async sync")
        tx(ctx, "a1", "56.78")
        try:
            Client.create(name="direct write in an async plugin")
        except AuditBypassError:
            ctx.metadata["direct write refused"] = True
        await asyncio.sleep(0)


@pytest.fixture
def two_kinds(registry):
    registry(PlainPlugin, AsyncPlugin)
    ready("plain")
    ready("async")


def check_kinds_ran() -> None:
    assert MoneyTransaction.get(MoneyTransaction.external_id == "p1").source == "plain"
    assert MoneyTransaction.get(MoneyTransaction.external_id == "a1").source == "async"
    assert Client.select().count() == 0
    for name in ("plain", "async"):
        run = SyncHistory.get(SyncHistory.plugin_name == name)
        assert run.status == "completed" and run.records_created == 1
        assert f"{name} sync" in run.log
        assert {c.source for c in run_changes(run.id)} == {name}
    assert SyncHistory.get(SyncHistory.plugin_name == "async").metadata == {"direct write refused": True}


async def test_run_sync_works_from_inside_a_running_event_loop(two_kinds):
    plain = run_sync("plain")
    in_loop = run_sync("async")
    assert (plain.status, in_loop.status) == ("completed", "completed"), (plain.error, in_loop.error)
    check_kinds_ran()


def test_async_and_plain_plugins_without_a_loop(two_kinds):
    assert run_sync("async").status == "completed"
    assert run_sync("plain").status == "completed"
    check_kinds_ran()


def test_an_async_plugin_failure_is_a_failed_run(registry):
    class Broken(Plugin):
        name = "broken-async"
        version = "0.1.0"

        async def sync(self, ctx):
            tx(ctx, "1", "1")
            raise ConnectionError("connection reset")

    registry(Broken)
    ready("broken-async")
    outcome = run_sync("broken-async")
    assert outcome.status == "failed" and "ConnectionError: connection reset" in outcome.error
    assert "Traceback" in SyncHistory.get_by_id(outcome.run_id).error_backtrace
    assert MoneyTransaction.select().count() == 0


# -- refusals before anything runs ------------------------------------------------------------------------


def test_disabled_unconfigured_and_unknown_plugins_are_refused(registry):
    ran = []

    class Picky(Plugin):
        name = "picky"
        version = "1.0.0"
        fields = [
            Secret("token", "API token", required=True),
            Text("account", "Account number", required=True),
            Text("note", "Note"),
        ]

        def sync(self, ctx):
            ran.append(1)

    registry(Picky)
    with pytest.raises(SyncRefused, match=r"picky is disabled; enable it first"):
        run_sync("picky")
    plugin_config.set_enabled("picky", False)
    with pytest.raises(SyncRefused, match="disabled"):
        run_sync("picky")
    plugin_config.set_enabled("picky", True)
    with pytest.raises(SyncRefused) as refused:
        run_sync("picky")
    message = str(refused.value)
    assert "picky is not fully configured" in message
    assert "API token (token)" in message and "Account number (account)" in message and "note" not in message
    plugin_config.configure("picky", {"account": "123"})
    with pytest.raises(SyncRefused) as refused:
        run_sync("picky")
    assert "API token (token)" in str(refused.value) and "account" not in str(refused.value)
    with pytest.raises(SyncRefused, match=r"no plugin called 'nope'.*known plugins: picky"):
        run_sync("nope")
    assert ran == [] and SyncHistory.select().count() == 0

    plugin_config.configure("picky", {}, {"token": "tok-123"})
    assert run_sync("picky").status == "completed" and ran == [1]


def test_credentials_that_cannot_be_decrypted_refuse_the_run(bank, fakturka_home):
    (fakturka_home / "credentials.key").unlink()
    with pytest.raises(SyncRefused, match="credentials for bank cannot be decrypted"):
        run_sync("bank")
    assert SyncHistory.select().count() == 0


# -- the write lock is not held across a download -----------------------------------------------------------


def test_a_long_download_does_not_block_another_connection_from_saving(bank, database):
    web = project()
    downloading, go_on = threading.Event(), threading.Event()

    def body(ctx):
        tx(ctx, "1", "100")
        ctx.add_work_entry(project=web, date=date(2025, 3, 1), minutes=15, external_id="imported")
        downloading.set()
        go_on.wait(WAIT)  # a slow network

    bank(body)
    thread, result = run_in_thread("bank")
    try:
        assert downloading.wait(WAIT)
        # No write lock is held at all: another connection takes it without waiting.
        other = sqlite3.connect(database, timeout=0, isolation_level=None)
        try:
            other.execute("BEGIN IMMEDIATE")
            other.execute("ROLLBACK")
        finally:
            other.close()
        # And the person saves a work entry meanwhile (this thread has its own connection).
        mine = WorkEntry.create(project=web, date=date(2025, 3, 2), minutes=30, description="typed by hand")
    finally:
        go_on.set()
        thread.join(WAIT)
    assert result["outcome"].status == "completed"
    assert WorkEntry.select().count() == 2
    manual = AuditRecord.get((AuditRecord.table_name == "work_entries") & (AuditRecord.row_id == mine.id))
    assert (manual.source, manual.sync_run) == ("manual", None)
    imported = WorkEntry.get(WorkEntry.external_id == "imported")
    assert (
        AuditRecord.get((AuditRecord.table_name == "work_entries") & (AuditRecord.row_id == imported.id)).source
        == "bank"
    )


# -- direct writes ----------------------------------------------------------------------------------------------


def test_direct_model_writes_in_sync_are_refused_and_ctx_apply_lands_audited(bank):
    existing = Client.create(name="Existing")
    refused = []

    def body(ctx):
        for attempt in (
            lambda: Client.create(name="Direct"),
            lambda: Client.update(name="Renamed").where(Client.id == existing.id).execute(),
            lambda: Client.get_by_id(existing.id).delete_instance(),
            lambda: MoneyTransaction.insert_many(
                [{"source": "bank", "transaction_type": "income", "amount": 1, "transacted_on": date(2025, 1, 1)}]
            ).execute(),
        ):
            try:
                attempt()
            except AuditBypassError as exc:
                refused.append(str(exc))

        def write():
            client = Client.create(name="Via apply")
            renamed = Client.get_by_id(existing.id)
            renamed.email = "billing@existing.example"
            renamed.save()
            ctx.metadata["client"] = client.id

        ctx.apply(write)

    bank(body)
    outcome = run_sync("bank")
    assert outcome.status == "completed", outcome.error
    assert len(refused) == 4 and all("ctx.apply" in message for message in refused)
    assert sorted(c.name for c in Client.select()) == ["Existing", "Via apply"]
    assert Client.get_by_id(existing.id).email == "billing@existing.example"
    changes = {(c.table_name, c.row_id, c.action): c for c in run_changes(outcome.run_id)}
    created = Client.get(Client.name == "Via apply")
    assert set(changes) == {("clients", created.id, "create"), ("clients", existing.id, "update")}
    assert all(c.source == "bank" for c in changes.values())
    assert changes[("clients", existing.id, "update")].changes["email"] == ["", "billing@existing.example"]


def test_an_unhandled_direct_write_fails_the_run_with_a_hint(bank):
    bank(lambda ctx: (tx(ctx, "1", "1"), Client.create(name="Direct")))
    outcome = run_sync("bank")
    assert outcome.status == "failed"
    assert "AuditBypassError" in outcome.error and "ctx.apply" in outcome.error
    assert Client.select().count() == 0 and MoneyTransaction.select().count() == 0


def test_after_sync_writes_are_manual_again(bank):
    bank(lambda ctx: tx(ctx, "1", "1"))
    run_sync("bank")
    client = Client.create(name="After")
    record = AuditRecord.get((AuditRecord.table_name == "clients") & (AuditRecord.row_id == client.id))
    assert (record.source, record.sync_run) == ("manual", None)


def test_open_invoices_are_readable_in_sync(bank):
    client = Client.create(name="Acme")
    common = dict(client=client, currency="CZK", issued_on=date(2025, 3, 1), due_on=date(2025, 3, 15), year=2025)
    Invoice.create(number="2025001", seq=1, status="sent", **common)
    Invoice.create(number="2025002", seq=2, status="draft", **common)
    Invoice.create(number="2025003", seq=3, status="paid", **common)
    bank(lambda ctx: ctx.metadata.update(open=[i.number for i in ctx.open_invoices()]))
    assert run_sync("bank").metadata == {"open": ["2025001"]}


# -- the bulk insert path writes what the general path writes ----------------------------------------------


def test_bulk_created_rows_are_audited_like_single_creates(database):
    from peewee import fn

    from core.store.audit import audit_context

    def values(n):
        return {
            "source": "bulk",
            "external_id": f"x{n}",
            "transaction_type": "income",
            "amount": 12345,
            "currency": "EUR",
            "transacted_on": date(2025, 3, n),
            "description": "Zaplaceno „díky“ 🙂",
            "counterparty": "",
            "reference": "007",
            "raw_data": {"b": [1, 2], "a": {"nested": True}, "n": None},
        }

    with audit_context("bench", 7):
        single = MoneyTransaction.create(**values(1))
        bulk_ids = MoneyTransaction.insert_many([values(2), values(3)]).execute()
        # Rows the fast path does not take: keys that differ between rows, an SQL expression as a value.
        mixed_ids = MoneyTransaction.insert_many(
            [values(4), {k: v for k, v in values(5).items() if k != "reference"}]
        ).execute()
        expr_id = MoneyTransaction.insert_many([{**values(6), "description": fn.upper("shouted")}]).execute()
    assert len(bulk_ids) == 2 and len(mixed_ids) == 2 and len(expr_id) == 1

    def audit(row_id):
        record = AuditRecord.get((AuditRecord.table_name == "money_transactions") & (AuditRecord.row_id == row_id))
        assert (record.action, record.source, record.sync_run) == ("create", "bench", 7)
        return record.changes

    def without_ids(changes):
        return {k: v for k, v in changes.items() if k not in ("external_id", "transacted_on")}

    reference = audit(single.id)
    assert reference["raw_data"] == [None, {"a": {"nested": True}, "b": [1, 2], "n": None}]
    assert reference["transacted_on"] == [None, "2025-03-01"] and reference["match_status"] == [None, "unmatched"]
    for row_id in bulk_ids + mixed_ids[:1]:
        assert without_ids(audit(row_id)) == without_ids(reference)
    assert audit(bulk_ids[1])["transacted_on"] == [None, "2025-03-03"]
    assert audit(mixed_ids[1])["reference"] == [None, ""]  # the field's default, as peewee fills it in
    assert audit(expr_id[0])["description"] == [None, "SHOUTED"]
    # The stored audit text is the same bytes for both paths (sorted keys, compact separators).
    raw = dict(
        db.execute_sql(
            "SELECT row_id, changes FROM audit_records WHERE row_id IN (?, ?)", (single.id, bulk_ids[0])
        ).fetchall()
    )
    assert raw[single.id].replace('"x1"', '"x2"').replace("2025-03-01", "2025-03-02") == raw[bulk_ids[0]]
    assert AuditRecord.select().where(AuditRecord.table_name == "money_transactions").count() == 6
