"""First start on an empty database: set up the profile, or load demo data."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Static

from tui.i18n import TranslatedBindings, _


class WelcomeScreen(TranslatedBindings, ModalScreen[str]):
    """Dismisses with "profile", "demo" or "skip"."""

    BINDINGS = [
        Binding("escape", "choose('skip')", "Skip"),
        Binding("down", "app.focus_next", "Next", show=False),
        Binding("up", "app.focus_previous", "Previous", show=False),
    ]

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog welcome-dialog"):
            yield Static(_("Welcome to Fakturka"), classes="dialog-title")
            yield Static(
                _(
                    "Your database is empty. Start by entering your business details "
                    "(they go on every invoice), or explore with demo data first."
                )
            )
            yield Button(_("Set up my business profile"), id="profile", variant="primary")
            yield Button(_("Load demo data"), id="demo")
            yield Button(_("Skip for now"), id="skip")

    def on_mount(self) -> None:
        self.query_one("#profile", Button).focus()

    def on_button_pressed(self, event: Button.Pressed) -> None:
        self.dismiss(event.button.id)

    def action_choose(self, choice: str) -> None:
        self.dismiss(choice)
