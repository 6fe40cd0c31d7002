"""Recurring: the rules that create records by themselves, with each one's next occurrence.

``n`` adds a rule, ``e`` or ``enter`` edits it, ``space`` enables or disables it, ``delete`` deletes it
(asking first), ``v`` shows it with what it last created. The form shows only the fields that apply to
what the rule creates: a project and the invoice for work, a currency and a counterparty for money.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical, VerticalScroll
from textual.widgets import Label, Select, Static

from core.automation import rules as svc
from core.automation.recurring import rule_records
from core.automation.views import get_rule, rules_page
from core.billing.clients import list_projects, project_label
from core.values.money import from_minor
from tui.i18n import _, day, money, weekday
from tui.screens.base import SectionScreen
from tui.screens.dashboard import MONTH_MSGIDS
from tui.widgets.confirm import Confirm
from tui.widgets.detail import DetailScreen
from tui.widgets.form import FormField, FormScreen
from tui.widgets.paged_table import Col, PagedTable
from tui.widgets.shown import markup, plain, plain_lines
from tui.widgets.tables import styled

NO_INVOICE = "none"  # the invoice choice for "" (a Select shows an empty value as no choice at all)
RECORDS_SHOWN = 10  # what the detail lists of the records a rule created
WORK_ONLY = ("project", "invoice")
MONEY_ONLY = ("currency", "counterparty")


def creates_text(creates: str) -> str:
    return {"work": _("work entry"), "income": _("income"), "expense": _("expense")}.get(creates, creates)


def cadence_text(rule) -> str:
    """The rule's cadence in the app's language, short enough for a list: "monthly, day 15", "weekly, Friday"."""
    if rule.cadence == "weekly":
        return _("weekly, {weekday}").format(weekday=weekday(rule.day))
    if rule.cadence == "monthly":
        return _("monthly, last day") if rule.day >= 31 else _("monthly, day {day}").format(day=rule.day)
    month = _(MONTH_MSGIDS[rule.month - 1]) if rule.month and 1 <= rule.month <= 12 else "?"
    return _("yearly, {month} {day}").format(month=month, day=rule.day)


def invoice_text(mode: str) -> str:
    return {"draft": _("a draft invoice"), "sent": _("an invoice marked sent")}.get(mode, _("no invoice"))


def project_options(current=None) -> list[tuple[str, int]]:
    """Active projects, and the rule's own project even if archived since (a Select needs its value)."""
    options = [(project_label(p), p.id) for p in list_projects()]
    if current is not None and all(key != current.id for _label, key in options):
        options.append((project_label(current), current.id))
    return options


def _amount_text(rule) -> str:
    return str(from_minor(rule.amount, rule.currency)) if rule else ""


def rule_fields(rule) -> list[FormField]:
    """The rule form, empty for a new rule (``rule`` None)."""
    options = project_options(rule.project if rule and rule.project_id else None)
    default_project = rule.project_id if rule else (options[0][1] if len(options) == 1 else None)
    return [
        FormField("name", _("Name"), value=rule.name if rule else "", required=True),
        FormField(
            "creates",
            _("Creates"),
            "choice",
            rule.creates if rule else "work",
            options=[(_("work entry"), "work"), (_("income"), "income"), (_("expense"), "expense")],
        ),
        FormField(
            "project",
            _("Project"),
            "choice",
            default_project,
            options=options,
            allow_blank=True,
            help=_("The work entry's project; the amount is in its client's currency."),
        ),
        FormField(
            "amount",
            _("Amount"),
            "money",
            _amount_text(rule),
            required=True,
            help=_("Each occurrence's amount; 0 skips the occurrences."),
        ),
        FormField("currency", _("Currency"), value=rule.currency if rule else "", help=_("Empty: the profile's.")),
        FormField("counterparty", _("Counterparty"), value=rule.counterparty if rule else ""),
        FormField(
            "description",
            _("Description"),
            value=rule.description if rule else "",
            help=_("Of each created record; empty: the rule's name."),
        ),
        FormField(
            "cadence",
            _("Cadence"),
            "choice",
            rule.cadence if rule else "monthly",
            options=[(_("weekly"), "weekly"), (_("monthly"), "monthly"), (_("yearly"), "yearly")],
        ),
        FormField(
            "on",
            _("On"),
            value=svc.on_text(rule) if rule else "",
            help=_(
                "Weekly: mon to sun. Monthly: 1 to 31 (31: the month's last day). Yearly: MM-DD, e.g. 12-24. "
                "Empty: as the start date."
            ),
        ),
        FormField("start_on", _("Start date"), "date", rule.start_on.isoformat() if rule else "today", required=True),
        FormField(
            "end_on",
            _("End date"),
            "date",
            rule.end_on.isoformat() if rule and rule.end_on else "",
            help=_("Empty: no end."),
        ),
        FormField(
            "invoice",
            _("Invoice"),
            "choice",
            (rule.invoice or NO_INVOICE) if rule else NO_INVOICE,
            options=[
                (_("no invoice"), NO_INVOICE),
                (_("a draft invoice"), "draft"),
                (_("an invoice marked sent"), "sent"),
            ],
            help=_("A work rule can also issue the period's invoice for the project's client."),
        ),
    ]


def rule_values(values: dict[str, Any]) -> dict[str, Any]:
    """The form's values as the service takes them: only the fields that apply to what the rule creates."""
    data = dict(values)
    if data.get("invoice") in (None, NO_INVOICE):
        data["invoice"] = ""
    if data.get("creates") == "work":
        for key in MONEY_ONLY:
            data.pop(key, None)
    else:
        data["project"] = None
        data["invoice"] = ""
    return data


class RuleForm(FormScreen):
    """The rule form: the fields of what the rule creates are shown, the others hidden."""

    def on_mount(self) -> None:
        super().on_mount()
        self._show_fields_for(self.query_one("#field-creates", Select).value)

    def on_select_changed(self, event: Select.Changed) -> None:
        if event.select.id == "field-creates":
            self._show_fields_for(event.value)

    def _show_fields_for(self, creates) -> None:
        work = creates == "work"
        for key in WORK_ONLY:
            self.query_one(f"#row-{key}").set_class(not work, "hidden")
        for key in MONEY_ONLY:
            self.query_one(f"#row-{key}").set_class(work, "hidden")


class RuleDetailScreen(DetailScreen):
    """A rule in full, its next occurrence and the records it last created."""

    def __init__(self, rule):
        super().__init__()
        self.rule = rule

    def compose(self) -> ComposeResult:
        r = self.rule
        due = svc.next_due(r)
        what = creates_text(r.creates)
        target = project_label(r.project) if r.project_id else r.counterparty
        lines = [
            (_("Creates"), f"{what} · {target}" if target else what),
            (_("Amount"), money(r.amount, r.currency) + (f" ({_('skipped')})" if r.amount == 0 else "")),
            (_("Cadence"), cadence_text(r)),
            (_("Start date"), day(r.start_on)),
            (_("End date"), day(r.end_on) if r.end_on else "—"),
            (_("Next due"), day(due) if due else _("ended")),
            (_("Last handled"), day(r.last_on) if r.last_on else "—"),
            (_("Enabled"), _("yes") if r.enabled else _("no")),
        ]
        if r.creates == "work":
            lines.append((_("Invoice"), invoice_text(r.invoice)))
        if r.description:
            lines.append((_("Description"), r.description))
        width = max(len(key) for key, _value in lines)
        template = "\n".join(f"[b]{key.ljust(width)}[/b]  $v{i}" for i, (key, _value) in enumerate(lines))
        with Vertical(classes="dialog detail-dialog", id="rule-detail"):
            yield Static(plain(f"{_('Recurring rule')} · {r.name}"), classes="dialog-title")
            with VerticalScroll():
                yield Static(markup(template, **{f"v{i}": value for i, (_key, value) in enumerate(lines)}))
                yield Label(_("Last created"), classes="pane-title")
                records = rule_records(r, RECORDS_SHOWN)
                if records:
                    cells = [(day(d), creates_text(kind), money(amount, cur)) for d, kind, amount, cur in records]
                    widths = [max(len(row[i]) for row in cells) for i in range(3)]
                    made = [f"{a.ljust(widths[0])}  {b.ljust(widths[1])}  {c.rjust(widths[2])}" for a, b, c in cells]
                    yield Static(plain_lines("\n".join(made)), id="rule-records")
                else:
                    yield Static(_("Nothing yet."), id="rule-records")


class RecurringScreen(SectionScreen):
    SECTION = "recurring"
    TITLE_MSGID = "Recurring"
    BINDINGS = [
        Binding("n", "new_rule", "New rule"),
        Binding("e", "edit_rule", "Edit"),
        Binding("space", "toggle_enabled", "Enable/disable"),
        Binding("delete", "delete_rule", "Delete"),
        Binding("v", "detail", "Detail"),
        Binding("r", "refresh", "Refresh", show=False),
    ]

    def body(self) -> ComposeResult:
        with Vertical(id="recurring"):
            yield Static(_("No recurring rules yet: n adds one."), id="recurring-empty", classes="hidden")
            yield PagedTable(
                self.fetch,
                [
                    Col(_("Name"), "name", cut_to=12),
                    Col(_("Creates"), "creates", give=2),
                    Col(_("Project"), "project", give=3, cut_to=12),
                    Col(_("Amount"), "amount"),
                    Col(_("Cadence"), "cadence"),
                    Col(_("Next due"), "next"),
                    Col(_("Enabled"), "enabled"),
                ],
                id="rules",
            )

    def on_mount(self) -> None:
        super().on_mount()
        self.query_one("#rules", PagedTable).focus()
        self._show_empty_hint()

    @staticmethod
    def EXTRA_HELP_ROWS():
        return [("enter", _("Edit"))]

    def fetch(self, offset: int, limit: int):
        rows = []
        for r in rules_page(offset, limit):
            due = svc.next_due(r)
            rows.append(
                (
                    r.id,
                    [
                        r.name,
                        creates_text(r.creates),
                        project_label(r.project) if r.project_id else "",
                        money(r.amount, r.currency),
                        cadence_text(r),
                        day(due) if due else _("ended"),
                        _("yes") if r.enabled else styled(_("no"), "dim"),
                    ],
                )
            )
        return rows

    def refresh_data(self) -> None:
        self.query_one("#rules", PagedTable).reload()
        self._show_empty_hint()

    def _show_empty_hint(self) -> None:
        empty = self.query_one("#rules", PagedTable).row_count == 0
        self.query_one("#recurring-empty").set_class(not empty, "hidden")

    def action_refresh(self) -> None:
        self.refresh_data()

    def on_data_table_row_selected(self, event) -> None:
        self.action_edit_rule()

    def _selected(self):
        key = self.query_one("#rules", PagedTable).selected_key()
        return get_rule(int(key)) if key else None

    def action_new_rule(self) -> None:
        self.app.push_screen(
            RuleForm(_("New recurring rule"), rule_fields(None), lambda values: svc.add_rule(**rule_values(values))),
            self._saved,
        )

    def action_edit_rule(self) -> None:
        rule = self._selected()
        if rule is None:
            return
        self.app.push_screen(
            RuleForm(
                _("Edit recurring rule"), rule_fields(rule), lambda values: svc.edit_rule(rule, **rule_values(values))
            ),
            self._saved,
        )

    def _saved(self, rule) -> None:
        if rule is None:
            return
        due = svc.next_due(rule)
        self.notify(_("Saved; next due {day}.").format(day=day(due)) if due else _("Saved; the rule has ended."))
        self.refresh_data()
        if rule.enabled and due is not None and due <= date.today():
            self.app.run_due_now()  # its occurrences up to today: now, not at the next round in a few minutes

    def action_toggle_enabled(self) -> None:
        rule = self._selected()
        if rule is None:
            return
        rule = svc.set_enabled(rule, not rule.enabled)
        if rule.enabled:
            self.notify(_("{name} enabled; what it missed is created at the next run.").format(name=rule.name))
            self.app.run_due_now()
        else:
            self.notify(_("{name} disabled; it creates nothing until enabled again.").format(name=rule.name))
        self.refresh_data()

    def action_delete_rule(self) -> None:
        rule = self._selected()
        if rule is None:
            return

        def answered(yes: bool | None) -> None:
            if yes:
                svc.delete_rule(rule)
                self.notify(_("Rule deleted."))
                self.refresh_data()

        self.app.push_screen(
            Confirm(_("Delete the rule {name}? What it created stays.").format(name=rule.name), _("Delete")), answered
        )

    def action_detail(self) -> None:
        rule = self._selected()
        if rule is not None:
            self.app.push_screen(RuleDetailScreen(rule))
