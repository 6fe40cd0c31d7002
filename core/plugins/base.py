"""The plugin contract: everything a plugin author needs, and nothing more.

A plugin is one class in one file::

    class ExampleBank(Plugin):
        name = "example-bank"      # unique and stable: it is the audit source
        version = "1.0.0"
        fields = [Secret("token", "API token", required=True)]

        def sync(self, ctx):       # or: async def sync(self, ctx)
            for row in download(ctx.credentials["token"]):
                ctx.upsert_transaction(external_id=row["id"], ...)

``fields`` declares the configuration (the TUI form and the CLI
``configure`` command are generated from it); ``sync(ctx)`` does the work
through the :class:`~core.platform.sync.SyncContext` it is given. See docs/plugins.md.
"""

from __future__ import annotations

from dataclasses import dataclass
from dataclasses import field as dc_field
from typing import Any, ClassVar

from core.errors import FakturkaError
from core.values.messages import Message, message_of  # noqa: F401 (part of the contract: see docs/plugins.md)

FIELD_KINDS = ("text", "secret", "number", "money", "date", "choice", "bool", "path")


@dataclass(frozen=True)
class Field:
    """One configuration field. ``kind`` decides the widget, the parsing and where it is stored.

    Secret fields are stored encrypted (``ctx.credentials``); all others are
    plain settings (``ctx.settings``).
    """

    key: str
    label: str
    kind: str = "text"
    default: Any = None
    required: bool = False
    help: str = ""
    choices: tuple[str, ...] = dc_field(default_factory=tuple)
    # Expiry, for a warning 14 days ahead (dashboard, `fakturka run-due -v`): a secret that stops working
    # this many days after it is entered (a bank token), and/or a date field holding the day the secret
    # named here expires (the person may know it better).
    expires_after_days: int | None = None
    expiry_of: str = ""

    @property
    def secret(self) -> bool:
        return self.kind == "secret"


# Short constructors, so a plugin's field list reads like a form.
def Text(key: str, label: str, **kw) -> Field:
    return Field(key, label, "text", **kw)


def Secret(key: str, label: str, **kw) -> Field:
    return Field(key, label, "secret", **kw)


def Number(key: str, label: str, **kw) -> Field:
    return Field(key, label, "number", **kw)


def Money(key: str, label: str, **kw) -> Field:
    return Field(key, label, "money", **kw)


def Date(key: str, label: str, **kw) -> Field:
    return Field(key, label, "date", **kw)


def Choice(key: str, label: str, choices: tuple[str, ...] | list[str], **kw) -> Field:
    return Field(key, label, "choice", choices=tuple(choices), **kw)


def Bool(key: str, label: str, **kw) -> Field:
    return Field(key, label, "bool", **kw)


def PathField(key: str, label: str, **kw) -> Field:
    return Field(key, label, "path", **kw)


class SyncError(FakturkaError):
    """Raise this from ``sync`` for a failure the person can act on.

    Its message is shown as it is ("The bank refused the token: ..."), with
    no backtrace in front of it. Any other exception is treated as a bug and
    its backtrace is kept in the sync history.
    """


class Plugin:
    """Base class of every plugin. Subclasses set ``name``, ``version`` and define ``sync``."""

    name: ClassVar[str] = ""
    version: ClassVar[str] = ""
    fields: ClassVar[list[Field]] = []

    def sync(self, ctx) -> None:  # pragma: no cover - replaced by every plugin
        raise NotImplementedError
