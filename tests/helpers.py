"""Helpers several test files share: database snapshots and reading what the terminal shows."""

from __future__ import annotations

import io
import stat
from pathlib import Path

from rich.console import Console
from textual import events
from textual.widgets import DataTable, Input

from core.store.audit import AuditRecord
from core.store.models import ALL_MODELS

NBSP = "\u00a0"  # money and dates use no-break spaces; screen text is compared with plain ones


def db_state() -> dict:
    """Every row of every table: compare before and after to prove nothing changed."""
    return {
        model._meta.table_name: list(model.select().order_by(model._meta.primary_key).dicts()) for model in ALL_MODELS
    }


def reload(row):
    return type(row).get_by_id(row.id)


def last_audit_id() -> int:
    return AuditRecord.select().order_by(AuditRecord.id.desc()).first().id


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def plain(text: str) -> str:
    return text.replace(NBSP, " ")


def screen_text(app) -> str:
    """The characters on the terminal right now (the current screen over the ones below it)."""
    width, height = app.size
    console = Console(
        width=width,
        height=height,
        file=io.StringIO(),
        force_terminal=True,
        color_system="truecolor",
        record=True,
        legacy_windows=False,
        safe_box=False,
    )
    console.print(app.screen._compositor.render_update(full=True, screen_stack=app._background_screens))
    return console.export_text(styles=False).replace(NBSP, " ")


def table_cells(table: DataTable) -> list[list[str]]:
    return [[str(c) for c in table.get_row_at(i)] for i in range(table.row_count)]


def notifications(app) -> list[str]:
    return [n.message for n in app._notifications]


async def highlight(pilot, table, key) -> None:
    """Move the cursor with the arrow keys until the row ``key`` is highlighted."""
    table.focus()
    await pilot.pause()
    await pilot.press("ctrl+home")
    for _ in range(table.row_count):
        if table.selected_key() == str(key):
            return
        await pilot.press("down")
    assert table.selected_key() == str(key), f"row {key} not found in {table.id}"


async def type_into(pilot, selector: str, text: str) -> Input:
    """Focus the input (as Tab would), clear it with home + ctrl+k, type ``text`` key by key."""
    widget = pilot.app.screen.query_one(selector, Input)
    widget.focus()
    await pilot.pause()
    await pilot.press("home", "ctrl+k", *text)
    assert widget.value == text
    return widget


async def paste_into(pilot, selector: str, text: str) -> Input:
    """Focus the input, clear it, and paste ``text`` (one terminal paste event, as from the clipboard)."""
    widget = pilot.app.screen.query_one(selector, Input)
    widget.focus()
    await pilot.pause()
    await pilot.press("home", "ctrl+k")
    widget.post_message(events.Paste(text))
    await pilot.pause()
    assert widget.value == text
    return widget


async def painted(pilot, shows, timeout: float = 5.0) -> None:
    """Pause until ``shows()`` is true of the screen (a re-compose and its paint can take a few frames
    on a loaded machine while the app builds other sections ahead); fail after ``timeout`` seconds."""
    import time

    deadline = time.monotonic() + timeout
    while True:
        await pilot.pause()
        try:
            if shows():
                return
        except Exception:  # noqa: BLE001 - a widget queried mid re-compose: look again
            pass
        if time.monotonic() > deadline:
            assert shows(), f"the screen did not settle:\n{screen_text(pilot.app)}"
            return
        await pilot.pause(0.05)
