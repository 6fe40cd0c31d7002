"""Plugins: list, enable/disable, configuration form generated from fields, sync with a live log.

A preview (``v``: a dry run, core.platform.sync.run_sync(dry_run=True)) shows in the same log and saves nothing.
"""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.widgets import Label, Log, ProgressBar, Static

from core.automation.rules import WEEKDAYS
from core.automation.schedule import get_schedule, next_moment, parse_schedule, set_schedule
from core.platform import plugin_config
from core.plugins import UnknownPlugin, get_plugin
from core.store.states import RunStatus
from tui.i18n import _, said, weekday
from tui.screens.base import SectionScreen
from tui.sync_session import (
    SyncFinished,
    SyncLog,
    SyncProgress,
    SyncSession,
    listen,
    start_preview,
    status_text,
    stop_listening,
)
from tui.widgets.form import FormField, FormScreen
from tui.widgets.paged_table import PagedTable
from tui.widgets.shown import log_lines, plain

KIND_TO_FORM = {
    "text": "text",
    "secret": "secret",
    "number": "number",
    "money": "money",
    "date": "date",
    "choice": "choice",
    "bool": "bool",
    "path": "text",
}


def idle_hint() -> str:
    return _("Select a plugin and press r to sync it; its log appears here.")


def plugin_form_fields(name: str) -> list[FormField]:
    """The configuration form, generated from the plugin's ``fields``."""
    plugin = get_plugin(name)
    view = plugin_config.masked_view(name)
    fields = []
    for f in plugin.fields:
        value = view.get(f.key)
        # Plugins declare labels and help in English: shown from the catalog when it has them.
        help_text = _(f.help) if f.help else ""
        if f.secret:
            # A stored secret is never shown or sent back: empty means "keep it".
            help_text = (help_text + " " if help_text else "") + (
                _("Saved; type a new value to replace it.") if value else _("Not set yet.")
            )
            value = ""
        fields.append(
            FormField(
                f.key,
                _(f.label),
                KIND_TO_FORM[f.kind],
                "" if value is None else value,
                options=[(c, c) for c in f.choices],
                help=help_text,
                required=f.required,
                allow_blank=not f.required,
            )
        )
    return fields


class PluginsScreen(SectionScreen):
    SECTION = "plugins"
    TITLE_MSGID = "Plugins"
    BINDINGS = [
        Binding("space", "toggle_enabled", "Enable/disable"),
        Binding("e", "configure", "Configure"),
        Binding("r", "sync", "Sync now"),
        Binding("x", "cancel_sync", "Cancel sync"),  # in the footer only while a sync runs (check_action)
        Binding("v", "preview", "Preview"),
        Binding("w", "schedule", "Schedule"),
        Binding("l", "clear_log", "Clear log", show=False),
    ]

    def body(self) -> ComposeResult:
        with Vertical(id="plugins"):
            yield PagedTable(
                self.fetch,
                [
                    (_("Plugin"), "name"),
                    (_("Version"), "version"),
                    (_("Enabled"), "enabled"),
                    (_("Configured"), "configured"),
                    (_("Last sync"), "last"),
                    (_("Result"), "status"),
                ],
                id="plugin-list",
            )
            with Vertical(id="sync-panel", classes="pane"):
                with Horizontal(classes="sync-head"):
                    yield Label(_("Sync log"), classes="pane-title", id="sync-title")
                    bar = ProgressBar(id="sync-progress", show_eta=False)
                    bar.display = False  # shown once a sync reports progress: an idle bar would pulse as if busy
                    yield bar
                    yield Static("", id="sync-counts")
                yield Log(id="sync-log", max_lines=5000, auto_scroll=True)

    def on_mount(self) -> None:
        super().on_mount()
        self.query_one("#plugin-list").focus()
        self._shown_lines = 0
        self._shown_session: SyncSession | None = None
        self._cancel_offered = False  # whether the footer shows "Cancel sync" (check_action)
        listen(self)  # first: a line logged from now on arrives as a message, and show() covers the rest
        if self.app.current_sync is None:
            self.query_one("#sync-log", Log).write_line(idle_hint())
        else:
            self.show(self.app.current_sync)

    def on_unmount(self) -> None:
        stop_listening(self)

    @staticmethod
    def EXTRA_HELP_ROWS():
        return [("enter", _("Configure"))]

    def fetch(self, offset: int, limit: int):
        rows = []
        for s in plugin_config.all_statuses()[offset : offset + limit]:
            last = s.last_run
            rows.append(
                (
                    s.name,
                    [
                        s.name,
                        s.version,
                        _("yes") if s.enabled else _("no"),
                        (_("broken") + ": " + (s.problem or ""))
                        if s.broken
                        else _("yes")
                        if s.configured
                        else _("secrets unreadable: restore the key file or run fakturka keys reset")
                        if s.secrets_unreadable  # the whole reason: fakturka plugins
                        else (_("missing") + ": " + ", ".join(s.missing) if s.missing else _("no")),
                        last.started_at.strftime("%Y-%m-%d %H:%M") if last and last.started_at else "—",
                        status_text(last) if last else "—",
                    ],
                )
            )
        return rows

    def refresh_data(self) -> None:
        self.query_one(PagedTable).reload()

    def selected(self) -> str | None:
        return self.query_one(PagedTable).selected_key()

    def on_data_table_row_selected(self, event) -> None:
        self.action_configure()

    def _usable(self, name: str) -> bool:
        """False (and the reason notified) for a plugin that failed its start-up check."""
        try:
            get_plugin(name)
        except UnknownPlugin as exc:
            self.notify(said(exc), severity="error", timeout=10)
            return False
        return True

    def action_toggle_enabled(self) -> None:
        name = self.selected()
        if name is None or not self._usable(name):
            return
        status = plugin_config.plugin_status(name)
        plugin_config.set_enabled(name, not status.enabled)
        self.notify((_("{name} enabled.") if not status.enabled else _("{name} disabled.")).format(name=name))
        self.refresh_data()

    def action_configure(self) -> None:
        name = self.selected()
        if name is None or not self._usable(name):
            return

        def submit(values: dict):
            return plugin_config.configure(name, values)

        def saved(result) -> None:
            if result is not None:
                self.notify(_("{name} configuration saved.").format(name=name))
                self.refresh_data()

        self.app.push_screen(
            FormScreen(_("Configure {name}").format(name=name), plugin_form_fields(name), submit), saved
        )

    def action_schedule(self) -> None:
        """When the selected plugin syncs by itself (run by the app and `fakturka run-due`)."""
        name = self.selected()
        if name is None or not self._usable(name):
            return
        current = get_schedule(name)
        fields = [
            FormField(
                "every",
                _("Sync by itself"),
                "choice",
                current.every,
                options=[(_("never"), "off"), (_("daily"), "daily"), (_("weekly"), "weekly")],
                help=_("Run by the app while it is open, and by 'fakturka run-due' from cron or a systemd timer."),
            ),
            FormField("at", _("At (HH:MM)"), "text", current.at.strftime("%H:%M"), help=_("Your local time.")),
            FormField(
                "weekday",
                _("On (weekly)"),
                "choice",
                WEEKDAYS[current.weekday],
                options=[(weekday(index), key) for index, key in enumerate(WEEKDAYS)],
            ),
        ]

        def submit(values: dict):
            return set_schedule(name, parse_schedule(values["every"], values["at"], values["weekday"]))

        def saved(schedule) -> None:
            if schedule is None:
                return
            upcoming = next_moment(schedule)
            if upcoming is None:
                self.notify(_("{name} syncs only when you start it.").format(name=name))
            else:
                self.notify(
                    _("{name} syncs by itself: {when}; next at {next}.").format(
                        name=name, when=said(schedule.text()), next=upcoming.strftime("%Y-%m-%d %H:%M")
                    )
                )

        self.app.push_screen(FormScreen(_("Schedule of {name}").format(name=name), fields, submit), saved)

    def action_sync(self) -> None:
        name = self.selected()
        if name is not None and self._usable(name):
            session = self.app.start_sync(name)
            if session is not None:
                self.show(session)

    def action_preview(self) -> None:
        """Run the selected plugin as a preview (a dry run): its log here, ending with what it would do."""
        name = self.selected()
        if name is not None and self._usable(name):
            session = start_preview(self.app, name)
            if session is not None:
                self.show(session)

    def action_cancel_sync(self) -> None:
        session = self.app.current_sync
        if session and not session.finished:
            session.cancel.set()
            self.notify(_("Cancelling {name}…").format(name=session.plugin_name))

    def _syncing(self) -> bool:
        session = self.app.current_sync
        return session is not None and not session.finished

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        # "Cancel sync" is offered while there is a sync to cancel: at 80 columns the footer has no room
        # for every key, and an idle one leaves it to "Preview".
        if action == "cancel_sync":
            return self._syncing()
        return super().check_action(action, parameters)

    def action_clear_log(self) -> None:
        self.query_one("#sync-log", Log).clear()

    # -- the running (or last) sync's news, posted by the worker (tui/sync_session.py) --

    def on_sync_log(self, message: SyncLog) -> None:
        message.session.log_shown(self)  # before reading the lines: a line added now posts again
        self.show(message.session, head=False)

    def on_sync_progress(self, message: SyncProgress) -> None:
        self.show(message.session)

    def on_sync_finished(self, message: SyncFinished) -> None:
        self.show(message.session)
        if message.session is self.app.current_sync:
            self.refresh_data()  # the list's last sync and result

    def show(self, session: SyncSession, *, head: bool = True) -> None:
        """Bring the panel up to date with ``session``: the lines not shown yet, then the head line."""
        if session is not self.app.current_sync:
            return  # news of an older run
        log = self.query_one("#sync-log", Log)
        if session is not self._shown_session:
            self._shown_session, self._shown_lines = session, 0
            log.clear()
        new = session.lines[self._shown_lines :]
        if new:
            log.write_lines(log_lines(new))
            self._shown_lines += len(new)
        if head:
            self._show_head(session)

    def _show_head(self, session: SyncSession) -> None:
        if self._syncing() != self._cancel_offered:
            self._cancel_offered = not self._cancel_offered
            self.refresh_bindings()  # the footer's "Cancel sync" comes and goes with the run
        bar = self.query_one("#sync-progress", ProgressBar)
        if session.total:
            bar.update(total=session.total, progress=session.done)
        elif session.finished:
            bar.update(total=1, progress=1 if session.status == RunStatus.COMPLETED else 0)
        bar.display = session.total > 0 or session.status == RunStatus.COMPLETED
        head = _("Preview") if session.dry_run else _("Sync log")
        title = f"{head}: {session.plugin_name} · {_(session.status)}"
        self.query_one("#sync-title", Label).update(plain(title))
        self.query_one("#sync-counts", Static).update(session.counts)
