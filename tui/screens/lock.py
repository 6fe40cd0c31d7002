"""The lock screen: the passphrase of an encrypted database, at start and after the app sat idle.

A full, opaque screen (not a modal over the app): nothing the app showed is visible behind it. A wrong
passphrase gets core's sentence and changes nothing; each further try waits longer, and while the wait
lasts the field is disabled and the seconds left are shown. ``ctrl+q`` quits.
"""

from __future__ import annotations

import math
import time
from pathlib import Path
from typing import Callable

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import Screen
from textual.timer import Timer
from textual.widgets import Input, Static

from core.errors import FakturkaError
from core.store.vault import TooSoon, WrongPassphrase, seconds_to_wait
from tui.i18n import TranslatedBindings, _, said
from tui.widgets.shown import plain, plain_lines


class LockScreen(TranslatedBindings, Screen[bool]):
    """Dismisses with True once ``attempt(passphrase)`` returned without raising.

    ``attempt`` unlocks (at start) or checks the passphrase against the unlocked database (after idle
    time); a :class:`core.errors.FakturkaError` it raises is shown as its sentence.
    """

    BINDINGS = [Binding("ctrl+q", "app.quit", "Quit", priority=True)]
    AUTO_FOCUS = "#lock-passphrase"

    def __init__(self, db_path: Path, attempt: Callable[[str], None], *, at_start: bool, **kwargs):
        super().__init__(**kwargs)
        self.db_path = db_path
        self.attempt = attempt
        self.at_start = at_start
        self._wait_until = 0.0  # time.monotonic() when the field opens again
        self._ticker: Timer | None = None

    def compose(self) -> ComposeResult:
        with Vertical(id="lock-box"):
            yield Static("Fakturka", id="lock-title")
            yield Static(
                _("The data is encrypted. Enter the passphrase to open it.")
                if self.at_start
                else _("Locked. Enter the passphrase to go on."),
                id="lock-why",
            )
            yield Static(plain(str(self.db_path)), id="lock-path")
            yield Input(password=True, placeholder=_("Passphrase"), id="lock-passphrase")
            yield Static("", id="lock-error", classes="error hidden")
            yield Static("", id="lock-wait", classes="hidden")
            yield Static(_("enter: unlock · ctrl+q: quit"), id="lock-keys")

    def on_mount(self) -> None:
        wait = self._seconds_to_wait()
        if wait > 0:  # a wrong try shortly before (this app or another process): the wait stands
            self._start_wait(wait)
        else:
            self.query_one("#lock-passphrase", Input).focus()

    def _seconds_to_wait(self) -> float:
        try:
            return seconds_to_wait(self.db_path)
        except OSError:
            return 0.0

    # -- a try ----------------------------------------------------------------------------------------

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        field = self.query_one("#lock-passphrase", Input)
        passphrase = field.value
        field.value = ""  # never kept on the screen, whatever the answer
        if not passphrase:
            self._say(_("Type the passphrase, then press enter."))
            return
        try:
            self.attempt(passphrase)
        except TooSoon as exc:
            self._say(said(exc))
            self._start_wait(exc.seconds)
            return
        except WrongPassphrase as exc:
            self._say(said(exc))
            self._start_wait(self._seconds_to_wait())
            return
        except FakturkaError as exc:  # a damaged passphrase file, a database that cannot be opened
            self._say(said(exc))
            return
        self._stop_ticker()
        self.dismiss(True)

    def _say(self, sentence: str) -> None:
        error = self.query_one("#lock-error", Static)
        error.update(plain_lines(sentence))
        error.set_class(not sentence, "hidden")

    # -- the wait after a wrong passphrase --------------------------------------------------------------

    def _start_wait(self, seconds: float) -> None:
        if seconds <= 0:
            self.query_one("#lock-passphrase", Input).focus()
            return
        self._wait_until = time.monotonic() + seconds
        field = self.query_one("#lock-passphrase", Input)
        field.disabled = True
        self._stop_ticker()
        self._ticker = self.set_interval(0.25, self._tick)
        self._tick()

    def _tick(self) -> None:
        left = self._wait_until - time.monotonic()
        wait = self.query_one("#lock-wait", Static)
        if left > 0:
            wait.update(_("Next try in {seconds} s.").format(seconds=math.ceil(left)))
            wait.remove_class("hidden")
            return
        self._stop_ticker()
        wait.update("")
        wait.add_class("hidden")
        field = self.query_one("#lock-passphrase", Input)
        field.disabled = False
        field.focus()

    def _stop_ticker(self) -> None:
        if self._ticker is not None:
            self._ticker.stop()
            self._ticker = None

    @property
    def waiting(self) -> bool:
        """Whether the field is closed for the wait after a wrong passphrase."""
        return self.query_one("#lock-passphrase", Input).disabled
