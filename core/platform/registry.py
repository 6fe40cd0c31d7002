"""Checking plugin classes when they are registered, so a mistake fails at start-up, loudly."""

from __future__ import annotations

import inspect
import re
from typing import Iterable

from core.errors import FakturkaError
from core.plugins.base import FIELD_KINDS, Field, Plugin
from core.values.messages import Message, message_of

NAME_RE = re.compile(r"^[a-z][a-z0-9-]{1,39}$")
# Audit sources and history names the app itself uses: a plugin of that name would be taken for them.
RESERVED_NAMES = frozenset({"manual", "recurring"})
# Semantic Versioning 2.0: no leading zeros; an optional "-pre.release" and then an optional "+build".
_IDENTIFIERS = r"[0-9A-Za-z-]+(?:\.[0-9A-Za-z-]+)*"
VERSION_RE = re.compile(rf"^(?:0|[1-9]\d*)\.(?:0|[1-9]\d*)\.(?:0|[1-9]\d*)(?:-{_IDENTIFIERS})?(?:\+{_IDENTIFIERS})?$")


class PluginRegistrationError(FakturkaError):
    """A registered plugin class is malformed; the message names the class and its file."""


def _where(cls) -> str:
    path = "?"
    for target in (cls, type(cls)):  # type(cls): an instance registered by mistake
        try:
            path = inspect.getsourcefile(target) or "?"
            break
        except TypeError:
            continue
    what = getattr(cls, "__qualname__", None) or Message("{name} instance", name=type(cls).__qualname__)
    return Message("plugin class {what} ({path})", what=what, path=path)


def check_plugin_class(cls) -> None:
    where = _where(cls)
    if not (inspect.isclass(cls) and issubclass(cls, Plugin)):
        raise PluginRegistrationError(Message("{where} does not derive from core.plugins.base.Plugin", where=where))
    name = getattr(cls, "name", "")
    if not isinstance(name, str) or not name:
        raise PluginRegistrationError(Message('{where} has no name: set name = "my-plugin"', where=where))
    if not NAME_RE.match(name):
        raise PluginRegistrationError(
            Message(
                "{where} has the name {name}: use 2-40 lower-case letters, digits and dashes, starting with a letter",
                where=where,
                name=repr(name),
            )
        )
    if name in RESERVED_NAMES:
        raise PluginRegistrationError(
            Message(
                "{where} has the name {name}, which Fakturka uses for its own changes; choose another name",
                where=where,
                name=repr(name),
            )
        )
    version = getattr(cls, "version", "")
    if not isinstance(version, str) or not VERSION_RE.match(version):
        raise PluginRegistrationError(
            Message(
                '{where} has the version {version}: use MAJOR.MINOR.PATCH, e.g. "1.0.0"',
                where=where,
                version=repr(version),
            )
        )
    sync = getattr(cls, "sync", None)
    if sync is None or sync is Plugin.sync or not callable(sync):
        raise PluginRegistrationError(Message("{where} has no sync(self, ctx) method", where=where))
    params = list(inspect.signature(sync).parameters)
    if len(params) != 2:
        raise PluginRegistrationError(
            Message(
                "{where}: sync must take exactly (self, ctx), not ({params})", where=where, params=", ".join(params)
            )
        )
    fields = getattr(cls, "fields", None)
    if fields is None:
        fields = []
    if not isinstance(fields, (list, tuple)):
        raise PluginRegistrationError(
            Message("{where}: fields must be a list of Field objects, got {fields}", where=where, fields=repr(fields))
        )
    keys = set()
    for field in fields:
        if not isinstance(field, Field):
            raise PluginRegistrationError(
                Message("{where}: fields must be Field objects, got {field}", where=where, field=repr(field))
            )
        if field.kind not in FIELD_KINDS:
            raise PluginRegistrationError(
                Message(
                    "{where}: field {key} has the kind {kind}; use one of {kinds}",
                    where=where,
                    key=repr(field.key),
                    kind=repr(field.kind),
                    kinds=", ".join(FIELD_KINDS),
                )
            )
        if field.key in keys:
            raise PluginRegistrationError(
                Message("{where}: the field key {key} is used twice", where=where, key=repr(field.key))
            )
        if field.kind == "choice" and not field.choices:
            raise PluginRegistrationError(
                Message("{where}: choice field {key} lists no choices", where=where, key=repr(field.key))
            )
        _check_default(where, field)
        keys.add(field.key)
    _check_expiry(where, fields)


def _check_expiry(where: str, fields) -> None:
    """``expires_after_days`` on a secret, a whole number of days; ``expiry_of`` on a date, naming a secret."""
    secrets = {field.key for field in fields if field.secret}
    for field in fields:
        days = field.expires_after_days
        if days is not None and (not field.secret or not isinstance(days, int) or isinstance(days, bool) or days < 1):
            raise PluginRegistrationError(
                Message(
                    "{where}: field {key} has expires_after_days={days}: give a secret field a whole number of days",
                    where=where,
                    key=repr(field.key),
                    days=repr(days),
                )
            )
        if field.expiry_of and (field.kind != "date" or field.expiry_of not in secrets):
            raise PluginRegistrationError(
                Message(
                    "{where}: field {key} has expiry_of={of}: give it to a date field, naming a secret field",
                    where=where,
                    key=repr(field.key),
                    of=repr(field.expiry_of),
                )
            )


def _check_default(where: str, field: Field) -> None:
    """A default the field's own form would refuse ("ninety" for a number, a choice not listed) would
    reach ``ctx.settings`` unchecked: refuse it at start-up instead."""
    if field.default is None or field.secret:
        return
    from core.platform.plugin_config import parse_field  # here: the registry is built after core.plugins is imported
    from core.values.validation import ValidationError

    try:
        parse_field(field, field.default)
    except ValidationError as exc:
        raise PluginRegistrationError(
            Message(
                "{where}: field {key} has the default {default}, which its own form refuses ({error})",
                where=where,
                key=repr(field.key),
                default=repr(field.default),
                error=message_of(exc),
            )
        ) from None


def _label(cls) -> str:
    """How a broken plugin is listed: its name when it has a usable one, else its class name."""
    name = getattr(cls, "name", "") if inspect.isclass(cls) else ""
    if isinstance(name, str) and name:
        return name
    return getattr(cls, "__qualname__", None) or type(cls).__qualname__


def check_registry(
    classes: Iterable[type], shipped: Iterable[type] = ()
) -> tuple[dict[str, type[Plugin]], dict[str, str]]:
    """``({name: class}, {label: reason})``: the plugins that passed their check, and the broken ones.

    A broken plugin does not stop the others: it is listed with its reason and refused where it is used.
    Of two plugins with the same name, the one not shipped with Fakturka (``shipped``) is the broken one.
    """
    shipped = set(shipped)
    good: dict[str, type[Plugin]] = {}
    broken: dict[str, str] = {}
    for cls in classes:
        try:
            check_plugin_class(cls)
        except PluginRegistrationError as exc:
            broken[_label(cls)] = message_of(exc)
            continue
        taken = good.get(cls.name)
        if taken is None:
            good[cls.name] = cls
            continue
        newcomer, keeper = (taken, cls) if taken not in shipped and cls in shipped else (cls, taken)
        good[cls.name] = keeper
        broken[cls.name] = _name_taken(newcomer, keeper)
    return good, broken


def _name_taken(newcomer, keeper) -> Message:
    return Message(
        "{newcomer} uses the name {name}, already taken by {keeper}",
        newcomer=_where(newcomer),
        name=repr(newcomer.name),
        keeper=_where(keeper),
    )


def build_registry(classes: Iterable[type]) -> dict[str, type[Plugin]]:
    """``{name: class}`` after checking each class and that names are unique."""
    registry: dict[str, type[Plugin]] = {}
    for cls in classes:
        check_plugin_class(cls)
        if cls.name in registry:
            raise PluginRegistrationError(_name_taken(cls, registry[cls.name]))
        registry[cls.name] = cls
    return registry
