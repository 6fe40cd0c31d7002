"""``fakturka info``, ``fakturka keys rotate``, ``fakturka keys reset`` and ``fakturka demo``."""

from __future__ import annotations

from cli.base import confirm, say
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
    reset = keys_sub.add_parser(
        "reset",
        help="start a new key when the key file is lost or damaged: removes every plugin's stored secrets",
        description="Removes the stored secrets of every plugin and makes a new key file. Settings, sync "
        "history and everything else stay. Afterwards, re-enter each plugin's secrets with "
        "'fakturka plugins configure NAME --secret KEY'.",
    )
    reset.add_argument("--yes", action="store_true", help="do not ask for confirmation")
    reset.set_defaults(handler=keys_reset)
    commands.add_parser("demo", help="fill an empty database with believable demo data").set_defaults(handler=demo)


def info(args) -> int:
    from core.store.db import db
    from core.store.migrations import schema_version

    say(f"database:   {db.path or db.database}")
    say(f"schema:     version {schema_version(db)}")
    say(f"encrypted:  {_encryption()}")
    say(f"key file:   {paths.key_path()}")
    say(f"exports:    {paths.exports_dir()}")
    say(f"config:     {paths.config_path()}")
    return 0


def _encryption() -> str:
    """Whether the data is encrypted at rest, and how (never anything of the key)."""
    from pathlib import Path

    from core.store.db import db
    from core.store.vault import read_vault, vault_path

    if db.key is None:
        return "no (set a passphrase with 'fakturka passphrase set')"
    kdf = read_vault(vault_path(db.path or Path(db.database)))["kdf"]
    cipher = db.execute_sql("PRAGMA cipher_version").fetchone()[0]
    return (
        f"yes (SQLCipher {cipher}; the passphrase is stretched by scrypt, n={kdf['n']}, r={kdf['r']}, p={kdf['p']}; "
        "the credentials key is wrapped)"
    )


def keys_rotate(args) -> int:
    from core.platform.key_rotation import rotate_key

    count = rotate_key()
    print(f"Re-encrypted {count} credential set(s) under a new key ({paths.key_path()}).")
    return 0


def _re_enter_command(name: str) -> str:
    """``fakturka plugins configure NAME --secret KEY ...`` for each secret field the plugin has."""
    from core.plugins import UnknownPlugin, get_plugin

    try:
        keys = [field.key for field in get_plugin(name).fields if field.secret]
    except UnknownPlugin:  # no longer installed, or broken: its name is all there is to say
        keys = []
    return " ".join(["fakturka plugins configure", name, *(f"--secret {key}" for key in keys)])


def keys_reset(args) -> int:
    from core.platform.credentials import plugins_with_stored_secrets
    from core.platform.key_rotation import reset_key

    names = plugins_with_stored_secrets()
    if names:
        question = (
            f"Remove the stored secrets of {', '.join(names)} and make a new credential key? "
            "Their settings and sync history are kept."
        )
    else:
        question = "Make a new credential key? No plugin has stored secrets."
    if not confirm(question, args.yes):
        print("Nothing changed.")
        return 1
    names = reset_key()
    print(f"Made a new credential key in {paths.key_path()}.")
    if not names:
        print("No plugin had stored secrets.")
        return 0
    print(f"Removed the stored secrets of {', '.join(names)}; their settings and history are kept. Re-enter them:")
    for name in names:
        print(f"  {_re_enter_command(name)}")
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
