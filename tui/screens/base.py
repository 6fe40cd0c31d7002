"""What every section screen shares: header, footer, translated bindings, refresh on return."""

from __future__ import annotations

from dataclasses import replace

from textual.app import ComposeResult
from textual.binding import Binding
from textual.screen import Screen
from textual.widgets import Input, TextArea

from core.store.changes import change_token
from tui.i18n import TranslatedBindings, _, language
from tui.widgets.footer import SectionFooter
from tui.widgets.header import SectionHeader


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


class SectionScreen(TranslatedBindings, Screen):
    """A top-level section (a Textual mode). Subclasses compose ``body()``."""

    SECTION = ""  # mode name
    TITLE_MSGID = ""
    # In a text field letters are typed, so the section keys cannot be reached from there; escape
    # leaves the field (Settings is nothing but fields: without this only ctrl+p led away from it).
    # Help first: the app's own keys come after a screen's in the footer, and an 80-column footer must show it.
    BINDINGS = [Binding("question_mark", "app.help", "Help"), Binding("escape", "leave_field", "Leave field")]

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self._composed_language = language()
        self._stale = False  # set when another screen covers this one
        self._seen: tuple[int, int] | None = None  # the database's change token when last read

    @property
    def composed_language(self) -> str:
        """The language the screen was last composed in (a hidden one catches up when shown or in idle time)."""
        return self._composed_language

    def compose(self) -> ComposeResult:
        yield SectionHeader(show_clock=False)
        yield from self.body()
        yield SectionFooter(compact=True)

    def body(self) -> ComposeResult:
        yield from ()

    @staticmethod
    def EXTRA_HELP_ROWS() -> list[tuple[str, str]]:
        """Keys handled outside bindings (e.g. enter on a list), for the help screen."""
        return []

    def on_mount(self) -> None:
        translate_bindings(self)
        self.title = f"Fakturka · {_(self.TITLE_MSGID)}"
        self._seen = change_token()  # subclasses read their data while mounting

    def on_screen_suspend(self) -> None:
        self._stale = True

    async def on_screen_resume(self) -> None:
        self.app.update_timer_indicator()  # it may have started or stopped elsewhere
        if self._composed_language != language():
            await self.apply_language()
        if self._stale or self._seen != change_token():  # changed while hidden, here or in another process
            self._stale = False
            self.reread()

    async def apply_language(self) -> None:
        """Re-compose in the current language, keeping the focus where it was (F3 must not hand it to a
        text field: the next section key would be typed into it), then show the data again."""
        focused = self.focused
        focused_id = focused.id if focused is not None else None
        self._composed_language = language()
        translate_bindings(self)
        self.title = f"Fakturka · {_(self.TITLE_MSGID)}"
        await self.recompose()
        if self.is_current:
            self.app.refresh_bindings()  # the new footer needs the translated bindings
        self.reread()  # new widgets start empty (the dashboard's cards were blank until r)
        if focused is None:
            self.set_focus(None)  # nothing was focused (escape left a field): keep it so
            return
        again = self.query(f"#{focused_id}") if focused_id else None
        if again and again.first().focusable:
            self._focus_quietly(again.first())
        else:
            self.focus_main()

    def _focus_quietly(self, widget) -> None:
        """Focus without selecting an input's text (a typed letter would replace it all)."""
        if isinstance(widget, Input):
            select_on_focus, widget.select_on_focus = widget.select_on_focus, False
            self.set_focus(widget)  # posts Focus to the input now; restore runs after it
            widget.call_later(setattr, widget, "select_on_focus", select_on_focus)
        else:
            self.set_focus(widget)

    def reread(self) -> None:
        """refresh_data, remembering what the database looked like (see watch_changes)."""
        self._seen = change_token()
        self.refresh_data()

    def watches_changes(self) -> bool:
        """Whether the app re-reads this screen while it is shown when the database changes: lists do."""
        return bool(self.query("PagedTable"))

    def reread_if_changed(self) -> None:
        if self._seen is not None and self._seen != change_token():
            self.reread()

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
