"""Every command-line command, driven with hostile arguments: a sentence or success, never a traceback.

The commands and their options are read from ``cli.build_parser()``, so a command added later is fuzzed
too. Each example runs one command in-process (the ``cli`` fixture) against a database holding a little
of everything, restored from a copy before each example so that examples do not depend on each other.
Whatever the arguments, the command exits 0, or exits 1 or 2 with exactly one line on stderr; an
exception out of ``main()`` (the "bug" path, a traceback for the person) fails the test.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
from datetime import date, datetime
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from cli import build_parser
from cli.base import output_path
from core.billing import clients as client_svc
from core.billing import invoicing
from core.billing import profile as profile_svc
from core.billing import timesheet as ts
from core.store.db import close_database, open_database
from core.store.models import MoneyTransaction, SyncHistory

ROOT = Path(__file__).parent.parent
ATTACK = "\x1b]0;X\x07\x1b[2J\x1b[8m"

# -- what the commands are ------------------------------------------------------------------------


def _commands(parser: argparse.ArgumentParser, path: tuple[str, ...] = ()):
    """(path, parser) of every command and sub-command, root excluded (without one, the app starts)."""
    if path:
        yield path, parser
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, sub in action.choices.items():
                yield from _commands(sub, (*path, name))


COMMANDS = dict(_commands(build_parser()))
# One test per top-level area, so a failure names it and each stays within a few seconds.
GROUPS = sorted({path[0] for path in COMMANDS})


def _positionals(parser):
    return [a for a in parser._actions if not a.option_strings and not isinstance(a, argparse._SubParsersAction)]


def _optionals(parser):
    return [a for a in parser._actions if a.option_strings and not isinstance(a, argparse._HelpAction)]


# -- hostile values -------------------------------------------------------------------------------

HUGE_INTS = [2**63, 2**63 - 1, 2**64, -(2**63), -1, 0, 10**30, 10**400]
ODD_DATES = ["9999-12-31", "0001-01-01", "1989-12-31", "2100-01-01", "2026-02-30", "31.12.9999", "1.1.1", "today"]
PATTERNS = ["{seq:0999999999}", "{seq:c}", "{year}{seq:x}", "{", "}", "{0}", "{seq!r}", "{year}{seq:04}", "{seq:04}"]
ODD_TEXT = [
    ATTACK,
    "\u009b31m",
    "line\nbreak",
    "tab\there",
    "\r",
    "\u202eevil",
    "\udcff",
    "a\udc80b",
    "x" * 100_000,
    "9" * 5000,
    "١٢٣",
    "²",
    "1e400",
    "1e999999999",
    "nan",
    "-inf",
    "-0",
    "1_000",
    "",
    " ",
    "-",
    "--",
]
# Values that get past the first check, so that commands go deeper than "no such client".
PLAUSIBLE = [
    "1",
    "2",
    "Acme",
    "Web",
    "Acme/Web",
    "20260001",
    "fio",
    "time-csv",
    "bank-statement",
    "60",
    "1h30m",
    "1200",
    "2026-03-01",
    "CZK",
    "en",
    "draft",
    "sent",
]
KEYS = [*profile_svc.EDITABLE_FIELDS, "path", "token", "folder", "days", "format", "colour"]

plausible = st.sampled_from(PLAUSIBLE)
text = st.one_of(
    plausible,  # three times: about a third of the values let a command go past its first check
    plausible,
    plausible,
    st.sampled_from(ODD_TEXT + ODD_DATES + PATTERNS),
    st.sampled_from(HUGE_INTS).map(str),
    st.integers(-(2**70), 2**70).map(str),
    st.from_regex(r"[0-9]{25,40}", fullmatch=True),
    st.from_regex(r"[0-9]{1,3}[hm:.,][0-9]{1,40}[hm]?", fullmatch=True),
    st.text(st.characters(max_codepoint=0x2FF, blacklist_categories=["Cs"]), max_size=12),
    st.text(st.characters(min_codepoint=0, max_codepoint=0xA0), max_size=8),
)
assignment = st.builds(lambda key, value: f"{key}={value}", st.sampled_from(KEYS), text)
# Paths stay inside the test's folder (the working directory): the suite may run as root.
path = st.one_of(
    st.sampled_from(["out.pdf", "folder", "fifo", "link", "dangling", "/dev/null", "~/x.pdf", "a/b/c.pdf", "."]),
    st.text(st.characters(min_codepoint=0x20, max_codepoint=0x24F, blacklist_characters="/~."), min_size=1).map(
        lambda name: f"new-{name}"
    ),
)


# Per argument, values that name what the database holds, so that commands get to do their work.
FITTING = {
    "number": ["20260001"],
    "invoice": ["20260001"],
    "transaction": ["1"],
    "run_id": ["1"],
    "client": ["Acme", "1"],
    "project": ["Web", "1", "Acme/Web"],
    "duration": ["60", "1h30m", "0"],
    "description": ["Work"],
    "date": ["2026-04-01", "today"],
    "until": ["2026-04-30"],
    "since": ["2026-01-01"],
    "name": ["fio", "time-csv", "bank-statement", "Globex", "Web 2"],
    "mode": ["644", "600"],
    "rate": ["1200"],
    "fixed": ["100"],
    "vat_rate": ["21"],
    "limit": ["5"],
    "secrets": ["token"],
    "clear": ["token"],
    "status": ["draft", "sent", "open"],
}


def _value(action) -> st.SearchStrategy[str]:
    if action.type is output_path:
        return path
    if action.dest == "assignments":
        return st.one_of(assignment, text)
    if action.choices:
        return st.one_of(st.sampled_from(sorted(action.choices)), text)
    fitting = FITTING.get(action.dest)
    if fitting:
        return st.one_of(st.sampled_from(fitting), text)
    return text


@st.composite
def command_lines(draw, group: str) -> list[str]:
    command, parser = draw(st.sampled_from(sorted((p, c) for p, c in COMMANDS.items() if p[0] == group)))
    argv = list(command)
    for action in _positionals(parser):
        if action.nargs in ("?", "*") and draw(st.booleans()):
            continue
        argv.append(draw(_value(action)))
    options = _optionals(parser)
    chosen = draw(st.lists(st.sampled_from(options), max_size=4, unique_by=id)) if options else []
    for action in chosen:
        flag = draw(st.sampled_from(action.option_strings))
        if action.nargs == 0:
            argv.append(flag)
        else:
            argv += [flag, draw(_value(action))]
    return argv


# -- a little of everything -----------------------------------------------------------------------


def _fill() -> None:
    profile_svc.update_profile(
        {"name": "Jana Nováková", "iban": "CZ6508000000192000145399", "default_hourly_rate": "1000"}
    )
    acme = client_svc.add_client(name="Acme", hourly_rate="1200")
    web = client_svc.add_project(acme, name="Web")
    ts.add_entry(ts.EntryInput(project=web, date=date(2026, 3, 2), duration=90, description="Checkout"))
    invoicing.create_invoice(acme, issued_on=date(2026, 3, 31))
    ts.add_entry(ts.EntryInput(project=web, date=date(2026, 4, 2), duration=30, description="Unbilled"))
    MoneyTransaction.create(
        source="test-bank",
        external_id="m-1",
        transaction_type="income",
        amount=180_000,
        currency="CZK",
        transacted_on=date(2026, 4, 10),
        reference="20260001",
        counterparty=ATTACK,  # an older row, stored before text was cleaned
    )
    SyncHistory.create(
        plugin_name="fio",
        status="failed",
        trigger="cli",
        started_at=datetime(2026, 4, 10, 8, 0),
        completed_at=datetime(2026, 4, 10, 8, 1),
        log=f"fetching\n{ATTACK}done",
        error_message=f"bad {ATTACK}",
    )


@pytest.fixture
def sandbox(fakturka_home, tmp_path, monkeypatch):
    """The filled database and its pristine copy; the working directory holds odd files to write to."""
    db_path = open_database()
    _fill()
    close_database()
    pristine = tmp_path / "pristine.sqlite"
    shutil.copyfile(db_path, pristine)
    work = tmp_path / "work"
    work.mkdir()
    (work / "folder").mkdir()
    os.mkfifo(work / "fifo")
    (work / "target").write_text("keep me")
    (work / "link").symlink_to(work / "target")
    (work / "dangling").symlink_to(work / "nowhere")
    monkeypatch.chdir(work)
    # Commands that run until interrupted (the portal's server) must return here: this test is about how
    # arguments are refused; what a valid run serves is tests/test_cli_portal.py's.
    monkeypatch.setattr("portal.server.serve", lambda *args, **kwargs: None)

    def restore() -> None:
        close_database()
        for suffix in ("-wal", "-shm"):
            Path(f"{db_path}{suffix}").unlink(missing_ok=True)
        shutil.copyfile(pristine, db_path)

    return restore


def _assert_clean(argv: list[str], code: int, out: str, err: str) -> None:
    shown = " ".join(repr(a)[:80] for a in argv)
    assert "Traceback" not in out + err, shown
    if code == 0:
        return
    assert code in (1, 2), f"{shown} -> exit {code}"
    lines = err.splitlines()
    assert len(lines) == 1, f"{shown} -> {len(lines)} lines on stderr:\n{err[:2000]}"
    assert lines[0].startswith("fakturka: ")
    assert "\x1b" not in err and "\x9b" not in err


@pytest.mark.parametrize("group", GROUPS)
def test_every_command_refuses_hostile_arguments_with_one_sentence(group, sandbox, cli):
    @given(argv=command_lines(group))  # the suite's profile: 60 examples per area, the same ones each run
    def run(argv):
        sandbox()
        code, out, err = cli(*argv)
        _assert_clean(argv, code, out, err)
        assert "\x1b" not in out and "\x9b" not in out, f"{argv!r} printed an escape sequence"

    run()


def test_arguments_that_are_not_utf8_are_one_sentence_from_the_real_command(database):
    """From a shell: bytes that are not UTF-8 arrive as surrogates in sys.argv (exit 2, one line)."""
    not_utf8 = [
        [b"client", b"add", b"Acme \xff"],
        [b"log", b"\xc3", b"60", b"x"],
        [b"client", b"edit", b"\xed\xa0\x80", b"--name", b"x"],
    ]
    for argv in not_utf8:
        result = subprocess.run(
            [sys.executable.encode(), b"-m", b"fakturka", *argv],
            cwd=ROOT,
            env=os.environ.copy(),
            capture_output=True,
            timeout=60,
        )
        err = result.stderr.decode("utf-8")  # what is printed is valid UTF-8 itself
        assert result.returncode == 2, err
        assert "Traceback" not in err
        assert err.count("\n") == 1 and "is not valid UTF-8" in err, err
