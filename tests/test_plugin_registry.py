"""The explicit plugin registry: a malformed plugin fails at start-up, naming its class and its file."""

from __future__ import annotations

import pytest

import core.plugins
from core.platform.registry import build_registry, check_plugin_class
from core.plugins import (
    BUNDLED,
    PluginRegistrationError,
    UnknownPlugin,
    get_plugin,
    registry,
    use_plugins,
)
from core.plugins.base import (
    FIELD_KINDS,
    Bool,
    Choice,
    Date,
    Field,
    Money,
    Number,
    PathField,
    Plugin,
    Secret,
    Text,
)
from core.plugins.timecsv import TimeCsvImport

THIS_FILE = __file__


@pytest.fixture(autouse=True)
def restore_registry():
    yield
    use_plugins(None)


# -- well-formed plugins ------------------------------------------------------------------------


class Good(Plugin):
    name = "good"
    version = "1.0.0"
    fields = [
        Text("a", "A"),
        Secret("b", "B"),
        Number("c", "C"),
        Money("d", "D"),
        Date("e", "E"),
        Choice("f", "F", ["x", "y"]),
        Bool("g", "G"),
        PathField("h", "H"),
    ]

    def sync(self, ctx):
        pass


class GoodAsync(Plugin):
    name = "good-async"
    version = "2.10.3-beta.1"

    async def sync(self, ctx):
        pass


class Minimal(Plugin):
    name = "ab"
    version = "0.0.1"

    def sync(self, ctx):
        pass


@pytest.mark.parametrize("version", ["1.0.0-beta", "1.0.0+5", "1.0.0-beta+5", "1.0.0-rc.1+build.7", "10.20.30"])
def test_every_semantic_version_is_accepted(version):
    cls = type("Versioned", (Minimal,), {"version": version})
    assert build_registry([cls]) == {"ab": cls}


def test_well_formed_plugins_register_by_name():
    assert build_registry([Good, GoodAsync, Minimal]) == {"good": Good, "good-async": GoodAsync, "ab": Minimal}
    assert {f.kind for f in Good.fields} == set(FIELD_KINDS)


def test_the_bundled_registry_is_valid_and_explicit():
    assert registry() == {cls.name: cls for cls in BUNDLED}
    assert get_plugin("time-csv") is TimeCsvImport


def test_use_plugins_swaps_and_none_restores():
    use_plugins([Good])
    assert list(registry()) == ["good"]
    with pytest.raises(UnknownPlugin, match=r"no plugin called 'time-csv'; known plugins: good\."):
        get_plugin("time-csv")
    use_plugins([])
    with pytest.raises(UnknownPlugin, match="known plugins: none"):
        get_plugin("good")
    use_plugins(None)
    assert "time-csv" in registry() and "good" not in registry()


# -- malformed plugins: each refused, naming the class and its file ---------------------------------


class NoName(Plugin):
    version = "1.0.0"

    def sync(self, ctx):
        pass


class BadName(Plugin):
    name = "Fio Bank"
    version = "1.0.0"

    def sync(self, ctx):
        pass


class DuplicateName(Plugin):
    name = "good"
    version = "3.0.0"

    def sync(self, ctx):
        pass


class BadVersion(Plugin):
    name = "bad-version"
    version = "1.0"

    def sync(self, ctx):
        pass


class NoVersion(Plugin):
    name = "no-version"

    def sync(self, ctx):
        pass


class NoSync(Plugin):
    name = "no-sync"
    version = "1.0.0"

    def run(self, ctx):
        pass


class SyncNotCallable(Plugin):
    name = "sync-attr"
    version = "1.0.0"
    sync = "later"


class SyncWithoutCtx(Plugin):
    name = "sync-without-ctx"
    version = "1.0.0"

    def sync(self):
        pass


class SyncWithExtra(Plugin):
    name = "sync-with-extra"
    version = "1.0.0"

    def sync(self, ctx, session):
        pass


class BadFieldKind(Plugin):
    name = "bad-kind"
    version = "1.0.0"
    fields = [Field("when", "When", "datetime")]

    def sync(self, ctx):
        pass


class DuplicateFieldKey(Plugin):
    name = "dup-key"
    version = "1.0.0"
    fields = [Text("account", "Account"), Secret("account", "Account token")]

    def sync(self, ctx):
        pass


class ChoiceWithoutChoices(Plugin):
    name = "no-choices"
    version = "1.0.0"
    fields = [Field("format", "Format", "choice")]

    def sync(self, ctx):
        pass


class FieldNotAField(Plugin):
    name = "not-a-field"
    version = "1.0.0"
    fields = [{"key": "token", "kind": "secret"}]

    def sync(self, ctx):
        pass


class FieldsNotAList(Plugin):
    name = "fields-not-list"
    version = "1.0.0"
    fields = Text("account", "Account")  # forgot the brackets

    def sync(self, ctx):
        pass


class LeadingZeroVersion(Plugin):
    name = "leading-zero"
    version = "01.0.0"  # Semantic Versioning forbids leading zeros

    def sync(self, ctx):
        pass


class ChoiceDefaultNotAChoice(Plugin):
    name = "choice-default"
    version = "1.0.0"
    fields = [Choice("currency", "Currency", ["CZK", "EUR"], default="USD")]

    def sync(self, ctx):
        pass


class NumberDefaultNotANumber(Plugin):
    name = "number-default"
    version = "1.0.0"
    fields = [Number("days", "Days", default="ninety")]

    def sync(self, ctx):
        pass


class NotAPlugin:
    name = "not-a-plugin"
    version = "1.0.0"

    def sync(self, ctx):
        pass


MALFORMED = [
    (NoName, "has no name"),
    (BadName, "has the name 'Fio Bank'"),
    (BadVersion, "has the version '1.0'"),
    (NoVersion, "has the version ''"),
    (LeadingZeroVersion, "has the version '01.0.0'"),
    (
        ChoiceDefaultNotAChoice,
        "field 'currency' has the default 'USD', which its own form refuses (Currency: choose one of CZK, EUR.)",
    ),
    (
        NumberDefaultNotANumber,
        "field 'days' has the default 'ninety', which its own form refuses (Days: 'ninety' is not a number.)",
    ),
    (NoSync, "has no sync(self, ctx) method"),
    (SyncNotCallable, "has no sync(self, ctx) method"),
    (SyncWithoutCtx, "sync must take exactly (self, ctx), not (self)"),
    (SyncWithExtra, "sync must take exactly (self, ctx), not (self, ctx, session)"),
    (BadFieldKind, "field 'when' has the kind 'datetime'"),
    (DuplicateFieldKey, "the field key 'account' is used twice"),
    (ChoiceWithoutChoices, "choice field 'format' lists no choices"),
    (FieldNotAField, "fields must be Field objects"),
    (FieldsNotAList, "fields must be a list"),
    (NotAPlugin, "does not derive from core.plugins.base.Plugin"),
]


@pytest.mark.parametrize("cls, problem", MALFORMED, ids=[cls.__name__ for cls, _ in MALFORMED])
def test_each_malformed_registration_is_refused_naming_class_and_file(cls, problem):
    with pytest.raises(PluginRegistrationError) as refused:
        use_plugins([Good, cls])
    message = str(refused.value)
    assert problem in message
    assert f"plugin class {cls.__name__} ({THIS_FILE})" in message
    assert "\n" not in message
    # The registry was not half-replaced: the next look-up rebuilds the bundled one.
    with pytest.raises(PluginRegistrationError):
        check_plugin_class(cls)


def test_a_duplicate_name_names_both_classes():
    with pytest.raises(PluginRegistrationError) as refused:
        use_plugins([Good, DuplicateName])
    message = str(refused.value)
    assert f"plugin class DuplicateName ({THIS_FILE}) uses the name 'good'" in message
    assert f"already taken by plugin class Good ({THIS_FILE})" in message


def test_registering_an_instance_instead_of_a_class_is_refused():
    with pytest.raises(PluginRegistrationError) as refused:
        use_plugins([Good()])
    assert str(refused.value) == (
        f"plugin class Good instance ({THIS_FILE}) does not derive from core.plugins.base.Plugin"
    )


def test_a_class_defined_in_a_function_is_named_with_its_qualified_name():
    class Local(Plugin):
        name = "local"
        version = "x"

        def sync(self, ctx):
            pass

    with pytest.raises(PluginRegistrationError) as refused:
        use_plugins([Local])
    assert "test_a_class_defined_in_a_function_is_named_with_its_qualified_name.<locals>.Local" in str(refused.value)
    assert THIS_FILE in str(refused.value)


# -- start-up ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("cls", [NoName, BadVersion, NoSync, DuplicateFieldKey], ids=lambda c: c.__name__)
def test_a_malformed_plugin_is_listed_as_broken_and_every_other_command_works(monkeypatch, capsys, database, cls):
    from fakturka.launcher import main

    monkeypatch.setattr(core.plugins, "BUNDLED", [TimeCsvImport, cls])
    use_plugins(None)
    with pytest.raises(SystemExit) as version:
        main(["--version"])
    assert version.value.code == 0
    capsys.readouterr()
    assert main(["info"]) == 0
    capsys.readouterr()
    assert main(["plugins"]) == 0
    out = capsys.readouterr().out
    assert "time-csv" in out and "BROKEN" in out
    reason = next(line for line in out.splitlines() if "is broken and cannot be used" in line)
    assert "plugin class " + cls.__name__ in reason and THIS_FILE in reason
    assert main(["plugins", "--json"]) == 0
    listed = {p["name"]: p for p in __import__("json").loads(capsys.readouterr().out)}
    bad = [p for p in listed.values() if p.get("broken")]
    assert len(bad) == 1 and "plugin class " + cls.__name__ in bad[0]["problem"]
    assert "broken" not in listed["time-csv"]
    label = next(iter(core.plugins.broken()))
    assert main(["sync", label]) == 1
    assert "broken and cannot be used" in capsys.readouterr().err


def test_the_command_starts_again_once_the_registry_is_fixed(monkeypatch, capsys, database):
    from fakturka.launcher import main

    monkeypatch.setattr(core.plugins, "BUNDLED", [TimeCsvImport, NoName])
    use_plugins(None)
    assert main(["plugins"]) == 0
    assert "BROKEN" in capsys.readouterr().out
    monkeypatch.setattr(core.plugins, "BUNDLED", [TimeCsvImport])
    use_plugins(None)
    capsys.readouterr()
    assert main(["plugins", "--json"]) == 0
    out = capsys.readouterr().out
    assert '"time-csv"' in out and "BROKEN" not in out


def test_a_name_clash_blames_the_plugin_that_is_not_shipped(monkeypatch):
    from core.plugins.fio import FioPlugin

    class MyFio(Plugin):
        name = "fio"
        version = "1.0.0"

        def sync(self, ctx):
            pass

    monkeypatch.setattr(core.plugins, "BUNDLED", [MyFio, FioPlugin])  # the newcomer listed first
    use_plugins(None)
    assert get_plugin("fio") is FioPlugin
    reason = core.plugins.broken()["fio"]
    assert reason.startswith(f"plugin class {MyFio.__qualname__} ({THIS_FILE}) uses the name 'fio'")
    assert "already taken by plugin class FioPlugin" in reason


def test_a_plugin_file_that_does_not_import_is_broken_not_fatal(monkeypatch):
    if "BUNDLED" in vars(core.plugins):  # a test's override, left behind: use the PLUGINS lines
        monkeypatch.delattr(core.plugins, "BUNDLED")
    monkeypatch.setattr(core.plugins, "PLUGINS", [*core.plugins.PLUGINS, "core.plugins.nowhere:Nothing"])
    use_plugins(None)
    assert "time-csv" in registry()
    assert "cannot be loaded: ModuleNotFoundError" in core.plugins.broken()["Nothing"]
