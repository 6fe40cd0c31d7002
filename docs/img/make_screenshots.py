"""Screenshots of the main screens for docs/user-guide.md.

Run from the repository root:  .venv/bin/python docs/img/make_screenshots.py

It starts the app headless on a throw-away FAKTURKA_HOME with the demo data,
visits each screen with the keys a person would press, and saves an SVG per
screen next to this script (``App.save_screenshot``), then the Dashboard,
Invoices and Bank at 80x24 and 200x60 (``<screen>-80x24.svg``). When
``rsvg-convert`` or Debian's ``chromium`` is installed, a PNG of each is written too (chromium draws
the terminal font as the SVG names it). Nothing here is a test; the real data directory is never touched.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent.parent
SIZE = (140, 44)
SIZES = [(80, 24), (200, 60)]  # the smallest terminal the app supports, and a large one
SIZED_SCREENS = [("dashboard", "d"), ("invoices", "i"), ("bank", "b"), ("audit", "a")]


async def take(app, pilot, name: str) -> Path:
    await pilot.pause()
    app.save_screenshot(filename=f"{name}.svg", path=str(HERE))
    print(f"  {name}.svg")
    return HERE / f"{name}.svg"


async def shoot() -> list[Path]:
    from textual.widgets import Select

    from core.billing.timesheet import unbilled_entries
    from core.store.db import close_database, open_database
    from core.store.models import Client
    from tui.app import FakturkaApp

    db_path = open_database()
    app = FakturkaApp(db_path=db_path)
    shots = []
    try:
        async with app.run_test(size=SIZE) as pilot:
            await pilot.pause()
            shots.append(await take(app, pilot, "welcome"))
            await pilot.press("tab", "enter")  # Load demo data
            await pilot.pause()
            shots.append(await take(app, pilot, "dashboard"))
            await pilot.press("t")
            shots.append(await take(app, pilot, "time"))
            await pilot.press("c")
            shots.append(await take(app, pilot, "clients"))
            await pilot.press("i")
            shots.append(await take(app, pilot, "invoices"))

            await pilot.press("n")
            await pilot.pause()
            client = next(c for c in Client.select().order_by(Client.name) if unbilled_entries(c).exists())
            app.screen.query_one("#wizard-client", Select).value = client.id
            shots.append(await take(app, pilot, "invoice-wizard"))
            await pilot.press("escape")
            await pilot.pause()

            # A draft opens in the editor (the demo has one).
            status = app.screen.query_one("#filter-status", Select)
            status.value = "draft"
            await pilot.pause()
            app.screen.query_one("#invoice-list").focus()
            await pilot.press("enter")
            shots.append(await take(app, pilot, "draft-editor"))
            await pilot.press("escape")
            status.value = ""
            await pilot.pause()

            await pilot.press("question_mark")
            shots.append(await take(app, pilot, "help"))
            await pilot.press("escape")
            await pilot.pause()

            await pilot.press("s")
            shots.append(await take(app, pilot, "settings"))

            # The bank loop: sync the demo statement from the Plugins screen, watch the log.
            await pilot.press("escape", "p")  # out of the profile's first field, then to Plugins
            await pilot.pause()
            table = app.screen.query_one("#plugin-list")
            table.move_cursor(row=table.get_row_index("bank-statement"))
            await pilot.press("r")
            await app.workers.wait_for_complete()
            await pilot.pause(0.3)
            shots.append(await take(app, pilot, "plugins"))
            await pilot.press("b")
            shots.append(await take(app, pilot, "bank"))
            await pilot.press("h")
            await pilot.pause()
            await pilot.press("enter")
            shots.append(await take(app, pilot, "sync-run"))
            await pilot.press("escape")
            await pilot.press("a")
            shots.append(await take(app, pilot, "audit"))
            await pilot.press("ctrl+q")
        for width, height in SIZES:  # the demo data is loaded by now
            sized = FakturkaApp(db_path=db_path, first_start_prompt=False)
            async with sized.run_test(size=(width, height)) as pilot:
                for name, key in SIZED_SCREENS:
                    await pilot.press(key)
                    shots.append(await take(sized, pilot, f"{name}-{width}x{height}"))
    finally:
        close_database()
    return shots


def main() -> int:
    home = tempfile.mkdtemp(prefix="fakturka-screenshots-")
    os.environ["FAKTURKA_HOME"] = home
    sys.path.insert(0, str(ROOT))
    try:
        print(f"Writing screenshots to {HERE}")
        shots = asyncio.run(shoot())
        converter = shutil.which("rsvg-convert")
        browser = shutil.which("chromium")
        if converter is None and browser is None:
            print("Neither rsvg-convert nor chromium is installed: SVG only.")
            return 0
        for svg in shots:
            png = svg.with_suffix(".png")
            if converter is not None:
                subprocess.run([converter, "--format=png", f"--output={png}", str(svg)], check=True)
            else:
                to_png_with_chromium(browser, svg, png)
            print(f"  {png.name}")
    finally:
        shutil.rmtree(home, ignore_errors=True)
    return 0


def to_png_with_chromium(browser: str, svg: Path, png: Path) -> None:
    """The SVG at its own size (its viewBox), drawn by headless chromium."""
    import re

    width, height = (
        round(float(n)) for n in re.search(r'viewBox="0 0 ([0-9.]+) ([0-9.]+)"', svg.read_text("utf-8")).groups()
    )
    subprocess.run(
        [browser, "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars",
         f"--screenshot={png}", f"--window-size={width},{height}", svg.resolve().as_uri()],
        check=True,
        capture_output=True,
    )  # fmt: skip


if __name__ == "__main__":
    sys.exit(main())
