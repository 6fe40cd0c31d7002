"""Textual's Header, safe to re-compose right after it mounts.

Textual's Header updates its title from a callback it schedules at mount; when the screen re-composes
before that callback runs (a language switch while a section is being built ahead), the old header has
lost its children and Textual's ``query_one`` raised NoMatches, which closed the app. This is the same
mount handler with the title looked for, not required (Textual is pinned in pyproject.toml).
"""

from __future__ import annotations

from textual.events import Mount
from textual.widgets import Header
from textual.widgets._header import HeaderTitle


class SectionHeader(Header):
    def _on_mount(self, event: Mount) -> None:
        event.prevent_default()  # instead of Header._on_mount, not as well

        async def set_title() -> None:
            if not self.is_attached:
                return
            titles = self.query(HeaderTitle)
            if titles:
                titles.first().update(self.format_title())

        self.watch(self.app, "title", set_title)
        self.watch(self.app, "sub_title", set_title)
        self.watch(self.screen, "title", set_title)
        self.watch(self.screen, "sub_title", set_title)
