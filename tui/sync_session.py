"""A sync running in the background of the app, and the messages that carry its news to the screen.

The engine runs in a thread worker. What it reports reaches the Plugins
screen as Textual messages posted from that thread (``post_message`` is
thread-safe), never by polling:

- ``SyncLog``: new log lines are in ``session.lines``. At most one is in
  flight per listener: a chatty plugin's thousand lines arrive as one batch
  the screen writes in one call;
- ``SyncProgress``: done/total or the status moved; a newer one replaces
  one still queued (``can_replace``), so a flood of progress is one redraw;
- ``SyncFinished``: the run ended (completed, failed or refused).

The session keeps everything so far (lines, progress, status), so a screen
mounted mid-run shows the run from its start and then follows the messages.
Listeners (the Plugins screen) register with :func:`listen` while mounted.

A preview (a dry run, ``v`` on the Plugins screen) is a session like any
other, started by :func:`start_preview`: the same worker, the same news,
and ``session.preview`` holds what it would have done.
"""

from __future__ import annotations

import threading
import weakref

from textual.message import Message
from textual.message_pump import MessagePump

from core.store.states import RunStatus
from tui.i18n import _, language, said

FINISHED = (RunStatus.COMPLETED, RunStatus.FAILED, "refused")
_listeners: weakref.WeakSet[MessagePump] = weakref.WeakSet()
_listeners_lock = threading.Lock()


def listen(pump: MessagePump) -> None:
    """Send the news of every sync session to ``pump`` (until :func:`stop_listening`)."""
    with _listeners_lock:
        _listeners.add(pump)


def stop_listening(pump: MessagePump) -> None:
    with _listeners_lock:
        _listeners.discard(pump)


class SyncNews(Message, bubble=False):
    """Something new about ``session``; the handler reads the session's current state."""

    def __init__(self, session: SyncSession) -> None:
        super().__init__()
        self.session = session


class SyncLog(SyncNews):
    """New lines are in ``session.lines`` (the screen writes those it has not shown yet)."""

    def can_replace(self, message: Message) -> bool:
        return isinstance(message, SyncLog) and message.session is self.session


class SyncProgress(SyncNews):
    """Progress (``done`` of ``total``) or the status moved."""

    def __init__(self, session: SyncSession, done: int, total: int) -> None:
        super().__init__(session)
        self.done, self.total = done, total

    def can_replace(self, message: Message) -> bool:
        return isinstance(message, SyncProgress) and message.session is self.session


class SyncFinished(SyncNews):
    """The run ended; ``session.status`` says how."""


class _Lines(list):
    """The session's log lines: appending one (from the worker) tells the listeners."""

    def __init__(self, session: SyncSession):
        super().__init__()
        self._session = session

    def append(self, line: str) -> None:
        super().append(line)
        self._session._lines_added()


class SyncSession:
    """One sync started from the app. The worker appends to ``lines``, calls ``set_progress`` and sets
    ``run_id``, ``status``, ``message`` and ``counts``; each change is posted to the listeners."""

    def __init__(self, plugin_name: str, *, dry_run: bool = False):
        self.plugin_name = plugin_name
        self.dry_run = dry_run  # a preview: it saves nothing
        self.preview = None  # a completed preview's core.platform.sync.Preview
        self.lines: list[str] = _Lines(self)
        self.done = 0
        self.total = 0
        self._status = "starting"  # starting | running | completed | failed | refused
        self.run_id: int | None = None
        self.message = ""
        self.counts = ""
        self.cancel = threading.Event()
        self._lock = threading.Lock()
        self._log_in_flight: set[int] = set()  # ids of the listeners with a SyncLog still queued

    @property
    def status(self) -> str:
        return self._status

    @status.setter
    def status(self, value: str) -> None:
        self._status = value
        if value in FINISHED:
            self._post(lambda: SyncFinished(self))
        else:
            self._post(lambda: SyncProgress(self, self.done, self.total))

    @property
    def finished(self) -> bool:
        return self._status in FINISHED

    def set_progress(self, done: int, total: int) -> None:
        self.done, self.total = done, total
        self._post(lambda: SyncProgress(self, done, total))

    def log_shown(self, pump: MessagePump) -> None:
        """The listener handled a SyncLog: the next new line posts another."""
        with self._lock:
            self._log_in_flight.discard(id(pump))

    def _lines_added(self) -> None:
        for pump in _current_listeners():
            with self._lock:
                if id(pump) in self._log_in_flight:
                    continue  # the queued one will carry this line too
                self._log_in_flight.add(id(pump))
            if not pump.post_message(SyncLog(self)):
                self.log_shown(pump)

    def _post(self, make) -> None:
        for pump in _current_listeners():
            pump.post_message(make())


def _current_listeners() -> list[MessagePump]:
    with _listeners_lock:
        return list(_listeners)


def status_text(run) -> str:
    """A stored run's status for people (``run`` a SyncHistory row): a preview's says it is one."""
    if not run.preview:
        return _(run.status)
    if run.status == RunStatus.COMPLETED:
        return _("preview")
    if run.status == RunStatus.FAILED:
        return _("preview failed")
    return _("preview running")


# -- a sync or a preview (a dry run), run in a thread worker of the app -------------------------------


def start_run(app, name: str, *, dry_run: bool = False) -> SyncSession | None:
    """Run plugin ``name`` (``dry_run``: as a preview) in a thread worker of ``app``, as its
    ``current_sync``; None (and a notification) while another sync is running."""
    running = app.current_sync
    if running is not None and not running.finished:
        app.notify(
            _("{name} is still syncing; wait for it or cancel it (x).").format(name=running.plugin_name),
            severity="warning",
        )
        return None
    session = SyncSession(name, dry_run=dry_run)
    app.current_sync = session
    # exit_on_error=False: a refusal raised here reaches the app's on_worker_state_changed.
    app.run_worker(lambda: _run(app, session), thread=True, exit_on_error=False, group="sync")
    return session


def start_preview(app, name: str) -> SyncSession | None:
    return start_run(app, name, dry_run=True)


def _run(app, session: SyncSession) -> None:
    """The worker: the engine's run, its news written into ``session``."""
    from core.platform.sync import SyncRefused, run_sync
    from core.store.db import db

    def started(run_id: int) -> None:
        session.run_id = run_id
        session.status = RunStatus.RUNNING

    try:
        with db.connection_context():
            outcome = run_sync(
                session.plugin_name,
                trigger="tui",
                on_log=session.lines.append,
                on_progress=session.set_progress,
                cancel_event=session.cancel,
                on_started=started,
                language=language(),
                dry_run=session.dry_run,
            )
    except SyncRefused as exc:
        # The line before the status: the panel stops polling a finished session once it shows all lines.
        session.message = said(exc)
        session.lines.append(session.message)
        session.status = "refused"
        raise  # shown by the app's on_worker_state_changed, as every refusal from a worker is
    except Exception as exc:  # noqa: BLE001 - a failed sync must never close the app
        session.message = f"{type(exc).__name__}: {exc}"
        session.lines.append(session.message)
        session.status = RunStatus.FAILED
        app.call_from_thread(app.notify, session.message, severity="error", timeout=8)
        return
    found = outcome.preview
    completed = outcome.status == RunStatus.COMPLETED
    if found is not None:
        session.preview = found
        session.counts = _("would create {created}, update {updated}; {unchanged} unchanged, {skipped} skipped").format(
            created=found.created, updated=found.updated, unchanged=found.unchanged, skipped=found.skipped
        )
        session.message = _("{name}: preview completed, nothing was saved ({counts}).").format(
            name=session.plugin_name, counts=session.counts
        )
    elif completed:
        c = outcome.counts
        session.counts = _("{created} created, {updated} updated, {skipped} unchanged").format(
            created=c.created, updated=c.updated, skipped=c.skipped
        )
        session.message = _("{name}: sync completed ({counts}).").format(
            name=session.plugin_name, counts=session.counts
        )
    else:
        session.message = outcome.error or ""
    session.status = outcome.status  # last: SyncFinished's handlers read the message and the preview
    if found is not None or completed:
        app.call_from_thread(app.notify, session.message, timeout=8)
        return
    failed = _("{name}: preview failed: {error}") if session.dry_run else _("{name}: sync failed: {error}")
    app.call_from_thread(
        app.notify,
        failed.format(name=session.plugin_name, error=said(outcome.error or "")),
        severity="error",
        timeout=10,
    )
