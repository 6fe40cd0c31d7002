"""The explicit plugin registry: one line per plugin, ``"module:Class"``.

To add a plugin: write one file in this folder (see docs/plugins.md) and add
one line to ``PLUGINS``. No scanning, no entry points: what runs is what is
listed here. A plugin whose file does not import, or whose class is
malformed, is listed as broken with the reason (``broken()``) and refused
where it is used; every other plugin and command keeps working.
"""

from __future__ import annotations

import importlib

from core.errors import FakturkaError
from core.platform.registry import PluginRegistrationError, build_registry, check_registry
from core.plugins.base import Plugin
from core.values.messages import Message, message_of

PLUGINS: list[str] = [
    "core.plugins.statement:BankStatementImport",
    "core.plugins.fio:FioPlugin",
    "core.plugins.timecsv:TimeCsvImport",
]
SHIPPED = frozenset(PLUGINS[:3])  # the plugins that come with Fakturka: a newcomer's name clash is the newcomer's

_registry: dict[str, type[Plugin]] | None = None
_broken: dict[str, str] = {}


class UnknownPlugin(FakturkaError, LookupError):
    """No registered plugin has that name; the message lists the known ones."""


class BrokenPlugin(UnknownPlugin):
    """The plugin failed its start-up check; the message gives the reason."""


def _load(entry) -> type:
    """A class from a ``"module:Class"`` line (a class given directly is taken as it is)."""
    if not isinstance(entry, str):
        return entry
    module, _, attr = entry.partition(":")
    try:
        return getattr(importlib.import_module(module), attr)
    except Exception as exc:  # noqa: BLE001 - a plugin file that does not import is a broken plugin
        raise PluginRegistrationError(
            Message(
                "plugin {entry} cannot be loaded: {error_type}: {error}",
                entry=entry,
                error_type=type(exc).__name__,
                error=message_of(exc),
            )
        ) from None


def _entry(cls) -> str:
    return f"{getattr(cls, '__module__', '?')}:{getattr(cls, '__qualname__', '?')}"


def _bundled() -> tuple[dict[str, type[Plugin]], dict[str, str]]:
    classes, broken = [], {}
    # Tests may set BUNDLED to a list of classes; otherwise the PLUGINS lines.
    for entry in globals().get("BUNDLED", PLUGINS):
        try:
            classes.append(_load(entry))
        except PluginRegistrationError as exc:
            broken[str(entry).rpartition(":")[2]] = message_of(exc)
    good, bad = check_registry(classes, [cls for cls in classes if _entry(cls) in SHIPPED])
    return good, {**broken, **bad}


def __getattr__(name: str):
    if name == "BUNDLED":  # the classes of the PLUGINS lines that load
        classes = []
        for entry in PLUGINS:
            try:
                classes.append(_load(entry))
            except PluginRegistrationError:
                continue
        return classes
    raise AttributeError(name)


def registry() -> dict[str, type[Plugin]]:
    """The plugins that passed their check (built once). Broken ones are in ``broken()``."""
    global _registry, _broken
    if _registry is None:
        _registry, _broken = _bundled()
    return _registry


def broken() -> dict[str, str]:
    """``{name (or class name): reason}`` of the listed plugins that failed their check."""
    registry()
    return dict(_broken)


def use_plugins(classes: list[type[Plugin]] | None) -> None:
    """Replace the registry (tests and the plugin test kit); ``None`` restores the bundled list.

    A list given here is checked strictly: a malformed class raises PluginRegistrationError.
    """
    global _registry, _broken
    _broken = {}
    _registry = None if classes is None else build_registry(classes)


def get_plugin(name: str) -> type[Plugin]:
    plugins = registry()
    if name not in plugins:
        if name in _broken:
            raise BrokenPlugin(
                Message(
                    "The plugin {name} is broken and cannot be used: {reason}", name=repr(name), reason=_broken[name]
                )
            )
        known = ", ".join(sorted(plugins)) or Message("none")
        raise UnknownPlugin(
            Message("There is no plugin called {name}; known plugins: {known}.", name=repr(name), known=known)
        )
    return plugins[name]


__all__ = [
    "BUNDLED",
    "PLUGINS",
    "BrokenPlugin",
    "Plugin",
    "PluginRegistrationError",
    "UnknownPlugin",
    "broken",
    "get_plugin",
    "registry",
    "use_plugins",
]
