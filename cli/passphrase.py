"""``fakturka passphrase set|change|remove``, and unlocking an encrypted database for any command.

A command unlocks the database with the passphrase from ``--passphrase-fd N``, from the file
``FAKTURKA_PASSPHRASE_FILE`` names, or typed at a terminal (three tries, each waiting longer after a
wrong one). Without any of them it refuses with a sentence saying how to give it.
"""

from __future__ import annotations

import getpass
import math
import sys
import time
from pathlib import Path

from cli.base import CommandError, confirm, say
from core.store.db import DatabaseOpenError
from core.values.messages import Message

TERMINAL_TRIES = 3
# The passphrase this process was unlocked with: a change or a removal is checked against it.
_given: str | None = None


def register(commands) -> None:
    parser = commands.add_parser(
        "passphrase",
        help="encrypt the database and the credentials key with a passphrase, change it or remove it",
        description="With a passphrase, the database, the portal's view counts and the credentials key are "
        "encrypted on disk (SQLCipher, and a key stretched from the passphrase by scrypt); every command and "
        "the app ask for it. Without a terminal, give it with FAKTURKA_PASSPHRASE_FILE (a file only you can "
        "read) or --passphrase-fd N. The new passphrase is typed twice at a terminal, or read from the first "
        "line of standard input.",
    )
    actions = parser.add_subparsers(dest="passphrase_command", metavar="ACTION", required=True)
    actions.add_parser("set", help="encrypt a database that has no passphrase").set_defaults(handler=set_command)
    actions.add_parser("change", help="re-encrypt under a new passphrase").set_defaults(handler=change_command)
    remove = actions.add_parser("remove", help="decrypt the database for good: anyone with the files can read it")
    remove.add_argument("--yes", action="store_true", help="do not ask for confirmation")
    remove.set_defaults(handler=remove_command)


def _database_path() -> Path:
    from core.store.db import db

    return db.path or Path(db.database)


def _new_passphrase() -> str:
    """The new passphrase: typed twice at a terminal, or the first line of standard input."""
    from core.store.vault import check_passphrase, same_passphrase

    if sys.stdin.isatty():
        first = getpass.getpass("New passphrase: ")
        check_passphrase(first)
        if not same_passphrase(getpass.getpass("The same again: "), first):
            raise CommandError("The two passphrases differ; nothing was changed.")
        return first
    from cli.base import read_stdin_line

    line = read_stdin_line("the new passphrase").removesuffix("\n").removesuffix("\r")
    check_passphrase(line)
    return line


def set_command(args) -> int:
    from core.store.rekey import set_passphrase

    path = _database_path()
    new = _new_passphrase()
    set_passphrase(path, new)
    say(f"{path} is now encrypted. Keep the passphrase safe: without it the data cannot be read.")
    return 0


def change_command(args) -> int:
    from core.store.rekey import change_passphrase

    path = _database_path()
    if _given is None:
        raise CommandError(f"{path} has no passphrase; set one with 'fakturka passphrase set'.")
    new = _new_passphrase()
    change_passphrase(path, _given, new)
    say(f"{path} is re-encrypted under the new passphrase.")
    return 0


def remove_command(args) -> int:
    from core.store.rekey import remove_passphrase

    path = _database_path()
    if _given is None:
        raise CommandError(f"{path} has no passphrase.")
    if not confirm(f"Decrypt {path}? Anyone who gets the files can then read them.", args.yes):
        say("Nothing changed.")
        return 1
    remove_passphrase(path, _given)
    say(f"{path} is no longer encrypted.")
    return 0


# -- unlocking for a command ------------------------------------------------------------------------


def unlock_for(path: Path, args) -> None:
    """Unlock the encrypted database at ``path``, or raise DatabaseOpenError with a sentence."""
    global _given
    from core.errors import FakturkaError
    from core.store import vault
    from core.store.unlock import passphrase_without_terminal, unlock

    try:
        given = passphrase_without_terminal(getattr(args, "passphrase_fd", None))
        if given is not None:
            _wait(path)
            unlock(path, given)
            _given = given
            return
        if not sys.stdin.isatty():
            raise DatabaseOpenError(
                Message(
                    "{path} is encrypted; type its passphrase at a terminal, or name a file holding it with "
                    "FAKTURKA_PASSPHRASE_FILE (readable by you only), or pass --passphrase-fd N.",
                    path=path,
                )
            )
        for attempt in range(TERMINAL_TRIES):
            _wait(path)
            typed = getpass.getpass(f"Passphrase for {path}: ")
            try:
                unlock(path, typed)
            except vault.WrongPassphrase as exc:
                print(f"fakturka: {exc}", file=sys.stderr)
                if attempt == TERMINAL_TRIES - 1:
                    raise
                continue
            _given = typed
            return
    except DatabaseOpenError:
        raise
    except FakturkaError as exc:
        raise DatabaseOpenError(str(exc)) from None


def _wait(path: Path) -> None:
    """Sit out the wait a wrong passphrase started (here or in another process), saying so."""
    from core.store.vault import seconds_to_wait

    wait = seconds_to_wait(path)
    if wait > 0:
        seconds = math.ceil(wait)
        print(f"fakturka: a wrong passphrase was given; waiting {seconds} s before the next try.", file=sys.stderr)
        time.sleep(wait)
