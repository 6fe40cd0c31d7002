"""Textual's Footer, re-composed once for a burst of binding changes instead of once per change.

Textual's Footer schedules a full re-compose (every key widget unmounted and mounted again) each time the
screen says its bindings changed. Showing a screen says so four times in a row (resumed, focus set,
resumed again, idle), so the dashboard's start-up paid four footer re-composes and as many layouts, about
40 ms. A re-compose reads the bindings as they are when it runs, so one for the whole burst shows the same
keys. Textual is pinned in pyproject.toml; this overrides ``Footer.bindings_changed`` of 8.2.8.
"""

from __future__ import annotations

from textual.screen import Screen
from textual.widgets import Footer


class SectionFooter(Footer):
    _recompose_pending = False

    def bindings_changed(self, screen: Screen) -> None:
        self._bindings_ready = True
        if not screen.app.app_focus or not self.is_attached or screen is not self.screen:
            return
        if not self._recompose_pending:
            self._recompose_pending = True
            self.call_after_refresh(self._recompose_once)

    async def _recompose_once(self) -> None:
        self._recompose_pending = False
        await self.recompose()
