"""Reading and refreshing the Select widgets that filter the lists."""

from __future__ import annotations

from typing import Any, Callable, Iterable

from textual.widgets import Select

from tui.widgets.shown import label


def chosen(select: Select, default: Any = "") -> Any:
    """The selected value, or ``default`` while nothing is selected (Select.NULL before the first paint)."""
    value = select.value
    return default if value is Select.NULL else value


def refresh_choices(
    select: Select, all_label: str, values: Iterable[str], shown_as: Callable[[str], str] = str
) -> None:
    """Replace the options ("all" first, then ``values`` as ``shown_as`` names them) keeping the selection
    if it still exists."""
    values = list(values)
    current = chosen(select)
    with select.prevent(Select.Changed):
        select.set_options([(all_label, "")] + [(label(shown_as(v)), v) for v in values])  # stored names: not markup
        select.value = current if current in values else ""
