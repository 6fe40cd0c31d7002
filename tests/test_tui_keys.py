"""Keys answer at once and lose nothing: F2/F3 keep the focus, sections are built ahead, the palette
offers every section's actions, and a shown list follows changes made by another connection."""

from __future__ import annotations

import threading

from helpers import screen_text, type_into
from textual.widgets import Input, Select

from core.billing.clients import add_client, add_project
from core.billing.profile import update_profile
from core.billing.timesheet import EntryInput, add_entry
from core.store.db import db
from core.store.models import BusinessProfile
from tui.app import SECTIONS, FakturkaApp, section_screen_class
from tui.screens.base import SectionScreen
from tui.screens.clients import ClientsScreen
from tui.screens.invoices import InvoicesScreen
from tui.screens.time import TimeScreen
from tui.widgets.form import FormScreen
from tui.widgets.paged_table import PagedTable

SIZE = (140, 44)


def profile_name() -> str:
    profile = BusinessProfile.get_or_none()
    return profile.name if profile else ""


async def settle(pilot) -> None:
    await pilot.pause()
    await pilot.app.workers.wait_for_complete()
    await pilot.pause()


async def on_settings_with_a_name(pilot) -> Input:
    await pilot.press("s")
    await settle(pilot)
    name = await type_into(pilot, "#field-name", "Jana Nová")
    await pilot.press("ctrl+s")
    await pilot.pause()
    assert profile_name() == "Jana Nová"
    return name


async def test_f3_then_a_section_key_leaves_the_profile_alone_after_escape(database):
    app = FakturkaApp(db_path=database, first_start_prompt=False)
    async with app.run_test(size=SIZE) as pilot:
        await on_settings_with_a_name(pilot)
        await pilot.press("escape")  # leave the field
        await pilot.pause()
        assert not isinstance(app.screen.focused, Input)
        await pilot.press("f3")
        await settle(pilot)
        assert not isinstance(app.screen.focused, Input)  # the name field was not handed the focus
        await pilot.press("i")
        await settle(pilot)
        assert isinstance(app.screen, InvoicesScreen)
        await pilot.press("s")
        await settle(pilot)
        assert app.screen.query_one("#field-name", Input).value == "Jana Nová"
        assert profile_name() == "Jana Nová"


async def test_f3_and_f2_keep_the_focus_on_a_select_and_the_next_key_changes_section(database):
    app = FakturkaApp(db_path=database, first_start_prompt=False)
    async with app.run_test(size=SIZE) as pilot:
        await on_settings_with_a_name(pilot)
        app.screen.query_one("#theme", Select).focus()  # tab away to a non-text widget
        await pilot.pause()
        for key in ("f3", "f2"):
            await pilot.press(key)
            await settle(pilot)
            assert app.screen.focused is not None and app.screen.focused.id == "theme", key
        assert app.screen.query_one("#field-name", Input).value == "Jana Nová"
        await pilot.press("i")
        await settle(pilot)
        assert isinstance(app.screen, InvoicesScreen)
        assert profile_name() == "Jana Nová"


async def test_f3_in_a_text_field_keeps_it_without_selecting_its_text(database):
    update_profile({"name": "Jana Nová"})
    app = FakturkaApp(db_path=database, first_start_prompt=False)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("s")
        await settle(pilot)
        app.screen.query_one("#field-email", Input).focus()
        await pilot.pause()
        await pilot.press("f3")
        await settle(pilot)
        focused = app.screen.focused
        assert isinstance(focused, Input) and focused.id == "field-email"
        assert focused.selection.is_empty  # a typed letter is added, it does not replace the text


async def test_the_dashboard_shows_its_figures_after_a_language_switch(database):
    update_profile({"name": "Jana Nová"})
    app = FakturkaApp(db_path=database, first_start_prompt=False)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        assert "This week" in screen_text(app)
        await pilot.press("f3")
        await settle(pilot)
        text = screen_text(app)
        assert "Tento týden" in text and "This week" not in text
        await pilot.press("f3")
        await settle(pilot)
        assert "This week" in screen_text(app)


async def test_every_section_is_built_in_idle_time_after_the_dashboard(database):
    app = FakturkaApp(db_path=database, first_start_prompt=False)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause(0.6)  # the building starts half a second after start-up
        await settle(pilot)
        assert app.current_mode == "dashboard"
        for name in SECTIONS:
            stack = app._screen_stacks.get(name)
            assert stack and isinstance(stack[0], section_screen_class(name)) and stack[0].is_mounted, name
        time_screen = app._screen_stacks["time"][0]
        await pilot.press("t")
        await pilot.pause()
        assert app.screen is time_screen  # the screen built ahead is the one shown


async def test_the_palette_offers_and_runs_another_sections_action(database):
    app = FakturkaApp(db_path=database, first_start_prompt=False)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("i")
        await settle(pilot)
        commands = {command.title: command for command in app.get_system_commands(app.screen)}
        assert "Clients & Projects: New client" in commands
        assert "Time: New entry" in commands
        await pilot.press("ctrl+p")
        await pilot.pause()
        await pilot.press(*"Clients & Projects: New client")
        await pilot.pause(0.3)
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, FormScreen)
        assert isinstance(app.screen_stack[0], ClientsScreen)
        assert "New client" in screen_text(app)


def add_entry_elsewhere(project_id: int, description: str) -> None:
    """Another connection (as the CLI in another process would): a thread has its own connection."""

    def write() -> None:
        from core.store.models import Project

        with db.connection_context():
            add_entry(EntryInput(project=Project.get_by_id(project_id), duration="1h", description=description))

    thread = threading.Thread(target=write)
    thread.start()
    thread.join()


def listed_descriptions(app) -> list[str]:
    table = app.screen.query_one("#entries", PagedTable)
    return [str(table.get_row_at(i)[-1]) for i in range(table.row_count)]


async def test_a_shown_list_follows_another_connections_change(database):
    project = add_project(add_client(name="Acme s.r.o.", currency="CZK", hourly_rate="1000"), name="Web")
    app = FakturkaApp(db_path=database, first_start_prompt=False)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("t")
        await settle(pilot)
        assert isinstance(app.screen, TimeScreen)
        assert "written elsewhere" not in listed_descriptions(app)
        add_entry_elsewhere(project.id, "written elsewhere")
        await pilot.pause(2.6)  # the app looks every 2 s
        assert "written elsewhere" in listed_descriptions(app)


async def test_a_screen_shown_again_reflects_another_connections_change(database):
    project = add_project(add_client(name="Acme s.r.o.", currency="CZK", hourly_rate="1000"), name="Web")
    app = FakturkaApp(db_path=database, first_start_prompt=False)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("t")
        await settle(pilot)
        await pilot.press("d")
        await settle(pilot)
        add_entry_elsewhere(project.id, "while away")
        await pilot.press("t")
        await pilot.pause()
        assert isinstance(app.screen, SectionScreen) and app.current_mode == "time"
        assert "while away" in listed_descriptions(app)
