"""Where Fakturka keeps its files.

Everything lives in the platformdirs user data directory, unless
``FAKTURKA_HOME`` is set: then database, key file, exports and config all go
under that one directory (tests and portable set-ups rely on this).
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

import platformdirs

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
