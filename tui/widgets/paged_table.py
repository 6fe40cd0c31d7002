"""A DataTable that reads one page at a time from a core query.

``fetch(offset, limit)`` returns rows as ``(key, [cells])``. The first page
is read on load; the next one when the cursor comes near the end of what is
loaded, so the cursor never jumps and a table of a million rows costs one
page to show. Nothing counts the whole table: ``fetch`` asks for one row
more than a page to know whether more exist.
"""

from __future__ import annotations

from typing import Any, Callable, Sequence

from textual.widgets import DataTable
from textual.widgets.data_table import CellDoesNotExist, RowDoesNotExist

from tui.widgets.tables import PlainDataTable

Row = tuple[Any, Sequence[Any]]
Fetch = Callable[[int, int], list[Row]]


class PagedTable(PlainDataTable):
    PAGE_SIZE = 100
    PREFETCH_MARGIN = 10

    def __init__(self, fetch: Fetch, columns: Sequence[str | tuple[str, str]], signature: object = None, **kwargs):
        kwargs.setdefault("cursor_type", "row")
        kwargs.setdefault("zebra_stripes", True)
        super().__init__(**kwargs)
        self.fetch = fetch
        self.column_specs = columns
        self.loaded = 0
        self.has_more = False
        self.signature = signature  # what the current fetch filters on

    def on_mount(self) -> None:
        for spec in self.column_specs:
            label, key = (spec, spec) if isinstance(spec, str) else spec
            self.add_column(label, key=key)
        self.reload()

    def _append_page(self) -> None:
        rows = self.fetch(self.loaded, self.PAGE_SIZE + 1)
        self.has_more = len(rows) > self.PAGE_SIZE
        for key, cells in rows[: self.PAGE_SIZE]:
            self.add_row(*cells, key=str(key))
        self.loaded += min(len(rows), self.PAGE_SIZE)

    def reload(self, keep_cursor: bool = True) -> None:
        """Re-read from the start, as many rows as were loaded, keeping the cursor on its row."""
        selected = self.selected_key() if keep_cursor else None
        want = max(self.loaded, self.PAGE_SIZE)
        self.clear()
        self.loaded = 0
        self.has_more = True
        while self.has_more and self.loaded < want:
            self._append_page()
        if selected is not None:
            try:
                self.move_cursor(row=self.get_row_index(selected))
            except RowDoesNotExist:  # the row is gone (deleted or filtered out)
                pass

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
