"""Key press to the section's first page painted, every section, first and later visits.

In one process, alternating: the real app on a big database (1M entries at --scale 1), and a bare
Textual app switching between two screens with one label each (the floor). A visit is timed from the
key press until the first paint of the new screen whose lists have their first page (the dashboard:
its figures). First visits start once the dashboard has shown and the app is idle (the sections are
built ahead in idle time then).

Budgets (issue 16): every visit <= 100 ms and <= 3x the bare switch.

Usage: .venv/bin/python bench/tui_keys.py [--db PATH] [--scale F] [--rounds N]
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
ORDER = "tcibphasd"  # every section; the dashboard last (it is shown first)

PROBE = r"""
import time
from textual.app import App
_display = App._display
def _timed_display(self, screen, renderable):
    _display(self, screen, renderable)
    probe = getattr(self, "_probe", None)
    if probe is not None and renderable is not None and probe[0](screen):
        self._probe = None
        probe[1].append(time.perf_counter())
App._display = _timed_display
async def visit(pilot, key, ready):
    painted = []
    pilot.app._probe = (ready, painted)
    started = time.perf_counter()
    await pilot.press(key)
    for _ in range(200):
        if painted:
            break
        await pilot.pause(0.005)
    assert painted, key
    return (painted[0] - started) * 1000
"""

BARE_APP = (
    PROBE
    + r"""
import json, sys
from textual.screen import Screen
from textual.widgets import Label
class One(Screen):
    def __init__(self, text):
        super().__init__()
        self.text = text
    def compose(self):
        yield Label(self.text)
class Bare(App):
    MODES = {"a": lambda: One("a"), "b": lambda: One("b")}
    BINDINGS = [("a", "switch_mode('a')"), ("b", "switch_mode('b')")]
    def on_mount(self):
        self.switch_mode("a")
results = {"first": [], "later": []}
async def pilot(p):
    await p.pause()
    rounds = int(sys.argv[1])
    for i in range(rounds * 2):
        key = "b" if i % 2 == 0 else "a"
        ms = await visit(p, key, lambda screen, key=key: p.app.current_mode == key and screen.is_mounted)
        results["first" if i == 0 else "later"].append(ms)
    p.app.exit()
Bare().run(headless=True, size=(140, 40), auto_pilot=pilot)
print(json.dumps(results))
"""
)

REAL_APP = (
    PROBE
    + r"""
import json, sys
from pathlib import Path
from core.store.db import open_database
from tui.app import FakturkaApp, SECTIONS
from textual.widgets import Input
from tui.widgets.paged_table import PagedTable
path = open_database(Path(sys.argv[1]))
order, rounds = sys.argv[2], int(sys.argv[3])
mode_of = {key: name for name, (key, _t, _s) in SECTIONS.items()}
results = {}
def ready_for(app, mode):
    def ready(screen):
        if app.current_mode != mode or screen is not app.screen or not screen.is_mounted:
            return False
        if mode == "dashboard":
            return "h" in str(screen.query_one("#card-week").render())
        return all(table.columns for table in screen.query(PagedTable))
    return ready
async def pilot(p):
    app = p.app
    await p.pause()
    started = time.perf_counter()
    from tui.app import PREBUILD_DELAY_SECONDS
    await p.pause(PREBUILD_DELAY_SECONDS + 0.1)
    await app.workers.wait_for_complete()  # the sections built ahead
    await p.pause()
    results["prebuild_ms"] = (time.perf_counter() - started) * 1000
    for r in range(rounds + 1):
        for key in order:
            ms = await visit(p, key, ready_for(app, mode_of[key]))
            results.setdefault(key, []).append(ms)
            await p.pause()
            if isinstance(app.screen.focused, Input):  # Settings opens in its first field: leave it
                await p.press("escape")
                await p.pause()
    app.exit()
FakturkaApp(db_path=path, first_start_prompt=False).run(headless=True, size=(140, 40), auto_pilot=pilot)
print(json.dumps(results))
"""
)


def run(code: str, *args: str) -> dict:
    env = dict(os.environ, FAKTURKA_HOME=tempfile.mkdtemp(prefix="fk-bench-"))
    out = subprocess.run([sys.executable, "-c", code, *args], cwd=ROOT, env=env, capture_output=True, text=True)
    if out.returncode != 0:
        sys.exit(f"the measured app failed:\n{out.stderr[-3000:]}")
    result = json.loads(out.stdout.strip().splitlines()[-1])
    if os.environ.get("FK_BENCH_RAW"):
        print(json.dumps(result))
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", type=Path, help="an existing big database (default: build one in a temp dir)")
    parser.add_argument("--scale", type=float, default=1.0, help="fraction of the 1M/50k/200k rows")
    parser.add_argument("--runs", type=int, default=3, help="app processes of each kind")
    parser.add_argument("--rounds", type=int, default=3, help="later visits of each section per process")
    args = parser.parse_args()
    db_path = args.db
    if db_path is None:
        sys.path.insert(0, str(ROOT / "bench"))
        from make_big_db import build

        db_path = Path(tempfile.mkdtemp(prefix="fk-bench-db-")) / "big.db"
        t = time.perf_counter()
        build(db_path, args.scale)
        print(f"built {db_path} (scale {args.scale}) in {time.perf_counter() - t:.1f} s")
    bare_first, bare_later, real = [], [], []
    for _ in range(args.runs):
        bare = run(BARE_APP, str(args.rounds * 4))
        bare_first += bare["first"]
        bare_later += bare["later"]
        real.append(run(REAL_APP, str(db_path), ORDER, str(args.rounds)))
    # The floor is the faster of the bare app's first and later switches (its later ones measure slower,
    # which a floor should not reward): the stricter ratio.
    floor = min(statistics.median(bare_first), statistics.median(bare_later))
    print(
        f"bare two-screen switch: first {statistics.median(bare_first):6.1f} ms, "
        f"later {statistics.median(bare_later):6.1f} ms (median); floor {floor:.1f} ms"
    )
    print(f"sections built ahead in idle time: {statistics.median(r['prebuild_ms'] for r in real):6.0f} ms after start")
    print(f"{'section':<10} {'first':>8} {'later':>8} {'worst':>8} {'ratio':>6}   budget 100 ms, 3.0x")
    names = {"t": "Time", "c": "Clients", "i": "Invoices", "b": "Bank", "p": "Plugins", "h": "History"}
    names |= {"a": "Audit", "s": "Settings", "d": "Dashboard"}
    worst_all, ok = 0.0, True
    for key in ORDER:
        first = statistics.median(r[key][0] for r in real)
        later = statistics.median(v for r in real for v in r[key][1:])
        worst = max(max(r[key]) for r in real)
        worst_all = max(worst_all, worst)
        ratio = max(first, later) / floor
        ok &= max(first, later) <= 100 and ratio <= 3.0
        print(f"{names[key]:<10} {first:7.1f}  {later:7.1f}  {worst:7.1f}  {ratio:5.2f}x")
    print(f"within budget (medians): {'yes' if ok else 'NO'}; slowest single visit {worst_all:.1f} ms")


if __name__ == "__main__":
    main()
