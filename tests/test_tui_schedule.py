"""A plugin's schedule set on the Plugins screen (issue 17), with the keyboard only."""

from __future__ import annotations

from datetime import time
from pathlib import Path

from helpers import highlight, notifications, type_into
from textual.widgets import Select

from core.automation.schedule import Schedule, get_schedule
from core.store.models import PluginConfiguration
from tui.app import FakturkaApp
from tui.widgets.paged_table import PagedTable

SIZE = (100, 30)


async def choose(pilot, selector: str, value: str) -> None:
    """Open the select with enter and walk its menu with the arrow keys to ``value``."""
    select = pilot.app.screen.query_one(selector, Select)
    select.focus()
    await pilot.pause()
    await pilot.press("enter")
    await pilot.pause()
    values = [v for _prompt, v in select._options]
    target, current = values.index(value), values.index(select.value)
    await pilot.press(*(["down"] * (target - current) if target >= current else ["up"] * (current - target)))
    await pilot.press("enter")
    await pilot.pause()
    assert select.value == value


async def open_schedule(pilot, name: str) -> None:
    await pilot.press("p")
    await pilot.pause()
    table = pilot.app.screen.query_one("#plugin-list", PagedTable)
    await highlight(pilot, table, name)
    await pilot.press("w")
    await pilot.pause()


async def test_w_sets_a_weekly_schedule_and_says_when_it_runs_next(database):
    app = FakturkaApp(db_path=Path(database), first_start_prompt=False)
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await open_schedule(pilot, "bank-statement")
        await choose(pilot, "#field-every", "weekly")
        await type_into(pilot, "#field-at", "7:30")
        await choose(pilot, "#field-weekday", "fri")
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert get_schedule("bank-statement") == Schedule("weekly", time(7, 30), 4)
        assert any(
            n.startswith("bank-statement syncs by itself: weekly on fri at 07:30; next at ") for n in notifications(app)
        )


async def test_a_wrong_time_is_refused_under_its_field_and_nothing_is_stored(database):
    app = FakturkaApp(db_path=Path(database), first_start_prompt=False)
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await open_schedule(pilot, "bank-statement")
        await choose(pilot, "#field-every", "daily")
        await type_into(pilot, "#field-at", "half past seven")
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert "HH:MM" in str(app.screen.query_one("#error-at").render())
        assert PluginConfiguration.select().where(PluginConfiguration.plugin_name == "bank-statement").count() == 0
        await pilot.press("escape")
        await pilot.pause()


async def test_the_schedule_form_speaks_czech(database):
    app = FakturkaApp(db_path=Path(database), first_start_prompt=False)
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await pilot.press("f3")
        await pilot.pause()
        await open_schedule(pilot, "bank-statement")
        options = [str(prompt) for prompt, _v in app.screen.query_one("#field-weekday", Select)._options]
        assert options[0] == "pondělí" and options[4] == "pátek"
