"""``?``: every binding that applies on the screen the person came from."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import DataTable, Static

from tui.i18n import TranslatedBindings, _
from tui.widgets.tables import PlainDataTable


class HelpScreen(TranslatedBindings, ModalScreen[None]):
    BINDINGS = [Binding("escape,question_mark,q", "close", "Close")]

    def __init__(self, rows: list[tuple[str, str]], screen_title: str):
        super().__init__()
        self.rows = rows
        self.screen_title = screen_title

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog help-dialog"):
            yield Static(_("Keys") + f": {self.screen_title}", classes="dialog-title")
            yield PlainDataTable(id="help-table", cursor_type="row", zebra_stripes=True)
            yield Static(
                _("ctrl+p opens the command palette with every action. Press escape to close."), classes="form-help"
            )

    def on_mount(self) -> None:
        table = self.query_one(DataTable)
        table.add_columns(_("Key"), _("Action"))
        for key, description in self.rows:
            table.add_row(key, description)
        table.focus()

    def action_close(self) -> None:
        self.dismiss(None)
