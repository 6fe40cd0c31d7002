"""The Fakturka terminal app: sections as Textual modes, global keys, theme and language."""

from __future__ import annotations

import asyncio
import sqlite3
import time
from importlib import import_module
from pathlib import Path
from typing import TYPE_CHECKING, Any, Iterable, Mapping, Sequence

from peewee import DatabaseError
from textual import events, work
from textual.app import App, SystemCommand
from textual.binding import Binding
from textual.command import CommandPalette
from textual.dom import DOMNode
from textual.screen import Screen
from textual.widget import AwaitMount
from textual.worker import Worker, WorkerFailed, WorkerState

from core.billing.clients import find_project, list_projects, project_label
from core.billing.timesheet import elapsed_minutes, running_timer, start_timer, stop_timer
from core.errors import FakturkaError
from core.store.config import UiConfig, load_config, save_config
from core.store.db import describe_database_error
from core.store.models import database_is_empty
from core.store.states import RunStatus
from core.values.dates import format_minutes
from core.version import VERSION
from tui import terminal
from tui.i18n import _, language, said, set_language
from tui.screens.base import SectionScreen, translate_bindings
from tui.screens.help import HelpScreen
from tui.stylesheet import KeptStylesheet
from tui.widgets.form import FormField, FormScreen
from tui.widgets.palette import Palette
from tui.widgets.shown import CELL, shown
from tui.widgets.unsaved import DISCARD, SAVE, UnsavedChanges

if TYPE_CHECKING:  # imported when a sync starts: its Textual messages cost start-up time
    from concurrent.futures import Future

    from core.billing.reports import Dashboard
    from tui.sync_session import SyncSession

# What the app shows as a notification instead of closing: a refusal meant for the person, or SQLite's
# complaint (locked, read-only, damaged), which describe_database_error turns into a sentence.
SHOWN_ERRORS = (FakturkaError, DatabaseError, sqlite3.DatabaseError)

# How often a shown list looks for changes made by another process (one PRAGMA, microseconds).
CHANGE_CHECK_SECONDS = 2.0
# When the sections start being built ahead after start-up.
PREBUILD_DELAY_SECONDS = 0.5
# What is due (recurring rules, scheduled syncs) runs shortly after start-up, once the sections are built
# ahead, and then every few minutes while the app stays open (core.automation.due; cron may run it too).
DUE_DELAY_SECONDS = 3.0
DUE_EVERY_SECONDS = 300.0

# The app's own actions that still work while the lock screen is shown: quitting, and moving the focus.
_ACTIONS_WHILE_LOCKED = frozenset({"quit", "help_quit", "focus_next", "focus_previous"})

# Where Textual's catch-all is called without stopping a message loop (see _handle_exception).
_RECOVERABLE_CALLERS = frozenset({"_flush_next_callbacks", "_tick", "_run"})


# Section: key, title msgid, and where its screen class lives. Only the dashboard is imported with the
# app: the others load when built ahead after the dashboard shows (their imports are a third of start-up).
SECTIONS = {
    "dashboard": ("d", "Dashboard", "tui.screens.dashboard:DashboardScreen"),
    "time": ("t", "Time", "tui.screens.time:TimeScreen"),
    "clients": ("c", "Clients & Projects", "tui.screens.clients:ClientsScreen"),
    "invoices": ("i", "Invoices", "tui.screens.invoices:InvoicesScreen"),
    "bank": ("b", "Bank transactions", "tui.screens.bank:BankScreen"),
    "recurring": ("o", "Recurring", "tui.screens.recurring:RecurringScreen"),
    "plugins": ("p", "Plugins", "tui.screens.plugins:PluginsScreen"),
    "history": ("h", "Sync history", "tui.screens.history:HistoryScreen"),
    "audit": ("a", "Audit log", "tui.screens.audit:AuditScreen"),
    "settings": ("s", "Settings", "tui.screens.settings:SettingsScreen"),
}


def section_screen_class(name: str) -> type[SectionScreen]:
    """The screen class of section ``name``, imported on first use."""
    module, _sep, cls = SECTIONS[name][2].partition(":")
    return getattr(import_module(module), cls)


class FakturkaApp(App):
    TITLE = "Fakturka"
    CSS_PATH = "app.tcss"
    MODES = {name: (lambda name=name: section_screen_class(name)()) for name in SECTIONS}
    # Section keys stay out of the footer (eight of them crowd out the screen's own
    # keys); `?` and the command palette list them, and the header names the section.
    BINDINGS = [
        Binding("ctrl+t", "toggle_timer", "Start/stop timer", id="timer"),
        Binding("question_mark", "help", "Help", id="help"),
        *(
            Binding(key, f"section('{name}')", title, id=f"section-{name}", show=False)
            for name, (key, title, _screen) in SECTIONS.items()
        ),
        Binding("f2", "toggle_theme", "Light/dark", show=False, id="theme"),
        Binding("f3", "toggle_language", "Čeština/English", show=False, id="language"),
        # Offered when the data is encrypted; priority: it locks from a dialog too (a modal stops app keys).
        Binding("ctrl+l", "lock", "Lock now", show=False, id="lock", priority=True),
        Binding("ctrl+q", "quit", "Quit", id="quit", priority=True),
    ]

    # The idle lock (an encrypted database only): how often idleness is looked at, and the idle time in
    # seconds when set (tests); otherwise the config's lock_after_minutes.
    IDLE_CHECK_SECONDS = 5.0
    LOCK_AFTER_SECONDS: float | None = None

    def __init__(
        self,
        db_path: Path,
        *,
        first_start_prompt: bool = True,
        notices: Sequence[str] = (),
        figures_ahead: Future[Dashboard] | None = None,
        locked: bool = False,
        **kwargs,
    ):
        super().__init__(**kwargs)
        self.stylesheet = KeptStylesheet(variables=self.get_css_variables())  # no sources yet: added at run
        self.db_path = db_path
        self._figures_ahead = figures_ahead  # the dashboard's first figures, read while the app started
        self.first_start_prompt = first_start_prompt
        self.start_notices = list(notices)  # what recovery at start did (an interrupted key rotation settled)
        self.current_sync: SyncSession | None = None
        self._leaving = False
        self._prebuilding = asyncio.Event()  # cleared while a section built ahead is being mounted
        self._prebuilding.set()
        # Locked: the database is encrypted and not open yet (the launcher found no passphrase without a
        # terminal); the lock screen asks for it, and nothing else is composed before it is unlocked.
        # Later True again while the idle lock (or ctrl+l) covers the app.
        self._locked = locked
        self._started = False
        self._held_notifications: list[tuple[str, dict]] = []  # said while locked: shown after unlocking
        self._last_activity = time.monotonic()
        self.config: UiConfig = load_config()
        set_language(self.config.language)
        if self.config.theme in self.available_themes:
            self.theme = self.config.theme

    def take_figures_ahead(self) -> Dashboard | None:
        """The figures read ahead at start (waiting for them if need be), once; None after that."""
        ahead, self._figures_ahead = self._figures_ahead, None
        return ahead.result() if ahead is not None else None

    def notify(
        self, message: str, *, title: str = "", severity="information", timeout=None, markup: bool = True
    ) -> None:
        """Notifications carry names, bank messages and plugin errors: never markup, never an escape sequence.
        While the app is locked they wait (they name clients and invoices) and show once it is unlocked."""
        if self._locked:
            self._held_notifications.append((message, {"title": title, "severity": severity, "timeout": timeout}))
            return
        super().notify(shown(message), title=shown(title), severity=severity, timeout=timeout, markup=False)

    # -- the one error path -----------------------------------------------------------------------

    def show_error(self, error: BaseException) -> bool:
        """Show a refusal (its own sentence) or a database error (a sentence that says what to do) as an
        error notification. Returns False, showing nothing, for anything else: that is a bug."""
        if isinstance(error, FakturkaError):
            message = said(error)
        elif isinstance(error, (DatabaseError, sqlite3.DatabaseError)):
            sentence = said(describe_database_error(error))  # written to follow "fakturka: " on the command line
            message = sentence[:1].upper() + sentence[1:]
        else:
            return False
        self.notify(message, severity="error", timeout=10)
        return True

    async def run_action(
        self,
        action: Any,
        default_namespace: DOMNode | None = None,
        namespaces: Mapping[str, DOMNode] | None = None,
    ) -> bool:
        """Every key binding (the app's, a screen's, a dialog's), every command-palette entry and every
        ``widget.run_action`` ends here: a refusal or a database error becomes a notification and the app
        goes on. Anything else propagates to Textual, which exits with the traceback."""
        try:
            return await super().run_action(action, default_namespace, namespaces)
        except SHOWN_ERRORS as exc:
            self.show_error(exc)
            return True

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        """The app's own workers made with ``exit_on_error=False`` (the sync) end here when they raise.
        (Textual posts this only to the worker's node; a screen's worker with ``exit_on_error=True``, the
        default, reaches ``_handle_exception`` instead.)"""
        worker = event.worker
        if event.state == WorkerState.ERROR and not worker.exit_on_error and worker.error is not None:
            self.show_error(worker.error)

    def _handle_exception(self, error: Exception) -> None:
        # Private on purpose, and kept this small: Textual 8 has no public hook for an exception raised
        # outside an action. Its catch-all is this method, whose default exits the app with the traceback.
        # It is called from push_screen result callbacks (call_next), timers and @work workers with
        # exit_on_error=True (wrapped in WorkerFailed); after those the app runs on normally, so a refusal
        # or a database error is shown instead. From a message handler (on_button_pressed...) the
        # handler's message loop has already stopped when this runs: showing the error would leave that
        # screen frozen, so there the default stands (route such handlers through run_action).
        cause = error.error if isinstance(error, WorkerFailed) else error
        tb = cause.__traceback__
        recoverable = tb is not None and tb.tb_frame.f_code.co_name in _RECOVERABLE_CALLERS
        if not (recoverable and self.show_error(cause)):
            super()._handle_exception(error)

    # -- start-up --------------------------------------------------------------

    def on_mount(self) -> None:
        translate_bindings(self)
        fd = None if self.is_headless else terminal.terminal_fd()
        if fd is not None:
            self.set_interval(1, lambda: self._leave_if_hung_up(fd))
        if self._locked:  # nothing with figures before the passphrase: only the lock screen is composed
            from tui.screens.lock import LockScreen

            self.push_screen(LockScreen(self.db_path, self._unlock_at_start, at_start=True), self._unlocked_at_start)
            return
        self._start()

    def _start(self) -> None:
        """What every start does once the database is open (at once, or after the lock screen)."""
        self._started = True
        self.switch_mode("dashboard")
        self.update_timer_indicator()
        self.set_interval(20, self.update_timer_indicator)
        if self.first_start_prompt and database_is_empty():
            from tui.screens.welcome import WelcomeScreen  # first start only

            self.push_screen(WelcomeScreen(), self._welcome_choice)
        for notice in self.start_notices:
            self.notify(said(notice), severity="warning", timeout=15)
        self.set_interval(CHANGE_CHECK_SECONDS, self._reread_if_changed)
        self.set_interval(self.IDLE_CHECK_SECONDS, self._lock_if_idle)
        # Once the dashboard has painted and settled, build the other sections one by one so a first
        # visit is instant (started later, it stays out of the start-up to the dashboard's figures).
        self.set_timer(PREBUILD_DELAY_SECONDS, self._prebuild_sections)
        self.set_timer(DUE_DELAY_SECONDS, self._run_due)
        self.set_interval(DUE_EVERY_SECONDS, self._run_due)

    # -- the passphrase: lock screen, idle lock, set/change/remove ------------------------------------

    def _unlock_at_start(self, passphrase: str) -> None:
        """The lock screen's try at start: unlock, open the database, settle what a crash left (as the
        launcher does before an unlocked start). Raises a FakturkaError with a sentence on a refusal."""
        from core.platform.startup import recover_at_start
        from core.store.db import open_database
        from core.store.unlock import unlock

        unlock(self.db_path, passphrase)
        open_database(self.db_path)
        self.start_notices.extend(recover_at_start(language=language()))

    def _unlocked_at_start(self, unlocked: bool | None) -> None:
        if not unlocked:
            return
        self._locked = False
        self._last_activity = time.monotonic()
        self._start()
        self._show_held_notifications()

    def database_encrypted(self) -> bool:
        """Whether the open database has a passphrase (the idle lock and ctrl+l apply only then)."""
        from core.store.db import db

        return db.key is not None

    @property
    def locked(self) -> bool:
        """Whether the lock screen is shown (at start or after idle time)."""
        return self._locked

    def lock_after_seconds(self) -> float:
        if self.LOCK_AFTER_SECONDS is not None:
            return self.LOCK_AFTER_SECONDS
        return self.config.lock_after_minutes * 60.0

    async def on_event(self, event: events.Event) -> None:
        # Any key, mouse event or paste is activity: the idle lock counts from the last one.
        if isinstance(event, (events.Key, events.MouseEvent, events.Paste)):
            self._last_activity = time.monotonic()
        await super().on_event(event)

    def _lock_if_idle(self) -> None:
        if self._locked or not self._still_running():
            return
        after = self.lock_after_seconds()
        if after > 0 and time.monotonic() - self._last_activity >= after:
            self.lock()

    def lock(self) -> None:
        """Cover the app with the lock screen (an encrypted database only); after the passphrase the person
        is back where they were, dialogs and typed text included."""
        if self._locked or not self._started or not self.database_encrypted():
            return
        from core.store.unlock import verify
        from tui.screens.lock import LockScreen

        self._locked = True
        self.clear_notifications()  # a toast may name a client or an amount
        self.push_screen(
            LockScreen(self.db_path, lambda passphrase: verify(self.db_path, passphrase), at_start=False),
            self._unlocked,
        )

    def _unlocked(self, unlocked: bool | None) -> None:
        self._locked = False
        self._last_activity = time.monotonic()
        self._show_held_notifications()
        self.refresh_bindings()

    def _show_held_notifications(self) -> None:
        held, self._held_notifications = self._held_notifications, []
        for message, options in held:
            self.notify(message, **options)

    def action_lock(self) -> None:
        self.lock()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if self._locked:
            return action in _ACTIONS_WHILE_LOCKED  # no section key, palette or timer behind the lock
        if action == "lock":
            return self._started and self.database_encrypted()
        return True

    def _background_work(self) -> bool:
        """Whether a worker thread may be using the database now (a sync, what is due, reminders, an export)."""
        if self.current_sync is not None and not self.current_sync.finished:
            return True
        return any(worker.is_running and getattr(worker, "_thread_worker", True) for worker in self.workers)

    def change_passphrase(self, what: str, *, current: str = "", new: str = "") -> None:
        """Set (``what`` "set"), change or remove the passphrase, re-encrypting the database in this thread.

        Refused with a sentence while a worker thread may use the database (re-keying closes and reopens
        the connection under it) and by core (another process has the database open, a passphrase too
        short, a wrong current one); a refusal changes nothing."""
        from core.store import rekey

        if self._background_work():
            raise FakturkaError(
                _(
                    "Something is still running in the background (a sync, an export or what is due); "
                    "try again when it has finished. Nothing was changed."
                )
            )
        if what == "set":
            rekey.set_passphrase(self.db_path, new)
        elif what == "change":
            rekey.change_passphrase(self.db_path, current, new)
        elif what == "remove":
            rekey.remove_passphrase(self.db_path, current)
        else:
            raise ValueError(what)
        self._last_activity = time.monotonic()
        self.refresh_bindings()

    def set_lock_after(self, minutes: int) -> None:
        """Remember the idle time before the lock (0: never)."""
        self.config.lock_after_minutes = minutes
        save_config(self.config)

    # -- what is due, run by itself ------------------------------------------------------------

    def _run_due(self) -> None:
        if self._locked:  # what it would say names rules and plugins: next round
            return
        if self._still_running() and self.current_sync is None:  # the person's own sync first; next time
            self._due_worker()

    def run_due_now(self) -> None:
        """Run what is due now (a rule was just saved or enabled), not at the next round."""
        self._run_due()

    @work(thread=True, exit_on_error=False, group="due")  # not exclusive: run-due's own lock keeps it to one
    def _due_worker(self) -> None:
        from core.automation.due import run_due
        from core.store.db import db

        with db.connection_context():
            report = run_due(trigger="tui", language=language(), with_reminders=False)
        if report.did_something and self._still_running():
            self.call_from_thread(self._after_due, report)

    def _after_due(self, report) -> None:
        """Say what ran by itself, and show it: the shown section reads again."""
        outcome = report.recurring
        if outcome.run_id:
            self.notify(
                _("Recurring rules: {created} created, {skipped} skipped.").format(
                    created=outcome.created, skipped=outcome.skipped
                )
            )
        for run in report.plugins:
            if run.status == RunStatus.COMPLETED:
                self.notify(
                    _("Scheduled sync of {name}: {created} created, {updated} updated.").format(
                        name=run.name, created=run.created, updated=run.updated
                    )
                )
        for failure in report.failures:
            self.notify(said(failure), severity="error", timeout=12)
        if isinstance(self.screen, SectionScreen) and self.screen.is_mounted:
            self.screen.reread()

    # -- sections built ahead, in idle time ----------------------------------------------------

    def _prebuild_sections(self) -> None:
        self._prebuild_worker()

    @work(exclusive=True, exit_on_error=False, group="prebuild")
    async def _prebuild_worker(self) -> None:
        """Compose and mount each section's screen off-screen, one per idle slot.

        Each build runs in the app's event loop (Textual needs that) but as its own task, so the app's
        message queue keeps taking keys between builds; a key for a section not built yet builds it at
        once, as before. Uses Textual 8.2.8's mode internals (pinned in pyproject): MODES only knows
        screen classes, built on the first switch.
        """
        for name in SECTIONS:
            await asyncio.sleep(0.02)  # leave the loop to keys and paints between builds
            if not self._still_running():
                return
            stack = self._screen_stacks.get(name)
            if stack:
                screen = stack[0]
                if (
                    isinstance(screen, SectionScreen)
                    and name != self.current_mode  # the shown section (perhaps under a dialog) re-composes itself
                    and screen.is_mounted
                    and screen.composed_language != language()
                ):
                    await screen.apply_language()  # built before a language switch
                continue
            self._prebuilding.clear()  # an exit now waits for this screen's mount (see _shutdown)
            try:
                screen = self.MODES[name]()
                widgets = self._register(self, screen)
                self._load_screen_css(screen)
                self._screen_stacks[name] = [screen]  # from now on switch_mode shows this one
                await AwaitMount(screen, widgets)
                await asyncio.sleep(0.02)
                if self._still_running() and screen is not self.screen:
                    await self._lay_out_ahead(screen)
            finally:
                self._prebuilding.set()

    async def _shutdown(self) -> None:
        # A screen taken down half-mounted would run its on_mount on removed children: let the section
        # being built ahead finish first (a fraction of a second; bounded all the same).
        self._leaving = True
        try:
            await asyncio.wait_for(self._prebuilding.wait(), timeout=3)
        except asyncio.TimeoutError:
            pass
        await super()._shutdown()

    async def _lay_out_ahead(self, screen: Screen) -> None:
        """Do off-screen what Textual would do at the first show of a screen built ahead.

        Its styles were applied at mount: marked current, so switch_mode does not re-apply the whole
        stylesheet to the app (Textual's counter; a theme change still does). Its breakpoint classes,
        the style update and layout Textual's resume does (by hand: a posted ScreenResume also ran
        focus changes and our own resume handler on a hidden screen), and one render thrown away, so
        the first paint draws from caches.
        """
        screen._css_update_count = self._css_update_count
        screen.post_message(events.Resize(self.size, self.size))  # its breakpoint classes (-narrow / -wide)
        await asyncio.sleep(0.05)
        screen.stack_updates += 1  # as resumed once: switch_mode lays it out at once, as a later visit
        screen.update_node_styles(animate=False)
        screen._refresh_layout(self.size)
        await asyncio.sleep(0.02)  # the Resize events: a list fetches the page that fits
        screen._compositor.render_update(full=True)  # rendered and thrown away: the widgets keep their lines

    def _leave_if_hung_up(self, fd: int) -> None:
        if terminal.hung_up(fd):
            # Nobody is left to ask. A sync in progress is cancelled: it stops at its next ctx call and
            # writes nothing (its run is recorded as cancelled, or as interrupted at the next start).
            if self.current_sync is not None and not self.current_sync.finished:
                self.current_sync.cancel.set()
            self.exit(return_code=129)  # 128 + SIGHUP, as if the signal had reached us

    def _welcome_choice(self, choice: str | None) -> None:
        if choice == "profile":
            self.switch_mode("settings")
        elif choice == "demo":
            from core.demo import load_demo

            summary = load_demo()
            self.notify(_("Demo data loaded: {summary}.").format(summary=said(summary)))
            self._refresh_current()

    def _refresh_current(self) -> None:
        screen = self.screen
        if isinstance(screen, SectionScreen):
            screen.refresh_data()

    def _still_running(self) -> bool:
        """False once the app is leaving (its screens are being taken down, self.screen would raise)."""
        return self.is_running and not self._exit and not self._leaving and bool(self._screen_stack)

    def _reread_if_changed(self) -> None:
        """A shown list re-reads when another process (or a worker's connection) changed the database."""
        if not self._still_running():
            return
        screen = self.screen
        if isinstance(screen, SectionScreen) and screen.is_mounted and screen.watches_changes():
            screen.reread_if_changed()

    # -- sections, help ---------------------------------------------------------

    def action_section(self, name: str) -> None:
        if self.current_mode == name:
            return
        screen = self.screen
        unsaved = getattr(screen, "has_unsaved_changes", None)
        if unsaved is None or not unsaved():
            self.switch_mode(name)
            return

        # A form with edits (Settings): save, discard or stay, before the section key takes the person away.
        def answered(choice: str | None) -> None:
            if choice == SAVE and not screen.save_changes():
                return  # refused: the fields are marked, the person stays
            if choice == DISCARD:
                screen.discard_changes()
            if choice in (SAVE, DISCARD):
                self.switch_mode(name)

        self.push_screen(UnsavedChanges(), answered)

    def action_help(self) -> None:
        if isinstance(self.screen, HelpScreen):
            return
        rows, widget_rows = [], []
        for _key, active in self.screen.active_bindings.items():
            binding = active.binding
            if binding.description:
                row = (self.get_key_display(binding), binding.description)
                # The screen's and the app's keys first; a list's own navigation keys after them.
                (rows if active.node in (self.screen, self) else widget_rows).append(row)
        if isinstance(self.screen, SectionScreen):
            rows.extend(self.screen.EXTRA_HELP_ROWS())
        rows.extend(row for row in widget_rows if row not in rows)
        rows.append(("ctrl+p", _("Command palette")))
        self.push_screen(HelpScreen(rows, self.screen.title or "Fakturka"))

    # -- the timer ----------------------------------------------------------------

    def update_timer_indicator(self) -> None:
        entry = running_timer()
        if entry is None:
            self.sub_title = f"v{VERSION}"
        else:
            project = shown(project_label(entry.project), CELL)
            self.sub_title = f"⏱ {project} {format_minutes(elapsed_minutes(entry))}" + (
                f" · {shown(entry.description, CELL)}" if entry.description else ""
            )
        # Each mode's screen has its own header: copy the indicator onto the one shown.
        self.screen.sub_title = self.sub_title

    def action_toggle_timer(self) -> None:
        if running_timer() is not None:
            entry = stop_timer()
            self.notify(
                _("Timer stopped: {time} on {project}.").format(
                    time=format_minutes(entry.minutes), project=project_label(entry.project)
                )
            )
            self.update_timer_indicator()
            self._refresh_current()
            return
        options = [(project_label(p), p.id) for p in list_projects()]
        if not options:
            self.notify(_("Add a client and a project first (press c)."), severity="warning")
            return
        default = None
        table = self.screen.query("#entries")
        if table:
            key = table.first().selected_key()
            if key:
                from core.store.models import WorkEntry

                entry = WorkEntry.get_or_none(WorkEntry.id == int(key))
                default = entry.project_id if entry else None

        def submit(values: dict):
            from core.values.validation import ValidationError

            if values["project"] is None:
                raise ValidationError(_("Choose a project."), "project")
            return start_timer(find_project(values["project"]), values["description"])  # the form shows a refusal

        def started(entry) -> None:
            if entry is not None:
                self.update_timer_indicator()
                self._refresh_current()

        self.push_screen(
            FormScreen(
                _("Start the timer"),
                [
                    FormField(
                        "project", _("Project"), "choice", default or options[0][1], options=options, required=True
                    ),
                    FormField("description", _("What are you working on?"), value=""),
                ],
                submit,
            ),
            started,
        )

    # -- syncs (run in a thread worker; the session posts messages to the Plugins screen) -------

    def start_sync(self, name: str) -> SyncSession | None:
        from tui.sync_session import start_run

        return start_run(self, name)

    # -- theme and language (remembered in config.json) ----------------------------------

    def set_theme(self, theme: str) -> None:
        self.theme = theme
        self.config.theme = theme
        save_config(self.config)

    def action_toggle_theme(self) -> None:
        self.set_theme("textual-light" if self.theme != "textual-light" else "textual-dark")

    def set_language(self, lang: str) -> None:
        set_language(lang)
        self.config.language = lang
        save_config(self.config)
        translate_bindings(self)
        screen = self.screen
        if isinstance(screen, SectionScreen):
            self.call_later(screen.apply_language)  # re-composes, keeps the focus, refreshes the footer
        else:
            self.refresh_bindings()
        self.call_after_refresh(self._prebuild_sections)  # the hidden sections follow in idle time

    def action_toggle_language(self) -> None:
        self.set_language("en" if self.config.language == "cs" else "cs")

    # -- command palette -------------------------------------------------------------

    def action_command_palette(self) -> None:
        """Textual's palette, with its search prompt in the current language."""
        if self.use_command_palette and not CommandPalette.is_open(self):
            self.push_screen(Palette(id="--command-palette", placeholder=_("Search for commands…")))

    def search_themes(self) -> None:
        """The palette's "Theme" entry: the theme list, prompted in the current language."""
        from textual.theme import ThemeProvider

        self.push_screen(Palette(providers=[ThemeProvider], placeholder=_("Search for themes…")))

    def get_system_commands(self, screen: Screen) -> Iterable[SystemCommand]:
        # Textual's own entries (Theme, Quit, Keys, Maximize, Screenshot) are English: from the catalog.
        for command in super().get_system_commands(screen):
            yield command._replace(title=_(command.title), help=_(command.help))
        # Through run_action, as the keys go, so a refusal from a palette entry is shown the same way.
        for name, (key, title, _screen) in SECTIONS.items():
            yield SystemCommand(
                f"{_('Go to')} {_(title)}",
                f"{_('Key')}: {key}",
                lambda name=name: self.run_action(f"section('{name}')"),
            )
        yield SystemCommand(_("Start/stop timer"), "ctrl+t", lambda: self.run_action("toggle_timer"))
        yield SystemCommand(_("Switch light/dark theme"), "f2", lambda: self.run_action("toggle_theme"))
        yield SystemCommand(_("Switch language (Čeština/English)"), "f3", lambda: self.run_action("toggle_language"))
        yield SystemCommand(_("Help: keys of this screen"), "?", lambda: self.run_action("help"))
        if self.database_encrypted():
            yield SystemCommand(_("Lock now"), "ctrl+l", lambda: self.run_action("lock"))
        current = screen.SECTION if isinstance(screen, SectionScreen) else None
        if isinstance(screen, SectionScreen):
            for active in screen.active_bindings.values():
                binding = active.binding
                if active.node is screen and binding.description and binding.action != "app.help":
                    yield SystemCommand(
                        binding.description,
                        f"{_('Key')}: {self.get_key_display(binding)}",
                        lambda action=binding.action: screen.run_action(action),
                    )
        # Every other section's actions too ("New client" from Invoices): read from the screen classes,
        # so no screen is built for the palette; choosing one goes to that section and runs it there.
        for name, (key, title, _where) in SECTIONS.items():
            screen_class = section_screen_class(name)
            if name == current:
                continue
            for binding in section_bindings(screen_class):
                yield SystemCommand(
                    f"{_(title)}: {_(binding.description)}",
                    f"{_('Key')}: {key}, {self.get_key_display(binding)}",
                    lambda name=name, action=binding.action: self.run_in_section(name, action),
                )

    async def run_in_section(self, name: str, action: str) -> None:
        """Go to a section and run one of its actions there (a palette entry of another section)."""
        unsaved = getattr(self.screen, "has_unsaved_changes", None)
        if self.current_mode != name and unsaved is not None and unsaved():
            self.action_section(name)  # asks first; the person runs the action again once there
            return
        if self.current_mode != name:
            await self.switch_mode(name)
        screen = self.screen
        if isinstance(screen, SectionScreen) and screen.SECTION == name:
            await screen.run_action(action)  # through the app's run_action: a refusal is shown


def section_bindings(screen_class: type[Screen]) -> list[Binding]:
    """The bindings with a description that a section screen class declares itself (not the shared
    escape), without building the screen."""
    seen, found = set(), []
    for cls in screen_class.__mro__:
        if cls is SectionScreen or not issubclass(cls, SectionScreen):
            continue
        for binding in Binding.make_bindings(cls.__dict__.get("BINDINGS", [])):
            if binding.description and binding.action not in seen:
                seen.add(binding.action)
                found.append(binding)
    return found
