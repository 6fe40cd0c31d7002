"""Shared fixtures. Every test runs with FAKTURKA_HOME in its own tmp_path."""
from __future__ import annotations

import pytest

from core.db import close_database, open_database


@pytest.fixture(autouse=True)
def fakturka_home(tmp_path, monkeypatch):
    """No test touches the real home: all files go under tmp_path/home."""
    home = tmp_path / "home"
    monkeypatch.setenv("FAKTURKA_HOME", str(home))
    # platformdirs would fall back to these if FAKTURKA_HOME were ignored.
    monkeypatch.setenv("HOME", str(tmp_path / "fake-user-home"))
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "fake-user-home" / "data"))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "fake-user-home" / "config"))
    yield home
    close_database()


@pytest.fixture
def database(fakturka_home):
    """A fresh, migrated database file under the temporary home."""
    path = open_database()
    yield path
    close_database()
