"""The headless command line: a thin mirror of the core services.

``build_parser()`` defines every command; ``run_command(args)`` executes a
parsed command against an open database and returns the exit code. The
entry point that can also start the terminal app is ``tui.cli.main``; this
module never imports the UI.
"""
from __future__ import annotations

import argparse
import sys
from importlib.metadata import PackageNotFoundError, version as dist_version
from pathlib import Path

from core import paths
from core.db import DatabaseOpenError, open_database


class CommandError(Exception):
    """A wrong input or refused action: printed as one sentence, exit code 1."""


def app_version() -> str:
    try:
        return dist_version("fakturka")
    except PackageNotFoundError:
        return "0.0.0+unknown"


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="fakturka",
        description="Track time, invoice it with a payment QR code, and let your bank mark invoices paid. "
        "Run without a command to open the terminal app.",
    )
    parser.add_argument("--version", action="version", version=f"fakturka {app_version()}")
    parser.add_argument("--db", metavar="PATH", type=Path,
                        help="open this database file instead of the default one")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")

    commands.add_parser("info", help="show where Fakturka keeps its files and the schema version")

    keys = commands.add_parser("keys", help="manage the credential encryption key")
    keys_sub = keys.add_subparsers(dest="keys_command", metavar="ACTION", required=True)
    keys_sub.add_parser("rotate", help="re-encrypt every stored credential under a new key")
    return parser


def _cmd_info(args) -> int:
    from core.db import db
    from core.migrations import schema_version

    print(f"database:   {db.database}")
    print(f"schema:     version {schema_version(db)}")
    print(f"key file:   {paths.key_path()}")
    print(f"exports:    {paths.exports_dir()}")
    print(f"config:     {paths.config_path()}")
    return 0


def _cmd_keys(args) -> int:
    from core.credentials import rotate_key

    if args.keys_command == "rotate":
        count = rotate_key()
        print(f"Re-encrypted {count} credential set(s) under a new key ({paths.key_path()}).")
    return 0


HANDLERS = {
    "info": _cmd_info,
    "keys": _cmd_keys,
}


def open_for(args) -> Path:
    """Open the database the arguments name; raises DatabaseOpenError with a sentence."""
    return open_database(args.db)


def run_command(args) -> int:
    """Run a parsed headless command. Errors become one sentence on stderr."""
    from core.credentials import CredentialError

    try:
        open_for(args)
        return HANDLERS[args.command](args)
    except (DatabaseOpenError, CommandError, CredentialError) as exc:
        print(f"fakturka: {exc}", file=sys.stderr)
        return 1 if not isinstance(exc, DatabaseOpenError) else 2
