"""Nothing a person typed is lost or saved by accident (issue 16).

A dialog with edits asks before escape throws them away (save, discard, stay: stay is the default);
an untouched dialog closes at once. Each case presses the keys a person presses and checks the
screen and the database.
"""

from __future__ import annotations

import pytest
from helpers import screen_text, type_into

from core.store.models import Client
from tui.app import FakturkaApp
from tui.screens.clients import ClientsScreen
from tui.widgets.form import FormScreen
from tui.widgets.unsaved import UnsavedChanges

SIZE = (120, 40)


async def open_new_client(pilot) -> None:
    await pilot.press("c", "n")
    await pilot.pause()
    assert isinstance(pilot.app.screen, FormScreen)


async def test_escape_on_an_untouched_dialog_closes_it_without_asking(database):
    app = FakturkaApp(db_path=database, first_start_prompt=False)
    async with app.run_test(size=SIZE) as pilot:
        await open_new_client(pilot)
        await pilot.press("escape")
        await pilot.pause()
        assert isinstance(app.screen, ClientsScreen)


async def test_escape_on_a_filled_dialog_asks_and_staying_keeps_every_value(database):
    app = FakturkaApp(db_path=database, first_start_prompt=False)
    async with app.run_test(size=SIZE) as pilot:
        await open_new_client(pilot)
        await type_into(pilot, "#field-name", "Acme")
        await pilot.press("escape")
        await pilot.pause()
        assert isinstance(app.screen, UnsavedChanges)
        assert "Unsaved changes" in screen_text(app)
        await pilot.press("escape")  # stay, the default
        await pilot.pause()
        assert isinstance(app.screen, FormScreen)
        assert app.screen.query_one("#field-name").value == "Acme"
        assert Client.select().count() == 0


async def test_save_from_the_question_saves_and_closes(database):
    app = FakturkaApp(db_path=database, first_start_prompt=False)
    async with app.run_test(size=SIZE) as pilot:
        await open_new_client(pilot)
        await type_into(pilot, "#field-name", "Acme")
        await pilot.press("escape")
        await pilot.pause()
        await pilot.press("s")
        await pilot.pause()
        assert isinstance(app.screen, ClientsScreen)
        assert [c.name for c in Client.select()] == ["Acme"]


async def test_save_from_the_question_that_is_refused_keeps_the_form_open_with_the_field_marked(database):
    app = FakturkaApp(db_path=database, first_start_prompt=False)
    async with app.run_test(size=SIZE) as pilot:
        await open_new_client(pilot)
        await type_into(pilot, "#field-name", "Acme")
        await type_into(pilot, "#field-ico", "12345678")  # wrong check digit
        await pilot.press("escape")
        await pilot.pause()
        await pilot.press("s")
        await pilot.pause()
        assert isinstance(app.screen, FormScreen)
        assert app.screen.query_one("#field-name").value == "Acme"
        assert Client.select().count() == 0


async def first_text_field(app):
    from textual.widgets import Input

    return next(widget for widget in app.screen.query(Input) if widget.id and widget.id.startswith("field-"))


@pytest.mark.parametrize(
    "keys", [("c", "n"), ("c", "N"), ("t", "n"), ("p", "e")], ids=["client", "project", "entry", "plugin"]
)
async def test_every_form_dialog_asks_before_escape_drops_an_edit(database, keys):
    from core.billing.clients import add_client, add_project

    add_project(add_client(name="Acme", currency="CZK"), name="Web")  # so the project and entry forms open
    app = FakturkaApp(db_path=database, first_start_prompt=False)
    async with app.run_test(size=SIZE) as pilot:
        for key in keys:
            await pilot.press(key)
            await pilot.pause()
        assert isinstance(app.screen, FormScreen), keys
        field = await first_text_field(app)
        field.focus()
        await pilot.pause()
        await pilot.press("end", "x")
        await pilot.press("escape")
        await pilot.pause()
        assert isinstance(app.screen, UnsavedChanges), keys
        await pilot.press("d")
        await pilot.pause()
        assert not isinstance(app.screen, (FormScreen, UnsavedChanges))


# -- Settings: a section screen that is a form -----------------------------------------------------


async def open_settings_with_a_typed_name(pilot, name: str) -> None:
    await pilot.press("s")
    await pilot.pause()
    await type_into(pilot, "#field-name", name)
    await pilot.press("escape")  # leaves the field, as a person does before a section key
    await pilot.pause()


async def test_leaving_settings_with_edits_asks_and_discard_keeps_the_stored_profile(database):
    from core.billing.profile import get_profile, update_profile

    update_profile({"name": "Jana Nováková"})
    app = FakturkaApp(db_path=database, first_start_prompt=False)
    async with app.run_test(size=SIZE) as pilot:
        await open_settings_with_a_typed_name(pilot, "Typo")
        await pilot.press("i")
        await pilot.pause()
        assert isinstance(app.screen, UnsavedChanges)
        await pilot.press("escape")  # stay
        await pilot.pause()
        assert app.current_mode == "settings"
        assert app.screen.query_one("#field-name").value == "Typo"
        await pilot.press("i", "d")
        await pilot.pause()
        assert app.current_mode == "invoices"
        assert get_profile().name == "Jana Nováková"
        await pilot.press("s")
        await pilot.pause()
        assert app.screen.query_one("#field-name").value == "Jana Nováková"  # the edit was discarded


async def test_leaving_settings_with_save_stores_the_edit(database):
    from core.billing.profile import get_profile, update_profile

    update_profile({"name": "Jana Nováková"})
    app = FakturkaApp(db_path=database, first_start_prompt=False)
    async with app.run_test(size=SIZE) as pilot:
        await open_settings_with_a_typed_name(pilot, "Jana Novák")
        await pilot.press("i", "s")
        await pilot.pause()
        assert app.current_mode == "invoices"
        assert get_profile().name == "Jana Novák"


async def test_a_language_switch_keeps_what_was_typed_and_saves_nothing(database):
    from core.billing.profile import get_profile, update_profile

    update_profile({"name": "Jana Nováková"})
    app = FakturkaApp(db_path=database, first_start_prompt=False)
    async with app.run_test(size=SIZE) as pilot:
        await open_settings_with_a_typed_name(pilot, "Jana Novák")
        await pilot.press("f3")
        await pilot.pause()
        await pilot.pause()
        assert app.screen.query_one("#field-name").value == "Jana Novák"
        assert get_profile().name == "Jana Nováková"
        assert app.screen.has_unsaved_changes()
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert get_profile().name == "Jana Novák"
        assert not app.screen.has_unsaved_changes()
