"""Every dialog fits an 80x24 terminal (the smallest the app supports).

The form dialog was 90 columns wide and the invoice wizard and detail dialogs 110: at 80 columns
their right side, and every help line's end, were cut off. Each dialog here is opened with the keys
a person presses, and its region must lie inside the screen.
"""

from __future__ import annotations

import pytest

from core.demo import load_demo
from tui.app import FakturkaApp

SIZE = (80, 24)


@pytest.mark.parametrize(
    "keys",
    [
        ("p", "e"),  # a plugin's configuration form
        ("i", "n"),  # the new-invoice wizard
        ("i", "enter"),  # an invoice's detail
        ("b", "tab", "tab", "tab", "tab", "enter"),  # a bank movement's detail
        ("question_mark",),  # help
    ],
    ids=["configure", "wizard", "invoice-detail", "bank-detail", "help"],
)
async def test_each_dialog_fits_an_80_column_terminal(database, keys):
    load_demo()
    app = FakturkaApp(db_path=database, first_start_prompt=False)
    async with app.run_test(size=SIZE) as pilot:
        for key in keys:
            await pilot.press(key)
            await pilot.pause()
        regions = [widget.region for widget in app.screen.query(".dialog")]
        assert regions, f"no dialog opened with {keys}"
        for region in regions:
            assert region.x >= 0 and region.right <= SIZE[0], region
