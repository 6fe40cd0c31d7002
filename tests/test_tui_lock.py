"""The passphrase in the terminal app (issue 18): the lock screen at start, the idle lock, and setting,
changing and removing the passphrase in Settings.

Driven as a person drives it: keys pressed, the characters on the terminal read back, the database file
looked at afterwards. Each test has its own FAKTURKA_HOME (conftest.py); the process's unlocked keys are
forgotten after each test.
"""

from __future__ import annotations

import asyncio
import unicodedata
from datetime import date
from pathlib import Path

import pytest
from helpers import notifications, paste_into, screen_text, type_into
from textual.widgets import Input

from core.billing import invoicing
from core.billing import profile as profile_svc
from core.billing.clients import add_client, add_project
from core.billing.invoice_status import mark_sent
from core.billing.timesheet import EntryInput, add_entry
from core.store import rekey, vault
from core.store.config import load_config
from core.store.db import SQLITE_HEADER, close_database, release_in_use
from core.store.models import Client
from core.store.unlock import verify
from tui.app import FakturkaApp
from tui.i18n import money
from tui.screens.base import SectionScreen
from tui.screens.clients import ClientsScreen
from tui.screens.dashboard import DashboardScreen
from tui.screens.lock import LockScreen
from tui.screens.settings import SettingsScreen
from tui.widgets.form import FormScreen
from tui.widgets.passphrase import PassphraseForm

PASSPHRASE = "correct horse 1"
NEW_PASSPHRASE = "battery staple 2"
CLIENT = "Zephyrine Quokka"
SIZE = (120, 40)


@pytest.fixture(autouse=True)
def forget_keys():
    """What this process unlocked stays with the test that unlocked it."""
    yield
    rekey.activate(None)
    close_database()
    release_in_use()


@pytest.fixture
def no_wait(monkeypatch):
    """No wait after a wrong passphrase where the wait is not the point."""
    monkeypatch.setattr(vault, "wait_after", lambda failures: 0)


def business() -> int:
    """A client with a sent invoice: a name and an amount the lock must hide. Returns the total."""
    profile_svc.update_profile({"name": "Jana Nováková", "iban": "CZ6508000000192000145399", "bic": "GIBACZPX"})
    client = add_client(name=CLIENT, currency="CZK", hourly_rate="1234")
    project = add_project(client, name="Website")
    add_entry(EntryInput(project=project, date=date.today(), duration="3h", description="Design"))
    invoice = invoicing.create_invoice(client)
    mark_sent(invoice)
    return invoice.total


@pytest.fixture
def encrypted(database) -> Path:
    """An encrypted database with data, open and unlocked (as after the lock screen)."""
    business()
    rekey.set_passphrase(database, PASSPHRASE)
    return database


@pytest.fixture
def locked(encrypted) -> Path:
    """The encrypted database as a new process finds it: nothing unlocked, nothing open."""
    rekey.activate(None)
    close_database()
    release_in_use()
    return encrypted


def is_plain(path: Path) -> bool:
    return path.read_bytes()[:16] == SQLITE_HEADER


async def settle(pilot, condition, timeout: float = 5.0) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not condition():
        assert loop.time() < deadline, f"the screen did not settle:\n{screen_text(pilot.app)}"
        await pilot.pause(0.05)


# -- the lock screen at start ------------------------------------------------------------------------


async def test_a_locked_start_shows_nothing_until_the_passphrase_then_the_dashboard(locked):
    assert not is_plain(locked)
    app = FakturkaApp(db_path=locked, locked=True, first_start_prompt=False)
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await pilot.pause()
        assert isinstance(app.screen, LockScreen)
        assert not any(isinstance(screen, SectionScreen) for screen in app.screen_stack)
        text = screen_text(app)
        assert "Fakturka" in text and "Enter the passphrase" in text
        assert "fakturka.db" in text  # the path, folded at the box's width
        assert CLIENT not in text and "Dashboard" not in text

        await pilot.press(*"not the one!", "enter")
        await pilot.pause()
        field = app.screen.query_one("#lock-passphrase", Input)
        text = screen_text(app)
        assert "does not unlock" in text and "nothing was changed" in text
        assert field.disabled and field.value == ""
        assert "Next try in 1 s" in text
        assert app.screen.waiting
        # No section key, no palette behind the lock while the field is closed.
        await pilot.press("i", "c", "ctrl+p", "ctrl+t")
        await pilot.pause()
        assert isinstance(app.screen, LockScreen)
        assert app.current_mode == "_default"

        await settle(pilot, lambda: not field.disabled)
        assert app.focused is field
        assert "Next try" not in screen_text(app)
        await pilot.press(*PASSPHRASE, "enter")
        await settle(pilot, lambda: isinstance(app.screen, DashboardScreen))
        assert Client.get().name == CLIENT  # the database is open, with its key
        assert not app.locked


async def test_the_lock_screen_fits_80x24_and_200x60_in_czech(locked):
    from core.store.config import UiConfig, save_config

    save_config(UiConfig(language="cs"))
    for size in ((80, 24), (200, 60)):
        app = FakturkaApp(db_path=locked, locked=True, first_start_prompt=False)
        async with app.run_test(size=size) as pilot:
            await pilot.pause()
            text = screen_text(app)
            assert "Fakturka" in text
            assert all(len(line) <= size[0] for line in text.splitlines())
            assert "Enter the passphrase" not in text  # said in Czech (once the catalog has it)
            await pilot.press("ctrl+q")
            await pilot.pause()
        assert app.return_code == 0


async def test_a_try_inside_the_wait_is_refused_without_counting(locked):
    app = FakturkaApp(db_path=locked, locked=True, first_start_prompt=False)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        await pilot.press(*"wrong passphrase", "enter")
        await pilot.pause()
        assert app.screen.waiting
    # A new start during the wait: the field is closed from the first moment.
    app = FakturkaApp(db_path=locked, locked=True, first_start_prompt=False)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        if vault.seconds_to_wait(locked) > 0.2:
            assert app.screen.waiting
            assert "Next try in" in screen_text(app)
        await settle(pilot, lambda: not app.screen.waiting)
        await pilot.press(*PASSPHRASE, "enter")
        await settle(pilot, lambda: isinstance(app.screen, DashboardScreen))


# -- the idle lock -------------------------------------------------------------------------------------


def quick_lock(path: Path) -> FakturkaApp:
    """The app with an idle time of 0.6 s, looked at every 0.1 s."""
    app = FakturkaApp(db_path=path, first_start_prompt=False)
    app.IDLE_CHECK_SECONDS = 0.1
    app.LOCK_AFTER_SECONDS = 0.6
    return app


async def test_the_app_locks_after_idle_time_and_verify_brings_the_person_back(encrypted, no_wait):
    app = quick_lock(encrypted)
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await pilot.press("c")
        await pilot.pause()
        assert isinstance(app.screen, ClientsScreen)
        assert CLIENT in screen_text(app)
        await settle(pilot, lambda: isinstance(app.screen, LockScreen) and "Locked" in screen_text(app))  # painted, too
        app.LOCK_AFTER_SECONDS = None  # the config's ten minutes from here on
        text = screen_text(app)
        assert CLIENT not in text and "Locked" in text

        await pilot.press(*"not the one!", "enter")
        await pilot.pause()
        assert isinstance(app.screen, LockScreen)
        assert "does not unlock" in screen_text(app)
        await pilot.press(*PASSPHRASE, "enter")
        await settle(pilot, lambda: isinstance(app.screen, ClientsScreen))
        assert CLIENT in screen_text(app)
        assert not app.locked


async def test_no_idle_lock_without_a_passphrase(database):
    business()
    app = quick_lock(database)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause(1.0)
        assert isinstance(app.screen, DashboardScreen)
        await pilot.press("ctrl+l")
        await pilot.pause()
        assert isinstance(app.screen, DashboardScreen)


async def test_ctrl_l_locks_at_once_and_keeps_what_was_typed(encrypted, no_wait):
    total = money(Client.get().invoices.get().total, "CZK")
    app = FakturkaApp(db_path=encrypted, first_start_prompt=False)
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await pilot.press("i")
        await pilot.pause()
        assert total.replace("\u00a0", " ") in screen_text(app)
        await pilot.press("c", "n")
        await pilot.pause()
        assert isinstance(app.screen, FormScreen)
        await type_into(pilot, "#field-name", "Half typed")
        await pilot.press("ctrl+l")
        await pilot.pause()
        assert isinstance(app.screen, LockScreen)
        text = screen_text(app)
        assert "Half typed" not in text and total.replace("\u00a0", " ") not in text
        await pilot.press(*PASSPHRASE, "enter")
        await settle(pilot, lambda: isinstance(app.screen, FormScreen))
        assert app.screen.query_one("#field-name", Input).value == "Half typed"


# -- Settings: set, change, remove ---------------------------------------------------------------------


async def open_settings(pilot) -> SettingsScreen:
    await pilot.press("s")
    await pilot.pause()
    assert isinstance(pilot.app.screen, SettingsScreen)
    return pilot.app.screen


async def test_settings_set_change_and_remove_the_passphrase_by_keys(database, no_wait):
    business()
    app = FakturkaApp(db_path=database, first_start_prompt=False)
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await open_settings(pilot)
        assert "The data is not encrypted." in screen_text(app)
        assert "Remove passphrase" not in screen_text(app)

        # Set: the new passphrase twice.
        await pilot.press("f5")
        await pilot.pause()
        assert isinstance(app.screen, PassphraseForm)
        await type_into(pilot, "#field-new", PASSPHRASE)
        await type_into(pilot, "#field-again", PASSPHRASE)
        await pilot.press("ctrl+s")
        await settle(pilot, lambda: isinstance(app.screen, SettingsScreen))
        assert not is_plain(database)
        assert app.database_encrypted()
        assert "The data is encrypted." in screen_text(app)
        assert any("The passphrase is set" in n for n in notifications(app))
        assert Client.get().name == CLIENT  # the app goes on with the re-opened database

        # Change: the current one, then the new one twice.
        await pilot.press("f5")
        await pilot.pause()
        assert isinstance(app.screen, PassphraseForm)
        await type_into(pilot, "#field-current", PASSPHRASE)
        await type_into(pilot, "#field-new", NEW_PASSPHRASE)
        await type_into(pilot, "#field-again", NEW_PASSPHRASE)
        await pilot.press("ctrl+s")
        await settle(pilot, lambda: isinstance(app.screen, SettingsScreen))
        assert not is_plain(database)
        verify(database, NEW_PASSPHRASE)  # raises for a wrong one

        # Remove: the current one, after the sentence saying what it means.
        await pilot.press("f8")
        await pilot.pause()
        assert isinstance(app.screen, PassphraseForm)
        assert "anyone who gets the files" in screen_text(app)
        await type_into(pilot, "#field-current", NEW_PASSPHRASE)
        await pilot.press("ctrl+s")
        await settle(pilot, lambda: isinstance(app.screen, SettingsScreen))
        assert is_plain(database)
        assert not app.database_encrypted()
        assert "The data is not encrypted." in screen_text(app)
        assert Client.get().name == CLIENT


async def test_a_passphrase_typed_once_composed_and_once_decomposed_is_one_passphrase(database, no_wait):
    # One keyboard sends "ů" as one character, a pasted copy may hold "u" and a combining ring.
    composed = unicodedata.normalize("NFC", "žluťoučký kůň")
    decomposed = unicodedata.normalize("NFD", composed)
    business()
    app = FakturkaApp(db_path=database, first_start_prompt=False)
    async with app.run_test(size=SIZE) as pilot:
        await open_settings(pilot)
        await pilot.press("f5")
        await pilot.pause()
        await type_into(pilot, "#field-new", composed)
        await paste_into(pilot, "#field-again", decomposed)
        await pilot.press("ctrl+s")
        await settle(pilot, lambda: isinstance(app.screen, SettingsScreen))
        assert app.database_encrypted()
    verify(database, decomposed)  # raises for a wrong one
    verify(database, composed)


async def test_a_refused_passphrase_change_changes_nothing(encrypted, no_wait):
    app = FakturkaApp(db_path=encrypted, first_start_prompt=False)
    async with app.run_test(size=SIZE) as pilot:
        await open_settings(pilot)
        before = encrypted.read_bytes()
        await pilot.press("f5")
        await pilot.pause()
        await type_into(pilot, "#field-current", "not the one!")
        await type_into(pilot, "#field-new", NEW_PASSPHRASE)
        await type_into(pilot, "#field-again", NEW_PASSPHRASE)
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert isinstance(app.screen, PassphraseForm)
        assert "does not unlock" in screen_text(app)

        await type_into(pilot, "#field-current", PASSPHRASE)
        await type_into(pilot, "#field-again", "something else")
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert isinstance(app.screen, PassphraseForm)
        assert "differ" in screen_text(app)

        await type_into(pilot, "#field-new", "short")
        await type_into(pilot, "#field-again", "short")
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert "at least 8 characters" in screen_text(app)
        await pilot.press("escape")
        await pilot.pause()
        assert isinstance(app.screen, SettingsScreen)
    assert encrypted.read_bytes() == before
    verify(encrypted, PASSPHRASE)


async def test_settings_refuse_a_re_key_while_a_worker_uses_the_database(encrypted, monkeypatch):
    app = FakturkaApp(db_path=encrypted, first_start_prompt=False)
    async with app.run_test(size=SIZE) as pilot:
        await open_settings(pilot)
        monkeypatch.setattr(app, "_background_work", lambda: True)
        await pilot.press("f8")
        await pilot.pause()
        await type_into(pilot, "#field-current", PASSPHRASE)
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert isinstance(app.screen, PassphraseForm)
        assert "running in the background" in screen_text(app)
    assert not is_plain(encrypted)


async def test_the_idle_minutes_are_edited_in_settings(database):
    app = FakturkaApp(db_path=database, first_start_prompt=False)
    async with app.run_test(size=SIZE) as pilot:
        await open_settings(pilot)
        await type_into(pilot, "#lock-after", "25")
        await pilot.pause()
        assert load_config().lock_after_minutes == 25
        await type_into(pilot, "#lock-after", "1500")  # 1, 15 and 150 are kept on the way
        await pilot.pause()
        assert "Whole minutes" in screen_text(app)
        assert load_config().lock_after_minutes == 150
        assert app.lock_after_seconds() == 150 * 60
