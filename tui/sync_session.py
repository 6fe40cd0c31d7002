"""A sync running in the background of the app, and what the log panel reads from it.

The engine runs in a thread worker and appends to ``lines`` (a list append
is atomic under the GIL); the panel polls every 100 ms and writes the new
lines in one batch, so a chatty plugin never floods the UI with calls.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field


@dataclass
class SyncSession:
    plugin_name: str
    lines: list[str] = field(default_factory=list)
    done: int = 0
    total: int = 0
    status: str = "starting"  # starting | running | completed | failed | refused
    run_id: int | None = None
    message: str = ""
    counts: str = ""
    cancel: threading.Event = field(default_factory=threading.Event)

    @property
    def finished(self) -> bool:
        return self.status in ("completed", "failed", "refused")

    def set_progress(self, done: int, total: int) -> None:
        self.done, self.total = done, total
