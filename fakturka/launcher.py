"""The ``fakturka`` command: a headless command, or the terminal app when none is given."""

from __future__ import annotations

import os
import sys
from pathlib import Path

from cli import UsageError, check_arguments, open_for, parse_arguments, refuse, run_command
from core.store.db import DatabaseOpenError


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else list(argv)
    try:
        check_arguments(argv)
        args = parse_arguments(argv)
    except UsageError as exc:
        refuse(exc)
        return 2
    if args.command:
        return run_command(args)
    locked = _locked_database(args)
    if locked is not None:  # the app asks for the passphrase in its lock screen, then opens the database
        from tui.app import FakturkaApp

        FakturkaApp(db_path=locked, locked=True).run()
        return 0
    try:
        db_path = open_for(args)
    except DatabaseOpenError as exc:
        refuse(exc)
        return 2
    from core.platform.startup import recover_at_start
    from core.store.config import load_config

    notices = recover_at_start(language=load_config().language)  # said in the app's language
    from core.billing.reports import dashboard_ahead

    figures = dashboard_ahead()  # counted while Textual loads and composes, not after
    from tui.app import FakturkaApp  # Textual loads only when the app is wanted

    FakturkaApp(db_path=db_path, notices=notices, figures_ahead=figures).run()
    return 0


def _locked_database(args) -> Path | None:
    """The encrypted database to unlock in the app, when no passphrase was given without a terminal
    (FAKTURKA_PASSPHRASE_FILE, --passphrase-fd): then ``open_for`` unlocks it as for any command."""
    from core.store import paths
    from core.store.unlock import PASSPHRASE_FILE_ENV, needs_passphrase

    try:
        path = args.db or paths.default_db_path()
    except OSError:
        return None
    if not needs_passphrase(path) or args.passphrase_fd is not None or os.environ.get(PASSPHRASE_FILE_ENV):
        return None
    return path


if __name__ == "__main__":
    sys.exit(main())
