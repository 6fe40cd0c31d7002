"""Stored text on the screen: the one way a screen shows a string that came from the database.

Whatever is stored (a bank message imported before text was cleaned at import, a hand-edited database
file, a 200 MB value) reaches the terminal only through these helpers: control characters become
spaces and bidi overrides are dropped (``core.values.text.for_terminal``), a long value is cut with an
ellipsis, and the result is plain text, never markup (a name such as ``[bold red]x[/]`` shows as typed).
Rich and Textual strip only a few control codes themselves (not ESC, not the 8-bit CSI).

Tables need nothing: ``PlainDataTable`` passes every cell through :func:`shown`.
"""

from __future__ import annotations

from typing import Iterable

from rich.text import Text
from textual.content import Content

from core.values.limits import MAX_LOG_LINE, MAX_TEXT_LENGTH
from core.values.text import ELLIPSIS, for_terminal

CELL = 200  # a table cell: wider than any list gives a column, short enough to render at once
LINE = MAX_TEXT_LENGTH  # a line of a detail pane, a dialog or a notification: a stored field in full
DETAIL_LINES = 500  # lines of a multi-line value (a backtrace, a raw movement) a detail pane shows


def shown(value: object, limit: int = LINE) -> str:
    """``value`` as one terminal-safe line of at most ``limit`` characters (``None`` is "")."""
    if value is None:
        return ""
    text = value if type(value) is str else str(value)
    if len(text) <= limit:
        return for_terminal(text)
    # Cut before cleaning: a 200 MB value costs what its first characters cost.
    return for_terminal(text[: 2 * limit])[: limit - 1] + ELLIPSIS


def shown_lines(value: object, limit: int = LINE, max_lines: int = DETAIL_LINES) -> str:
    """Several terminal-safe lines (each as :func:`shown`), at most ``max_lines`` of them.

    A longer value ends with a line of its own, "…", so the cut is visible.
    """
    if value is None:
        return ""
    text = value if type(value) is str else str(value)
    most = (limit + 1) * max_lines  # enough characters for max_lines full lines: the rest is cut unread
    lines = text[:most].split("\n")
    cut = len(text) > most or len(lines) > max_lines
    parts = [shown(line.removesuffix("\r"), limit) for line in lines[:max_lines]]
    if cut:
        parts.append(ELLIPSIS)
    return "\n".join(parts)


def plain(value: object, limit: int = LINE) -> Content:
    """One safe line for a Static or a Label: shown as it is, never read as markup."""
    return Content(shown(value, limit))


def plain_lines(value: object, limit: int = LINE) -> Content:
    """Several safe lines for a Static, never read as markup."""
    return Content(shown_lines(value, limit))


def label(value: object, limit: int = CELL) -> Text:
    """A Select option or any prompt Textual would otherwise read as markup."""
    return Text(shown(value, limit))


def markup(template: str, **values: object) -> Content:
    """Our markup ``template`` with stored ``values`` put in as plain, safe text (``$name`` in the template)."""
    return Content.from_markup(template, **{name: shown(value) for name, value in values.items()})


def log_lines(lines: Iterable[object]) -> list[str]:
    """Lines for a Log widget (it replaces only some control codes itself, not ESC)."""
    return [shown(line, MAX_LOG_LINE) for line in lines]
