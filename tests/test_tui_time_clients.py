"""Clients & projects and the time screen, driven with the keys a person presses.

Each test checks what the screen shows and what the database holds. Every
test has its own FAKTURKA_HOME and database (conftest.py).
"""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from helpers import highlight, paste_into, screen_text, table_cells, type_into
from textual.widgets import Input, Select, Static

from core.billing import invoicing
from core.billing import profile as profile_svc
from core.billing.clients import add_client, add_project
from core.billing.timesheet import EntryInput, add_entry
from core.store.models import Client, Project, WorkEntry
from tui.app import FakturkaApp
from tui.screens.clients import ClientsScreen
from tui.screens.time import TimeScreen
from tui.widgets.confirm import Confirm
from tui.widgets.form import FormScreen
from tui.widgets.paged_table import PagedTable
from tui.widgets.unsaved import UnsavedChanges

SIZE = (140, 44)
NBSP = "\u00a0"  # money and dates use no-break spaces; the screen text is compared with plain ones


# -- helpers -------------------------------------------------------------------------------


def set_up_profile() -> None:
    profile_svc.update_profile(
        {
            "name": "Jana Nováková",
            "address": "Korunní 1\n120 00 Praha",
            "iban": "CZ6508000000192000145399",
            "default_hourly_rate": "1000",
        }
    )


# -- clients & projects ------------------------------------------------------------------------


async def test_add_a_client_and_a_project_through_the_forms(database):
    app = FakturkaApp(db_path=database, first_start_prompt=False)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("c")
        await pilot.pause()
        assert isinstance(app.screen, ClientsScreen)

        await pilot.press("n")
        await pilot.pause()
        assert isinstance(app.screen, FormScreen)
        assert "New client" in screen_text(app)
        await type_into(pilot, "#field-name", "Acme")
        await type_into(pilot, "#field-ico", "27082440")
        await pilot.press("ctrl+s")
        await pilot.pause()

        assert isinstance(app.screen, ClientsScreen)
        client = Client.get(Client.name == "Acme")
        assert client.ico == "27082440"
        assert client.currency == "CZK"  # the profile's default currency
        clients = app.screen.query_one("#clients", PagedTable)
        assert [row[0] for row in table_cells(clients)] == ["Acme"]
        assert "Acme" in screen_text(app)

        # N: a project for the highlighted client.
        await highlight(pilot, clients, client.id)
        await pilot.press("N")
        await pilot.pause()
        assert isinstance(app.screen, FormScreen)
        assert "New project for Acme" in screen_text(app)
        await type_into(pilot, "#field-name", "Web")
        await type_into(pilot, "#field-hourly_rate", "1200")
        await pilot.press("ctrl+s")
        await pilot.pause()

        assert isinstance(app.screen, ClientsScreen)
        project = Project.get(Project.name == "Web")
        assert project.client_id == client.id
        assert project.hourly_rate == 120000
        projects = app.screen.query_one("#projects", PagedTable)
        assert [row[0] for row in table_cells(projects)] == ["Web"]
        assert "Web" in screen_text(app)


async def test_bad_ico_shows_a_message_and_keeps_what_was_typed(database):
    app = FakturkaApp(db_path=database, first_start_prompt=False)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("c")
        await pilot.pause()
        await pilot.press("n")
        await pilot.pause()
        await type_into(pilot, "#field-name", "Acme")
        await paste_into(pilot, "#field-email", "ucetni@acme.cz")
        await type_into(pilot, "#field-ico", "12345678")  # wrong check digit
        await pilot.press("ctrl+s")
        await pilot.pause()

        # The form stays open, with the message under the IČO field.
        assert isinstance(app.screen, FormScreen)
        error = app.screen.query_one("#error-ico", Static)
        assert "hidden" not in error.classes
        assert "IČO '12345678' is not valid" in str(error.render())
        assert "IČO '12345678' is not valid" in screen_text(app)
        # Nothing typed is lost, nothing is saved.
        assert app.screen.query_one("#field-name", Input).value == "Acme"
        assert app.screen.query_one("#field-email", Input).value == "ucetni@acme.cz"
        assert app.screen.query_one("#field-ico", Input).value == "12345678"
        assert app.focused is app.screen.query_one("#field-ico")
        assert Client.select().count() == 0

        # Correct the number and save: the client is created with what was typed before.
        await paste_into(pilot, "#field-ico", "27082440")
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert isinstance(app.screen, ClientsScreen)
        client = Client.get()
        assert (client.name, client.email, client.ico) == ("Acme", "ucetni@acme.cz", "27082440")


async def test_escape_cancels_the_client_form_without_saving(database):
    app = FakturkaApp(db_path=database, first_start_prompt=False)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("c", "n")
        await pilot.pause()
        await type_into(pilot, "#field-name", "Nemo")
        await pilot.press("escape")  # something was typed: it asks first (issue 16)
        await pilot.pause()
        assert isinstance(app.screen, UnsavedChanges)
        await pilot.press("d")  # discard
        await pilot.pause()
        assert isinstance(app.screen, ClientsScreen)
        assert Client.select().count() == 0
        assert "Nemo" not in screen_text(app)


async def test_every_client_form_field_can_be_brought_on_screen(database):
    """Tabbing to a field of the client form scrolls it into view (currency, rate, terms...)."""
    app = FakturkaApp(db_path=database, first_start_prompt=False)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("c", "n")
        await pilot.pause()
        hidden = []
        for label, key in (
            ("Currency", "currency"),
            ("Invoice language", "language"),
            ("Hourly rate", "hourly_rate"),
            ("Payment terms (days)", "payment_terms_days"),
        ):
            app.screen.query_one(f"#field-{key}").focus()
            await pilot.pause()
            if label not in screen_text(app):
                hidden.append(label)
        assert not hidden, f"focused but never shown on a {SIZE} terminal: {hidden}"


async def test_enter_edits_the_highlighted_client(database):
    """The footer and help say "e,enter: Edit"; Enter on the list must open the form like e does."""
    add_client(name="Acme s.r.o.", currency="CZK")
    app = FakturkaApp(db_path=database, first_start_prompt=False)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("c")
        await pilot.pause()
        await pilot.press("e")
        await pilot.pause()
        assert isinstance(app.screen, FormScreen) and "Edit client" in screen_text(app)
        await pilot.press("escape")
        await pilot.pause()
        assert isinstance(app.screen, ClientsScreen)
        await pilot.press("enter")
        await pilot.pause()
        assert isinstance(app.screen, FormScreen), "Enter on the clients list did nothing"
        assert app.screen.query_one("#field-name", Input).value == "Acme s.r.o."


# -- time -------------------------------------------------------------------------------------


async def test_add_an_entry_through_the_form(database):
    client = add_client(name="Acme s.r.o.", currency="CZK", hourly_rate="1000")
    add_project(client, name="Website")
    project = add_project(client, name="Support")
    app = FakturkaApp(db_path=database, first_start_prompt=False)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("t")
        await pilot.pause()
        assert isinstance(app.screen, TimeScreen)
        await pilot.press("n")
        await pilot.pause()
        assert isinstance(app.screen, FormScreen)
        assert "New entry" in screen_text(app)

        app.screen.query_one("#field-project", Select).value = project.id
        await type_into(pilot, "#field-duration", "1h30m")
        await type_into(pilot, "#field-description", "Call")
        await pilot.press("ctrl+s")
        await pilot.pause()

        assert isinstance(app.screen, TimeScreen)
        entry = WorkEntry.get()
        assert entry.project_id == project.id
        assert entry.minutes == 90
        assert entry.date == date.today()
        assert entry.description == "Call"
        assert entry.billable is True
        rows = table_cells(app.screen.query_one("#entries", PagedTable))
        assert len(rows) == 1
        assert rows[0][1] == "Acme s.r.o. / Support"
        assert rows[0][2] == "1:30" and rows[0][5] == "Call"
        assert "Call" in screen_text(app)


@pytest.fixture
def website(database) -> Project:
    """One client with one project: a freelancer's first day."""
    return add_project(add_client(name="Acme s.r.o.", currency="CZK", hourly_rate="1000"), name="Website")


async def test_a_new_entry_is_on_the_only_project_without_choosing_it(database, website):
    """A freelancer with one project types a duration and saves: no project to pick first."""
    project = website
    app = FakturkaApp(db_path=database, first_start_prompt=False)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("t", "n")
        await pilot.pause()
        assert app.screen.query_one("#field-project", Select).value == project.id
        await type_into(pilot, "#field-duration", "45")
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert isinstance(app.screen, TimeScreen)
        assert WorkEntry.get().project_id == project.id

        # With a second project, an empty list and no filter, nothing is guessed.
        add_project(project.client, name="Support")
        WorkEntry.delete().execute()
        app.screen.refresh_data()
        await pilot.pause()
        await pilot.press("n")
        await pilot.pause()
        assert app.screen.query_one("#field-project", Select).value is Select.NULL


async def test_entry_form_error_keeps_what_was_typed(database, website):
    project = website
    app = FakturkaApp(db_path=database, first_start_prompt=False)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("t", "n")
        await pilot.pause()
        app.screen.query_one("#field-project", Select).value = project.id
        await type_into(pilot, "#field-duration", "abc")
        await type_into(pilot, "#field-description", "Meet")
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert isinstance(app.screen, FormScreen)
        error = app.screen.query_one("#error-duration", Static)
        assert "hidden" not in error.classes and str(error.render()).strip()
        assert app.screen.query_one("#field-duration", Input).value == "abc"
        assert app.screen.query_one("#field-description", Input).value == "Meet"
        assert WorkEntry.select().count() == 0


async def test_delete_is_refused_for_a_billed_entry_and_confirmed_for_an_unbilled_one(database):
    set_up_profile()
    client = add_client(name="Acme s.r.o.", currency="CZK", hourly_rate="1000")
    project = add_project(client, name="Website")
    billed = add_entry(
        EntryInput(project=project, date=date.today() - timedelta(days=60), duration="2h", description="Billed work")
    )
    invoice = invoicing.create_invoice(client, until=date.today() - timedelta(days=30))
    billed = WorkEntry.get_by_id(billed.id)
    assert billed.invoice_line_id is not None
    unbilled = add_entry(EntryInput(project=project, date=date.today(), duration="1h", description="Fresh work"))

    app = FakturkaApp(db_path=database, first_start_prompt=False)
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await pilot.press("t")
        await pilot.pause()
        table = app.screen.query_one("#entries", PagedTable)
        assert table.row_count == 2

        # A billed entry: refused with the reason, no confirmation asked, nothing deleted.
        await highlight(pilot, table, billed.id)
        await pilot.press("delete")
        await pilot.pause()
        assert isinstance(app.screen, TimeScreen)
        assert any(f"billed on invoice {invoice.number}" in n.message for n in app._notifications)
        assert WorkEntry.get_or_none(WorkEntry.id == billed.id) is not None
        assert table.row_count == 2

        # An unbilled entry: a confirmation first; "n" keeps it ...
        await highlight(pilot, table, unbilled.id)
        await pilot.press("delete")
        await pilot.pause()
        assert isinstance(app.screen, Confirm)
        assert "Delete the entry of" in screen_text(app)
        await pilot.press("n")
        await pilot.pause()
        assert isinstance(app.screen, TimeScreen)
        assert WorkEntry.get_or_none(WorkEntry.id == unbilled.id) is not None

        # ... and "y" deletes it, and only it.
        await highlight(pilot, table, unbilled.id)
        await pilot.press("delete")
        await pilot.pause()
        assert isinstance(app.screen, Confirm)
        await pilot.press("y")
        await pilot.pause()
        assert isinstance(app.screen, TimeScreen)
        assert WorkEntry.get_or_none(WorkEntry.id == unbilled.id) is None
        assert WorkEntry.get_or_none(WorkEntry.id == billed.id) is not None
        assert [row[5] for row in table_cells(table)] == ["Billed work"]
        assert "Fresh work" not in screen_text(app)


async def test_unbilled_only_filter_with_one_key(database):
    set_up_profile()
    client = add_client(name="Acme s.r.o.", currency="CZK", hourly_rate="1000")
    project = add_project(client, name="Website")
    add_entry(
        EntryInput(project=project, date=date.today() - timedelta(days=60), duration="2h", description="Billed work")
    )
    invoicing.create_invoice(client, until=date.today() - timedelta(days=30))
    add_entry(EntryInput(project=project, date=date.today(), duration="1h", description="Fresh work"))
    app = FakturkaApp(db_path=database, first_start_prompt=False)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("t")
        await pilot.pause()
        table = app.screen.query_one("#entries", PagedTable)
        assert table.row_count == 2
        await pilot.press("u")
        await pilot.pause()
        assert [row[5] for row in table_cells(table)] == ["Fresh work"]
        assert "Billed work" not in screen_text(app)
