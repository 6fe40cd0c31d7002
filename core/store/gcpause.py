"""Pause Python's cyclic garbage collector while a bulk job builds many objects.

A bank import creates hundreds of thousands of small dicts and tuples that
all stay alive until the job ends. Each 700 new objects trigger a collection,
and the older generations are rescanned as the live set grows, which cost a
third of an import's Python time (bench/sync_engine.py). Reference counting
still frees everything that is not in a cycle; the collector resumes when the
last paused job ends. Safe across threads (a sync runs in a TUI worker).
"""

from __future__ import annotations

import contextlib
import gc
import threading
from typing import Iterator

_lock = threading.Lock()
_paused = 0
_was_enabled = False


@contextlib.contextmanager
def gc_paused() -> Iterator[None]:
    global _paused, _was_enabled
    with _lock:
        if _paused == 0:
            _was_enabled = gc.isenabled()
            gc.disable()
        _paused += 1
    try:
        yield
    finally:
        with _lock:
            _paused -= 1
            if _paused == 0 and _was_enabled:
                gc.enable()
