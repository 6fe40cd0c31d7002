"""The share-link dialog: a link just made, its address shown once (it is stored nowhere), to select
or copy (``c``), with its expiry date and what the link gives to whoever has it."""

from __future__ import annotations

from datetime import date, datetime, timezone

from textual import events
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Input, Static

from tui.i18n import TranslatedBindings, _, day
from tui.widgets.shown import plain, plain_lines


class ReadOnlyInput(Input):
    """An input whose text can be selected and copied, not changed: typed letters reach the dialog's keys."""

    def check_consume_key(self, key: str, character: str | None) -> bool:
        return False

    async def _on_key(self, event: events.Key) -> None:
        if event.is_printable:
            event.prevent_default()  # not typed: the key bubbles on to the bindings (c copies, q closes)

    def _on_paste(self, event: events.Paste) -> None:
        event.prevent_default()
        event.stop()

    def replace(self, text: str, start: int, end: int) -> None:
        """Nothing changes the address (delete, backspace, cut, paste all end here)."""


def local_day(moment: datetime) -> date:
    """A stored moment (naive UTC) as the local calendar day."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    return moment.astimezone().date()


class ShareLinkScreen(TranslatedBindings, ModalScreen[None]):
    """``ShareLinkScreen(title, url, expires_at, warning)``: the link, shown this once."""

    BINDINGS = [
        Binding("c", "copy", "Copy link"),
        Binding("escape,q", "close", "Close"),
    ]

    def __init__(self, title: str, url: str, expires_at: datetime, warning: str):
        super().__init__()
        self.link_title = title
        self.url = url
        self.expires_at = expires_at
        self.warning = warning

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog share-dialog"):
            yield Static(plain(self.link_title), classes="dialog-title")
            yield ReadOnlyInput(self.url, id="share-url")
            yield Static(plain(_("Valid until {day}.").format(day=day(local_day(self.expires_at)))), id="share-expiry")
            yield Static(plain_lines(self.warning), id="share-warning", classes="form-help")
            with Horizontal(classes="buttons"):
                yield Button(_("Copy link") + " (c)", id="copy", variant="primary")
                yield Button(_("Close") + " (esc)", id="close")

    def on_mount(self) -> None:
        field = self.query_one("#share-url", ReadOnlyInput)
        field.focus()
        field.select_all()

    async def on_button_pressed(self, event: Button.Pressed) -> None:
        await self.run_action("copy" if event.button.id == "copy" else "close")

    def action_copy(self) -> None:
        self.app.copy_to_clipboard(self.url)
        self.notify(_("The link is copied to the clipboard."))

    def action_close(self) -> None:
        self.dismiss(None)
