"""Dashboard: this week and month, what is unbilled, outstanding, overdue, received, 12 months."""

from __future__ import annotations

from textual import events, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Grid, VerticalScroll
from textual.widgets import Static

from core.billing.clients import project_label
from core.billing.reports import Dashboard, dashboard
from core.billing.timesheet import running_timer
from core.values.dates import format_minutes
from tui.i18n import _, money, said
from tui.screens.base import SectionScreen
from tui.widgets.shown import CELL, markup, shown

MIN_BAR = 4
# The chart card's frame and the dashboard's: padding 1 each side, the card's border and padding, a scrollbar.
CHART_FRAME = 9
REMINDERS_DELAY_SECONDS = 0.3
MONTH_MSGIDS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]


def _amounts(per_currency: dict[str, int]) -> str:
    if not per_currency:
        return "—"
    return "\n".join(money(amount, cur) for cur, amount in sorted(per_currency.items()))


def chart_currencies(data: Dashboard) -> list[str]:
    return sorted(set(data.invoiced_by_month) | set(data.received_by_month))


def chart(data: Dashboard, currency: str, width: int = 80, two_lines: bool = False) -> str:
    """Invoiced vs received per month for one currency, ``width`` cells wide.

    One line per month with the two bars side by side, or (``two_lines``, when the screen is tall
    enough) the invoiced bar above the received one, each as long as the width allows."""
    invoiced = data.invoiced_by_month.get(currency, [0] * 12)
    received = data.received_by_month.get(currency, [0] * 12)
    peak = max(invoiced + received) or 1
    lines = [f"[$accent]█[/] {_('invoiced')}   [$success]█[/] {_('received')}"]
    if two_lines:
        amount_width = max(len(money(a, currency)) for a in invoiced + received)
        bar = max(MIN_BAR, width - 6 - 2 - amount_width)
    else:
        pairs = zip(invoiced, received, strict=False)
        amount_width = max(len(f"{money(i, currency)} / {money(r, currency)}") for i, r in pairs)
        bar = max(MIN_BAR, (width - 6 - 3 - amount_width) // 2)
    for month, inv, rec in zip(data.months, invoiced, received, strict=False):
        label = f"{_(MONTH_MSGIDS[month.month - 1])} {month.year % 100:02d}"
        inv_bar = "█" * round(bar * inv / peak)
        rec_bar = "█" * round(bar * rec / peak)
        if two_lines:
            lines.append(f"{label:>6} [$accent]{inv_bar:<{bar}}[/] {money(inv, currency) if inv else ''}")
            lines.append(f"{'':>6} [$success]{rec_bar:<{bar}}[/] {money(rec, currency) if rec else ''}")
            continue
        amounts = f"{money(inv, currency)} / {money(rec, currency)}" if inv or rec else ""
        lines.append(f"{label:>6} [$accent]{inv_bar:<{bar}}[/] [$success]{rec_bar:<{bar}}[/] {amounts}")
    return "\n".join(lines)


class DashboardScreen(SectionScreen):
    SECTION = "dashboard"
    TITLE_MSGID = "Dashboard"
    BINDINGS = [
        Binding("g", "next_currency", "Chart currency"),
        Binding("r", "refresh", "Refresh"),
    ]
    # Classes for app.tcss: six cards in one row on a wide terminal, three per row otherwise.
    HORIZONTAL_BREAKPOINTS = [(0, "-narrow"), (150, "-wide")]

    chart_index = 0
    _reminders_shown = False
    _chart_size: tuple[int, int] = (0, 0)

    def body(self) -> ComposeResult:
        # Scrolls (arrows, page keys, the wheel): at 80x24 the chart is below the cards.
        with VerticalScroll(id="dashboard"):
            with Grid(id="cards"):
                for card in ("week", "month", "unbilled", "outstanding", "overdue", "received"):
                    yield Static(id=f"card-{card}", classes="card")
            yield Static(id="reminders", classes="card wide")
            yield Static(id="timer-card", classes="card wide")
            yield Static(id="chart", classes="card wide")

    def on_mount(self) -> None:
        super().on_mount()
        self.refresh_data()

    def action_next_currency(self) -> None:
        self.chart_index += 1
        self.refresh_data()

    def on_resize(self, event: events.Resize) -> None:
        if self._chart_size != tuple(event.size):
            self.refresh_data()

    def _chart_layout(self) -> tuple[int, bool]:
        """The chart's width, and whether a month gets two lines (the screen is tall enough)."""
        width, height = self.size
        self._chart_size = (width, height)
        cards = 7 if self.has_class("-wide") else 15  # one row of cards or two, with the gutter
        room = height - 2 - cards - 3 - 4  # header and footer, the cards, the timer, the chart's frame
        return max(40, width - CHART_FRAME), room >= 2 * 12

    def action_refresh(self) -> None:
        self.refresh_data()

    @work(thread=True, exit_on_error=False, group="reminders")
    def _read_reminders(self) -> None:
        """What needs the person, read in a thread: a few queries (the oldest overdue invoices, movements to
        review, failed syncs, expiring secrets) that must not hold up the figures or a key."""
        from core.automation.reminders import read_reminders  # its imports stay out of start-up

        found = read_reminders()
        if self.app.is_running:
            self.app.call_from_thread(self._show_reminders, found)

    def _show_reminders(self, found: list) -> None:
        """Each reminder in the app's language, with what to do about it, dimmed."""
        if not self.query("#reminders"):
            return  # being composed again meanwhile: it reads them once mounted
        card = self.query_one("#reminders", Static)
        card.set_class(bool(found), "attention")
        title = f"[b]{_('Reminders')}[/b]"
        if not found:
            card.update(f"{title}\n{_('Nothing needs you.')}")
            return
        lines, values = [title], {}
        for i, reminder in enumerate(found):
            values[f"text{i}"] = said(reminder.text)
            lines.append(f"• $text{i}")
            if reminder.fix:
                values[f"fix{i}"] = said(reminder.fix)
                lines.append(f"[dim]$fix{i}[/dim]")
        card.update(markup("\n".join(lines), **values))

    def refresh_data(self) -> None:
        if not self.query("#card-week"):
            return  # being composed (a rebuild, a language switch): it reads its figures once mounted
        data = self.app.take_figures_ahead() or dashboard()
        self.query_one("#card-week", Static).update(
            f"[b]{_('This week')}[/b]\n{format_minutes(data.week.minutes)} h\n{_amounts(data.week.billable)}"
        )
        self.query_one("#card-month", Static).update(
            f"[b]{_('This month')}[/b]\n{format_minutes(data.month.minutes)} h\n{_amounts(data.month.billable)}"
        )
        self.query_one("#card-unbilled", Static).update(f"[b]{_('Unbilled')}[/b]\n{_amounts(data.unbilled)}")
        self.query_one("#card-outstanding", Static).update(
            f"[b]{_('Outstanding')} ({data.outstanding_count})[/b]\n{_amounts(data.outstanding)}"
        )
        overdue = self.query_one("#card-overdue", Static)
        overdue.update(f"[b]{_('Overdue')} ({data.overdue_count})[/b]\n{_amounts(data.overdue)}")
        overdue.set_class(data.overdue_count > 0, "alert")
        self.query_one("#card-received", Static).update(
            f"[b]{_('Received this year')}[/b]\n{_amounts(data.received_this_year)}"
        )
        if self._reminders_shown:
            self._read_reminders()
        else:  # at start-up: once the figures have painted (the reader's imports and queries would slow that)
            self._reminders_shown = True
            self.set_timer(REMINDERS_DELAY_SECONDS, self._read_reminders)
        timer = running_timer()
        text = (
            f"⏱ {project_label(timer.project)} · {timer.description or ''} · {_('since')} {timer.started_at:%H:%M} UTC"
            if timer
            else _("not running (ctrl+t starts it)")
        )
        self.query_one("#timer-card", Static).update(markup(f"[b]{_('Timer')}:[/b] $text", text=shown(text, CELL)))
        currencies = chart_currencies(data)
        title = _("Invoiced vs received, last 12 months")
        if not currencies:
            self.query_one("#chart", Static).update(
                f"[b]{title}[/b]\n{_('Nothing invoiced in the last 12 months yet.')}"
            )
            return
        currency = currencies[self.chart_index % len(currencies)]
        hint = f"  ({_('g: next currency')})" if len(currencies) > 1 else ""
        width, two_lines = self._chart_layout()
        self.query_one("#chart", Static).update(
            f"[b]{title}: {currency}[/b]{hint}\n{chart(data, currency, width, two_lines)}"
        )
