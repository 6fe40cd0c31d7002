"""Screenshots of the Dashboard, Invoices and Bank at 80x24 and 200x60 for docs/user-guide.md.

Run from the repository root:  .venv/bin/python docs/img/make_size_screenshots.py

Like make_screenshots.py: headless, on a throw-away FAKTURKA_HOME with the demo data; writes
``<screen>-80x24.svg`` and ``<screen>-200x60.svg`` next to this script, and PNGs when rsvg-convert
is installed.
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
SIZES = [(80, 24), (200, 60)]
SCREENS = [("dashboard", "d"), ("invoices", "i"), ("bank", "b")]


async def shoot() -> list[Path]:
    from core.demo import load_demo
    from core.store.db import close_database, open_database
    from tui.app import FakturkaApp

    db_path = open_database()
    load_demo()
    shots = []
    try:
        for width, height in SIZES:
            app = FakturkaApp(db_path=db_path, first_start_prompt=False)
            async with app.run_test(size=(width, height)) as pilot:
                for name, key in SCREENS:
                    await pilot.press(key)
                    await pilot.pause()
                    filename = f"{name}-{width}x{height}.svg"
                    app.save_screenshot(filename=filename, path=str(HERE))
                    print(f"  {filename}")
                    shots.append(HERE / filename)
    finally:
        close_database()
    return shots


def main() -> int:
    home = tempfile.mkdtemp(prefix="fakturka-screenshots-")
    os.environ["FAKTURKA_HOME"] = home
    sys.path.insert(0, str(ROOT))
    try:
        shots = asyncio.run(shoot())
        converter = shutil.which("rsvg-convert")
        if converter is None:
            print("rsvg-convert is not installed: SVG only.")
            return 0
        for svg in shots:
            png = svg.with_suffix(".png")
            subprocess.run([converter, "--format=png", f"--output={png}", str(svg)], check=True)
            print(f"  {png.name}")
    finally:
        shutil.rmtree(home, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
