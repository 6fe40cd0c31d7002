"""Leaving a form with unsaved edits: save, discard or stay (``stay`` is the default and escape)."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Static

from tui.i18n import TranslatedBindings, _

SAVE, DISCARD, STAY = "save", "discard", "stay"


class UnsavedChanges(TranslatedBindings, ModalScreen[str]):
    """Dismisses with SAVE, DISCARD or STAY."""

    BINDINGS = [
        Binding("s", f"answer('{SAVE}')", "Save", show=False),
        Binding("d", f"answer('{DISCARD}')", "Discard", show=False),
        Binding("escape", f"answer('{STAY}')", "Stay"),
    ]

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog unsaved-dialog"):
            yield Static(_("Unsaved changes"), classes="dialog-title")
            yield Static(_("What you typed here is not saved yet."))
            with Horizontal(classes="buttons"):
                yield Button(_("Save") + " (s)", id=SAVE, variant="primary")
                yield Button(_("Discard") + " (d)", id=DISCARD, variant="error")
                yield Button(_("Stay") + " (esc)", id=STAY)

    def on_mount(self) -> None:
        self.query_one(f"#{STAY}", Button).focus()  # the safe choice: nothing is lost, nothing is saved

    def on_button_pressed(self, event: Button.Pressed) -> None:
        self.dismiss(event.button.id)

    def action_answer(self, choice: str) -> None:
        self.dismiss(choice)
