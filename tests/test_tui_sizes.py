"""Every section at 80x24 (the size many terminals open at) and at 200x60.

At 80 columns the columns that matter (money, status, invoice) stay on screen and the others give way;
the dashboard's chart can be scrolled to; the footer shows "? Help". Each check reads the characters on
the terminal, as a person sees them.
"""

from __future__ import annotations

import pytest
from helpers import painted, screen_text
from textual.widgets import Footer

from core.billing.reports import dashboard
from core.demo import load_demo
from core.store.models import Invoice
from tui.app import FakturkaApp
from tui.i18n import money
from tui.screens.dashboard import MONTH_MSGIDS
from tui.widgets.paged_table import Col, plan_widths

SIZES = [(80, 24), (200, 60)]
SIZE_IDS = ["80x24", "200x60"]

# Section key, the column headers that must be on screen, and cells of the first row that must be too.
SECTIONS = {
    "invoices": ("i", ["Number", "Client", "Status", "Total", "Still due"]),
    "bank": ("b", ["Date", "Amount", "Status", "Invoice"]),
    "clients": ("c", ["Name", "Currency", "Rate", "Terms"]),
    "time": ("t", ["Date", "Project", "Time", "Amount", "State", "Description"]),
    "audit": ("a", ["Time", "Table", "Action", "Changes"]),
    "history": ("h", ["Run", "Plugin", "Status", "Error"]),
    "recurring": ("o", ["Name", "Amount", "Cadence", "Next due", "Enabled"]),
}


def footer_text(app) -> str:
    return screen_text(app).splitlines()[app.screen.query_one(Footer).region.y]


@pytest.mark.parametrize("size", SIZES, ids=SIZE_IDS)
@pytest.mark.parametrize("section", list(SECTIONS))
async def test_the_columns_that_matter_are_on_screen(database, size, section):
    key, headers = SECTIONS[section]
    load_demo()
    app = FakturkaApp(db_path=database, first_start_prompt=False)
    async with app.run_test(size=size) as pilot:
        await pilot.press(key)
        await pilot.pause()
        text = screen_text(app)
        lines = text.splitlines()
        header_line = next(line for line in lines if headers[0] in line and headers[-1] in line)
        for header in headers:
            assert header in header_line, f"{header!r} not on screen at {size}:\n{text}"
        assert "?" in footer_text(app) and "Help" in footer_text(app), footer_text(app)
        assert all(len(line) <= size[0] for line in lines)


@pytest.mark.parametrize("size", SIZES, ids=SIZE_IDS)
async def test_invoices_show_each_rows_status_total_and_still_due(database, size):
    load_demo()
    app = FakturkaApp(db_path=database, first_start_prompt=False)
    async with app.run_test(size=size) as pilot:
        await pilot.press("i")
        await pilot.pause()
        text = screen_text(app)
        newest = Invoice.select().order_by(Invoice.id.desc()).first()
        row = next(line for line in text.splitlines() if newest.number in line)
        assert newest.status in row
        assert money(newest.total, newest.currency).replace("\u00a0", " ") in row
        paid = Invoice.select().where(Invoice.status == "paid").first()
        row = next(line for line in text.splitlines() if paid.number in line and "paid" in line)
        assert money(paid.total, paid.currency).replace("\u00a0", " ") in row
        assert money(0, paid.currency).replace("\u00a0", " ") in row  # still due


@pytest.mark.parametrize("size", SIZES, ids=SIZE_IDS)
async def test_bank_shows_each_rows_amount_status_and_invoice(database, size):
    load_demo()
    app = FakturkaApp(db_path=database, first_start_prompt=False)
    async with app.run_test(size=size) as pilot:
        await pilot.press("b")
        await pilot.pause()
        rows = [line for line in screen_text(app).splitlines() if "matched" in line]
        assert rows
        for row in rows:
            number = next(inv.number for inv in Invoice.select() if inv.number in row)  # the linked invoice
            assert number


@pytest.mark.parametrize("size", SIZES, ids=SIZE_IDS)
async def test_the_dashboard_chart_can_be_reached(database, size):
    load_demo()
    app = FakturkaApp(db_path=database, first_start_prompt=False)
    async with app.run_test(size=size) as pilot:
        # The reminders card fills a moment after the figures (a thread), and the page grows with it.
        await painted(pilot, lambda: "Reminders" in str(app.screen.query_one("#reminders").render()))
        await pilot.press("end")  # the dashboard scrolls; at 200x60 it is all on screen anyway
        await pilot.pause()
        text = screen_text(app)
        assert "Invoiced vs received" in text
        for month in dashboard().months:  # every month's line, down to the last
            assert f"{MONTH_MSGIDS[month.month - 1]} {month.year % 100:02d}" in text, text
        assert "Help" in footer_text(app)
        if size == (200, 60):
            longest = max(line.count("█") for line in text.splitlines())
            assert longest > 60, "the chart's bars use the width of a wide terminal"


async def test_footer_has_no_stray_character_after_the_palette_key(database):
    load_demo()
    app = FakturkaApp(db_path=database, first_start_prompt=False)
    async with app.run_test(size=(80, 24)) as pilot:
        for key in ("i", "b", "c", "t"):
            await pilot.press(key)
            await pilot.pause()
            assert footer_text(app).rstrip().endswith("palette"), footer_text(app)


def test_plan_widths_cuts_then_hides_the_least_important():
    cols = [
        Col("Number", "n"),
        Col("Client", "c", cut_to=8),
        Col("Issued", "i", give=2),
        Col("Due", "d", give=1),
        Col("Total", "t"),
    ]
    natural = {"n": 8, "c": 26, "i": 12, "d": 12, "t": 13}
    assert plan_widths(cols, natural, 200) == [("n", 8), ("c", 26), ("i", 12), ("d", 12), ("t", 13)]
    assert plan_widths(cols, natural, 75) == [("n", 8), ("c", 20), ("i", 12), ("d", 12), ("t", 13)]
    # Issued goes first; the client gets its room back.
    assert plan_widths(cols, natural, 60) == [("n", 8), ("c", 19), ("d", 12), ("t", 13)]
    # Only the columns that always stay are left; what does not fit then scrolls.
    assert plan_widths(cols, natural, 20) == [("n", 8), ("c", 8), ("t", 13)]
