"""The ``fakturka`` command: a headless command, or the terminal app when none is given."""

from __future__ import annotations

import sys

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


if __name__ == "__main__":
    sys.exit(main())
