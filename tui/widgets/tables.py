"""A DataTable that shows text as it is.

DataTable parses plain ``str`` cells as Rich markup, so a bank message or a
client name containing ``[/ref 42]`` would crash the app or lose its
brackets. Here ``str`` cells become ``Text``; a screen that wants styling
passes ``Text`` (e.g. ``styled("overdue", "bold red")``) explicitly.
"""

from __future__ import annotations

from rich.text import Text
from textual.widgets import DataTable


def styled(text: str, style: str) -> Text:
    return Text(text, style=style)


def plain_cells(cells) -> list:
    return [Text(cell) if isinstance(cell, str) else cell for cell in cells]


class PlainDataTable(DataTable):
    def add_row(self, *cells, **kwargs):
        return super().add_row(*plain_cells(cells), **kwargs)
