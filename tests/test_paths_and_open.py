"""Where files live, their permissions, and opening (or refusing) a database file.

The command line is driven through ``fakturka.launcher.main`` (the ``fakturka``
entry point) with commands that never start the terminal app.
"""

from __future__ import annotations

import importlib.metadata
import os
import re
import sqlite3
import tomllib
from pathlib import Path

import pytest
from helpers import mode

from cli import app_version
from core.platform.credentials import get_credentials, set_credentials
from core.platform.key_file import read_key_file
from core.store import paths
from core.store.db import SQLITE_HEADER, DatabaseOpenError, close_database, db, open_database
from core.store.migrations import LATEST
from core.store.models import Client
from fakturka.launcher import main

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture
def open_umask():
    """A umask that would leave new files world-readable: privacy must not rely on it."""
    old = os.umask(0)
    yield
    os.umask(old)


# -- FAKTURKA_HOME ------------------------------------------------------------------------


def test_fakturka_home_holds_every_file(fakturka_home, tmp_path):
    assert paths.default_db_path() == fakturka_home / "fakturka.db"
    assert paths.key_path() == fakturka_home / "credentials.key"
    assert paths.config_path() == fakturka_home / "config.json"
    assert paths.exports_dir() == fakturka_home / "exports"
    assert paths.data_dir() == paths.config_dir() == fakturka_home

    assert open_database() == fakturka_home / "fakturka.db"
    set_credentials("fio", {"token": "t"})
    assert (fakturka_home / "credentials.key").is_file()
    assert (fakturka_home / "fakturka.db").is_file()
    assert (fakturka_home / "exports").is_dir()
    # The platformdirs locations (pointed into tmp_path by conftest) stay untouched.
    assert not (tmp_path / "fake-user-home").exists()


def test_fakturka_home_expands_user(monkeypatch, tmp_path):
    monkeypatch.setenv("HOME", str(tmp_path / "user"))
    monkeypatch.setenv("FAKTURKA_HOME", "~/fk")
    assert paths.data_dir() == tmp_path / "user" / "fk"


def test_without_fakturka_home_platformdirs_is_used(monkeypatch, tmp_path):
    monkeypatch.delenv("FAKTURKA_HOME")
    data = tmp_path / "fake-user-home" / "data" / "fakturka"
    config = tmp_path / "fake-user-home" / "config" / "fakturka"
    assert paths.default_db_path() == data / "fakturka.db"
    assert paths.key_path() == data / "credentials.key"
    assert paths.config_path() == config / "config.json"
    assert mode(data) == mode(config) == 0o700


def test_directories_are_0700(fakturka_home, open_umask):
    assert not fakturka_home.exists()
    paths.exports_dir()
    assert mode(fakturka_home) == 0o700
    assert mode(fakturka_home / "exports") == 0o700


def test_existing_home_directory_is_made_private(fakturka_home):
    fakturka_home.mkdir(mode=0o755)
    os.chmod(fakturka_home, 0o755)
    paths.data_dir()
    assert mode(fakturka_home) == 0o700


def test_database_files_are_0600(fakturka_home, open_umask):
    path = open_database()
    Client.create(name="Written")
    wal = Path(str(path) + "-wal")
    shm = Path(str(path) + "-shm")
    assert wal.exists() and wal.stat().st_size > 0
    assert mode(path) == 0o600
    assert mode(wal) == 0o600
    assert mode(shm) == 0o600
    assert mode(fakturka_home) == 0o700


def test_db_option_in_a_new_directory_is_private(tmp_path, open_umask):
    path = tmp_path / "new-dir" / "books.db"
    main(["--db", str(path), "info"])
    assert mode(path.parent) == 0o700
    assert mode(path) == 0o600


# -- --db ----------------------------------------------------------------------------------------


def test_db_option_uses_that_file(tmp_path, fakturka_home, capsys):
    path = tmp_path / "elsewhere" / "books.db"
    assert main(["--db", str(path), "info"]) == 0
    out = capsys.readouterr().out
    assert f"database:   {path}\n" in out
    assert f"schema:     version {LATEST}\n" in out
    assert f"key file:   {fakturka_home / 'credentials.key'}\n" in out
    assert f"exports:    {fakturka_home / 'exports'}\n" in out
    assert f"config:     {fakturka_home / 'config.json'}\n" in out
    assert db.database == str(path)
    close_database()
    with sqlite3.connect(path) as conn:
        assert conn.execute("PRAGMA user_version").fetchone()[0] == LATEST
    assert not (fakturka_home / "fakturka.db").exists()


def test_info_without_db_uses_the_home_database(fakturka_home, capsys):
    assert main(["info"]) == 0
    assert f"database:   {fakturka_home / 'fakturka.db'}\n" in capsys.readouterr().out


def test_db_option_keeps_existing_data(tmp_path, capsys):
    path = tmp_path / "books.db"
    open_database(path)
    Client.create(name="Existing")
    close_database()
    assert main(["--db", str(path), "info"]) == 0
    assert [c.name for c in Client.select()] == ["Existing"]


# -- files that are not a Fakturka database ---------------------------------------------------------


def assert_refused(argv, capsys, *, contains: str, code: int = 2) -> str:
    rc = main(argv)
    captured = capsys.readouterr()
    assert rc == code
    assert captured.out == ""
    err = captured.err
    assert "Traceback" not in err
    lines = err.splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith("fakturka: ")
    assert contains in lines[0]
    return lines[0]


@pytest.mark.parametrize(
    "content",
    [
        b"Dear tax office,\nplease find attached...\n" * 40,
        b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 8,
    ],
    ids=["text", "binary"],
)
@pytest.mark.parametrize("command", [["info"], []], ids=["info", "app"])
def test_foreign_file_is_refused_and_untouched(tmp_path, capsys, content, command):
    path = tmp_path / "letter.txt"
    path.write_bytes(content)
    line = assert_refused(["--db", str(path), *command], capsys, contains=str(path))
    assert "not a Fakturka database" in line
    assert path.read_bytes() == content
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith("letter.txt")] == ["letter.txt"]


@pytest.mark.parametrize("command", [["info"], []], ids=["info", "app"])
def test_damaged_sqlite_file_is_refused_and_untouched(tmp_path, capsys, command):
    path = tmp_path / "damaged.db"
    content = SQLITE_HEADER + bytes((i * 37 + 11) % 256 for i in range(8192 - len(SQLITE_HEADER)))
    path.write_bytes(content)
    assert_refused(["--db", str(path), *command], capsys, contains=str(path))
    assert path.read_bytes() == content
    assert not Path(str(path) + "-wal").exists()
    assert db.is_closed()


def test_damaged_sqlite_file_raises_database_open_error(tmp_path):
    path = tmp_path / "damaged.db"
    path.write_bytes(SQLITE_HEADER + b"\xff" * 1000)
    with pytest.raises(DatabaseOpenError, match="left untouched"):
        open_database(path)


def test_directory_is_refused(tmp_path, capsys):
    folder = tmp_path / "a-folder"
    folder.mkdir()
    assert_refused(["--db", str(folder), "info"], capsys, contains="is a directory")
    assert list(folder.iterdir()) == []


def test_a_named_pipe_is_refused_without_waiting_for_a_writer(tmp_path, monkeypatch):
    # Reached without --db too (FAKTURKA_HOME's database.db made a FIFO): reading its header would block.
    pipe = tmp_path / "database.db"
    os.mkfifo(pipe)
    with pytest.raises(DatabaseOpenError, match="is a pipe, device or socket, not a database file"):
        open_database(pipe)


def test_path_below_a_regular_file_is_refused(tmp_path, capsys):
    blocker = tmp_path / "not-a-dir"
    blocker.write_text("x")
    assert_refused(["--db", str(blocker / "books.db"), "info"], capsys, contains=str(blocker))
    assert blocker.read_text() == "x"


def test_fakturka_home_below_a_regular_file_is_refused(tmp_path, monkeypatch, capsys):
    blocker = tmp_path / "not-a-dir"
    blocker.write_text("x")
    monkeypatch.setenv("FAKTURKA_HOME", str(blocker / "home"))
    assert_refused(["info"], capsys, contains=str(blocker))
    assert blocker.read_text() == "x"


def test_unreadable_file_is_refused(tmp_path, capsys, monkeypatch):
    # Tests run as root here, where chmod 000 still reads; make the read itself fail instead.
    import builtins

    import core.store.db

    path = tmp_path / "locked.db"
    open_database(path)
    close_database()
    content = path.read_bytes()
    real_open = builtins.open

    def denying_open(file, *args, **kwargs):
        if str(file) == str(path):
            raise PermissionError(13, "Permission denied", str(file))
        return real_open(file, *args, **kwargs)

    with monkeypatch.context() as patch:  # undo only this patch, not the test's FAKTURKA_HOME
        patch.setattr(core.store.db, "open", denying_open, raising=False)
        assert_refused(["--db", str(path), "info"], capsys, contains="permission denied")
    assert path.read_bytes() == content


def test_empty_file_becomes_a_database(tmp_path, capsys):
    path = tmp_path / "empty.db"
    path.touch()
    assert main(["--db", str(path), "info"]) == 0
    assert path.read_bytes().startswith(SQLITE_HEADER)


# -- --version, --help, keys rotate -----------------------------------------------------------------


def test_version(capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(["--version"])
    assert exit_info.value.code == 0
    out = capsys.readouterr().out
    # pyproject.toml declares the version dynamic, read from core/version.py; the installed metadata agrees
    assert tomllib.loads((REPO / "pyproject.toml").read_text())["tool"]["setuptools"]["dynamic"]["version"] == {
        "attr": "core.version.VERSION"
    }
    declared = importlib.metadata.version("fakturka")
    assert out == f"fakturka {declared}\n"
    assert re.fullmatch(r"fakturka \d+\.\d+\.\d+\n", out)
    assert app_version() == declared


def test_help_lists_the_commands(capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(["--help"])
    assert exit_info.value.code == 0
    out = capsys.readouterr().out
    for word in ("info", "keys", "--db", "--version"):
        assert word in out
    with pytest.raises(SystemExit) as exit_info:
        main(["keys", "--help"])
    assert exit_info.value.code == 0
    assert "rotate" in capsys.readouterr().out


def test_keys_rotate(fakturka_home, capsys):
    open_database()
    set_credentials("fio", {"token": "fio-token"})
    set_credentials("airbank", {"password": "pw"})
    old_key = (fakturka_home / "credentials.key").read_bytes()
    close_database()

    assert main(["keys", "rotate"]) == 0

    out = capsys.readouterr().out
    assert "Re-encrypted 2 credential set(s)" in out
    assert str(fakturka_home / "credentials.key") in out
    assert (fakturka_home / "credentials.key").read_bytes() != old_key
    read_key_file(fakturka_home / "credentials.key")
    assert get_credentials("fio") == {"token": "fio-token"}
    assert get_credentials("airbank") == {"password": "pw"}


def test_keys_rotate_with_nothing_stored(fakturka_home, capsys):
    assert main(["keys", "rotate"]) == 0
    assert "Re-encrypted 0 credential set(s)" in capsys.readouterr().out


def test_keys_rotate_failure_is_one_sentence(fakturka_home, capsys):
    open_database()
    set_credentials("fio", {"token": "fio-token"})
    db.execute_sql("UPDATE plugin_configurations SET credentials = substr(credentials, 1, 10)")
    old_key = (fakturka_home / "credentials.key").read_bytes()
    close_database()

    assert_refused(["keys", "rotate"], capsys, contains="credentials for fio cannot be decrypted", code=1)
    assert (fakturka_home / "credentials.key").read_bytes() == old_key


def test_keys_requires_an_action(capsys):
    assert main(["keys"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "required" in err and "Traceback" not in err
