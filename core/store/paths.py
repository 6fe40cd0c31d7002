"""Where Fakturka keeps its files.

Everything lives in the platformdirs user data directory, unless
``FAKTURKA_HOME`` is set: then database, key file, exports and config all go
under that one directory (tests and portable set-ups rely on this).

Private files that must never be seen half-written (the credentials key)
are written through a temporary file beside them, fsynced and renamed
(:func:`replace_private_file`, :func:`create_private_file_whole`), and
changed by one process at a time (:class:`SiblingLock`).
"""

from __future__ import annotations

import errno
import fcntl
import os
import stat
import tempfile
import time
from pathlib import Path

import platformdirs

from core.errors import FakturkaError
from core.values.messages import Message

APP_NAME = "fakturka"
DB_FILENAME = "fakturka.db"
KEY_FILENAME = "credentials.key"
CONFIG_FILENAME = "config.json"

DIR_MODE = 0o700
FILE_MODE = 0o600


def _home_override() -> Path | None:
    value = os.environ.get("FAKTURKA_HOME")
    return Path(value).expanduser() if value else None


def ensure_private_dir(path: Path) -> Path:
    """Create ``path`` (and parents) with mode 0700 if missing."""
    path.mkdir(mode=DIR_MODE, parents=True, exist_ok=True)
    # mkdir's mode is filtered by the umask; make the leaf private regardless.
    if stat.S_IMODE(path.stat().st_mode) != DIR_MODE:
        os.chmod(path, DIR_MODE)
    return path


def data_dir() -> Path:
    home = _home_override()
    return ensure_private_dir(home if home else platformdirs.user_data_path(APP_NAME))


def config_dir() -> Path:
    home = _home_override()
    return ensure_private_dir(home if home else platformdirs.user_config_path(APP_NAME))


def default_db_path() -> Path:
    return data_dir() / DB_FILENAME


def key_path() -> Path:
    return data_dir() / KEY_FILENAME


def config_path() -> Path:
    return config_dir() / CONFIG_FILENAME


def exports_dir() -> Path:
    return ensure_private_dir(data_dir() / "exports")


def create_private_file(path: Path) -> None:
    """Create an empty file with mode 0600 if it does not exist yet."""
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, FILE_MODE)
    except FileExistsError:
        return
    os.close(fd)


# -- private files written whole or not at all ------------------------------------------------


def temp_prefix(path: Path) -> str:
    """Temporary files for ``path`` are ``.<name>.XXXX.tmp`` beside it (same folder: a rename, never a copy)."""
    return f".{path.name}."


def temp_leftovers(path: Path) -> list[Path]:
    """Temporary files a killed writer of ``path`` (or of ``path.new`` and the like) left behind."""
    return sorted(path.parent.glob(temp_prefix(path) + "*.tmp"))


def write_private_temp(path: Path, data: bytes) -> Path:
    """``data`` in a new fsynced 0600 temporary file beside ``path``; nothing is left behind on failure."""
    fd, name = tempfile.mkstemp(prefix=temp_prefix(path), suffix=".tmp", dir=path.parent)
    try:
        rest = memoryview(data)
        while rest:
            rest = rest[os.write(fd, rest) :]
        os.fsync(fd)
    except BaseException:
        os.close(fd)
        os.unlink(name)
        raise
    os.close(fd)
    return Path(name)


def fsync_dir(directory: Path) -> None:
    """Make the renames in ``directory`` durable (a rename lives in the folder, not in the file)."""
    fd = os.open(directory, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    except OSError as exc:
        if exc.errno != errno.EINVAL:  # EINVAL: this file system cannot fsync a folder
            raise
    finally:
        os.close(fd)


def replace_private_file(path: Path, data: bytes) -> None:
    """Put ``data`` at ``path`` (mode 0600, replacing what is there) in one rename; durable on return."""
    temp = write_private_temp(path, data)
    try:
        os.replace(temp, path)
    except BaseException:
        temp.unlink(missing_ok=True)
        raise
    fsync_dir(path.parent)


def create_private_file_whole(path: Path, data: bytes) -> None:
    """Create ``path`` (mode 0600) holding ``data``, whole or not at all; FileExistsError if something is there."""
    temp = write_private_temp(path, data)
    try:
        os.link(temp, path)  # unlike a rename, a link never replaces what is there
    except OSError as exc:
        if exc.errno not in (errno.EPERM, errno.ENOTSUP, errno.EOPNOTSUPP, errno.EMLINK):
            raise
        _create_exclusive(path, data)  # a file system without hard links (FAT on a USB stick)
    finally:
        temp.unlink(missing_ok=True)
    fsync_dir(path.parent)


def _create_exclusive(path: Path, data: bytes) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, FILE_MODE)
    try:
        os.write(fd, data)
        os.fsync(fd)
    finally:
        os.close(fd)


def file_kind(mode: int) -> str:
    """What a non-regular file is, for a sentence: "a directory", "a named pipe"..."""
    kinds = (
        (stat.S_ISDIR, Message("a directory")),
        (stat.S_ISFIFO, Message("a named pipe")),
        (stat.S_ISSOCK, Message("a socket")),
        (stat.S_ISCHR, Message("a device")),
        (stat.S_ISBLK, Message("a device")),
    )
    return next((name for test, name in kinds if test(mode)), Message("not a regular file"))


class LockWaitError(FakturkaError):
    """A sibling lock stayed busy (or could not be made); the message says which and what to do."""


class SiblingLock:
    """``flock`` on ``<path>.lock`` beside a file that one process at a time may change.

    The OS drops the lock when its holder dies, so it never goes stale. Separate
    instances conflict even within one process (``flock`` locks open files),
    so threads serialise too.
    """

    WAIT_SECONDS = 10.0

    def __init__(self, path: Path, busy: str):
        self.path = path.with_name(path.name + ".lock")
        self.busy = busy  # the sentence (a Message) when the wait runs out
        self._fd: int | None = None

    def _take(self) -> bool:
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, FILE_MODE)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            return False
        self._fd = fd
        return True

    def try_acquire(self) -> bool:
        """Take the lock if free; False when another holder has it (or it cannot be made here)."""
        try:
            return self._take()
        except OSError:  # e.g. a read-only folder: then nothing can be changed there anyway
            return False

    def acquire(self) -> None:
        """Wait, bounded, for the lock (its holders keep it for milliseconds)."""
        deadline = time.monotonic() + self.WAIT_SECONDS
        try:
            while not self._take():
                if time.monotonic() > deadline:
                    raise LockWaitError(Message("{busy}; try again in a moment", busy=self.busy))
                time.sleep(0.05)
        except OSError as exc:
            raise LockWaitError(
                Message(
                    "cannot lock {path} ({error}); nothing was changed", path=self.path, error=exc.strerror or str(exc)
                )
            ) from None

    @property
    def held(self) -> bool:
        return self._fd is not None

    def release(self) -> None:
        if self._fd is not None:
            fcntl.flock(self._fd, fcntl.LOCK_UN)
            os.close(self._fd)
            self._fd = None
