"""Time: the entries list with filters, add/edit/delete, and the timer."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.widgets import Checkbox, Select

from core.billing import timesheet
from core.billing.clients import find_project, list_projects, project_label
from core.billing.timesheet import PERIOD_CHOICES
from core.values.dates import format_minutes
from core.values.money import from_minor
from tui.i18n import _, day, money
from tui.screens.base import SectionScreen
from tui.widgets.confirm import Confirm
from tui.widgets.filters import chosen
from tui.widgets.form import FormField, FormScreen
from tui.widgets.paged_table import Col, PagedTable
from tui.widgets.shown import label


def project_options() -> list[tuple[str, int]]:
    return [(project_label(p), p.id) for p in list_projects()]


def entry_fields(
    entry, default_project: int | None = None, options: list[tuple[str, int]] | None = None
) -> list[FormField]:
    """The entry form, empty for a new entry (``entry`` None)."""

    def currency_value(minor):
        return "" if minor is None else str(from_minor(minor, entry.project.client.currency))

    return [
        FormField(
            "project",
            _("Project"),
            "choice",
            entry.project_id if entry else default_project,
            options=project_options() if options is None else options,
            required=True,
        ),
        FormField("date", _("Date"), "date", entry.date.isoformat() if entry else "today", required=True),
        FormField(
            "duration",
            _("Duration"),
            "text",
            format_minutes(entry.minutes) if entry and entry.minutes else "",
            help=_("90, 1h30m, 1:30 or 1.5h. Leave empty for a fixed amount."),
        ),
        FormField("description", _("Description"), "text", entry.description if entry else ""),
        FormField("billable", _("Billable"), "bool", entry.billable if entry else True),
        FormField(
            "fixed",
            _("Fixed amount"),
            "money",
            currency_value(entry.fixed_amount) if entry else "",
            help=_("Fill in for a fixed-price item instead of hours."),
        ),
        FormField(
            "hourly_rate",
            _("Own hourly rate"),
            "money",
            currency_value(entry.hourly_rate) if entry else "",
            help=_("Leave empty to use the project's, client's or profile's rate."),
        ),
    ]


def submit_entry(entry):
    def submit(values: dict):
        from core.values.validation import ValidationError

        if values["project"] is None:
            raise ValidationError(_("Choose a project."), "project")
        data = timesheet.EntryInput(
            project=find_project(values["project"]),
            date=values["date"],
            duration=values["duration"],
            description=values["description"],
            billable=values["billable"],
            fixed=values["fixed"],
            hourly_rate=values["hourly_rate"],
        )
        return timesheet.edit_entry(entry, data) if entry else timesheet.add_entry(data)

    return submit


class TimeScreen(SectionScreen):
    SECTION = "time"
    TITLE_MSGID = "Time"
    BINDINGS = [
        Binding("n", "new_entry", "New entry"),
        Binding("e", "edit_entry", "Edit"),
        Binding("delete", "delete_entry", "Delete"),
        Binding("u", "toggle_unbilled", "Unbilled only"),
    ]

    def body(self) -> ComposeResult:
        with Vertical(id="time"):
            with Horizontal(classes="filters"):
                yield Select(
                    [(_("All projects"), 0)] + [(label(text), key) for text, key in project_options()],
                    value=0,
                    allow_blank=False,
                    id="filter-project",
                )
                yield Select(
                    [(_(label), value) for label, value in PERIOD_CHOICES],
                    value="all",
                    allow_blank=False,
                    id="filter-period",
                )
                yield Checkbox(_("Unbilled only"), id="filter-unbilled")
            yield PagedTable(
                self.fetch,
                [
                    Col(_("Date"), "date"),
                    Col(_("Project"), "project", cut_to=14),
                    Col(_("Time"), "time"),
                    Col(_("Amount"), "amount"),
                    Col(_("State"), "state"),
                    Col(_("Description"), "description", give=1, cut_to=10, fill=True),
                ],
                signature=(None, None, None, False),
                id="entries",
            )

    def on_mount(self) -> None:
        super().on_mount()
        self.query_one("#entries", PagedTable).focus()

    def _filters(self) -> dict:
        project_id = chosen(self.query_one("#filter-project", Select), 0)
        since, until = timesheet.period_bounds(chosen(self.query_one("#filter-period", Select), "all"))
        return {
            "project": find_project(project_id) if project_id else None,
            "since": since,
            "until": until,
            "unbilled_only": self.query_one("#filter-unbilled", Checkbox).value,
        }

    def fetch(self, offset: int, limit: int):
        entries = list(timesheet.entries_query(**self._filters()).limit(limit).offset(offset))
        rows = []
        for e, amount in zip(entries, timesheet.entry_amounts(entries), strict=True):
            time_text = (
                format_minutes(e.minutes)
                if e.kind == "time" and e.minutes is not None
                else ("⏱" if e.kind == "time" else "")
            )
            rows.append(
                (
                    e.id,
                    [
                        day(e.date),
                        project_label(e.project),
                        time_text,
                        money(amount, e.project.client.currency),
                        _(timesheet.entry_billing_state(e)),
                        ("↻ " if e.source == "recurring" else "") + e.description,  # made by a recurring rule
                    ],
                )
            )
        return rows

    def _refilter(self) -> None:
        filters = self._filters()
        signature = (
            filters["project"].id if filters["project"] else None,
            filters["since"],
            filters["until"],
            filters["unbilled_only"],
        )
        self.query_one(PagedTable).set_fetch(self.fetch, signature)

    def on_select_changed(self, event: Select.Changed) -> None:
        self._refilter()

    def on_checkbox_changed(self, event: Checkbox.Changed) -> None:
        self._refilter()

    def refresh_data(self) -> None:
        self.query_one(PagedTable).reload()

    @staticmethod
    def EXTRA_HELP_ROWS():
        return [("enter", _("Edit"))]

    def on_data_table_row_selected(self, event) -> None:
        self.action_edit_entry()

    def _selected(self):
        key = self.query_one(PagedTable).selected_key()
        return timesheet.get_entry(int(key)) if key else None

    def action_toggle_unbilled(self) -> None:
        box = self.query_one("#filter-unbilled", Checkbox)
        box.value = not box.value

    def action_new_entry(self) -> None:
        options = project_options()
        if not options:
            self.notify(_("Add a client and a project first (press c)."), severity="warning")
            return
        self.app.push_screen(
            FormScreen(_("New entry"), entry_fields(None, self._likely_project(options), options), submit_entry(None)),
            self._saved,
        )

    def _likely_project(self, options: list[tuple[str, int]]) -> int | None:
        """The project a new entry is probably for: the selected entry's, the one the list is filtered
        to, or the only one there is."""
        selected = self._selected()
        if selected:
            return selected.project_id
        filtered = chosen(self.query_one("#filter-project", Select), 0)
        if filtered:
            return filtered
        return options[0][1] if len(options) == 1 else None

    def action_edit_entry(self) -> None:
        entry = self._selected()
        if entry is None:
            return
        if entry.invoice_line_id is not None:
            self.notify(
                _("This entry is billed on invoice {number}; delete or cancel that invoice to change it.").format(
                    number=timesheet.billed_on(entry)
                ),
                severity="warning",
            )
            return
        self.app.push_screen(FormScreen(_("Edit entry"), entry_fields(entry), submit_entry(entry)), self._saved)

    def _saved(self, result) -> None:
        if result is not None:
            self.notify(_("Entry saved."))
            self.refresh_data()

    def action_delete_entry(self) -> None:
        entry = self._selected()
        if entry is None:
            return
        if entry.invoice_line_id is not None:
            self.notify(
                _("This entry is billed on invoice {number}; delete or cancel that invoice to change it.").format(
                    number=timesheet.billed_on(entry)
                ),
                severity="warning",
            )
            return

        def answered(yes: bool | None) -> None:
            if yes:
                timesheet.delete_entry(entry)
                self.notify(_("Entry deleted."))
                self.refresh_data()

        self.app.push_screen(
            Confirm(
                _("Delete the entry of {date} ({project})?").format(
                    date=day(entry.date), project=project_label(entry.project)
                ),
                _("Delete"),
            ),
            answered,
        )
