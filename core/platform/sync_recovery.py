"""Sync runs a killed process left open, closed when the next process starts.

Kept apart from :mod:`core.platform.sync` (the engine) so a start-up that finds nothing to close does not
load the engine and its imports.
"""

from __future__ import annotations

from datetime import datetime, timezone

from core.store.locks import is_locked
from core.store.models import SyncHistory
from core.store.states import RunStatus
from core.values.messages import Message, in_language
from core.values.timeutil import utcnow


def lock_name(plugin_name: str) -> str:
    """The name of the lock a run of ``plugin_name`` holds while it runs (one run per plugin at a time)."""
    return f"sync-{plugin_name}"


def local_time(ts: datetime | None) -> str:
    """A UTC timestamp as the local time of day, for a sentence."""
    if ts is None:
        return "?"
    return ts.replace(tzinfo=timezone.utc).astimezone().strftime("%H:%M:%S")


def recover_interrupted_runs(language: str = "en") -> int:
    """Mark runs left pending/running by a process that died as failed ("interrupted").

    The run ends at its last heartbeat (``updated_at``), not now, and keeps the log lines the
    heartbeat wrote. Its error message is written in ``language``.
    """
    count = 0
    for run in SyncHistory.select().where(SyncHistory.status.in_((RunStatus.PENDING, RunStatus.RUNNING))):
        if is_locked(lock_name(run.plugin_name)):
            continue  # still running somewhere
        last_seen = run.updated_at or run.started_at or utcnow()
        SyncHistory.update(
            status=RunStatus.FAILED,
            completed_at=last_seen,
            updated_at=utcnow(),
            error_message=in_language(
                Message(
                    "Interrupted: the process running this sync stopped (last seen at {time}) "
                    "before it finished; nothing of it was saved. Run it again.",
                    time=local_time(last_seen),
                ),
                language,
            ),
        ).where((SyncHistory.id == run.id) & SyncHistory.status.in_((RunStatus.PENDING, RunStatus.RUNNING))).execute()
        count += 1
    return count
