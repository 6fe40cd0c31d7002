"""Syncs meeting other writers and dying: they wait for the write lock, record their failures, keep their log.

Issue 14, point 4, 5 and 11: two plugins syncing at once used to end in "database is locked" through the
bug path, with a failed-run row that could not be written; a killed run showed the time until the next
command as its duration and lost its log; the sync lock belonged to the data folder, not the database;
an update-heavy re-sync held the write lock for a look-up and a save per changed row.
"""

from __future__ import annotations

import multiprocessing
import os
import signal
import sqlite3
import threading
import time
from datetime import date, datetime, timezone

import pytest
from test_query_counts import counting_queries

from core.platform import plugin_config
from core.platform.sync import recover_interrupted_runs, run_sync
from core.plugins import use_plugins
from core.plugins.base import Plugin, SyncError
from core.store import locks
from core.store.audit import AuditRecord
from core.store.db import close_database, db, open_database
from core.store.models import MoneyTransaction, SyncHistory, WorkEntry
from core.store.states import RunStatus

WAIT = 60  # seconds: a guard against a hung test, never a timing assertion
BUSY_MS = 300  # the busy timeout these tests give SQLite, so that waiting shows within a second


def fast_busy_timeout() -> None:
    """New connections wait BUSY_MS for a lock instead of 5 s (the app's setting), so tests stay short."""
    pragmas = [(k, BUSY_MS if k == "busy_timeout" else v) for k, v in db._pragmas]
    db._pragmas = pragmas
    db._timeout = BUSY_MS / 1000
    db.close()


def movement(ctx, external_id: str, amount: str = "100.00", description: str = "") -> None:
    ctx.upsert_transaction(
        external_id=external_id,
        transaction_type="income",
        amount=amount,
        currency="CZK",
        transacted_on=date(2026, 3, 1),
        description=description,
    )


class Holder:
    """Another program holding the database's write lock (a raw ``BEGIN IMMEDIATE``) until released."""

    def __init__(self, path):
        self.connection = sqlite3.connect(path, timeout=WAIT, isolation_level=None, check_same_thread=False)

    def __enter__(self):
        self.connection.execute("BEGIN IMMEDIATE")
        return self

    def release(self) -> None:
        if self.connection.in_transaction:
            self.connection.execute("COMMIT")

    def __exit__(self, *exc):
        self.release()
        self.connection.close()


@pytest.fixture
def plugins(database):
    fast_busy_timeout()
    bodies: dict[str, object] = {}

    def make(name):
        class Body(Plugin):
            version = "1.0.0"

            def sync(self, ctx):
                return bodies[self.name](ctx)

        Body.name = name
        Body.__name__ = f"Plugin_{name.replace('-', '_')}"
        return Body

    use_plugins([make("bank-a"), make("bank-b")])
    for name in ("bank-a", "bank-b"):
        plugin_config.set_enabled(name, True)
    yield bodies
    use_plugins(None)


def run_in_thread(name: str, **kwargs):
    result: dict = {}

    def target():
        try:
            result["outcome"] = run_sync(name, **kwargs)
        except BaseException as exc:  # noqa: BLE001 - shown by the test
            result["error"] = exc
        finally:
            db.close()

    thread = threading.Thread(target=target)
    thread.start()
    return thread, result


def wait_until(condition, what: str) -> None:
    deadline = time.monotonic() + WAIT
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"gave up waiting for {what}")
        time.sleep(0.05)


# -- waiting for the write lock ---------------------------------------------------------------------


def test_a_commit_waits_for_another_writer_says_so_and_completes(plugins, database):
    plugins["bank-a"] = lambda ctx: movement(ctx, "a-1")
    lines: list[str] = []
    with Holder(database) as holder:
        thread, result = run_in_thread("bank-a", on_log=lines.append)
        wait_until(lambda: sum("Waiting for the database" in line for line in lines) >= 2, "the run to say it waits")
        holder.release()
        thread.join(WAIT)
    outcome = result["outcome"]
    assert outcome.status == RunStatus.COMPLETED, outcome.error
    run = SyncHistory.get_by_id(outcome.run_id)
    assert "Waiting for the database: another sync or program is writing" in run.log
    assert MoneyTransaction.select().count() == 1


def test_a_run_that_fails_while_the_database_is_busy_still_records_its_failure_and_log(plugins, database):
    holder = Holder(database)

    def body(ctx):
        ctx.log("downloaded 3 movements")
        holder.__enter__()  # another program takes the write lock while the plugin runs
        threading.Timer(1.0, holder.release).start()
        raise SyncError("the bank refused the token")

    plugins["bank-b"] = body
    outcome = run_sync("bank-b")
    holder.__exit__()
    assert outcome.status == RunStatus.FAILED
    run = SyncHistory.get_by_id(outcome.run_id)
    assert run.status == RunStatus.FAILED
    assert run.error_message == "the bank refused the token"
    assert run.error_backtrace is None
    assert "downloaded 3 movements" in run.log


def test_a_busy_database_outside_the_commit_is_a_sentence_not_a_bug(plugins, database, monkeypatch):
    import core.platform.sync as sync_module

    def locked(*args, **kwargs):
        raise sqlite3.OperationalError("database is locked")

    plugins["bank-a"] = lambda ctx: movement(ctx, "a-1")
    monkeypatch.setattr(sync_module, "commit", locked)
    outcome = run_sync("bank-a")
    run = SyncHistory.get_by_id(outcome.run_id)
    assert run.status == RunStatus.FAILED
    assert run.error_backtrace is None
    assert "busy" in run.error_message and "OperationalError" not in run.error_message


# -- two processes, two plugins ----------------------------------------------------------------------

_CHILD: dict = {}


class HoldingBank(Plugin):
    """In the first child, its commit holds the write lock until the parent lets go (a long import)."""

    name = "holding-bank"
    version = "1.0.0"

    def sync(self, ctx):
        for i in range(50):
            movement(ctx, f"h-{i}", f"{i + 1}.00")

        def hold():
            _CHILD["committing"].set()
            _CHILD["release"].wait(WAIT)

        ctx.apply(hold)  # runs inside the commit's transaction: the write lock is held meanwhile


class OtherBank(Plugin):
    name = "other-bank"
    version = "1.0.0"

    def sync(self, ctx):
        for i in range(5):
            movement(ctx, f"o-{i}", f"{i + 1}.00")


def child_run(home: str, db_path: str, plugin: str, events: dict) -> None:
    """A separate process (spawned): its own registry, a quick busy timeout, one sync."""
    os.environ["FAKTURKA_HOME"] = home
    use_plugins([HoldingBank, OtherBank])
    _CHILD.update(events)
    open_database(db_path)
    fast_busy_timeout()
    try:
        outcome = run_sync(plugin, trigger="cli")
        raise SystemExit(0 if outcome.status == RunStatus.COMPLETED else 3)
    finally:
        close_database()


def spawn(home, db_path, plugin, events):
    child = multiprocessing.get_context("spawn").Process(
        target=child_run, args=(str(home), str(db_path), plugin, events)
    )
    child.start()
    return child


def test_two_different_plugins_started_a_second_apart_both_complete(database, fakturka_home, tmp_path):
    use_plugins([HoldingBank, OtherBank])
    try:
        for name in ("holding-bank", "other-bank"):
            plugin_config.set_enabled(name, True)
    finally:
        use_plugins(None)
    close_database()
    mp = multiprocessing.get_context("spawn")
    committing, release = mp.Event(), mp.Event()
    first = spawn(fakturka_home, database, "holding-bank", {"committing": committing, "release": release})
    second = None
    try:
        assert committing.wait(WAIT), "the first run never reached its commit"
        time.sleep(1)  # "one second apart"
        second = spawn(fakturka_home, database, "other-bank", {})
        time.sleep(2)  # the second meets the held write lock (several busy timeouts) ...
        release.set()  # ... until the first finishes its import
        first.join(WAIT)
        second.join(WAIT)
        assert (first.exitcode, second.exitcode) == (0, 0)
    finally:
        release.set()
        for child in (first, second):
            if child is not None and child.is_alive():
                child.kill()
                child.join()
    open_database(database)
    runs = {run.plugin_name: run for run in SyncHistory.select()}
    assert {name: run.status for name, run in runs.items()} == {
        "holding-bank": RunStatus.COMPLETED,
        "other-bank": RunStatus.COMPLETED,
    }
    assert "Waiting for the database" in runs["other-bank"].log
    assert MoneyTransaction.select().count() == 55


def test_the_sync_lock_belongs_to_the_database_not_the_data_folder(database, tmp_path, monkeypatch):
    here = locks.lock_path("sync-bank")
    assert here.parent == database.parent / f"{database.name}-locks"
    # A second data folder opening the same database (``--db``) finds the same lock.
    monkeypatch.setenv("FAKTURKA_HOME", str(tmp_path / "other-home"))
    open_database(database)
    assert locks.lock_path("sync-bank") == here
    # Through a symlink too: the lock follows the file, not the name it was opened by.
    link = tmp_path / "books.db"
    link.symlink_to(database)
    open_database(link)
    assert locks.lock_path("sync-bank") == here


def test_a_run_from_another_data_folder_on_the_same_database_is_not_called_interrupted(database, tmp_path):
    other_home = tmp_path / "other-home"
    use_plugins([HoldingBank, OtherBank])
    try:
        plugin_config.set_enabled("holding-bank", True)
    finally:
        use_plugins(None)
    mp = multiprocessing.get_context("spawn")
    committing, release = mp.Event(), mp.Event()
    child = spawn(other_home, database, "holding-bank", {"committing": committing, "release": release})
    try:
        assert committing.wait(WAIT)
        assert recover_interrupted_runs() == 0
        assert SyncHistory.get().status == RunStatus.RUNNING
    finally:
        release.set()
        child.join(WAIT)
    assert child.exitcode == 0
    assert SyncHistory.get().status == RunStatus.COMPLETED


# -- a killed run ------------------------------------------------------------------------------------


class TalkingBank(Plugin):
    """Logs, then hangs until killed."""

    name = "talking-bank"
    version = "1.0.0"

    def sync(self, ctx):
        ctx.log("fetched page 1 of 3")
        _CHILD["talked"].set()
        time.sleep(WAIT)


def child_talk(home: str, db_path: str, talked) -> None:
    import core.platform.sync_heartbeat as heartbeat

    heartbeat.HEARTBEAT_SECONDS = 0.1
    os.environ["FAKTURKA_HOME"] = home
    use_plugins([TalkingBank])
    _CHILD["talked"] = talked
    open_database(db_path)
    run_sync("talking-bank")


def test_a_killed_run_keeps_its_log_and_ends_at_its_last_heartbeat(database, fakturka_home):
    use_plugins([TalkingBank])
    try:
        plugin_config.set_enabled("talking-bank", True)
    finally:
        use_plugins(None)
    mp = multiprocessing.get_context("spawn")
    talked = mp.Event()
    child = mp.Process(target=child_talk, args=(str(fakturka_home), str(database), talked))
    child.start()
    try:
        assert talked.wait(WAIT)
        wait_until(lambda: "fetched page 1 of 3" in (SyncHistory.get().log or ""), "the heartbeat to write the log")
    finally:
        os.kill(child.pid, signal.SIGKILL)
        child.join(WAIT)
    killed_at = datetime.now(timezone.utc).replace(tzinfo=None)
    time.sleep(1.2)  # the next command comes a while later
    assert recover_interrupted_runs() == 1
    run = SyncHistory.get()
    assert run.status == RunStatus.FAILED and run.error_message.startswith("Interrupted")
    assert "fetched page 1 of 3" in run.log
    # It ended when it was last seen alive, not when this command noticed.
    assert run.completed_at <= killed_at
    assert run.duration.total_seconds() < (killed_at - run.started_at).total_seconds() + 0.001


# -- updates land like inserts -----------------------------------------------------------------------


def test_an_update_heavy_resync_writes_in_batches_not_row_by_row(plugins, database):
    def send(count: int, suffix: str):
        plugins["bank-a"] = lambda ctx: [movement(ctx, f"m-{i}", "10.00", f"payment {i}{suffix}") for i in range(count)]

    statements = {}
    for count in (20, 400):
        MoneyTransaction.delete().execute()
        send(count, "")
        assert run_sync("bank-a").counts.created == count
        send(count, " (corrected)")
        with counting_queries() as counter:
            outcome = run_sync("bank-a")
        assert (outcome.counts.updated, outcome.counts.created) == (count, 0)
        statements[count] = counter.count
    # The same number of statements for 20 and for 400 changed rows: no look-up or save per row.
    assert statements[20] == statements[400], statements


def test_a_batched_update_is_audited_like_a_save_and_skips_rows_that_did_not_change(plugins, database):
    plugins["bank-a"] = lambda ctx: [movement(ctx, f"m-{i}", "10.00", "payment") for i in range(3)]
    first = run_sync("bank-a")
    plugins["bank-a"] = lambda ctx: [
        movement(ctx, "m-0", "10.00", "payment"),
        movement(ctx, "m-1", "10.00", "payment VS 2026001"),
        movement(ctx, "m-2", "10.00", "payment, corrected"),
    ]
    second = run_sync("bank-a")
    assert (second.counts.updated, second.counts.skipped) == (2, 1)
    updates = {
        (record.row_id, tuple(sorted(record.changes)))
        for record in AuditRecord.select().where(
            (AuditRecord.action == "update") & (AuditRecord.sync_run == second.run_id)
        )
    }
    ids = {t.external_id: t.id for t in MoneyTransaction.select()}
    assert updates == {(ids["m-1"], ("description",)), (ids["m-2"], ("description",))}
    record = AuditRecord.get((AuditRecord.row_id == ids["m-1"]) & (AuditRecord.action == "update"))
    assert record.changes == {"description": ["payment", "payment VS 2026001"]} and record.source == "bank-a"
    assert first.counts.created == 3


def test_work_entries_are_inserted_and_updated_in_batches_and_billed_ones_left_alone(plugins, database):
    from core.billing.clients import add_client, add_project

    project = add_project(add_client(name="Acme s.r.o.", currency="CZK"), name="Web")

    def send(count: int, minutes: int):
        plugins["bank-b"] = lambda ctx: [
            ctx.add_work_entry(
                project=project.id, date=date(2026, 3, 2), minutes=minutes, description=f"task {i}", external_id=f"w{i}"
            )
            for i in range(count)
        ]

    statements = {}
    for count in (10, 300):
        WorkEntry.delete().execute()
        send(count, 30)
        with counting_queries() as inserting:
            assert run_sync("bank-b").counts.created == count
        send(count, 45)
        with counting_queries() as updating:
            outcome = run_sync("bank-b")
        assert (outcome.counts.updated, outcome.counts.created) == (count, 0)
        statements[count] = (inserting.count, updating.count)
    assert statements[10] == statements[300], statements
    assert {e.minutes for e in WorkEntry.select()} == {45}
