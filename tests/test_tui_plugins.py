"""Plugins, the live sync log, sync history and the audit log, driven with Pilot.

The tests register their own plugins (``use_plugins``, restored after each
test), press the keys a person would press and check both the screen and the
database. Every test has its own FAKTURKA_HOME and database (conftest.py).

The plugins:

* ``acme-bank``: a secret token, a required account, a choice and a number;
  logs a few lines (one with the token inside a URL, URL-encoded and raw),
  reports progress and upserts three money transactions;
* ``slow-bank``: keeps logging, reporting progress and collecting rows every
  50 ms until the test opens ``SLOW_GATE`` (or 5 s pass), so a cancel or a
  walk through other screens can land while it runs;
* ``grumpy-bank``: raises ``SyncError("bank said no")``;
* ``buggy-bank``: raises a plain ``RuntimeError`` whose message holds the token;
* ``picky-bank``: raises ``SyncError`` with square brackets in its message.
"""

from __future__ import annotations

import asyncio
import json
import threading
import time
from datetime import date
from urllib.parse import quote, quote_plus

import pytest
from helpers import highlight, notifications, paste_into, screen_text, table_cells, type_into
from textual.widgets import DataTable, Input, Label, Log, ProgressBar, Select, Static

from core.billing.clients import add_client
from core.platform import plugin_config
from core.platform.credentials import get_credentials
from core.platform.sync import run_sync
from core.plugins import use_plugins
from core.plugins.base import Choice, Number, Plugin, Secret, SyncError, Text
from core.store.audit import AuditRecord
from core.store.models import MoneyTransaction, PluginConfiguration, SyncHistory
from tui.app import FakturkaApp
from tui.screens.audit import AuditDetailScreen, AuditScreen
from tui.screens.dashboard import DashboardScreen
from tui.screens.history import HistoryScreen, RunDetailScreen
from tui.screens.plugins import PluginsScreen
from tui.widgets.form import FormScreen
from tui.widgets.paged_table import PagedTable
from tui.widgets.unsaved import UnsavedChanges

SIZE = (140, 44)
NBSP = "\u00a0"

# Characters that change when URL-encoded, so every encoded form must be masked too.
TOKEN = "tok/S3cr3t+Key=42"
NEW_TOKEN = "second-Secret-Token-77"
ACCOUNT = "2001234567/2010"
SLOW_GATE = threading.Event()
SLOW_LIMIT_S = 5.0  # a slow run never lasts longer than this, whatever a test does


def token_forms(token: str = TOKEN) -> set[str]:
    return {token, quote(token, safe=""), quote_plus(token), quote(token)}


def leaks(text: str, token: str = TOKEN) -> list[str]:
    return [form for form in token_forms(token) if form in text]


# -- the test plugins ------------------------------------------------------------------------


class AcmeBank(Plugin):
    name = "acme-bank"
    version = "1.2.0"
    fields = [
        Secret("token", "API token", required=True, help="From the bank's internet banking."),
        Text("account", "Account number", required=True),
        Choice("period", "Download", ("week", "month", "year"), default="month"),
        Number("days_back", "Days back", default=30),
    ]
    ROWS = [
        ("acme-1", "1200.50", "Invoice 2024001"),
        ("acme-2", "300", "Invoice 2024002"),
        ("acme-3", "99.90", "Refund"),
    ]

    def sync(self, ctx):
        token = ctx.credentials["token"]
        ctx.log(f"Connecting to account {ctx.settings['account']} ({ctx.settings['period']})")
        ctx.log(f"GET https://api.acme-bank.test/v1/rest/periods/{quote(token, safe='')}/transactions.json")
        ctx.log(f"fallback https://api.acme-bank.test/v1/last?token={token}&days={ctx.settings['days_back']}")
        for done, (external_id, amount, description) in enumerate(self.ROWS, 1):
            ctx.upsert_transaction(
                external_id=external_id,
                transaction_type="income",
                amount=amount,
                currency="CZK",
                transacted_on=date(2024, 5, done),
                description=description,
                counterparty="Client s.r.o.",
            )
            ctx.progress(done, len(self.ROWS))
        ctx.log(f"Downloaded {len(self.ROWS)} transactions")


class SlowBank(Plugin):
    name = "slow-bank"
    version = "0.1.0"
    fields = [Secret("token", "API token", required=True)]

    def sync(self, ctx):
        deadline = time.monotonic() + SLOW_LIMIT_S
        page = 0
        while not SLOW_GATE.is_set() and time.monotonic() < deadline:
            page += 1
            ctx.log(f"slow page {page}")
            ctx.progress(min(page, 99), 100)
            ctx.upsert_transaction(
                external_id=f"slow-{page}",
                transaction_type="expense",
                amount="10",
                currency="CZK",
                transacted_on=date(2024, 5, 1),
                description=f"page {page}",
            )
            time.sleep(0.05)
        ctx.progress(100, 100)
        ctx.log(f"slow done after {page} pages")


class GrumpyBank(Plugin):
    name = "grumpy-bank"
    version = "1.0.0"
    fields = [Secret("token", "API token", required=True)]

    def sync(self, ctx):
        ctx.log("asking the bank")
        raise SyncError("bank said no")


BRACKETED = "HTTP 401 [Unauthorized] for [/v1/accounts/statement]: renew the token"


class PickyBank(Plugin):
    """Fails with a message that holds square brackets, as API errors and URLs often do."""

    name = "picky-bank"
    version = "1.0.0"
    fields = [Secret("token", "API token", required=True)]

    def sync(self, ctx):
        ctx.log("GET [/v1/accounts/statement]")
        raise SyncError(BRACKETED)


class BuggyBank(Plugin):
    name = "buggy-bank"
    version = "1.0.0"
    fields = [Secret("token", "API token", required=True)]

    def sync(self, ctx):
        ctx.log("calling the API")
        raise RuntimeError(f"HTTP 500 from https://api.buggy.test/v2/{ctx.credentials['token']}/statement")


@pytest.fixture(autouse=True)
def test_plugins():
    use_plugins([AcmeBank, SlowBank, GrumpyBank, BuggyBank, PickyBank])
    SLOW_GATE.clear()
    yield
    SLOW_GATE.set()  # a slow run still going ends at its next page
    use_plugins(None)


# -- helpers -------------------------------------------------------------------------------


def cell(table: DataTable, row_key: str, column_key: str) -> str:
    return str(table.get_cell(row_key, column_key))


def set_up(name: str, *, enabled: bool = True, token: str = TOKEN, **settings) -> None:
    """Configure (and enable) a plugin through the core service, as the CLI does."""
    if name == "acme-bank":
        settings.setdefault("account", ACCOUNT)
    plugin_config.configure(name, settings, secrets={"token": token})
    plugin_config.set_enabled(name, enabled)


async def open_section(pilot, key: str, screen_type):
    await pilot.press(key)
    await pilot.pause()
    assert isinstance(pilot.app.screen, screen_type)
    return pilot.app.screen


async def open_plugins(pilot) -> PagedTable:
    screen = await open_section(pilot, "p", PluginsScreen)
    return screen.query_one("#plugin-list", PagedTable)


async def choose(pilot, selector: str, label: str) -> None:
    """Open the select with enter and walk its menu with the arrow keys to the option ``label``."""
    select = pilot.app.screen.query_one(selector, Select)
    select.focus()
    await pilot.pause()
    await pilot.press("enter")
    await pilot.pause()
    assert select.expanded
    options = [(str(prompt), value) for prompt, value in select._options]
    target = [prompt for prompt, _value in options].index(label)
    current = next((i for i, (_prompt, value) in enumerate(options) if value == select.value), 0)
    await pilot.press(*(["down"] * (target - current) if target >= current else ["up"] * (current - target)))
    await pilot.press("enter")
    await pilot.pause()
    assert not select.expanded
    assert select.value == options[target][1]


async def wait_for_sync(pilot) -> None:
    """Until the sync worker has finished, then long enough for the panel's 100 ms poll."""
    await asyncio.wait_for(pilot.app.workers.wait_for_complete(), timeout=20)
    await pilot.pause(0.3)


def log_lines(app) -> list[str]:
    return list(app.screen.query_one("#sync-log", Log).lines)


def static_text(widget: Static | Label) -> str:
    return str(widget.render())


def audit_dump() -> str:
    return "\n".join(json.dumps(r.changes, ensure_ascii=False) for r in AuditRecord.select())


# -- 1. configuration through the generated form -----------------------------------------------------------


async def test_configure_through_the_form_stores_the_secret_encrypted_and_never_shows_it(database):
    app = FakturkaApp(db_path=database, first_start_prompt=False)
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        table = await open_plugins(pilot)
        assert [row[0] for row in table_cells(table)] == [
            "acme-bank",
            "buggy-bank",
            "grumpy-bank",
            "picky-bank",
            "slow-bank",
        ]
        await highlight(pilot, table, "acme-bank")
        assert cell(table, "acme-bank", "configured").startswith("missing")
        assert "token" in cell(table, "acme-bank", "configured")

        await pilot.press("e")
        await pilot.pause()
        assert isinstance(app.screen, FormScreen)
        text = screen_text(app)
        for label in ("API token *", "Account number *", "Download", "Days back", "Not set yet."):
            assert label in text

        await paste_into(pilot, "#field-token", TOKEN)
        assert not leaks(screen_text(app))  # a secret input shows dots
        await type_into(pilot, "#field-account", ACCOUNT)
        await choose(pilot, "#field-period", "year")
        # A number field that holds no number: the message goes under it, nothing is lost, nothing saved.
        await type_into(pilot, "#field-days_back", "1e")
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert isinstance(app.screen, FormScreen)
        error = app.screen.query_one("#error-days_back", Static)
        assert "not a number" in static_text(error)
        assert not error.has_class("hidden")
        assert "Days back: '1e' is not a number." in screen_text(app)
        assert app.screen.query_one("#field-token", Input).value == TOKEN
        assert app.screen.query_one("#field-account", Input).value == ACCOUNT
        assert app.screen.query_one("#field-period", Select).value == "year"
        assert app.screen.query_one("#field-days_back", Input).value == "1e"
        assert PluginConfiguration.select().count() == 0

        await type_into(pilot, "#field-days_back", "14")
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert isinstance(app.screen, PluginsScreen)
        assert "acme-bank configuration saved." in notifications(app)
        assert cell(table, "acme-bank", "configured") == "yes"
        assert cell(table, "acme-bank", "enabled") == "no"

        row = PluginConfiguration.get(PluginConfiguration.plugin_name == "acme-bank")
        assert row.settings == {"account": ACCOUNT, "period": "year", "days_back": 14}
        assert get_credentials("acme-bank") == {"token": TOKEN}
        assert not leaks(json.dumps(row.settings, ensure_ascii=False))
        assert TOKEN.encode() not in bytes(row.credentials)  # encrypted, not stored as typed
        assert not leaks(audit_dump())
        config_audit = list(AuditRecord.select().where(AuditRecord.table_name == "plugin_configurations"))
        assert config_audit and all(r.source == "manual" for r in config_audit)
        assert any(r.changes.get("credentials", [None, None])[1] == "***" for r in config_audit)
        assert not leaks(screen_text(app))

        # Reopened: the secret is never shown again; the other values are.
        await pilot.press("e")
        await pilot.pause()
        assert isinstance(app.screen, FormScreen)
        assert app.screen.query_one("#field-token", Input).value == ""
        assert app.screen.query_one("#field-account", Input).value == ACCOUNT
        assert app.screen.query_one("#field-period", Select).value == "year"
        assert app.screen.query_one("#field-days_back", Input).value == "14"
        text = screen_text(app)
        assert "Saved; type a new value to replace it." in text
        assert not leaks(text)
        # Saving without typing the secret keeps the stored one.
        await paste_into(pilot, "#field-account", "1111111111/0800")
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert isinstance(app.screen, PluginsScreen)
        assert get_credentials("acme-bank") == {"token": TOKEN}
        assert (
            PluginConfiguration.get(PluginConfiguration.plugin_name == "acme-bank").settings["account"]
            == "1111111111/0800"
        )

        # Typing a new one replaces it; escape saves nothing.
        await pilot.press("e")
        await pilot.pause()
        await paste_into(pilot, "#field-token", NEW_TOKEN)
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert get_credentials("acme-bank") == {"token": NEW_TOKEN}
        await pilot.press("e")
        await pilot.pause()
        await paste_into(pilot, "#field-account", "0000000000/0100")
        await paste_into(pilot, "#field-token", "thrown-away-token")
        await pilot.press("escape")  # edits: it asks first (issue 16); d discards them
        await pilot.pause()
        assert isinstance(app.screen, UnsavedChanges)
        await pilot.press("d")
        await pilot.pause()
        assert isinstance(app.screen, PluginsScreen)
        assert get_credentials("acme-bank") == {"token": NEW_TOKEN}
        assert (
            PluginConfiguration.get(PluginConfiguration.plugin_name == "acme-bank").settings["account"]
            == "1111111111/0800"
        )
        assert not leaks(audit_dump(), NEW_TOKEN) and not leaks(audit_dump())


async def test_form_refuses_a_missing_required_field_under_that_field(database):
    set_up("acme-bank", enabled=False)
    app = FakturkaApp(db_path=database, first_start_prompt=False)
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        table = await open_plugins(pilot)
        await highlight(pilot, table, "acme-bank")
        await pilot.press("enter")  # enter opens the form too
        await pilot.pause()
        assert isinstance(app.screen, FormScreen)
        await type_into(pilot, "#field-account", "")
        await type_into(pilot, "#field-days_back", "7")
        await pilot.press("ctrl+s")
        await pilot.pause()

        # Expected: "Account number" is required, so the form stays open with a message under it.
        assert isinstance(app.screen, FormScreen), (
            "the form closed although the required 'Account number' was empty; stored settings now: "
            f"{PluginConfiguration.get(PluginConfiguration.plugin_name == 'acme-bank').settings}"
        )
        error = app.screen.query_one("#error-account", Static)
        assert not error.has_class("hidden") and static_text(error)
        assert app.screen.query_one("#field-days_back", Input).value == "7"
        row = PluginConfiguration.get(PluginConfiguration.plugin_name == "acme-bank")
        assert row.settings.get("account") == ACCOUNT
        assert "days_back" not in row.settings


# -- 2. enable / disable -------------------------------------------------------------------------


async def test_space_toggles_enabled_in_the_database_and_the_list(database):
    set_up("acme-bank", enabled=False)
    app = FakturkaApp(db_path=database, first_start_prompt=False)
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        table = await open_plugins(pilot)
        await highlight(pilot, table, "acme-bank")
        assert cell(table, "acme-bank", "enabled") == "no"

        await pilot.press("space")
        await pilot.pause()
        assert plugin_config.get_config("acme-bank").enabled is True
        assert cell(table, "acme-bank", "enabled") == "yes"
        assert table.selected_key() == "acme-bank"
        assert "acme-bank enabled." in notifications(app)

        await pilot.press("space")
        await pilot.pause()
        assert plugin_config.get_config("acme-bank").enabled is False
        assert cell(table, "acme-bank", "enabled") == "no"
        assert "acme-bank disabled." in notifications(app)

        # A plugin never configured can be enabled too (a row is created for it).
        await highlight(pilot, table, "slow-bank")
        await pilot.press("space")
        await pilot.pause()
        assert plugin_config.get_config("slow-bank").enabled is True
        assert cell(table, "slow-bank", "enabled") == "yes"
        assert cell(table, "acme-bank", "enabled") == "no"


# -- 3. a sync with its live log and counts ---------------------------------------------------------


async def test_an_idle_log_panel_says_how_to_start_a_sync_and_shows_no_busy_bar(database):
    set_up("acme-bank")
    app = FakturkaApp(db_path=database, first_start_prompt=False)
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await open_plugins(pilot)
        await pilot.pause(0.3)  # a few polls of the panel
        bar = app.screen.query_one("#sync-progress", ProgressBar)
        assert not bar.display  # an idle bar with no total pulses as if a sync were running
        assert log_lines(app) == ["Select a plugin and press r to sync it; its log appears here."]

        table = app.screen.query_one("#plugin-list", PagedTable)
        await highlight(pilot, table, "acme-bank")
        await pilot.press("r")
        await wait_for_sync(pilot)
        lines = log_lines(app)
        assert lines == app.current_sync.lines and "sync started" in lines[0]  # the hint made way for the run
        assert bar.display and (bar.progress, bar.total) == (3, 3)


async def test_sync_shows_its_lines_progress_and_counts_and_never_the_token(database):
    set_up("acme-bank")
    app = FakturkaApp(db_path=database, first_start_prompt=False)
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        table = await open_plugins(pilot)
        await highlight(pilot, table, "acme-bank")
        await pilot.press("r")
        await wait_for_sync(pilot)

        session = app.current_sync
        assert session.plugin_name == "acme-bank" and session.status == "completed"
        lines = log_lines(app)
        joined = "\n".join(lines)
        assert lines == session.lines  # every line arrived, in order
        assert "acme-bank 1.2.0: sync started" in lines[0]
        assert any(f"Connecting to account {ACCOUNT} (month)" in line for line in lines)
        assert any("GET https://api.acme-bank.test/v1/rest/periods/***/transactions.json" in line for line in lines)
        assert any("fallback https://api.acme-bank.test/v1/last?token=***&days=30" in line for line in lines)
        assert any("Downloaded 3 transactions" in line for line in lines)
        assert any("Done: 3 processed, 3 created, 0 updated, 0 unchanged." in line for line in lines)
        assert not leaks(joined)

        screen = app.screen
        assert static_text(screen.query_one("#sync-counts", Static)) == "3 created, 0 updated, 0 unchanged"
        assert "acme-bank · completed" in static_text(screen.query_one("#sync-title", Label))
        bar = screen.query_one("#sync-progress", ProgressBar)
        assert (bar.progress, bar.total) == (3, 3)
        assert cell(table, "acme-bank", "status") == "completed"
        assert "acme-bank: sync completed (3 created, 0 updated, 0 unchanged)." in notifications(app)
        text = screen_text(app)
        assert "3 created, 0 updated, 0 unchanged" in text
        assert "Downloaded 3 transactions" in text
        assert not leaks(text)

        run = SyncHistory.get()
        assert (run.plugin_name, run.status, run.trigger) == ("acme-bank", "completed", "tui")
        assert (run.records_processed, run.records_created, run.records_updated) == (3, 3, 0)
        assert "***" in run.log and not leaks(run.log)
        assert run.log.splitlines() == lines
        rows = list(MoneyTransaction.select().order_by(MoneyTransaction.external_id))
        assert [(t.source, t.external_id, t.amount) for t in rows] == [
            ("acme-bank", "acme-1", 120050),
            ("acme-bank", "acme-2", 30000),
            ("acme-bank", "acme-3", 9990),
        ]

        # Again: a new session replaces the panel's lines; nothing changed this time.
        await pilot.press("r")
        await wait_for_sync(pilot)
        assert app.current_sync is not session
        lines = log_lines(app)
        assert lines == app.current_sync.lines
        assert sum("sync started" in line for line in lines) == 1
        assert static_text(app.screen.query_one("#sync-counts", Static)) == "0 created, 0 updated, 3 unchanged"
        assert MoneyTransaction.select().count() == 3
        assert not leaks("\n".join(lines))


async def test_sync_of_a_disabled_plugin_is_refused_with_a_message(database):
    set_up("acme-bank", enabled=False)
    app = FakturkaApp(db_path=database, first_start_prompt=False)
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        table = await open_plugins(pilot)
        await highlight(pilot, table, "acme-bank")
        await pilot.press("r")
        await wait_for_sync(pilot)
        assert app.current_sync.status == "refused"
        assert any("acme-bank is disabled" in n for n in notifications(app))
        assert any("acme-bank is disabled" in line for line in log_lines(app))
        assert SyncHistory.select().count() == 0
        assert app.is_running


# -- 4. cancel -----------------------------------------------------------------------------------


async def test_cancel_a_running_sync_writes_nothing_and_keeps_the_app_running(database):
    set_up("slow-bank")
    set_up("acme-bank")
    app = FakturkaApp(db_path=database, first_start_prompt=False)
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        table = await open_plugins(pilot)
        await highlight(pilot, table, "slow-bank")
        await pilot.press("r")
        await pilot.pause(0.3)
        assert not app.current_sync.finished
        assert any("slow page" in line for line in log_lines(app))
        await pilot.press("x")
        await wait_for_sync(pilot)

        session = app.current_sync
        assert session.status == "failed"
        assert any("Cancelling slow-bank" in n for n in notifications(app))
        lines = log_lines(app)
        assert any("Cancelled by the user; nothing was saved." in line for line in lines)
        assert not any("slow done" in line for line in lines)
        assert "slow-bank · failed" in static_text(app.screen.query_one("#sync-title", Label))

        run = SyncHistory.get()
        assert run.status == "failed"
        assert "Cancelled" in run.error_message
        assert run.records_created == 0
        assert MoneyTransaction.select().count() == 0
        assert AuditRecord.select().where(AuditRecord.sync_run == run.id).count() == 0
        assert AuditRecord.select().where(AuditRecord.source == "slow-bank").count() == 0
        assert cell(table, "slow-bank", "status") == "failed"

        # Still running and usable: another sync runs to the end, the sections switch.
        assert app.is_running
        await highlight(pilot, table, "acme-bank")
        await pilot.press("r")
        await wait_for_sync(pilot)
        assert app.current_sync.status == "completed"
        assert MoneyTransaction.select().count() == 3
        await open_section(pilot, "d", DashboardScreen)


# -- 5. a failing sync -----------------------------------------------------------------------------


async def test_a_sync_error_shows_its_message_and_no_traceback(database):
    set_up("grumpy-bank")
    app = FakturkaApp(db_path=database, first_start_prompt=False)
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        table = await open_plugins(pilot)
        await highlight(pilot, table, "grumpy-bank")
        await pilot.press("r")
        await wait_for_sync(pilot)

        session = app.current_sync
        assert session.status == "failed"
        assert session.message == "bank said no"
        assert "grumpy-bank: sync failed: bank said no" in notifications(app)
        lines = log_lines(app)
        assert any("ERROR" in line and line.endswith("bank said no") for line in lines)
        text = screen_text(app)
        assert "bank said no" in text
        for shown in (text, "\n".join(lines), "\n".join(notifications(app))):
            assert "Traceback" not in shown
            assert "SyncError" not in shown
            assert not leaks(shown)
        assert cell(table, "grumpy-bank", "status") == "failed"

        run = SyncHistory.get()
        assert (run.status, run.error_message, run.error_backtrace) == ("failed", "bank said no", None)
        assert app.is_running


async def test_a_plugin_bug_never_shows_the_token_or_a_traceback(database):
    set_up("buggy-bank")
    app = FakturkaApp(db_path=database, first_start_prompt=False)
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        table = await open_plugins(pilot)
        await highlight(pilot, table, "buggy-bank")
        await pilot.press("r")
        await wait_for_sync(pilot)

        session = app.current_sync
        assert session.status == "failed"
        expected = "buggy-bank failed: RuntimeError: HTTP 500 from https://api.buggy.test/v2/***/statement"
        assert session.message == expected
        assert f"buggy-bank: sync failed: {expected}" in notifications(app)
        lines = log_lines(app)
        assert any(line.endswith(expected) for line in lines)
        text = screen_text(app)
        assert "HTTP 500 from https://api.buggy.test/v2/***/statement" in text
        for shown in (text, "\n".join(lines), "\n".join(notifications(app)), session.message):
            assert not leaks(shown), shown
            assert "Traceback" not in shown

        run = SyncHistory.get()
        assert run.status == "failed"
        assert "***" in run.error_message and not leaks(run.error_message)
        assert "Traceback" in run.error_backtrace and not leaks(run.error_backtrace)
        assert not leaks(run.log)
        assert app.is_running


async def test_a_failure_message_with_square_brackets_is_shown_as_it_is(database):
    set_up("picky-bank")
    app = FakturkaApp(db_path=database, first_start_prompt=False)
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        table = await open_plugins(pilot)
        await highlight(pilot, table, "picky-bank")
        await pilot.press("r")
        await wait_for_sync(pilot)
        await pilot.pause()  # the notification is rendered
        assert app.is_running
        assert app.current_sync.message == BRACKETED
        assert any(line.endswith(BRACKETED) for line in log_lines(app))
        assert f"picky-bank: sync failed: {BRACKETED}" in notifications(app)
        text = screen_text(app)
        assert "GET [/v1/accounts/statement]" in text  # the log panel
        # Twice in the log panel (the GET and the ERROR line) and once in the notification.
        assert text.count("[/v1/accounts/statement]") >= 3
        assert text.count("[Unauthorized]") >= 2
    assert SyncHistory.get().error_message == BRACKETED


async def test_history_shows_a_failure_message_with_square_brackets_as_it_is(database):
    set_up("picky-bank")
    outcome = run_sync("picky-bank", trigger="cli")
    assert outcome.error == BRACKETED
    app = FakturkaApp(db_path=database, first_start_prompt=False)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_section(pilot, "h", HistoryScreen)
        await pilot.pause()
        assert "picky-bank" in screen_text(app)
        assert "HTTP 401 [Unauthorized]" in screen_text(app)  # the error column, as it is
        await highlight(pilot, screen.query_one("#history-list", PagedTable), outcome.run_id)
        await pilot.press("enter")
        await pilot.pause()
        assert isinstance(app.screen, RunDetailScreen)
        text = screen_text(app)
        assert "Error: HTTP 401 [Unauthorized] for [/v1/accounts/statement]" in text
        assert app.is_running


# -- 6. other screens during a sync ---------------------------------------------------------------


async def test_other_screens_stay_usable_during_a_sync_and_the_log_keeps_up(database):
    set_up("slow-bank")
    add_client(name="Acme s.r.o.", currency="CZK", hourly_rate="1200")
    app = FakturkaApp(db_path=database, first_start_prompt=False)
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        table = await open_plugins(pilot)
        await highlight(pilot, table, "slow-bank")
        await pilot.press("r")
        await pilot.pause(0.3)
        before = len(log_lines(app))
        assert before >= 1
        session = app.current_sync

        # Away while it runs: each key switches section at once.
        await open_section(pilot, "d", DashboardScreen)
        assert not session.finished
        await pilot.pause(0.3)
        history = await open_section(pilot, "h", HistoryScreen)
        runs = table_cells(history.query_one("#history-list", PagedTable))
        assert len(runs) == 1 and runs[0][1] == "slow-bank" and "running" in runs[0][2]
        await pilot.press("c")
        await pilot.pause()
        assert app.current_mode == "clients"
        assert "Acme s.r.o." in screen_text(app)
        await pilot.pause(0.3)
        assert not session.finished

        # Back: the panel caught up with everything the run logged meanwhile.
        await open_plugins(pilot)
        await pilot.pause(0.3)
        lines = log_lines(app)
        assert len(lines) > before
        assert lines == session.lines[: len(lines)]
        assert not session.finished
        # A second start while it runs is refused with a message, not queued or crashed.
        assert table.selected_key() == "slow-bank"
        await pilot.press("r")
        await pilot.pause()
        assert any("slow-bank is still syncing" in n for n in notifications(app))
        assert app.current_sync is session

        SLOW_GATE.set()
        await wait_for_sync(pilot)
        assert session.status == "completed"
        lines = log_lines(app)
        assert lines == session.lines
        assert any("slow done after" in line for line in lines)
        pages = sum("slow page" in line for line in lines)
        assert static_text(app.screen.query_one("#sync-counts", Static)) == f"{pages} created, 0 updated, 0 unchanged"
        assert MoneyTransaction.select().count() == pages
        bar = app.screen.query_one("#sync-progress", ProgressBar)
        assert (bar.progress, bar.total) == (100, 100)


# -- 7. sync history -------------------------------------------------------------------------------


async def test_history_lists_runs_and_the_detail_shows_log_and_what_changed(database):
    set_up("acme-bank")
    set_up("buggy-bank")
    ok = run_sync("acme-bank", trigger="tui")
    bad = run_sync("buggy-bank", trigger="tui")
    assert (ok.status, bad.status) == ("completed", "failed")
    created_ids = sorted(t.id for t in MoneyTransaction.select())
    app = FakturkaApp(db_path=database, first_start_prompt=False)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_section(pilot, "h", HistoryScreen)
        table = screen.query_one("#history-list", PagedTable)
        rows = {row[0]: row for row in table_cells(table)}
        assert list(rows) == [str(bad.run_id), str(ok.run_id)]  # newest first
        assert rows[str(ok.run_id)][1:3] == ["acme-bank", "completed"]
        assert rows[str(ok.run_id)][5:9] == ["3", "3", "0", "0"]
        assert rows[str(bad.run_id)][1] == "buggy-bank" and "failed" in rows[str(bad.run_id)][2]
        text = screen_text(app)
        assert "completed" in text and "failed" in text
        assert not leaks(text)

        await highlight(pilot, table, ok.run_id)
        await pilot.press("enter")
        await pilot.pause()
        assert isinstance(app.screen, RunDetailScreen)
        log = list(app.screen.query_one("#run-log", Log).lines)
        assert log == SyncHistory.get_by_id(ok.run_id).log.splitlines()
        assert any("Downloaded 3 transactions" in line for line in log)
        assert not leaks("\n".join(log))
        changes = table_cells(app.screen.query_one("#run-changes", DataTable))
        assert [(c[0], c[1]) for c in changes] == [("create", "money_transactions")] * 3
        assert sorted(int(c[2]) for c in changes) == created_ids
        text = screen_text(app)
        assert "What changed" in text and "money_transactions" in text
        await pilot.press("escape")
        await pilot.pause()
        assert isinstance(app.screen, HistoryScreen)

        await highlight(pilot, table, bad.run_id)
        await pilot.press("enter")
        await pilot.pause()
        assert isinstance(app.screen, RunDetailScreen)
        text = screen_text(app)
        assert "Error:" in text and "HTTP 500 from https://api.buggy.test/v2/***/statement" in text
        assert "Backtrace" in text and "RuntimeError" in text
        assert not leaks(text)
        changes = table_cells(app.screen.query_one("#run-changes", DataTable))
        assert changes == [["—", "nothing", "", ""]]
        await pilot.press("escape")
        await pilot.pause()
        assert isinstance(app.screen, HistoryScreen)


async def test_history_shows_a_run_made_from_the_plugins_screen(database):
    set_up("acme-bank")
    app = FakturkaApp(db_path=database, first_start_prompt=False)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_section(pilot, "h", HistoryScreen)  # visited before the run
        assert screen.query_one("#history-list", PagedTable).row_count == 0
        table = await open_plugins(pilot)
        await highlight(pilot, table, "acme-bank")
        await pilot.press("r")
        await wait_for_sync(pilot)
        screen = await open_section(pilot, "h", HistoryScreen)
        rows = table_cells(screen.query_one("#history-list", PagedTable))
        assert len(rows) == 1 and rows[0][1:3] == ["acme-bank", "completed"]


class BulkBank(Plugin):
    name = "bulk-bank"
    version = "1.0.0"

    def sync(self, ctx):
        for n in range(250):
            ctx.upsert_transaction(
                external_id=f"bulk-{n}",
                transaction_type="income",
                amount="10",
                currency="CZK",
                transacted_on=date(2024, 5, 1),
                description=f"Movement {n}",
            )


async def test_a_large_runs_changes_are_read_a_page_at_a_time(database):
    use_plugins([BulkBank])  # the test_plugins fixture restores the registry
    plugin_config.set_enabled("bulk-bank", True)
    outcome = run_sync("bulk-bank", trigger="tui")
    assert outcome.counts.created == 250
    app = FakturkaApp(db_path=database, first_start_prompt=False)
    async with app.run_test(size=SIZE) as pilot:
        await open_section(pilot, "h", HistoryScreen)
        await pilot.press("enter")
        await pilot.pause()
        assert isinstance(app.screen, RunDetailScreen)
        changes = app.screen.query_one("#run-changes", PagedTable)
        assert changes.row_count == PagedTable.PAGE_SIZE  # one page, not all 250 records at once
        changes.focus()
        await pilot.pause()
        for _ in range(3):  # to the end of what is loaded: the next page follows
            await pilot.press("ctrl+end")
            await pilot.pause()
        assert changes.row_count == 250
        assert [cells[0] for _, cells in changes.fetch(0, 1)] == ["create"]


# -- 8. audit log ------------------------------------------------------------------------------------


async def test_audit_log_filters_by_source(database):
    set_up("acme-bank")  # manual: plugin_configurations
    add_client(name="Acme s.r.o.", currency="CZK", hourly_rate="1200")  # manual: clients
    outcome = run_sync("acme-bank", trigger="tui")
    assert outcome.status == "completed"
    app = FakturkaApp(db_path=database, first_start_prompt=False)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_section(pilot, "a", AuditScreen)
        table = screen.query_one("#audit-list", PagedTable)
        everything = table_cells(table)
        assert {row[1] for row in everything} == {"acme-bank", "manual"}
        assert len(everything) == AuditRecord.select().count()

        screen.query_one("#filter-source", Select).value = "acme-bank"
        await pilot.pause()
        rows = table_cells(table)
        assert len(rows) == 3
        assert all(row[1] == "acme-bank" for row in rows)
        assert all(row[2] == "money_transactions" and row[4] == "create" for row in rows)

        screen.query_one("#filter-source", Select).value = "manual"
        await pilot.pause()
        rows = table_cells(table)
        manual = AuditRecord.select().where(AuditRecord.source == "manual").count()
        assert len(rows) == manual >= 2
        assert all(row[1] == "manual" for row in rows)
        assert {"plugin_configurations", "clients"} <= {row[2] for row in rows}
        assert not leaks(screen_text(app))

        # By keys: the source menu, then a record's detail with old -> new.
        await choose(pilot, "#filter-source", "acme-bank")
        rows = table_cells(table)
        assert len(rows) == 3 and all(row[1] == "acme-bank" for row in rows)
        table.focus()  # the menu left the focus on the filter
        await pilot.pause()
        await pilot.press("enter")
        await pilot.pause()
        assert isinstance(app.screen, AuditDetailScreen)
        fields = {row[0]: row[1:] for row in table_cells(app.screen.query_one("#audit-fields", DataTable))}
        assert fields["source"] == ["∅", "acme-bank"]
        assert fields["currency"] == ["∅", "CZK"]
        assert fields["amount"][0] == "∅" and fields["amount"][1] in {"1200.50 CZK", "300.00 CZK", "99.90 CZK"}
        assert f"Sync run: {outcome.run_id}" in screen_text(app)
        await pilot.press("escape")
        await pilot.pause()
        assert isinstance(app.screen, AuditScreen)

        await choose(pilot, "#filter-source", "All sources")
        assert len(table_cells(table)) == len(everything)


async def test_audit_detail_shows_values_with_square_brackets_as_they_are(database):
    row = MoneyTransaction.create(
        source="manual",
        external_id=None,
        transaction_type="income",
        amount=500,
        currency="CZK",
        transacted_on=date(2024, 5, 1),
        description="Payment [/ref 42] [b]urgent[/b]",
    )
    app = FakturkaApp(db_path=database, first_start_prompt=False)
    async with app.run_test(size=SIZE) as pilot:
        await open_section(pilot, "a", AuditScreen)
        await pilot.press("enter")
        await pilot.pause()
        assert isinstance(app.screen, AuditDetailScreen)
        assert app.screen.record.row_id == row.id
        text = screen_text(app)
        assert "Payment [/ref 42] [b]urgent[/b]" in text
        assert app.is_running


async def test_audit_source_filter_offers_a_source_that_appeared_after_the_screen_was_first_shown(database):
    set_up("acme-bank")
    app = FakturkaApp(db_path=database, first_start_prompt=False)
    async with app.run_test(size=SIZE) as pilot:
        await open_section(pilot, "a", AuditScreen)  # only "manual" records exist yet
        table = await open_plugins(pilot)
        await highlight(pilot, table, "acme-bank")
        await pilot.press("r")
        await wait_for_sync(pilot)
        assert app.current_sync.status == "completed"

        screen = await open_section(pilot, "a", AuditScreen)
        rows = table_cells(screen.query_one("#audit-list", PagedTable))
        assert sum(row[1] == "acme-bank" for row in rows) == 3  # the list itself was refreshed
        offered = [value for _prompt, value in screen.query_one("#filter-source", Select)._options]
        assert "acme-bank" in offered, f"the source filter offers only {offered}"


# -- a plugin that failed its start-up check -------------------------------------------------------


async def test_a_broken_plugin_shows_its_reason_and_is_refused_only_where_it_is_used(database, monkeypatch):
    import core.plugins

    class NoVersion(Plugin):
        name = "no-version"

        def sync(self, ctx):
            pass

    monkeypatch.setattr(core.plugins, "BUNDLED", [AcmeBank, NoVersion])
    use_plugins(None)  # the bundled path: a broken plugin is listed, not fatal
    set_up("acme-bank")
    app = FakturkaApp(db_path=database, first_start_prompt=False)
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        table = await open_plugins(pilot)
        assert "has the version ''" in cell(table, "no-version", "configured")
        await highlight(pilot, table, "no-version")
        await pilot.press("r")
        await pilot.pause()
        assert any("no-version' is broken and cannot be used" in n for n in notifications(app))
        assert app.current_sync is None
        await pilot.press("e")
        await pilot.pause()
        assert isinstance(app.screen, PluginsScreen)  # no form for it; the app keeps running
        await highlight(pilot, table, "acme-bank")
        assert cell(table, "acme-bank", "configured") == "yes"


# -- the panel gets its news as messages, not by polling ---------------------------------------------


class ChattyBank(Plugin):
    name = "chatty-bank"
    version = "1.0.0"

    def sync(self, ctx):
        for n in range(1, 2001):
            ctx.log(f"line {n}")
            ctx.progress(n, 2000)


async def test_a_flood_of_log_lines_and_progress_arrives_batched_as_messages(database, monkeypatch):
    from tui.sync_session import SyncFinished, SyncLog, SyncProgress

    use_plugins([ChattyBank])  # the test_plugins fixture restores the registry
    plugin_config.set_enabled("chatty-bank", True)
    app = FakturkaApp(db_path=database, first_start_prompt=False)
    async with app.run_test(size=SIZE) as pilot:
        table = await open_plugins(pilot)
        screen = app.screen
        assert not hasattr(screen, "poll_session")  # no polling timer: the worker posts messages
        assert all("poll" not in repr(getattr(t, "_callback", "")) for t in screen._timers)
        handled: list[type] = []
        for kind in (SyncLog, SyncProgress, SyncFinished):
            original = getattr(PluginsScreen, kind.handler_name)

            def spy(self, message, original=original):
                handled.append(type(message))
                return original(self, message)

            monkeypatch.setattr(PluginsScreen, kind.handler_name, spy)
        await highlight(pilot, table, "chatty-bank")
        await pilot.press("r")
        await wait_for_sync(pilot)
        lines = log_lines(app)
        assert lines == app.current_sync.lines and lines[-2].endswith("line 2000")
        assert handled.count(SyncFinished) == 1
        assert handled.count(SyncLog) < 2000 and handled.count(SyncProgress) < 2000  # batched and merged
        assert static_text(screen.query_one("#sync-title", Label)).endswith("chatty-bank · completed")
        bar = screen.query_one("#sync-progress", ProgressBar)
        assert (bar.progress, bar.total) == (2000, 2000)
