"""Start-up and first-page times of the terminal app on a large database.

Runs, in one go and alternating so machine noise hits both alike:
- the real app, started by the ``fakturka`` command's own entry point, from process start until the
  dashboard shows its figures;
- a bare Textual app showing one label (the floor), same measurement;
then, inside the real app, the time each list screen takes to show its first
page, and the peak memory of the app process.

Both run from byte-compiled modules (this script compiles the app's packages first, as installing
the wheel does; Textual's were compiled by pip).

Budgets (issue 4): dashboard <= 1.0 s and <= 2.5 x the bare app (issue 16: 2.0 x); each list's
first page <= 100 ms; peak memory <= 200 MB.

A list screen's first visit also builds the screen (Textual compose, CSS,
footer); to tell that apart from the data, the same visit is timed on a tiny
database, and the page read itself (query + formatting + adding rows) is
timed on its own.

Usage: .venv/bin/python bench/tui_start.py [--db PATH] [--runs N] [--scale F]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

BARE_APP = r"""
import sys, time
from textual.app import App
from textual.widgets import Label
class Bare(App):
    def compose(self):
        yield Label("hello")
async def pilot(p):
    await p.pause()
    p.app.exit()
Bare().run(headless=True, size=(140, 40), auto_pilot=pilot)
"""

# The real command (fakturka.launcher.main) run headless: it imports tui.app only when no command is
# given, and once it has, the app runs with the ``pilot`` the code before this defines. Sections are
# built ahead from half a second after start-up; held back here, so a first visit is timed as a key
# pressed before that (the screen built on demand), and no other screen's page read lands in its
# figures (bench/tui_keys.py measures visits with the sections built ahead). Used by
# tests/test_startup_path.py too, so the test starts the app as this bench does.
START_HEADLESS = r"""
import importlib.abc, importlib.util, sys

class RunHeadless(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path, target=None):
        if name != "tui.app":
            return None
        sys.meta_path.remove(self)
        spec = importlib.util.find_spec(name)
        load = spec.loader.exec_module
        def load_then_patch(module):
            load(module)
            module.PREBUILD_DELAY_SECONDS = 3600
            run = module.FakturkaApp.run
            module.FakturkaApp.run = lambda app: run(app, headless=True, size=(140, 40), auto_pilot=pilot)
        spec.loader.exec_module = load_then_patch
        return spec

sys.meta_path.insert(0, RunHeadless())
from fakturka.launcher import main
main(["--db", sys.argv[1]])
"""

REAL_APP = (
    r"""
import json, resource, sys, time
timings = {}
page_reads = []

async def pilot(p):
    app = p.app
    await p.pause()
    card = app.screen.query_one("#card-week")
    assert "h" in str(card.render()), "dashboard has no figures"
    timings["dashboard_ready"] = time.time()
    from tui.widgets.paged_table import PagedTable
    _append = PagedTable._append_page
    def _timed_append(self):
        started = time.perf_counter()
        _append(self)
        page_reads.append(time.perf_counter() - started)
    PagedTable._append_page = _timed_append
    for key, table_id in (("t", "#entries"), ("c", "#clients"), ("i", "#invoice-list")):
        page_reads.clear()
        started = time.perf_counter()
        await p.press(key)
        await p.pause()
        table = app.screen.query_one(table_id)
        assert table.row_count > 0, table_id
        timings[f"first_page_{key}"] = time.perf_counter() - started
        timings[f"page_read_{key}"] = sum(page_reads)
    app.exit()

"""
    + START_HEADLESS
    + r"""
timings["peak_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
print(json.dumps(timings))
"""
)


def run(code: str, *args: str) -> tuple[float, dict]:
    env = dict(os.environ, FAKTURKA_HOME=tempfile.mkdtemp(prefix="fk-bench-"))
    started = time.time()
    out = subprocess.run(
        [sys.executable, "-c", code, *args], cwd=ROOT, env=env, capture_output=True, text=True, check=True
    )
    ended = time.time()
    data = json.loads(out.stdout.strip().splitlines()[-1]) if out.stdout.strip() else {}
    ready = data.get("dashboard_ready", ended)
    return ready - started, data


def compile_our_packages() -> None:
    """Byte-compile the app's own packages, as installing the wheel does (pip writes the .pyc files).

    Textual's modules were compiled when pip installed them; ours, in a checkout, only when Python may
    write them on a first import. With PYTHONDONTWRITEBYTECODE set (it is on the project's machines),
    the app compiled the 69 modules it imports from source on every start: 70-85 ms that the bare app
    never pays, and the ratio read 1.9-2.0x instead of 1.6-1.8x."""
    import compileall

    for package in ("core", "tui", "cli", "fakturka", "portal"):
        if not compileall.compile_dir(ROOT / package, quiet=1):
            raise SystemExit(f"could not byte-compile {package}/")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", type=Path, help="an existing big database (default: build one in a temp dir)")
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--scale", type=float, default=1.0, help="fraction of the 1M/50k/200k rows")
    args = parser.parse_args()
    db_path = args.db
    sys.path.insert(0, str(ROOT / "bench"))
    from make_big_db import build

    if db_path is None:
        db_path = Path(tempfile.mkdtemp(prefix="fk-bench-db-")) / "big.db"
        t = time.perf_counter()
        build(db_path, args.scale)
        print(f"built {db_path} in {time.perf_counter() - t:.1f} s")
    small_path = Path(tempfile.mkdtemp(prefix="fk-bench-small-")) / "small.db"
    build(small_path, 0.0002)
    compile_our_packages()  # 200 entries, 10 invoices: the same screens with almost no data
    bare, real, details, small = [], [], [], []
    for _ in range(args.runs):
        bare.append(run(BARE_APP)[0])
        seconds, data = run(REAL_APP, str(db_path))
        real.append(seconds)
        details.append(data)
        small.append(run(REAL_APP, str(small_path))[1])
    b, r = statistics.median(bare), statistics.median(real)
    print(f"bare Textual app, start to first paint : {b * 1000:7.0f} ms (median of {args.runs})")
    print(f"Fakturka, start to dashboard figures   : {r * 1000:7.0f} ms   budget 1000 ms")
    print(f"ratio                                  : {r / b:7.2f}     budget 2.00 (issue 16; issue 4: 2.50)")
    print("list screens, first visit        big db    tiny db   page read (big db; budget 100 ms)")
    for key, name in (("t", "Time"), ("c", "Clients"), ("i", "Invoices")):
        value = statistics.median(d[f"first_page_{key}"] for d in details)
        floor = statistics.median(d[f"first_page_{key}"] for d in small)
        read = statistics.median(d[f"page_read_{key}"] for d in details)
        print(f"  {name:<28}: {value * 1000:6.0f} ms  {floor * 1000:6.0f} ms  {read * 1000:6.1f} ms")
    print(f"peak memory of the app process         : {max(d['peak_rss_mb'] for d in details):7.0f} MB   budget 200 MB")


if __name__ == "__main__":
    main()
