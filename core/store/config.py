"""Per-machine UI preferences (theme, language, idle lock) in ``config.json``.

Business data lives in the database; these are how this person likes the
app to look, so they stay with the machine (or with FAKTURKA_HOME).
"""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass
from pathlib import Path

from core.store import paths

DEFAULT_THEME = "textual-dark"
DEFAULT_LOCK_AFTER_MINUTES = 10
MAX_LOCK_AFTER_MINUTES = 24 * 60


@dataclass
class UiConfig:
    theme: str = DEFAULT_THEME
    language: str = "en"
    # The terminal app locks an encrypted database after this many idle minutes; 0: never.
    lock_after_minutes: int = DEFAULT_LOCK_AFTER_MINUTES


def load_config(path: Path | None = None) -> UiConfig:
    """The saved preferences; a missing or damaged file gives the defaults."""
    path = path or paths.config_path()
    try:
        data = json.loads(path.read_text("utf-8"))
    except (OSError, ValueError):
        return UiConfig()
    config = UiConfig()
    if isinstance(data.get("theme"), str):
        config.theme = data["theme"]
    if data.get("language") in ("en", "cs"):
        config.language = data["language"]
    minutes = data.get("lock_after_minutes")
    if isinstance(minutes, int) and not isinstance(minutes, bool) and 0 <= minutes <= MAX_LOCK_AFTER_MINUTES:
        config.lock_after_minutes = minutes
    return config


def save_config(config: UiConfig, path: Path | None = None) -> None:
    """Write atomically (temp file + rename) so a crash never leaves half a file."""
    path = path or paths.config_path()
    tmp = path.with_name(path.name + ".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, paths.FILE_MODE)
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        json.dump(asdict(config), fh, indent=2)
    os.replace(tmp, path)
