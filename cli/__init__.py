"""The headless command line: a thin mirror of the core services.

``build_parser()`` defines every command (each area registers its own in
its module); ``run_command(args)`` runs a parsed command against an open
database and returns the exit code. Wrong input exits 1 with one sentence;
a database that cannot be opened exits 2. The entry point that can also
start the terminal app is ``fakturka.launcher.main``; this package never imports the UI.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from peewee import DatabaseError

from cli.base import LINE_LIMIT, CommandError, app_version, database_path, file_descriptor, not_utf8, say
from core.errors import FakturkaError
from core.store.db import DatabaseOpenError, describe_database_error, open_database
from core.values.text import for_terminal

__all__ = [
    "CommandError",
    "UsageError",
    "app_version",
    "build_parser",
    "check_arguments",
    "open_for",
    "parse_arguments",
    "refuse",
    "run_command",
]


class UsageError(FakturkaError):
    """The command line itself is wrong (unknown option, bad date...); exit code 2."""


class Parser(argparse.ArgumentParser):
    """argparse, but a usage error is one sentence, not a usage block plus exit."""

    def error(self, message: str):
        raise UsageError(f"{message} (see '{self.prog} --help')")


def refuse(message: object) -> None:
    """One refusal on stderr: one line whatever the message holds (a stored name with a newline or ESC)."""
    print(f"fakturka: {for_terminal(message, LINE_LIMIT)}", file=sys.stderr)


def check_arguments(argv: list[str]) -> None:
    """Refuse arguments that are not text before anything reads them.

    Python hands bytes that are not UTF-8 over as lone surrogates ("\\udcff"): SQLite, stdout and every
    sentence that quotes them would fail on them with an encoding traceback. A NUL cannot come from a
    real command line, but would end a path or a name early.
    """
    for position, arg in enumerate(argv, start=1):
        if not_utf8(arg):
            shown = arg.encode("utf-8", "surrogateescape").decode("ascii", "backslashreplace")
            raise UsageError(
                f"argument {position} ({shown[:60]}) is not valid UTF-8 text; Fakturka reads arguments as UTF-8."
            )
        if "\0" in arg:
            raise UsageError(f"argument {position} holds a NUL character, which no name or path can hold.")


def build_parser(*, commands: bool = True) -> argparse.ArgumentParser:
    """The whole command line; ``commands=False``: only the options that come before a command."""
    parser = Parser(
        prog="fakturka",
        description="Track time, invoice it with a payment QR code, and let your bank mark invoices paid. "
        "Run without a command to open the terminal app.",
        add_help=commands,
    )
    parser.add_argument("--version", action="version", version=f"fakturka {app_version()}")
    parser.add_argument(
        "--db", metavar="PATH", type=database_path, help="open this database file instead of the default one"
    )
    parser.add_argument(
        "--passphrase-fd",
        metavar="N",
        type=file_descriptor,
        help="read the passphrase of an encrypted database from this open file descriptor (for scripts)",
    )
    if not commands:
        parser.set_defaults(command=None)
        return parser
    from cli import (
        audit,
        automation,
        bank,
        clients,
        invoices,
        passphrase,
        plugins,
        portal,
        recurring,
        sharing,
        system,
        timesheet,
    )

    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    for module in (
        clients,
        timesheet,
        invoices,
        recurring,
        bank,
        plugins,
        automation,
        sharing,
        portal,
        passphrase,
        system,
        audit,
    ):
        module.register(subparsers)
    return parser


def parse_arguments(argv: list[str]) -> argparse.Namespace:
    """Parse a command line. Without a command (the terminal app) only the options are parsed: the
    commands' modules, a sixth of the app's start-up, load for a command, ``--help`` or a mistake."""
    args, rest = build_parser(commands=False).parse_known_args(argv)
    return build_parser().parse_args(argv) if rest else args


def open_for(args) -> Path:
    """Open the database the arguments name, unlocking it first when it is encrypted; raises
    DatabaseOpenError with a sentence."""
    from core.store import paths
    from core.store.unlock import needs_passphrase

    try:
        path = args.db or paths.default_db_path()
    except OSError:  # a data folder that cannot be made: open_database's sentence names it
        return open_database(args.db)
    if needs_passphrase(path):
        from cli.passphrase import unlock_for

        unlock_for(path, args)
    return open_database(path)


def run_command(args) -> int:
    """Run a parsed headless command. Errors become one sentence on stderr.

    Any :class:`core.errors.FakturkaError` is a refusal a person can act on: its sentence, exit code 1
    (2 for a wrong command line or a database that cannot be opened). SQLite's complaints get a sentence
    from :func:`core.store.db.describe_database_error`. Anything else is a bug and keeps its traceback.
    """
    try:
        open_for(args)
    except DatabaseOpenError as exc:
        refuse(exc)
        return 2
    from core.platform.startup import recover_at_start

    try:
        for notice in recover_at_start():
            say(f"fakturka: {notice}", file=sys.stderr)
        return args.handler(args) or 0
    except (UsageError, DatabaseOpenError) as exc:
        refuse(exc)
        return 2
    except FakturkaError as exc:
        refuse(exc)
        return 1
    except KeyboardInterrupt:
        refuse("interrupted; nothing was changed by the unfinished step.")
        return 130
    except BrokenPipeError:
        return _reader_gone()
    except OSError as exc:  # a folder that cannot be written, a full disk: name the file and the reason
        where = f"{exc.filename}: " if exc.filename else ""
        refuse(f"{where}{exc.strerror or exc}")
        return 1
    except DatabaseError as exc:
        refuse(describe_database_error(exc))
        return 1


def _reader_gone() -> int:
    """Output piped into a reader that stopped (``fakturka history | head -1``): end quietly, as Unix
    tools do. Python would otherwise print a traceback, and a second one when it flushes stdout at exit."""
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, sys.stdout.fileno())
    os.close(devnull)
    return 141  # 128 + SIGPIPE, what a shell reports for a tool stopped by a closed pipe
