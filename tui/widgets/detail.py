"""A read-only detail dialog: escape or q closes it."""

from __future__ import annotations

from textual.binding import Binding
from textual.screen import ModalScreen

from tui.i18n import TranslatedBindings


class DetailScreen(TranslatedBindings, ModalScreen[None]):
    BINDINGS = [Binding("escape,q", "close", "Close")]

    def action_close(self) -> None:
        self.dismiss(None)
