"""Smoke test: the real ``fakturka`` command in a real terminal (tmux), as the README starts it.

``make run`` runs ``.venv/bin/fakturka``; here the same console script is
taken from the bin directory of the Python running the tests, so the test
works in any fresh venv (CI). The app runs in its own tmux server (``-L``)
with FAKTURKA_HOME in the test's temporary directory; keys go in with
``send-keys`` and the screen is read back with ``capture-pane``.
"""

from __future__ import annotations

import os
import re
import shlex
import shutil
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest

from core.store.db import open_database
from core.store.models import Invoice

WIDTH, HEIGHT = 140, 40
WAIT = 20.0  # seconds to wait for something to appear (a slow CI machine), not a timing assertion


class Tmux:
    def __init__(self, tmux: str, socket: str, session: str):
        self.tmux, self.socket, self.session = tmux, socket, session

    def run(self, *args: str, check: bool = True) -> subprocess.CompletedProcess:
        return subprocess.run(
            [self.tmux, "-L", self.socket, "-f", "/dev/null", *args],
            capture_output=True,
            text=True,
            check=check,
            timeout=30,
        )

    def screen(self) -> str:
        result = self.run("capture-pane", "-p", "-t", self.session, check=False)
        return result.stdout if result.returncode == 0 else ""

    def keys(self, *keys: str) -> None:
        for key in keys:
            self.run("send-keys", "-t", self.session, key)

    def alive(self) -> bool:
        return self.run("has-session", "-t", self.session, check=False).returncode == 0

    def wait_for(self, what: str | re.Pattern, timeout: float = WAIT) -> str:
        deadline = time.monotonic() + timeout
        screen = ""
        while time.monotonic() < deadline:
            screen = self.screen()
            if what.search(screen) if isinstance(what, re.Pattern) else what in screen:
                return screen
            time.sleep(0.1)
        raise AssertionError(f"{what!r} did not appear within {timeout:.0f} s; the screen shows:\n{screen}")


@pytest.fixture
def tmux():
    """A private tmux server (its own socket), killed afterwards; None when tmux is missing."""
    path = shutil.which("tmux")
    if path is None:
        yield None
        return
    socket = f"fakturka-test-{os.getpid()}-{uuid.uuid4().hex[:8]}"
    t = Tmux(path, socket, "fakturka")
    yield t
    t.run("kill-server", check=False)


def test_real_app_in_tmux_loads_demo_data_shows_invoices_and_quits(tmux, fakturka_home, tmp_path):
    if tmux is None:
        pytest.fail(
            "tmux is not installed, so the terminal smoke test cannot run. "
            "Install it (Debian/Ubuntu: apt-get install -y tmux) before running the suite."
        )
    fakturka = Path(sys.executable).parent / "fakturka"
    assert fakturka.is_file(), f"the fakturka console script is not installed in {fakturka.parent}"
    rc_file = tmp_path / "exit-code"
    command = (
        f"env FAKTURKA_HOME={shlex.quote(str(fakturka_home))} TERM=xterm-256color "
        f"{shlex.quote(str(fakturka))}; echo $? > {shlex.quote(str(rc_file))}"
    )
    tmux.run("new-session", "-d", "-s", tmux.session, "-x", str(WIDTH), "-y", str(HEIGHT), command)

    screen = tmux.wait_for("Welcome to Fakturka")
    assert "Load demo data" in screen

    # Tab from "Set up my business profile" to "Load demo data", then Enter.
    tmux.keys("Tab", "Enter")
    screen = tmux.wait_for(re.compile(r"Overdue \(\d+\)"))
    assert "Fakturka · Dashboard" in screen
    assert "Welcome to Fakturka" not in screen

    open_database(fakturka_home / "fakturka.db")
    numbers = [inv.number for inv in Invoice.select().order_by(Invoice.issued_on.desc())]
    assert numbers, "the demo data has invoices"

    tmux.keys("i")
    tmux.wait_for("Fakturka · Invoices")
    screen = tmux.wait_for(re.compile("|".join(re.escape(n) for n in numbers)))
    assert "Number" in screen and "Status" in screen
    assert sum(n in screen for n in numbers) >= min(len(numbers), 5)  # the list, not one stray number

    tmux.keys("C-q")
    deadline = time.monotonic() + WAIT
    while tmux.alive() and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not tmux.alive(), f"ctrl+q did not end the app; the screen shows:\n{tmux.screen()}"
    assert rc_file.read_text().strip() == "0"
