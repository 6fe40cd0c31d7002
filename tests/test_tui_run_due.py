"""The terminal app runs what is due by itself (issue 17): at start-up and while it stays open, saying
what it did, in its language, and showing it."""

from __future__ import annotations

import asyncio
from datetime import date, timedelta
from pathlib import Path

import pytest
from helpers import notifications

import tui.app
from core.automation.rules import add_rule
from core.billing.clients import add_client, add_project
from core.store.models import SyncHistory, WorkEntry
from tui.app import FakturkaApp

SIZE = (120, 36)


@pytest.fixture
def soon(monkeypatch):
    monkeypatch.setattr(tui.app, "DUE_DELAY_SECONDS", 0.2)


async def wait_for(pilot, condition, seconds: float = 20.0) -> None:
    for _ in range(int(seconds / 0.1)):
        await pilot.pause()
        if condition():
            return
        await asyncio.sleep(0.1)
    raise AssertionError("the app did not run what was due")


def retainer(start: date) -> None:
    project = add_project(add_client(name="Acme s.r.o.", currency="CZK"), name="Retainer")
    add_rule(name="Retainer", project=project, amount="1000", cadence="monthly", on="1", start_on=start)


async def test_the_app_runs_due_rules_at_start_up_and_says_so(database, soon):
    retainer(date.today().replace(day=1) - timedelta(days=40))
    app = FakturkaApp(db_path=Path(database), first_start_prompt=False)
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: any("Recurring rules:" in n for n in notifications(app)))
        created = WorkEntry.select().where(WorkEntry.source == "recurring").count()
        assert created >= 2
        assert f"Recurring rules: {created} created, 0 skipped." in notifications(app)
        run = SyncHistory.get(SyncHistory.plugin_name == "recurring")
        assert run.trigger == "tui" and run.records_created == created


async def test_the_app_says_it_in_czech(database, soon):
    from core.store.config import load_config, save_config

    config = load_config()
    config.language = "cs"
    save_config(config)
    retainer(date.today().replace(day=1))
    app = FakturkaApp(db_path=Path(database), first_start_prompt=False)
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: any("Opakovaná pravidla:" in n for n in notifications(app)))


async def test_nothing_due_says_nothing(database, soon):
    app = FakturkaApp(db_path=Path(database), first_start_prompt=False)
    async with app.run_test(size=SIZE) as pilot:
        await asyncio.sleep(1.0)
        await pilot.pause()
        assert not any("Recurring" in n for n in notifications(app))
        assert SyncHistory.select().count() == 0


async def test_enabling_a_rule_on_the_recurring_screen_creates_what_it_missed_at_once(database):
    # No start-up delay patched: the default round is seconds away, so only the key can explain it.
    project = add_project(add_client(name="Acme s.r.o.", currency="CZK"), name="Retainer")
    rule = add_rule(name="Retainer", project=project, amount="1000", cadence="monthly", on="1", start_on="2026-01-01")
    from core.automation.rules import set_enabled

    set_enabled(rule, False)
    app = FakturkaApp(db_path=Path(database), first_start_prompt=False)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("o")
        await pilot.pause()
        await pilot.press("space")
        await wait_for(pilot, lambda: WorkEntry.select().where(WorkEntry.source == "recurring").count() > 0, 5)
        months = (date.today().year - 2026) * 12 + date.today().month
        assert WorkEntry.select().where(WorkEntry.source == "recurring").count() == months


async def test_a_failed_scheduled_sync_shows_on_the_dashboard(database):
    from datetime import datetime

    from core.automation.due import run_due
    from core.automation.schedule import Schedule, set_schedule
    from core.platform import plugin_config
    from core.plugins import use_plugins
    from core.plugins.base import Plugin, SyncError

    class Bank(Plugin):
        name = "bank"
        version = "1.0.0"

        def sync(self, ctx):
            raise SyncError("the bank refused the token")

    use_plugins([Bank])
    try:
        plugin_config.set_enabled("bank", True)
        moment = (datetime.now() - timedelta(minutes=1)).time().replace(second=0, microsecond=0)
        set_schedule("bank", Schedule("daily", moment))
        assert len(run_due().failures) == 1  # as cron would have run it
        app = FakturkaApp(db_path=Path(database), first_start_prompt=False)
        async with app.run_test(size=SIZE) as pilot:
            card = lambda: str(app.screen.query_one("#reminders").render())  # noqa: E731
            await wait_for(pilot, lambda: "The last sync of bank failed: the bank refused the token" in card(), 10)
            assert "Sync history (h)" in card()  # and what to do about it
    finally:
        use_plugins(None)
