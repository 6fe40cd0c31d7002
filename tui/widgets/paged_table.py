"""A DataTable that reads one page at a time from a core query.

``fetch(offset, limit)`` returns rows as ``(key, [cells])``. The first page
is read on load; the next one when the cursor comes near the end of what is
loaded, so the cursor never jumps and a table of a million rows costs one
page to show. Nothing counts the whole table: ``fetch`` asks for one row
more than a page to know whether more exist.

Columns given as ``Col`` fit the table's width (recomputed on resize): when
not every column fits at its natural width, the columns that may be cut are
cut (ending in …), then the ones that may give way are hidden, the least
important first. The money, status and invoice columns are declared to stay.
"""

from __future__ import annotations

from typing import Any, Callable, NamedTuple, Sequence

from rich.cells import cell_len
from rich.text import Text
from textual.widgets import DataTable
from textual.widgets.data_table import CellDoesNotExist, ColumnKey, RowDoesNotExist

from tui.widgets.tables import PlainDataTable, plain_cells

Row = tuple[Any, Sequence[Any]]
Fetch = Callable[[int, int], list[Row]]


class Col(NamedTuple):
    """A column and how it gives way when the table is too narrow for every column."""

    label: str
    key: str
    give: int = 0  # 0: always shown; otherwise hidden when nothing else helps, the highest first
    cut_to: int = 0  # the narrowest it is cut to (with …) before anything is hidden; 0: never cut
    fill: bool = False  # takes the width that is left (a description)


def plan_widths(
    cols: Sequence[Col], natural: dict[str, int], available: int, padding: int = 1
) -> list[tuple[str, int]]:
    """The columns to show, in order, with their widths, so that they fit ``available`` cells.

    Columns that may be cut are cut first (fill columns, then the highest ``give``); when even their
    narrowest widths do not fit, the highest ``give`` is hidden and the others get the room back. What
    cannot fit even then (only columns that always stay) is left to the horizontal scrollbar.
    """
    gap = 2 * padding
    shown = list(cols)

    def narrowest(col: Col) -> int:  # a header is never cut: "Descriptio" would be a riddle
        return min(max(col.cut_to, cell_len(col.label)), natural[col.key]) if col.cut_to else natural[col.key]

    while sum(narrowest(c) + gap for c in shown) > available and any(c.give for c in shown):
        shown.remove(max((c for c in shown if c.give), key=lambda c: c.give))
    widths = {c.key: natural[c.key] for c in shown}
    excess = sum(widths.values()) + gap * len(shown) - available
    for col in sorted((c for c in shown if c.cut_to), key=lambda c: (not c.fill, -c.give)):
        if excess <= 0:
            break
        cut = min(excess, widths[col.key] - narrowest(col))
        widths[col.key] -= cut
        excess -= cut
    fill = next((c for c in shown if c.fill), None)
    if fill is not None and excess < 0:
        widths[fill.key] -= excess  # the slack goes to the description
    return [(c.key, widths[c.key]) for c in shown]


def _width(cell) -> int:
    return cell.cell_len if isinstance(cell, Text) else cell_len(str(cell))


class PagedTable(PlainDataTable):
    PAGE_SIZE = 100
    PREFETCH_MARGIN = 10

    def __init__(
        self, fetch: Fetch, columns: Sequence[str | tuple[str, str] | Col], signature: object = None, **kwargs
    ):
        kwargs.setdefault("cursor_type", "row")
        kwargs.setdefault("zebra_stripes", True)
        super().__init__(**kwargs)
        self.fetch = fetch
        self.cols = [
            spec if isinstance(spec, Col) else Col(spec, spec) if isinstance(spec, str) else Col(*spec)
            for spec in columns
        ]
        # Only tables that declare how their columns give way are fitted (and keep their rows' cells).
        self.fits = any(c.give or c.cut_to or c.fill for c in self.cols)
        self.natural = {c.key: cell_len(c.label) for c in self.cols}
        self.shown_keys = [c.key for c in self.cols]
        self.widths: dict[str, int] = {}
        self.cells: dict[str, list] = {}  # every loaded row's cells, hidden columns included
        self.loaded = 0
        self.has_more = False
        self.signature = signature  # what the current fetch filters on

    def on_mount(self) -> None:
        self._add_columns()
        self.reload()

    def _add_columns(self) -> None:
        for col in self.cols:
            if col.key in self.shown_keys:
                self.add_column(col.label, key=col.key, width=self.widths.get(col.key))

    def _shown_cells(self, cells: list) -> list:
        if len(self.shown_keys) == len(self.cols):
            return cells
        return [cell for col, cell in zip(self.cols, cells, strict=True) if col.key in self.shown_keys]

    def _append_page(self) -> None:
        rows = self.fetch(self.loaded, self.PAGE_SIZE + 1)
        self.has_more = len(rows) > self.PAGE_SIZE
        for key, cells in rows[: self.PAGE_SIZE]:
            if self.fits:
                cells = plain_cells(cells, self.cell_limit)  # measured as shown
                self.cells[str(key)] = cells
                for col, cell in zip(self.cols, cells, strict=True):
                    self.natural[col.key] = max(self.natural[col.key], _width(cell))
                cells = self._shown_cells(cells)
            self.add_row(*cells, key=str(key))
        self.loaded += min(len(rows), self.PAGE_SIZE)
        self.fit()

    def on_resize(self) -> None:
        self.fit()

    def fit(self) -> None:
        """Give the columns widths that fit the table's width; hide what must give way."""
        available = self.content_region.width - self.styles.scrollbar_size_vertical
        if not self.fits or available <= 0 or not self.columns:
            return
        plan = plan_widths(self.cols, self.natural, available, self.cell_padding)
        self.widths = dict(plan)
        if [key for key, _width in plan] != self.shown_keys:
            self._rebuild([key for key, _width in plan])
            return
        for key, width in plan:
            column = self.columns[ColumnKey(key)]
            column.width, column.auto_width = width, False
        self._require_update_dimensions = True  # DataTable re-measures on its next idle
        self.refresh()

    def _rebuild(self, shown_keys: list[str]) -> None:
        """Show another set of columns: the loaded rows again, from memory, with the cursor on its row."""
        selected = self.selected_key()
        self.shown_keys = shown_keys
        self.clear(columns=True)
        self._add_columns()
        for key, cells in self.cells.items():
            self.add_row(*self._shown_cells(cells), key=key)
        self._restore_cursor(selected)

    def _restore_cursor(self, selected: str | None) -> None:
        if selected is not None:
            try:
                self.move_cursor(row=self.get_row_index(selected))
            except RowDoesNotExist:  # the row is gone (deleted or filtered out)
                pass

    def reload(self, keep_cursor: bool = True) -> None:
        """Re-read from the start, as many rows as were loaded, keeping the cursor on its row."""
        selected = self.selected_key() if keep_cursor else None
        want = max(self.loaded, self.PAGE_SIZE)
        self.clear()
        self.cells.clear()
        self.natural = {c.key: cell_len(c.label) for c in self.cols}
        self.loaded = 0
        self.has_more = True
        while self.has_more and self.loaded < want:
            self._append_page()
        self._restore_cursor(selected)

    def selected_key(self) -> str | None:
        if self.row_count == 0:
            return None
        try:
            return self.coordinate_to_cell_key(self.cursor_coordinate).row_key.value
        except CellDoesNotExist:  # the cursor sits past the rows (a page is being replaced)
            return None

    def on_data_table_row_highlighted(self, event: DataTable.RowHighlighted) -> None:
        if self.has_more and event.cursor_row >= self.row_count - self.PREFETCH_MARGIN:
            self._append_page()

    def set_fetch(self, fetch: Fetch, signature: object = None) -> None:
        """Change the query (a filter changed) and show its first page.

        ``signature`` identifies the filter; setting the same one again (as
        widgets do when they first post their value) reads nothing.
        """
        if signature is not None and signature == self.signature:
            return
        self.signature = signature
        self.fetch = fetch
        self.loaded = 0
        self.reload(keep_cursor=False)
        if self.row_count:
            self.move_cursor(row=0)
