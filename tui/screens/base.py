"""What every section screen shares: header, footer, translated bindings, refresh on return."""

from __future__ import annotations

from dataclasses import replace

from textual.app import ComposeResult
from textual.binding import Binding
from textual.screen import Screen
from textual.widgets import Footer, Header, Input, TextArea

from tui.i18n import _, language


def translate_bindings(node) -> None:
    """Show binding descriptions in the current language.

    Bindings are declared in English (the msgids); Textual keeps a per-node
    map of them, so we swap in translated copies. The English originals stay
    in ``_binding_msgids`` for the next switch.
    """
    originals = node.__dict__.setdefault("_binding_msgids", {})
    for key, bindings in node._bindings.key_to_bindings.items():
        translated = []
        for binding in bindings:
            msgid = originals.setdefault((key, binding.action), binding.description)
            translated.append(replace(binding, description=_(msgid) if msgid else msgid))
        node._bindings.key_to_bindings[key] = translated


class SectionScreen(Screen):
    """A top-level section (a Textual mode). Subclasses compose ``body()``."""

    SECTION = ""  # mode name
    TITLE_MSGID = ""
    # In a text field letters are typed, so the section keys cannot be reached from there; escape
    # leaves the field (Settings is nothing but fields: without this only ctrl+p led away from it).
    BINDINGS = [Binding("escape", "leave_field", "Leave field")]

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self._composed_language = language()
        self._stale = False  # set when another screen covers this one

    def compose(self) -> ComposeResult:
        yield Header(show_clock=False)
        yield from self.body()
        yield Footer(compact=True)

    def body(self) -> ComposeResult:
        yield from ()

    @staticmethod
    def EXTRA_HELP_ROWS() -> list[tuple[str, str]]:
        """Keys handled outside bindings (e.g. enter on a list), for the help screen."""
        return []

    def on_mount(self) -> None:
        translate_bindings(self)
        self.title = f"Fakturka · {_(self.TITLE_MSGID)}"

    def on_screen_suspend(self) -> None:
        self._stale = True

    async def on_screen_resume(self) -> None:
        self.app.update_timer_indicator()  # it may have started or stopped elsewhere
        if self._composed_language != language():
            self._composed_language = language()
            translate_bindings(self)
            self.title = f"Fakturka · {_(self.TITLE_MSGID)}"
            await self.recompose()
            self.app.refresh_bindings()  # the new footer needs the translated bindings
            self.focus_main()
        if self._stale:  # data may have changed while it was hidden
            self._stale = False
            self.refresh_data()

    def _in_text_field(self) -> bool:
        return isinstance(self.focused, (Input, TextArea))

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "leave_field":
            return self._in_text_field()  # shown in the footer only when it applies
        return True

    def action_leave_field(self) -> None:
        if not self._in_text_field():  # the palette can run it from anywhere
            return
        tables = self.query("PagedTable")
        if tables:
            tables.first().focus()
        else:
            self.set_focus(None)

    def refresh_data(self) -> None:
        """Re-read what the screen shows (after returning to it or after a change)."""

    def focus_main(self) -> None:
        """Give the focus to the screen's main list (after a re-compose)."""
        tables = self.query("PagedTable")
        if tables:
            tables.first().focus()
