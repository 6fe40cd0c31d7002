"""What the start-up work of issue 16 must not change: the figures, the keys shown, the styles, the command line.

The app reads the dashboard's figures ahead in a thread, keeps parsed CSS across Textual's re-parses,
re-composes the footer once per burst of binding changes and parses only the options when no command
is given. Each of those is a shortcut; these tests hold each to giving what the long way gives.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import date
from pathlib import Path

from textual.widgets import Footer
from textual.widgets._footer import FooterKey

from core.billing.reports import dashboard, dashboard_ahead
from core.demo import load_demo
from tui.app import FakturkaApp
from tui.stylesheet import KeptStylesheet

REPO = Path(__file__).resolve().parent.parent
SIZE = (140, 40)


def test_figures_read_ahead_are_the_figures_read_in_place(database):
    load_demo(today=date.today())
    ahead = dashboard_ahead().result(timeout=30)
    assert ahead == dashboard()
    assert sys.getswitchinterval() == 0.005  # handed back once the figures are in


def test_a_failure_reading_ahead_reaches_whoever_waits_for_the_figures(database, monkeypatch):
    import core.billing.reports as reports

    def broken(today=None):
        raise RuntimeError("the figures could not be read")

    monkeypatch.setattr(reports, "dashboard", broken)
    ahead = dashboard_ahead()
    try:
        ahead.result(timeout=30)
    except RuntimeError as exc:
        assert "could not be read" in str(exc)
    else:
        raise AssertionError("the failure was lost")


def cards(app) -> str:
    """The figures' cards (the reminders card below them arrives a moment later, from a thread)."""
    return "\n".join(str(app.screen.query_one(f"#card-{name}").render()) for name in CARD_NAMES)


CARD_NAMES = ("week", "month", "unbilled", "outstanding", "overdue", "received")


async def test_the_dashboard_shows_the_figures_read_ahead_once_then_reads_afresh(database):
    load_demo(today=date.today())
    app = FakturkaApp(db_path=Path(database), first_start_prompt=False, figures_ahead=dashboard_ahead())
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        first = cards(app)
        assert app.take_figures_ahead() is None  # taken by the dashboard, not kept
        await pilot.press("r")  # refresh: read in place
        await pilot.pause()
        assert cards(app) == first
        assert "Unbilled" in first


async def test_the_footer_shows_each_sections_keys_after_quick_switches(database):
    app = FakturkaApp(db_path=Path(database), first_start_prompt=False)
    async with app.run_test(size=SIZE) as pilot:
        for key in ("t", "c", "i", "b", "d"):
            await pilot.press(key)
        await pilot.pause()
        await pilot.pause()
        shown = [k.description for k in app.screen.query_one(Footer).query(FooterKey)]
        assert "Refresh" in shown and "Chart currency" in shown  # the dashboard's own keys, after four switches
        assert "New invoice" not in shown  # nothing left over from the sections passed through


def test_kept_css_is_reused_for_the_same_theme_and_parsed_afresh_for_another():
    sheet = KeptStylesheet(variables={"accent": "#ff0000"})
    sheet.add_source("Label { color: $accent; }", read_from=("test.tcss", ""))
    sheet.parse()
    first = sheet.rules
    sheet.reparse()
    assert sheet.rules[0] is first[0]  # same theme: the parsed rule, not a new parse
    sheet.set_variables({"accent": "#00ff00"})
    sheet.reparse()
    assert sheet.rules[0] is not first[0]
    assert "#00FF00" in sheet.rules[0].css.upper() or "0, 255, 0" in sheet.rules[0].css


def test_the_app_without_a_command_loads_no_command_module(tmp_path):
    """`fakturka` alone parses its options without importing the commands (a sixth of start-up);
    a command, --help and a mistake still get the whole command line."""
    code = (
        "import sys\n"
        "from cli import parse_arguments\n"
        "args = parse_arguments(sys.argv[1:])\n"
        "print(args.command, args.db, 'cli.plugins' in sys.modules)\n"
    )
    env = dict(os.environ, FAKTURKA_HOME=str(tmp_path))

    def run(*argv: str) -> str:
        out = subprocess.run([sys.executable, "-c", code, *argv], cwd=REPO, env=env, capture_output=True, text=True)
        return (out.stdout + out.stderr).strip()

    assert run() == "None None False"
    assert run("--db", str(tmp_path / "x.db")) == f"None {tmp_path / 'x.db'} False"
    assert run("entries").startswith("entries None True")
    assert "COMMAND" in run("--help")
    assert "unrecognized arguments: --bogus" in run("--bogus")


# What only some starts need: a plain start to the dashboard's figures loads none of it (each was
# moved to where it is used; cryptography alone was about 9 ms of every start).
NOT_AT_START = ("cryptography", "sqlcipher3", "stdnum", "core.demo", "httpx", "starlette", "jinja2", "fpdf", "segno")


def modules_at_dashboard() -> str:
    """The code that starts the real command headless, as bench/tui_start.py does, and prints the
    modules loaded once the dashboard is shown."""
    sys.path.insert(0, str(REPO / "bench"))
    try:
        from tui_start import START_HEADLESS
    finally:
        sys.path.remove(str(REPO / "bench"))
    pilot = (
        "import json, sys\n"
        "async def pilot(p):\n"
        "    await p.pause()\n"
        "    assert p.app.screen.query_one('#card-week'), 'no dashboard'\n"
        "    print(json.dumps(sorted(sys.modules)))\n"
        "    p.app.exit()\n"
    )
    return pilot + START_HEADLESS


def test_a_plain_start_to_the_dashboard_loads_nothing_only_some_starts_need(database, fakturka_home):
    load_demo(today=date.today())
    out = subprocess.run(
        [sys.executable, "-c", modules_at_dashboard(), str(database)],
        cwd=REPO,
        env=dict(os.environ, FAKTURKA_HOME=str(fakturka_home)),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert out.returncode == 0, out.stderr
    loaded = json.loads(out.stdout.strip().splitlines()[-1])
    assert "tui.screens.dashboard" in loaded  # it did reach the dashboard
    found = sorted({name for name in loaded for heavy in NOT_AT_START if name == heavy or name.startswith(heavy + ".")})
    assert found == []
