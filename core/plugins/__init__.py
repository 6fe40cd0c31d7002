"""The explicit plugin registry: a plain list of the bundled plugin classes.

To add a plugin: write one file in this folder (see docs/plugins.md) and
add its class to ``BUNDLED``. No scanning, no entry points: what runs is
what is listed here. A malformed class fails at start-up with its file named.
"""

from __future__ import annotations

from core.errors import FakturkaError
from core.platform.registry import PluginRegistrationError, build_registry
from core.plugins.base import Plugin
from core.plugins.fio import FioPlugin
from core.plugins.statement import BankStatementImport
from core.plugins.timecsv import TimeCsvImport

BUNDLED: list[type[Plugin]] = [
    BankStatementImport,
    FioPlugin,
    TimeCsvImport,
]

_registry: dict[str, type[Plugin]] | None = None


class UnknownPlugin(FakturkaError, LookupError):
    """No registered plugin has that name; the message lists the known ones."""


def registry() -> dict[str, type[Plugin]]:
    """The checked registry (built once; raises PluginRegistrationError)."""
    global _registry
    if _registry is None:
        _registry = build_registry(BUNDLED)
    return _registry


def use_plugins(classes: list[type[Plugin]] | None) -> None:
    """Replace the registry (tests and the plugin test kit); ``None`` restores the bundled list."""
    global _registry
    _registry = None if classes is None else build_registry(classes)


def get_plugin(name: str) -> type[Plugin]:
    plugins = registry()
    if name not in plugins:
        known = ", ".join(sorted(plugins)) or "none"
        raise UnknownPlugin(f"There is no plugin called {name!r}; known plugins: {known}.")
    return plugins[name]


__all__ = ["BUNDLED", "Plugin", "PluginRegistrationError", "UnknownPlugin", "get_plugin", "registry", "use_plugins"]
