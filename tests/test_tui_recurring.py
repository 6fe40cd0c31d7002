"""The Recurring section driven with the keys a person presses: add a rule through the form, see its
next due date, disable and enable it, edit it, delete it, read what it created.

Every test has its own FAKTURKA_HOME and database (conftest.py). Start dates lie ahead of today, so
nothing is due whatever runs the rules meanwhile.
"""

from __future__ import annotations

from datetime import date, timedelta

from helpers import highlight, screen_text, table_cells, type_into
from textual.widgets import Select, Static

from core.automation import rules
from core.automation.recurring import run_recurring
from core.billing.clients import add_client, add_project
from core.store.models import RecurringRule
from tui.app import FakturkaApp
from tui.i18n import day, money
from tui.screens.recurring import RecurringScreen, RuleDetailScreen
from tui.widgets.confirm import Confirm
from tui.widgets.form import FormScreen
from tui.widgets.paged_table import PagedTable

SIZE = (140, 44)
SMALL = (80, 24)


def two_projects():
    acme = add_client(name="Acme s.r.o.", currency="CZK")
    web = add_project(acme, name="Web")
    support = add_project(acme, name="Support")
    return web, support


def a_rule(**values) -> RecurringRule:
    start = date.today() + timedelta(days=10)
    defaults = dict(name="Netflix", creates="expense", amount="299", cadence="monthly", start_on=start)
    return rules.add_rule(**{**defaults, **values})


async def open_recurring(pilot, app) -> PagedTable:
    await pilot.press("o")
    await pilot.pause()
    assert isinstance(app.screen, RecurringScreen)
    return app.screen.query_one("#rules", PagedTable)


async def choose(pilot, selector: str, value) -> None:
    """Pick ``value`` in a Select with the keys: focus it, enter opens the list, arrows, enter picks."""
    select = pilot.app.screen.query_one(selector, Select)
    select.focus()
    await pilot.pause()
    await pilot.press("enter")
    await pilot.pause()
    for _ in range(12):
        if select.value == value:
            break
        await pilot.press("down", "enter")
        await pilot.pause()
        if select.value == value:
            break
        await pilot.press("enter")  # open it again, one further down next time
        await pilot.pause()
    else:
        raise AssertionError(f"{value!r} not offered in {selector}")
    assert select.value == value


async def test_add_a_work_rule_through_the_form_and_see_its_next_due_date(database):
    web, support = two_projects()
    start = date.today() + timedelta(days=40)
    app = FakturkaApp(db_path=database, first_start_prompt=False)
    async with app.run_test(size=SIZE) as pilot:
        table = await open_recurring(pilot, app)
        assert "No recurring rules yet" in screen_text(app)
        await pilot.press("n")
        await pilot.pause()
        assert isinstance(app.screen, FormScreen)
        assert "New recurring rule" in screen_text(app)
        await type_into(pilot, "#field-name", "Acme support retainer")
        await choose(pilot, "#field-project", support.id)
        await type_into(pilot, "#field-amount", "20000")
        await type_into(pilot, "#field-on", "31")
        await type_into(pilot, "#field-start_on", start.isoformat())
        await choose(pilot, "#field-invoice", "draft")
        await pilot.press("ctrl+s")
        await pilot.pause()

        assert isinstance(app.screen, RecurringScreen)
        rule = RecurringRule.get(RecurringRule.name == "Acme support retainer")
        assert (rule.creates, rule.project_id, rule.amount, rule.currency) == ("work", support.id, 2000000, "CZK")
        assert (rule.cadence, rule.day, rule.invoice, rule.enabled) == ("monthly", 31, "draft", True)
        due = rules.next_due(rule)
        assert due == (start.replace(day=28) + timedelta(days=4)).replace(day=1) - timedelta(days=1)  # month's end
        row = table_cells(table)[0]
        assert row[0] == "Acme support retainer"
        assert row[3] == money(2000000, "CZK")
        assert row[4] == "monthly, last day"
        assert row[5] == day(due)
        assert row[6] == "yes"
        assert day(due).replace("\u00a0", " ") in screen_text(app)
        assert "No recurring rules yet" not in screen_text(app)


async def test_an_expense_rule_shows_currency_and_counterparty_instead_of_project(database):
    two_projects()
    app = FakturkaApp(db_path=database, first_start_prompt=False)
    async with app.run_test(size=SIZE) as pilot:
        await open_recurring(pilot, app)
        await pilot.press("n")
        await pilot.pause()
        form = app.screen
        assert "hidden" in form.query_one("#row-currency").classes
        assert "hidden" not in form.query_one("#row-project").classes
        await type_into(pilot, "#field-name", "Hosting")
        await choose(pilot, "#field-creates", "expense")
        assert "hidden" in form.query_one("#row-project").classes
        assert "hidden" in form.query_one("#row-invoice").classes
        assert "hidden" not in form.query_one("#row-currency").classes
        await type_into(pilot, "#field-amount", "12,50")
        await type_into(pilot, "#field-currency", "EUR")
        await type_into(pilot, "#field-counterparty", "Hetzner")
        await choose(pilot, "#field-cadence", "weekly")
        await type_into(pilot, "#field-on", "fri")
        await type_into(pilot, "#field-start_on", (date.today() + timedelta(days=3)).isoformat())
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert isinstance(app.screen, RecurringScreen)
        rule = RecurringRule.get()
        assert (rule.creates, rule.project_id, rule.amount, rule.currency) == ("expense", None, 1250, "EUR")
        assert (rule.counterparty, rule.cadence, rule.day) == ("Hetzner", "weekly", 4)
        assert rules.next_due(rule).weekday() == 4
        assert "weekly, Friday" in screen_text(app)


async def test_a_refused_rule_keeps_the_form_open_with_the_sentence_under_the_field(database):
    web, _support = two_projects()
    app = FakturkaApp(db_path=database, first_start_prompt=False)
    async with app.run_test(size=SIZE) as pilot:
        await open_recurring(pilot, app)
        await pilot.press("n")
        await pilot.pause()
        await type_into(pilot, "#field-name", "No project")
        await type_into(pilot, "#field-amount", "100")
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert isinstance(app.screen, FormScreen)
        error = app.screen.query_one("#error-project", Static)
        assert "hidden" not in error.classes
        assert "A rule that creates work entries needs a project." in screen_text(app)
        await type_into(pilot, "#field-on", "32")
        await choose(pilot, "#field-project", web.id)
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert "A monthly rule runs on a day from 1 to 31" in screen_text(app)
        assert RecurringRule.select().count() == 0


async def test_space_disables_and_enables_the_rule_in_the_database(database):
    rule = a_rule()
    app = FakturkaApp(db_path=database, first_start_prompt=False)
    async with app.run_test(size=SIZE) as pilot:
        table = await open_recurring(pilot, app)
        await highlight(pilot, table, rule.id)
        await pilot.press("space")
        await pilot.pause()
        assert RecurringRule.get_by_id(rule.id).enabled is False
        assert table_cells(table)[0][6] == "no"
        await pilot.press("space")
        await pilot.pause()
        assert RecurringRule.get_by_id(rule.id).enabled is True
        assert table_cells(table)[0][6] == "yes"
        assert RecurringRule.get_by_id(rule.id).amount == 29900  # nothing else changed


async def test_edit_with_e_or_enter_keeps_the_amount(database):
    rule = a_rule(amount="1 234,50", counterparty="Netflix")
    app = FakturkaApp(db_path=database, first_start_prompt=False)
    async with app.run_test(size=SIZE) as pilot:
        table = await open_recurring(pilot, app)
        await highlight(pilot, table, rule.id)
        await pilot.press("e")
        await pilot.pause()
        assert isinstance(app.screen, FormScreen)
        assert "Edit recurring rule" in screen_text(app)
        await type_into(pilot, "#field-name", "Netflix family")
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert isinstance(app.screen, RecurringScreen)
        stored = RecurringRule.get_by_id(rule.id)
        assert (stored.name, stored.amount, stored.currency) == ("Netflix family", 123450, rule.currency)
        assert (stored.counterparty, stored.next_on) == ("Netflix", rule.next_on)

        table.focus()
        await pilot.press("enter")  # enter edits too
        await pilot.pause()
        assert isinstance(app.screen, FormScreen)
        await pilot.press("ctrl+s")  # saved untouched: the same rule
        await pilot.pause()
        again = RecurringRule.get_by_id(rule.id)
        assert (again.amount, again.day, again.next_on) == (123450, stored.day, stored.next_on)


async def test_delete_asks_first_and_removes_the_rule(database):
    keep, gone = a_rule(name="Keep"), a_rule(name="Gone")
    app = FakturkaApp(db_path=database, first_start_prompt=False)
    async with app.run_test(size=SIZE) as pilot:
        table = await open_recurring(pilot, app)
        await highlight(pilot, table, gone.id)
        await pilot.press("delete")
        await pilot.pause()
        assert isinstance(app.screen, Confirm)
        assert "Delete the rule Gone? What it created stays." in screen_text(app)
        await pilot.press("n")
        await pilot.pause()
        assert isinstance(app.screen, RecurringScreen)
        assert RecurringRule.select().count() == 2

        await pilot.press("delete")
        await pilot.pause()
        await pilot.press("y")
        await pilot.pause()
        assert isinstance(app.screen, RecurringScreen)
        assert [r.id for r in RecurringRule.select()] == [keep.id]
        assert [row[0] for row in table_cells(table)] == ["Keep"]


async def test_the_detail_shows_the_next_due_date_and_what_the_rule_created(database):
    web, _support = two_projects()
    start = date.today() - timedelta(days=70)
    rule = rules.add_rule(
        name="Retainer", creates="work", project=web, amount="5000", cadence="monthly", on="1", start_on=start
    )
    outcome = run_recurring()
    assert outcome.created >= 2
    app = FakturkaApp(db_path=database, first_start_prompt=False)
    async with app.run_test(size=SIZE) as pilot:
        table = await open_recurring(pilot, app)
        await highlight(pilot, table, rule.id)
        await pilot.press("v")
        await pilot.pause()
        assert isinstance(app.screen, RuleDetailScreen)
        text = screen_text(app)
        stored = RecurringRule.get_by_id(rule.id)
        assert "Recurring rule · Retainer" in text
        assert f"Next due      {day(stored.next_on)}".replace("\u00a0", " ") in text
        assert "Acme s.r.o. / Web" in text
        assert "Last created" in text
        made = app.screen.query_one("#rule-records", Static)
        assert str(made.render()).count("work entry") == outcome.created
        assert day(stored.last_on).replace("\u00a0", " ") in text
        await pilot.press("escape")
        await pilot.pause()
        assert isinstance(app.screen, RecurringScreen)


async def test_the_screen_and_its_form_fit_80x24(database):
    two_projects()
    a_rule(name="A rule with a rather long name that must be cut", cadence="yearly", on="12-24")
    app = FakturkaApp(db_path=database, first_start_prompt=False)
    async with app.run_test(size=SMALL) as pilot:
        await open_recurring(pilot, app)
        text = screen_text(app)
        lines = text.splitlines()
        assert all(len(line) <= SMALL[0] for line in lines)
        header = next(line for line in lines if "Name" in line and "Enabled" in line)
        for column in ("Amount", "Cadence", "Next due"):
            assert column in header, text
        assert "yearly, Dec 24" in text
        assert "? Help" in lines[-1]
        await pilot.press("n")
        await pilot.pause()
        for region in (w.region for w in app.screen.query(".dialog")):
            assert region.x >= 0 and region.right <= SMALL[0], region
        await pilot.press("escape")
        await pilot.pause()
        await pilot.press("v")
        await pilot.pause()
        for region in (w.region for w in app.screen.query(".dialog")):
            assert region.x >= 0 and region.right <= SMALL[0], region
