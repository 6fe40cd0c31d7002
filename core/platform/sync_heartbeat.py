"""A running sync's sign of life: its history row's ``updated_at`` and log, written every few seconds.

While a plugin's code runs, its own connection refuses writes (``sync_guard``), and the run's results
land only at the end. If the process is killed meanwhile, the next start marks the run interrupted
(``recover_interrupted_runs``); with this heartbeat the run then shows how long it really ran (until
its last heartbeat, not until the next command) and the log lines it had written.

The heartbeat writes from a thread of its own, on that thread's own connection, in short
transactions; a write that finds the database busy is skipped, never waited for.
"""

from __future__ import annotations

import threading
from typing import Callable

from core.store.db import db
from core.store.models import SyncHistory
from core.store.states import RunStatus
from core.values.timeutil import utcnow

HEARTBEAT_SECONDS = 2.0


class Heartbeat:
    """``with Heartbeat(run_id, log_text):`` keeps the run's row alive while the block runs."""

    def __init__(self, run_id: int, log_text: Callable[[], str], interval: float | None = None):
        self.run_id = run_id
        self._log_text = log_text
        self._interval = interval or HEARTBEAT_SECONDS
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name=f"fakturka-sync-heartbeat-{run_id}", daemon=True)

    def __enter__(self) -> "Heartbeat":
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join()

    def _run(self) -> None:
        written = None
        try:
            db.connect(reuse_if_open=True)
            db.execute_sql("PRAGMA busy_timeout = 250")  # this connection only: a busy beat is skipped, not waited
            while not self._stop.wait(self._interval):
                log = self._log_text()
                try:
                    self._beat(log if log != written else None)
                    written = log
                except Exception:  # noqa: BLE001 - busy or closed: the next beat tries again
                    continue
        except Exception:  # noqa: BLE001 - no connection at all: the run goes on without a heartbeat
            pass
        finally:
            db.close()  # this thread's connection

    def _beat(self, log: str | None) -> None:
        values = {SyncHistory.updated_at: utcnow()}
        if log is not None:
            values[SyncHistory.log] = log
        SyncHistory.update(values).where(
            (SyncHistory.id == self.run_id) & (SyncHistory.status == RunStatus.RUNNING)
        ).execute()
