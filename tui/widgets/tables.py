"""A DataTable that shows text as it is, and safely.

DataTable parses plain ``str`` cells as Rich markup, so a bank message or a
client name containing ``[/ref 42]`` would crash the app or lose its
brackets. Here ``str`` cells become ``Text``; a screen that wants styling
passes ``Text`` (e.g. ``styled("overdue", "bold red")``) explicitly.

A cell narrower than its text (a column cut to fit the terminal) ends in "…".

Every cell is also the choke point for stored text (tui/widgets/shown.py): control characters cannot
reach the terminal and a long value is cut at the table's ``cell_limit``.
"""

from __future__ import annotations

from rich.text import Text
from textual.widgets import DataTable

from tui.widgets.shown import CELL, shown


def styled(text: str, style: str) -> Text:
    return Text(shown(text, CELL), style=style, overflow="ellipsis", no_wrap=True)


def plain_cells(cells, limit: int = CELL) -> list:
    return [_safe_cell(cell, limit) for cell in cells]


def _safe_cell(cell, limit: int):
    if isinstance(cell, str):
        return Text(shown(cell, limit), overflow="ellipsis", no_wrap=True)
    if isinstance(cell, Text) and (len(cell.plain) > limit or not cell.plain.isprintable()):
        # its spans go: they were placed on the old text
        return Text(shown(cell.plain, limit), style=cell.style, overflow="ellipsis", no_wrap=True)
    return cell


class PlainDataTable(DataTable):
    def __init__(self, *args, cell_limit: int = CELL, **kwargs):
        super().__init__(*args, **kwargs)
        self.cell_limit = cell_limit

    def add_row(self, *cells, **kwargs):
        return super().add_row(*plain_cells(cells, self.cell_limit), **kwargs)
