"""The app shell driven like a person: first start, profile set-up, demo data,
the timer in the header, language and theme remembered, the help screen.

Every test runs the real ``FakturkaApp`` headless (``run_test``) against a
fresh database under its own temporary FAKTURKA_HOME (see conftest.py).
"""

from __future__ import annotations

import json

from helpers import painted, paste_into, screen_text, type_into
from textual.widgets import DataTable, Input, Select, Static
from textual.widgets._footer import FooterKey

from core.billing.clients import add_client, add_project
from core.billing.reports import dashboard
from core.billing.timesheet import running_timer
from core.store import paths
from core.store.models import BusinessProfile, WorkEntry
from tui.app import FakturkaApp
from tui.i18n import money
from tui.screens.dashboard import DashboardScreen
from tui.screens.help import HelpScreen
from tui.screens.settings import SettingsScreen
from tui.screens.welcome import WelcomeScreen
from tui.widgets.form import FormScreen

SIZE = (140, 44)
NBSP = "\u00a0"  # money and dates use no-break spaces; the screen text is compared with plain ones


# -- helpers: what a person sees and types ---------------------------------------------------


def header_line(app) -> str:
    """The header row as shown: title and sub-title (the running-timer indicator lives there)."""
    return screen_text(app).splitlines()[0]


def static_text(widget: Static) -> str:
    return str(widget.render())


def footer_descriptions(app) -> list[str]:
    return [key.description for key in app.screen.query(FooterKey)]


def help_rows(app) -> list[tuple[str, str]]:
    table = app.screen.query_one("#help-table", DataTable)
    return [tuple(str(cell) for cell in table.get_row_at(i)) for i in range(table.row_count)]


# -- first start ------------------------------------------------------------------------------


async def test_first_start_offers_profile_setup_and_saves_the_profile(database):
    app = FakturkaApp(db_path=database)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        assert isinstance(app.screen, WelcomeScreen)
        assert "Welcome to Fakturka" in screen_text(app)
        assert "Set up my business profile" in screen_text(app)

        await pilot.click("#profile")
        await pilot.pause()
        assert app.current_mode == "settings"
        assert isinstance(app.screen, SettingsScreen)

        await type_into(pilot, "#field-name", "Jana Nová")
        await paste_into(pilot, "#field-email", "jana@example.cz")
        await type_into(pilot, "#field-ico", "25596641")
        await paste_into(pilot, "#field-iban", "CZ6508000000192000145399")
        await paste_into(pilot, "#field-bic", "GIBACZPX")
        await pilot.press("ctrl+s")
        await pilot.pause()

        profile = BusinessProfile.get_or_none()
        assert profile is not None
        assert profile.name == "Jana Nová"
        assert profile.email == "jana@example.cz"
        assert profile.ico == "25596641"
        assert profile.iban == "CZ6508000000192000145399"
        assert profile.bic == "GIBACZPX"
        # No error is shown on the form.
        assert all(not static_text(e).strip() for e in app.screen.query(".error"))
        assert app.screen.query_one("#field-name", Input).value == "Jana Nová"


async def test_the_profile_form_takes_typing_at_once_after_the_welcome_screen(database):
    """By keyboard only: enter on the welcome screen, then type. The name field has the focus, so the
    letters land in it instead of reaching the section keys ("a" is the audit log, "h" the history)."""
    app = FakturkaApp(db_path=database)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        assert isinstance(app.screen, WelcomeScreen)
        await pilot.press("enter")
        await pilot.pause()
        assert isinstance(app.screen, SettingsScreen)
        await pilot.press(*"Jana Hamanova")
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert app.current_mode == "settings"
        assert app.screen.query_one("#field-name", Input).value == "Jana Hamanova"
        assert BusinessProfile.get().name == "Jana Hamanova"


async def test_escape_leaves_a_field_so_the_section_keys_work_again(database):
    """Settings is all fields: after saving, "d" would be typed into the field. Escape leaves the
    field (the footer offers it only while a field has the focus), and then "d" goes to the dashboard."""
    app = FakturkaApp(db_path=database)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        await pilot.press("enter")  # welcome: set up the profile
        await pilot.pause()
        await pilot.press(*"Jana", "ctrl+s")
        await pilot.pause()
        assert isinstance(app.focused, Input)
        assert "Leave field" in footer_descriptions(app)

        await pilot.press("escape")
        await pilot.pause()
        assert app.focused is None
        assert "Leave field" not in footer_descriptions(app)
        await pilot.press("d")
        await pilot.pause()
        assert app.current_mode == "dashboard"
        assert BusinessProfile.get().name == "Jana"  # nothing typed after saving reached the field

        # On a section with a list, escape from a filter field returns to the list.
        await pilot.press("a")
        await pilot.pause()
        record = app.screen.query_one("#filter-record", Input)
        record.focus()
        await pilot.pause()
        await pilot.press("escape")
        await pilot.pause()
        assert app.focused is app.screen.query_one("#audit-list")
        await pilot.press("t")
        await pilot.pause()
        assert app.current_mode == "time"


async def _refused_iban(pilot) -> None:
    await pilot.pause()
    await pilot.click("#profile")
    await pilot.pause()
    await type_into(pilot, "#field-name", "Jana")
    await paste_into(pilot, "#field-phone", "+420 777 123 456")
    await paste_into(pilot, "#field-iban", "CZ6508000000192000145398")  # last digit wrong
    await pilot.press("ctrl+s")
    await pilot.pause()


async def test_invalid_iban_is_refused_under_its_field_and_keeps_what_was_typed(database):
    app = FakturkaApp(db_path=database)
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await _refused_iban(pilot)

        error = app.screen.query_one("#error-iban", Static)
        assert "hidden" not in error.classes
        assert "IBAN 'CZ6508000000192000145398' is not valid" in static_text(error)
        assert any("not saved" in n.message for n in app._notifications)
        # Nothing saved ...
        assert BusinessProfile.select().count() == 0
        # ... and nothing typed is lost.
        assert app.screen.query_one("#field-name", Input).value == "Jana"
        assert app.screen.query_one("#field-phone", Input).value == "+420 777 123 456"
        assert app.screen.query_one("#field-iban", Input).value == "CZ6508000000192000145398"
        assert app.focused is app.screen.query_one("#field-iban")

        # Fixing the IBAN and saving again works, and the message goes away.
        await paste_into(pilot, "#field-iban", "CZ6508000000192000145399")
        await pilot.press("ctrl+s")
        await pilot.pause()
        profile = BusinessProfile.get()
        assert (profile.name, profile.phone, profile.iban) == ("Jana", "+420 777 123 456", "CZ6508000000192000145399")
        assert "hidden" in app.screen.query_one("#error-iban").classes


async def test_invalid_iban_message_and_field_are_visible_on_screen(database):
    """The person must see the message under the IBAN field: the form scrolls to the focused field."""
    app = FakturkaApp(db_path=database)
    async with app.run_test(size=SIZE) as pilot:
        await _refused_iban(pilot)
        text = screen_text(app)
        assert "IBAN 'CZ6508000000192000145398' is not valid" in text, text
        assert "CZ6508000000192000145398" in text


async def test_every_profile_field_can_be_brought_on_screen(database):
    """Tabbing to a field scrolls the settings form so that its label is visible."""
    app = FakturkaApp(db_path=database, first_start_prompt=False)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("s")
        await pilot.pause()
        hidden = []
        for label, key in (
            ("IBAN", "iban"),
            ("BIC", "bic"),
            ("Invoice number pattern", "invoice_number_pattern"),
            ("Default invoice language", "locale"),
        ):
            app.screen.query_one(f"#field-{key}").focus()
            await pilot.pause()
            if label not in screen_text(app):
                hidden.append(label)
        assert not hidden, f"focused but never shown on a {SIZE} terminal: {hidden}"


async def test_load_demo_data_from_the_welcome_screen_fills_the_dashboard(database):
    app = FakturkaApp(db_path=database)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        assert isinstance(app.screen, WelcomeScreen)
        # Tab from "Set up my business profile" to "Load demo data", then Enter.
        await pilot.press("tab", "enter")
        await pilot.pause()
        assert isinstance(app.screen, DashboardScreen)

        data = dashboard()
        assert data.overdue_count > 0 and data.outstanding_count > 0  # the demo has both
        overdue = static_text(app.screen.query_one("#card-overdue", Static))
        outstanding = static_text(app.screen.query_one("#card-outstanding", Static))
        unbilled = static_text(app.screen.query_one("#card-unbilled", Static))
        assert f"Overdue ({data.overdue_count})" in overdue
        assert f"Outstanding ({data.outstanding_count})" in outstanding
        for currency, amount in data.overdue.items():
            assert money(amount, currency) in overdue
        for currency, amount in data.outstanding.items():
            assert money(amount, currency) in outstanding
        assert data.unbilled  # the demo leaves this month's work unbilled
        for currency, amount in data.unbilled.items():
            assert money(amount, currency) in unbilled
        assert "alert" in app.screen.query_one("#card-overdue").classes
        text = screen_text(app)
        assert f"Overdue ({data.overdue_count})" in text
        assert "Invoiced vs received, last 12 months" in text
        assert "Nothing invoiced" not in text

    # A second start on the now filled database does not offer the welcome again.
    app = FakturkaApp(db_path=database)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        assert isinstance(app.screen, DashboardScreen)


# -- the timer in the header ----------------------------------------------------------------


async def test_timer_start_and_stop_changes_the_header(database):
    client = add_client(name="Acme s.r.o.", currency="CZK", hourly_rate="1000")
    add_project(client, name="Website")
    app = FakturkaApp(db_path=database)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        assert "⏱" not in header_line(app)

        await pilot.press("ctrl+t")
        await pilot.pause()
        assert isinstance(app.screen, FormScreen)
        await type_into(pilot, "#field-description", "Logo")
        await pilot.press("ctrl+s")
        await pilot.pause()

        timer = running_timer()
        assert timer is not None and timer.project.name == "Website"
        assert timer.description == "Logo"
        assert "⏱" in app.screen.sub_title and "Website" in app.screen.sub_title
        assert "⏱" in header_line(app) and "Website" in header_line(app)
        assert "Website" in static_text(app.screen.query_one("#timer-card", Static))

        # The indicator follows the person to another section.
        await pilot.press("t")
        await pilot.pause()
        assert "⏱" in header_line(app) and "Website" in header_line(app)

        await pilot.press("ctrl+t")
        await pilot.pause()
        assert running_timer() is None
        entry = WorkEntry.get()
        assert entry.minutes is not None and entry.minutes >= 1
        assert entry.description == "Logo"
        assert "⏱" not in header_line(app)
        assert "⏱" not in app.sub_title


async def test_timer_indicator_is_gone_from_every_section_after_stopping(database):
    """Start on the dashboard, stop on the time screen, go back: the dashboard header must not
    still show the stopped timer."""
    client = add_client(name="Acme s.r.o.", currency="CZK", hourly_rate="1000")
    add_project(client, name="Website")
    app = FakturkaApp(db_path=database)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        await pilot.press("ctrl+t")
        await pilot.pause()
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert running_timer() is not None
        assert "⏱" in header_line(app)
        await pilot.press("t")
        await pilot.pause()
        await pilot.press("ctrl+t")
        await pilot.pause()
        assert running_timer() is None
        assert "⏱" not in header_line(app)

        await pilot.press("d")
        await pilot.pause()
        assert "not running" in static_text(app.screen.query_one("#timer-card", Static))
        assert "⏱" not in header_line(app), header_line(app)


async def test_timer_without_projects_only_warns(database):
    app = FakturkaApp(db_path=database, first_start_prompt=False)
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await pilot.pause()
        await pilot.press("ctrl+t")
        await pilot.pause()
        assert isinstance(app.screen, DashboardScreen)
        assert running_timer() is None
        assert any("Add a client and a project first" in n.message for n in app._notifications)


# -- language and theme ----------------------------------------------------------------------


async def test_f3_switches_the_titles_and_the_footer_to_czech(database):
    app = FakturkaApp(db_path=database, first_start_prompt=False)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        await pilot.press("i")
        await pilot.pause()
        assert "Invoices" in app.screen.title
        assert "Quit" in footer_descriptions(app)

        await pilot.press("f3")
        await painted(pilot, lambda: "Nová faktura" in screen_text(app).splitlines()[-1])
        assert "Faktury" in app.screen.title
        assert "Faktury" in header_line(app)
        # The footer must show the (translated) keys right away, not go blank.
        assert "Konec" in footer_descriptions(app), footer_descriptions(app)
        assert "Quit" not in footer_descriptions(app)
        assert "Nová faktura" in footer_descriptions(app)  # "New invoice", this screen's own key
        assert "Nová faktura" in screen_text(app).splitlines()[-1]


async def test_language_and_theme_are_remembered_after_restart(database):
    app = FakturkaApp(db_path=database, first_start_prompt=False)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        assert app.theme == "textual-dark"
        await pilot.press("f3")
        await pilot.pause()
        # Another section shows its Czech title and footer.
        await pilot.press("i")
        await painted(pilot, lambda: "Faktury" in header_line(app))
        assert "Konec" in footer_descriptions(app)

        await pilot.press("f2")
        await pilot.pause()
        assert app.theme == "textual-light"

        await pilot.press("ctrl+q")
        await pilot.pause()
    assert app.return_code == 0

    saved = json.loads(paths.config_path().read_text("utf-8"))
    assert saved == {"theme": "textual-light", "language": "cs", "lock_after_minutes": 10}

    app = FakturkaApp(db_path=database, first_start_prompt=False)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        assert app.theme == "textual-light"
        assert "Přehled" in header_line(app)
        assert "Konec" in footer_descriptions(app)
        await pilot.press("i")
        await painted(pilot, lambda: "Faktury" in header_line(app))
        # And back: English and dark, remembered as well.
        await pilot.press("f3")
        await painted(pilot, lambda: "Invoices" in header_line(app))
        await pilot.press("f2")
        await painted(pilot, lambda: app.theme == "textual-dark")
        assert "Invoices" in app.screen.title
    assert json.loads(paths.config_path().read_text("utf-8")) == {
        "theme": "textual-dark",
        "language": "en",
        "lock_after_minutes": 10,
    }


async def test_settings_selects_switch_language_and_theme(database):
    app = FakturkaApp(db_path=database, first_start_prompt=False)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        await pilot.press("s")
        await pilot.pause()
        app.screen.query_one("#language", Select).value = "cs"
        await pilot.pause()
        assert "Nastavení" in app.screen.title
        app.screen.query_one("#theme", Select).value = "textual-light"
        await pilot.pause()
        assert app.theme == "textual-light"
    saved = json.loads(paths.config_path().read_text("utf-8"))
    assert saved == {"theme": "textual-light", "language": "cs", "lock_after_minutes": 10}


async def test_settings_panes_never_repeat_a_title_as_a_label_in_either_language(database):
    # Czech once read "Vzhled" for both the pane "Appearance" and its field "Theme".
    app = FakturkaApp(db_path=database, first_start_prompt=False)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        await pilot.press("s")
        await pilot.pause()
        for language in ("en", "cs"):
            app.screen.query_one("#language", Select).value = language
            await pilot.pause()
            for pane in app.screen.query(".pane"):
                texts = [str(widget.render()).strip() for widget in pane.query(".pane-title, Label")]
                texts = [text for text in texts if text]
                assert texts, pane
                assert len(texts) == len(set(texts)), (language, texts)


# -- help ------------------------------------------------------------------------------------


async def test_help_lists_the_bindings_of_the_current_screen(database):
    app = FakturkaApp(db_path=database, first_start_prompt=False)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        await pilot.press("i")
        await pilot.pause()
        await pilot.press("question_mark")
        await pilot.pause()
        assert isinstance(app.screen, HelpScreen)
        rows = help_rows(app)
        actions = [action for _key, action in rows]
        for expected in (
            "New invoice",
            "Mark sent",
            "Export PDF",
            "Quit",
            "Help",
            "Start/stop timer",
            "Command palette",
        ):
            assert expected in actions, (expected, rows)
        assert ("n", "New invoice") in rows
        text = screen_text(app)
        assert "New invoice" in text and "Keys: Fakturka · Invoices" in text

        await pilot.press("escape")
        await pilot.pause()
        assert not isinstance(app.screen, HelpScreen)

        # On the time screen the help shows the time screen's keys, not the invoices'.
        await pilot.press("t", "question_mark")
        await pilot.pause()
        actions = [action for _key, action in help_rows(app)]
        assert "New entry" in actions and "Quit" in actions
        assert "New invoice" not in actions
