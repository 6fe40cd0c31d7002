"""``fakturka portal``: serve the read-only client portal that share links open."""

from __future__ import annotations

import sys

from cli.base import CommandError, say


def _port(text: str) -> int:
    import argparse

    value = text.strip()
    if not value.isdigit() or not 1 <= int(value) <= 65535:
        raise argparse.ArgumentTypeError(f"{text!r} is not a port number (1 to 65535)")
    return int(value)


def register(commands) -> None:
    from portal.server import DEFAULT_HOST, DEFAULT_PORT

    portal = commands.add_parser(
        "portal",
        help="serve the client portal that share links open (read-only)",
        description="Serve the client portal: the pages that share links ('fakturka share') open. The "
        "database is opened read-only. Put it behind a reverse proxy with HTTPS to reach it from outside; "
        "set FAKTURKA_PORTAL_URL to the public address so that new links name it.",
    )
    portal.add_argument("--host", default=DEFAULT_HOST, help=f"the address to listen on (default {DEFAULT_HOST})")
    portal.add_argument(
        "--port", type=_port, default=DEFAULT_PORT, help=f"the port to listen on (default {DEFAULT_PORT})"
    )
    portal.set_defaults(handler=serve_portal)


def serve_portal(args) -> int:
    from core.store.db import db, open_database
    from portal.server import serve

    if db.path is None:
        raise CommandError("The database is not open.")
    path = db.path
    open_database(path, read_only=True, migrate=False)  # from here on, SQLite refuses every write
    host = f"[{args.host}]" if ":" in args.host else args.host
    say(f"Serving the portal on http://{host}:{args.port} (Ctrl+C stops)")
    sys.stdout.flush()
    try:
        serve(path, host=args.host, port=args.port)
    except KeyboardInterrupt:
        pass
    return 0
