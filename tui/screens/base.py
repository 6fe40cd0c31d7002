"""What every section screen shares: header, footer, translated bindings, refresh on return."""
from __future__ import annotations

from dataclasses import replace

from textual.app import ComposeResult
from textual.screen import Screen
from textual.widgets import Footer, Header

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

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self._composed_language = language()
        self._stale = False  # set when another screen covers this one

    def compose(self) -> ComposeResult:
        yield Header(show_clock=False)
        yield from self.body()
        yield Footer()

    def body(self) -> ComposeResult:
        yield from ()

    def on_mount(self) -> None:
        translate_bindings(self)
        self.title = f"Fakturka · {_(self.TITLE_MSGID)}"

    def on_screen_suspend(self) -> None:
        self._stale = True

    async def on_screen_resume(self) -> None:
        if self._composed_language != language():
            self._composed_language = language()
            translate_bindings(self)
            self.title = f"Fakturka · {_(self.TITLE_MSGID)}"
            await self.recompose()
        if self._stale:  # data may have changed while it was hidden
            self._stale = False
            self.refresh_data()

    def refresh_data(self) -> None:
        """Re-read what the screen shows (after returning to it or after a change)."""
