"""The ``fakturka`` command: a headless command, or the terminal app when none is given."""

from __future__ import annotations

import sys

from cli import UsageError, build_parser, open_for, run_command
from core.store.db import DatabaseOpenError


def main(argv: list[str] | None = None) -> int:
    try:
        args = build_parser().parse_args(argv)
    except UsageError as exc:
        print(f"fakturka: {exc}", file=sys.stderr)
        return 2
    if args.command:
        return run_command(args)
    try:
        db_path = open_for(args)
    except DatabaseOpenError as exc:
        print(f"fakturka: {exc}", file=sys.stderr)
        return 2
    from core.platform.sync import recover_interrupted_runs

    recover_interrupted_runs()
    from tui.app import FakturkaApp  # Textual loads only when the app is wanted

    FakturkaApp(db_path=db_path).run()
    return 0


if __name__ == "__main__":
    sys.exit(main())
