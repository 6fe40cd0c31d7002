"""Cross-process locks on files (``flock``): released by the OS when a process dies.

A lock is held through an open file descriptor, so a killed sync never
leaves a stale lock behind, and a second process (or a second attempt in
the same process) is refused at once instead of waiting.

The locks belong to the database file, not to the data folder: they live in
``<database>-locks/`` beside it (as SQLite keeps ``<database>-wal`` there), so
two data folders opening one database with ``--db`` see each other's runs.
"""

from __future__ import annotations

import fcntl
import os
from pathlib import Path

from core.errors import FakturkaError
from core.store import paths
from core.store.db import db


class LockBusy(FakturkaError):
    pass


def lock_folder() -> Path:
    """``<database>-locks`` beside the open database (its real path: a symlink names the same file)."""
    if not db.database or db.database == ":memory:":
        return paths.ensure_private_dir(paths.data_dir() / "locks")
    database = (db.path or Path(db.database)).resolve()  # db.database is a URI while opened read-only
    return paths.ensure_private_dir(database.parent / f"{database.name}-locks")


def lock_path(name: str) -> Path:
    return lock_folder() / f"{name}.lock"


class FileLock:
    def __init__(self, name: str):
        self.path = lock_path(name)
        self._fd: int | None = None

    def acquire(self) -> None:
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, paths.FILE_MODE)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            raise LockBusy(self.path) from None
        self._fd = fd

    def release(self) -> None:
        if self._fd is not None:
            fcntl.flock(self._fd, fcntl.LOCK_UN)
            os.close(self._fd)
            self._fd = None

    def __enter__(self) -> "FileLock":
        self.acquire()
        return self

    def __exit__(self, *exc) -> None:
        self.release()


def is_locked(name: str) -> bool:
    """Whether some process holds the lock now."""
    probe = FileLock(name)
    try:
        probe.acquire()
    except LockBusy:
        return True
    probe.release()
    return False
