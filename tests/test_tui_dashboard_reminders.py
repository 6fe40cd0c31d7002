"""The dashboard's reminders card: what needs the person (core.automation.reminders), in the app's language.

Every test has its own FAKTURKA_HOME and database (conftest.py).
"""

from __future__ import annotations

from datetime import date

from helpers import painted, screen_text
from textual.widgets import Static

from core.automation.reminders import reminders
from core.billing.invoice_status import mark_paid
from core.billing.invoicing import overdue_condition
from core.demo import load_demo
from core.store.models import Invoice
from core.values.messages import in_language
from tui.app import FakturkaApp

SIZE = (140, 44)


def spaced(text: str) -> str:
    """Amounts keep their no-break spaces; compared as plain spaces."""
    return str(text).replace("\u00a0", " ")


def card_text(app) -> str:
    return spaced(app.screen.query_one("#reminders", Static).render())


async def test_an_overdue_invoice_is_a_reminder_with_its_fix_in_english_then_in_czech(database):
    load_demo(today=date.today())
    overdue = [r for r in reminders() if r.kind == "overdue"]
    assert overdue, "the demo has overdue invoices"
    first = overdue[0]
    app = FakturkaApp(db_path=database, first_start_prompt=False)
    async with app.run_test(size=SIZE) as pilot:
        await painted(pilot, lambda: "Reminders" in card_text(app) and spaced(first.text) in card_text(app))
        text = card_text(app)
        assert spaced(first.fix) in text
        assert "Nothing needs you." not in text
        assert "attention" in app.screen.query_one("#reminders").classes
        assert spaced(first.text) in spaced(screen_text(app))

        await pilot.press("f3")
        czech = spaced(in_language(first.text, "cs"))
        assert czech != spaced(first.text)
        await painted(pilot, lambda: czech in card_text(app))
        assert spaced(in_language(first.fix, "cs")) in card_text(app)
        assert spaced(first.text) not in card_text(app)


async def test_nothing_needs_you_on_an_empty_database_and_after_the_invoices_are_paid(database):
    app = FakturkaApp(db_path=database, first_start_prompt=False)
    async with app.run_test(size=SIZE) as pilot:
        await painted(pilot, lambda: "Nothing needs you." in card_text(app))
        assert "attention" not in app.screen.query_one("#reminders").classes

    load_demo(today=date.today())
    app = FakturkaApp(db_path=database, first_start_prompt=False)
    async with app.run_test(size=SIZE) as pilot:
        await painted(pilot, lambda: "overdue" in card_text(app))
        for invoice in Invoice.select().where(overdue_condition(date.today())):
            mark_paid(invoice)
        await pilot.press("r")  # refresh
        await painted(pilot, lambda: "overdue" not in card_text(app) and "Nothing needs you." in card_text(app))
