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
"""

from __future__ import annotations

import threading
import weakref

from textual.message import Message
from textual.message_pump import MessagePump

from core.store.states import RunStatus

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

    def __init__(self, plugin_name: str):
        self.plugin_name = plugin_name
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
