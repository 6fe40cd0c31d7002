"""One error path: a refusal (any ``FakturkaError``) or a database error is one sentence, never a crash.

The terminal app, driven with Pilot as a person drives it: a refusal from a dialog's answer, from a
form and from a worker, and SQLite refusing a write (the database locked by another connection, or
opened read-only) all end as an error notification, and the app goes on. The command line: any
``FakturkaError`` is one line on stderr with exit code 1, and ``describe_database_error`` names
what SQLite's complaint means. Each test has its own FAKTURKA_HOME and database (conftest.py).
"""

from __future__ import annotations

import sqlite3

import peewee
import pytest
from helpers import db_state, highlight, notifications, type_into
from textual.widgets import Static

import cli.system as cli_system
from core.billing.clients import add_client, add_project, archive_project
from core.errors import FakturkaError
from core.store.db import PRAGMAS, db, describe_database_error
from core.store.models import WorkEntry
from tui.app import FakturkaApp
from tui.screens.bank import BankScreen
from tui.screens.dashboard import DashboardScreen
from tui.screens.plugins import PluginsScreen
from tui.screens.welcome import WelcomeScreen
from tui.widgets.form import FormScreen
from tui.widgets.paged_table import PagedTable

SIZE = (140, 44)

BUSY = "The database is busy (another Fakturka is writing to it); try again in a moment."


def errors_shown(app) -> list[str]:
    return [n.message for n in app._notifications if n.severity == "error"]


def short_busy_timeout() -> None:
    """The app waits 5 s for a lock before giving up; a test need not wait that long."""
    db.execute_sql("PRAGMA busy_timeout = 50")


def write_lock(path) -> sqlite3.Connection:
    """Another connection (as another Fakturka would) holding the database's write lock."""
    other = sqlite3.connect(str(path), isolation_level=None)
    other.execute("BEGIN IMMEDIATE")
    return other


async def open_bank(pilot) -> None:
    await pilot.press("b")
    await pilot.pause()
    assert isinstance(pilot.app.screen, BankScreen)


# -- (a) a refusal from a person's action ----------------------------------------------------------------


async def test_a_refusal_in_a_dialogs_answer_is_a_notification_and_the_app_goes_on(database):
    """The welcome dialog offers demo data on an empty database; by the time the person chooses it,
    another Fakturka has added a client, so the demo loader refuses. The answer runs as the dialog's
    callback, outside any action: the refusal still ends as a notification."""
    app = FakturkaApp(db_path=database)
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await pilot.pause()
        assert isinstance(app.screen, WelcomeScreen)
        add_client(name="Acme s.r.o.", currency="CZK")  # the other Fakturka
        before = db_state()

        await pilot.press("down")  # from "Set up my business profile" to "Load demo data"
        await pilot.press("enter")
        await pilot.pause()

        assert app.is_running
        assert isinstance(app.screen, DashboardScreen)
        assert errors_shown(app) == [
            "The database already has data; demo data only goes into an empty one (use --db with a new file to try it)."
        ]
        assert db_state() == before

        await pilot.press("t")  # and the app still answers keys
        await pilot.pause()
        assert app.current_mode == "time"


async def test_a_refusal_on_saving_a_form_stays_in_the_form_with_what_was_typed(database):
    """ctrl+t offers the projects; the project is archived (from the command line) before the person
    saves. The timer refuses with its own sentence, which the form shows above the fields."""
    client = add_client(name="Acme s.r.o.", currency="CZK", hourly_rate="1000")
    project = add_project(client, name="Website")
    app = FakturkaApp(db_path=database)
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await pilot.pause()
        await pilot.press("ctrl+t")
        await pilot.pause()
        assert isinstance(app.screen, FormScreen)
        await type_into(pilot, "#field-description", "Logo")
        archive_project(project)

        await pilot.press("ctrl+s")
        await pilot.pause()

        assert app.is_running
        assert isinstance(app.screen, FormScreen)
        error = app.screen.query_one("#form-error", Static)
        assert not error.has_class("hidden")
        assert "Acme s.r.o. / Website is archived; unarchive it to track time on it." in str(error.render())
        assert app.screen.query_one("#field-description").value == "Logo"
        assert WorkEntry.select().count() == 0


# -- (b) a refusal raised in a worker -----------------------------------------------------------------


async def test_a_refusal_raised_in_the_sync_worker_is_a_notification(database):
    app = FakturkaApp(db_path=database, first_start_prompt=False)
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await pilot.press("p")
        await pilot.pause()
        assert isinstance(app.screen, PluginsScreen)
        await highlight(pilot, app.screen.query_one("#plugin-list", PagedTable), "fio")

        await pilot.press("r")  # fio was never enabled: the sync worker raises SyncRefused
        await app.workers.wait_for_complete()
        await pilot.pause(0.2)

        assert app.is_running
        assert app.current_sync.status == "refused"
        assert errors_shown(app) == [
            "fio is disabled; enable it first ('fakturka plugins enable fio', or space on the Plugins screen)."
        ]
        await pilot.press("d")
        await pilot.pause()
        assert isinstance(app.screen, DashboardScreen)


# -- (c) the database locked by another connection ------------------------------------------------------


async def test_a_locked_database_during_an_action_is_a_notification_not_a_crash(database):
    app = FakturkaApp(db_path=database, first_start_prompt=False)
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await open_bank(pilot)
        short_busy_timeout()
        other = write_lock(database)
        try:
            await pilot.press("m")  # "Match now" writes: it waits for the lock, then gives up
            await pilot.pause()
            assert app.is_running
            assert isinstance(app.screen, BankScreen)
            assert errors_shown(app) == [BUSY]
        finally:
            other.rollback()
            other.close()

        await pilot.press("m")  # the lock is gone: the same key works
        await pilot.pause()
        assert any(message.startswith("Matched 0") for message in notifications(app))
        assert errors_shown(app) == [BUSY]


async def test_a_locked_database_when_saving_a_form_keeps_the_form_and_what_was_typed(database):
    client = add_client(name="Acme s.r.o.", currency="CZK", hourly_rate="1000")
    add_project(client, name="Website")
    app = FakturkaApp(db_path=database)
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await pilot.pause()
        await pilot.press("ctrl+t")
        await pilot.pause()
        assert isinstance(app.screen, FormScreen)
        await type_into(pilot, "#field-description", "Logo")
        short_busy_timeout()
        other = write_lock(database)
        try:
            await pilot.click("#save")  # the button, this time; the keys go the same way
            await pilot.pause()
            assert app.is_running
            assert isinstance(app.screen, FormScreen)
            assert app.screen.query_one("#field-description").value == "Logo"
            assert errors_shown(app) == [BUSY]
        finally:
            other.rollback()
            other.close()

        await pilot.press("ctrl+s")  # again, with the lock gone: the timer starts
        await pilot.pause()
        assert not isinstance(app.screen, FormScreen)
        assert WorkEntry.get().description == "Logo"


# -- (d) a read-only database --------------------------------------------------------------------


async def test_a_read_only_database_is_a_notification_not_a_crash(database):
    """The database file can only be read (a read-only mount, a copy on a CD): reading works, the first
    write (starting the timer) is refused with a sentence that says what to do."""
    client = add_client(name="Acme s.r.o.", currency="CZK", hourly_rate="1000")
    add_project(client, name="Website")
    db.close()
    db.init(f"file:{database}?mode=ro", uri=True, pragmas=PRAGMAS, timeout=5)
    db.connect()
    app = FakturkaApp(db_path=database)
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await pilot.pause()
        await pilot.press("ctrl+t")
        await pilot.pause()
        assert isinstance(app.screen, FormScreen)
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert app.is_running
        assert isinstance(app.screen, FormScreen)
        [shown] = errors_shown(app)
        assert shown.startswith("The database cannot be written (attempt to write a readonly database).")
        assert "Make the database file and its folder writable" in shown

        await pilot.press("escape", "c")  # reading still works
        await pilot.pause()
        assert app.current_mode == "clients"
    assert WorkEntry.select().count() == 0


# -- anything else is a bug: the app closes with the traceback, as Textual does -------------------------


async def test_a_bug_in_an_action_still_closes_the_app(database, monkeypatch):
    from core.banking import matching

    def broken():
        raise ZeroDivisionError("a real bug")

    monkeypatch.setattr(matching, "match_transactions", broken)
    app = FakturkaApp(db_path=database, first_start_prompt=False)
    with pytest.raises(ZeroDivisionError):
        async with app.run_test(size=SIZE, notifications=True) as pilot:
            await open_bank(pilot)
            await pilot.press("m")
            await pilot.pause()
    assert app.return_code == 1


# -- the command line ---------------------------------------------------------------------------------


class BrandNewRefusal(FakturkaError):
    """A refusal no list of expected errors has ever heard of."""


def test_any_fakturka_error_from_a_command_is_one_sentence_and_exit_code_1(database, cli, monkeypatch):
    def refuse(args):
        raise BrandNewRefusal("The moon is in the wrong phase; try again tomorrow.")

    monkeypatch.setattr(cli_system, "demo", refuse)
    code, out, err = cli("demo")
    assert (code, out) == (1, "")
    assert err == "fakturka: The moon is in the wrong phase; try again tomorrow.\n"


def test_a_locked_database_in_a_command_is_one_sentence(database, cli, monkeypatch):
    def locked(args):
        raise peewee.OperationalError("database is locked")

    monkeypatch.setattr(cli_system, "demo", locked)
    code, out, err = cli("demo")
    assert (code, out) == (1, "")
    assert err == "fakturka: the database is busy (another Fakturka is writing to it); try again in a moment.\n"


def test_a_bug_in_a_command_keeps_its_traceback(database, cli, monkeypatch):
    def broken(args):
        raise ZeroDivisionError("a real bug")

    monkeypatch.setattr(cli_system, "demo", broken)
    with pytest.raises(ZeroDivisionError):
        cli("demo")


# -- describe_database_error, with SQLite's own complaints -------------------------------------------------


def test_describe_a_locked_database(tmp_path):
    path = tmp_path / "locked.db"
    holder = sqlite3.connect(path, isolation_level=None)
    holder.execute("CREATE TABLE t (x)")
    holder.execute("BEGIN IMMEDIATE")
    writer = sqlite3.connect(path, timeout=0.01)
    with pytest.raises(sqlite3.OperationalError) as caught:
        writer.execute("INSERT INTO t VALUES (1)")
    holder.rollback()
    assert describe_database_error(caught.value) == BUSY[0].lower() + BUSY[1:]
    assert describe_database_error(peewee.OperationalError("database is locked")) == BUSY[0].lower() + BUSY[1:]


def test_describe_a_damaged_database(tmp_path):
    path = tmp_path / "damaged.db"
    path.write_bytes(b"SQLite format 3\x00" + b"\x00\x10" + bytes(range(256)) * 64)
    with pytest.raises(sqlite3.DatabaseError) as caught:
        sqlite3.connect(path).execute("SELECT * FROM sqlite_master").fetchall()
    sentence = describe_database_error(caught.value)
    assert sentence.startswith("the database file is damaged (")
    assert "Nothing was changed. Restore it from a backup" in sentence
    assert describe_database_error(peewee.DatabaseError("database disk image is malformed")).startswith(
        "the database file is damaged (database disk image is malformed)."
    )


def test_describe_a_read_only_database(tmp_path):
    path = tmp_path / "ro.db"
    sqlite3.connect(path).execute("CREATE TABLE t (x)").connection.close()
    reader = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    with pytest.raises(sqlite3.OperationalError) as caught:
        reader.execute("INSERT INTO t VALUES (1)")
    assert str(caught.value) == "attempt to write a readonly database"
    assert describe_database_error(caught.value) == (
        "the database cannot be written (attempt to write a readonly database). Nothing was changed. "
        "Make the database file and its folder writable, then try again; 'fakturka info' shows where it is."
    )


def test_describe_any_other_database_error():
    assert describe_database_error(peewee.IntegrityError("CHECK constraint failed: x")) == (
        "the database refused the change: CHECK constraint failed: x"
    )


def test_the_terminal_app_does_not_import_the_command_line(tmp_path):
    """Both faces share the core's errors and sentences; the terminal app needs nothing from cli/."""
    import os
    import subprocess
    import sys
    from pathlib import Path

    repo = Path(__file__).resolve().parents[1]
    env = {**os.environ, "FAKTURKA_HOME": str(tmp_path / "home"), "PYTHONPATH": str(repo)}
    code = (
        "import tui.app, sys; "
        "assert not any(m == 'cli' or m.startswith('cli.') for m in sys.modules), 'cli was imported'; print('ok')"
    )
    result = subprocess.run([sys.executable, "-c", code], cwd=repo, env=env, capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert result.stdout == "ok\n"
