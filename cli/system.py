"""``fakturka info``, ``fakturka keys rotate`` and ``fakturka demo``."""

from __future__ import annotations

from core.store import paths


def register(commands) -> None:
    commands.add_parser("info", help="show where Fakturka keeps its files and the schema version").set_defaults(
        handler=info
    )
    keys = commands.add_parser("keys", help="manage the credential encryption key")
    keys_sub = keys.add_subparsers(dest="keys_command", metavar="ACTION", required=True)
    keys_sub.add_parser("rotate", help="re-encrypt every stored credential under a new key").set_defaults(
        handler=keys_rotate
    )
    commands.add_parser("demo", help="fill an empty database with believable demo data").set_defaults(handler=demo)


def info(args) -> int:
    from core.store.db import db
    from core.store.migrations import schema_version

    print(f"database:   {db.database}")
    print(f"schema:     version {schema_version(db)}")
    print(f"key file:   {paths.key_path()}")
    print(f"exports:    {paths.exports_dir()}")
    print(f"config:     {paths.config_path()}")
    return 0


def keys_rotate(args) -> int:
    from core.platform.credentials import rotate_key

    count = rotate_key()
    print(f"Re-encrypted {count} credential set(s) under a new key ({paths.key_path()}).")
    return 0


def demo(args) -> int:
    from core.demo import demo_statement_path, load_demo

    summary = load_demo()
    print(f"Demo data loaded: {summary}.")
    print(
        f"A bank statement paying some of the demo invoices is at {demo_statement_path()}; "
        "try: fakturka sync bank-statement"
    )
    return 0
