"""Shared fixtures. Every test runs with FAKTURKA_HOME in its own tmp_path."""

from __future__ import annotations

import io
import sys

import pytest
from helpers import db_state
from hypothesis import HealthCheck, settings

from core.store import rekey
from core.store.db import close_database, open_database, release_in_use

# Hostile-input tests (Hypothesis): seeded so every run tries the same bounded set of cases, no example
# database written into the checkout, no per-example deadline on a noisy two-core machine. Fixtures such
# as the temporary home are shared by the examples of one test on purpose (each test resets what it needs).
settings.register_profile(
    "fakturka",
    derandomize=True,
    database=None,
    deadline=None,
    max_examples=60,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
settings.load_profile("fakturka")


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
    rekey.activate(None)  # a passphrase one test unlocked must not key the next test's database
    release_in_use()


@pytest.fixture
def database(fakturka_home):
    """A fresh, migrated database file under the temporary home."""
    path = open_database()
    yield path
    close_database()


# -- the command line, as a person runs it ---------------------------------------------------------


@pytest.fixture
def cli(capsys, monkeypatch):
    """Run ``fakturka ARGS`` with ``stdin`` text; returns (exit code, stdout, stderr).
    argparse exits count as exit codes."""
    from fakturka.launcher import main

    def run(*argv: str, stdin: str = "") -> tuple[int, str, str]:
        monkeypatch.setattr(sys, "stdin", io.StringIO(stdin))
        try:
            code = main(list(argv))
        except SystemExit as exc:
            code = exc.code if isinstance(exc.code, int) else 1
        out, err = capsys.readouterr()
        return code, out, err

    return run


@pytest.fixture
def ok(cli):
    """Run a command that must succeed; returns its stdout."""

    def run(*argv: str, stdin: str = "") -> str:
        code, out, err = cli(*argv, stdin=stdin)
        assert (code, err) == (0, ""), f"fakturka {' '.join(argv)} -> {code}: {err}"
        return out

    return run


@pytest.fixture
def refused(cli):
    """A command that must fail cleanly: non-zero exit, one line on stderr, no traceback, nothing changed."""

    def run(*argv: str, stdin: str = "") -> str:
        before = db_state()
        code, out, err = cli(*argv, stdin=stdin)
        assert code != 0, f"fakturka {' '.join(argv)} succeeded: {out}"
        assert "Traceback" not in err + out
        lines = err.strip().splitlines()
        assert len(lines) == 1, f"expected one line on stderr, got {len(lines)}:\n{err}"
        assert lines[0].startswith("fakturka: ")
        assert db_state() == before
        return lines[0]

    return run
