"""Plugin configuration: validation from the plugin's fields, encrypted secrets, audited changes."""

from __future__ import annotations

import json
import os
from datetime import date
from pathlib import Path

import pytest

from core.platform import credentials as creds
from core.platform import plugin_config
from core.platform.key_file import CredentialError
from core.plugins import UnknownPlugin, use_plugins
from core.plugins.base import Bool, Choice, Date, Money, Number, PathField, Plugin, Secret, Text
from core.store.audit import AuditRecord
from core.store.db import db
from core.store.models import PluginConfiguration
from core.values.forms import FormErrors
from core.values.validation import ValidationError

TOKEN = "tok-9f8e7d6c5b4a"


class Bank(Plugin):
    name = "bank"
    version = "1.0.0"
    fields = [
        Secret("token", "API token", required=True, help="From the bank's internet banking."),
        Secret("pin", "Signing PIN"),
        Text("account", "Account number", required=True),
        Number("days", "Days back", default=30),
        Money("limit", "Amount limit"),
        Date("since", "Import since"),
        Choice("format", "Statement format", ["json", "xml"], default="json", required=True),
        Bool("dry", "Dry run", default=False),
        PathField("folder", "Statement folder"),
    ]

    def sync(self, ctx):
        pass


@pytest.fixture(autouse=True)
def bank(database):
    use_plugins([Bank])
    yield
    use_plugins(None)


def field(key: str):
    return next(f for f in Bank.fields if f.key == key)


def row() -> PluginConfiguration:
    return PluginConfiguration.get(PluginConfiguration.plugin_name == "bank")


def config_audit() -> list[AuditRecord]:
    return list(AuditRecord.select().where(AuditRecord.table_name == "plugin_configurations").order_by(AuditRecord.id))


# -- parsing each kind -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "key, typed, stored",
    [
        ("account", "  2001234567 ", "2001234567"),
        ("days", "14", 14),
        ("days", " 7 ", 7),
        ("days", "1,5", "1.5"),
        ("days", "2.50", "2.50"),
        ("days", "-3", -3),
        ("limit", "1 234,50", "1234.50"),
        ("limit", "1,234.50", "1234.50"),
        ("limit", "99", "99"),
        ("since", "2025-03-01", "2025-03-01"),
        ("since", "1.3.2025", "2025-03-01"),
        ("since", date(2025, 3, 1), "2025-03-01"),
        ("format", "xml", "xml"),
        ("dry", "yes", True),
        ("dry", "no", False),
        ("dry", "1", True),
        ("dry", True, True),
        ("dry", False, False),
        ("token", " keeps spaces ", " keeps spaces "),
        ("account", "", None),
        ("days", "   ", None),
    ],
)
def test_each_kind_is_parsed(key, typed, stored):
    assert plugin_config.parse_field(field(key), typed) == stored


@pytest.mark.parametrize(
    "key, typed, says",
    [
        ("days", "many", "Days back: 'many' is not a number."),
        ("days", "1 000", "is not a number"),
        ("days", "inf", "is not a number"),
        ("days", "NaN", "is not a number"),
        ("limit", "ten", "Amount limit: 'ten' is not an amount"),
        ("limit", "Infinity", "is not an amount"),
        ("since", "2025-02-30", "Import since: '2025-02-30' is not a date"),
        ("since", "March", "is not a date"),
        ("format", "csv", "Statement format: choose one of json, xml."),
        ("format", "JSON", "choose one of json, xml"),
        ("dry", "maybe", "Dry run: 'maybe' is not yes or no."),
    ],
)
def test_each_kind_refuses_wrong_values_with_the_field_named(key, typed, says):
    with pytest.raises(ValidationError) as refused:
        plugin_config.parse_field(field(key), typed)
    assert says in str(refused.value)
    assert refused.value.field == key


def test_a_path_is_stored_absolute_and_expanded(tmp_path, monkeypatch):
    monkeypatch.setenv("HOME", str(tmp_path / "me"))
    assert plugin_config.parse_field(field("folder"), "~/exports") == str(tmp_path / "me" / "exports")
    monkeypatch.chdir(tmp_path)
    # A relative path would point elsewhere when the sync runs from another directory.
    assert plugin_config.parse_field(field("folder"), "exports/march.csv") == str(tmp_path / "exports" / "march.csv")
    assert Path(plugin_config.parse_field(field("folder"), "/srv/x")) == Path("/srv/x")


# -- configure ---------------------------------------------------------------------------------------


def test_configure_stores_settings_and_encrypted_secrets(database):
    plugin_config.configure(
        "bank",
        {"account": "2001234567", "days": "14", "format": "xml", "dry": "yes", "since": "2025-01-01", "limit": "500"},
        {"token": TOKEN},
    )
    stored = row()
    assert stored.settings == {
        "account": "2001234567",
        "days": 14,
        "format": "xml",
        "dry": True,
        "since": "2025-01-01",
        "limit": "500",
    }
    assert "token" not in stored.settings and TOKEN not in json.dumps(stored.settings)
    assert stored.credentials and TOKEN.encode() not in bytes(stored.credentials)
    assert creds.get_credentials("bank") == {"token": TOKEN}
    assert stored.enabled is False  # configuring does not enable
    db.execute_sql("PRAGMA wal_checkpoint(FULL)")
    for suffix in ("", "-wal"):
        if os.path.exists(str(database) + suffix):
            assert TOKEN.encode() not in Path(str(database) + suffix).read_bytes()


def test_a_form_may_send_secrets_among_the_values():
    plugin_config.configure("bank", {"account": "1", "token": TOKEN, "pin": ""})
    assert creds.get_credentials("bank") == {"token": TOKEN}
    assert "token" not in row().settings and "pin" not in row().settings


def test_secrets_are_kept_unless_retyped():
    plugin_config.configure("bank", {"account": "1"}, {"token": TOKEN, "pin": "1234"})
    plugin_config.configure("bank", {"account": "2", "token": ""})  # a form leaves the secret empty
    plugin_config.configure("bank", {"days": "3"})  # other settings only
    plugin_config.configure("bank", {}, {"token": ""})  # an empty secret
    assert creds.get_credentials("bank") == {"token": TOKEN, "pin": "1234"}
    plugin_config.configure("bank", {}, {"pin": "9999"})  # retyped: only that one changes
    assert creds.get_credentials("bank") == {"token": TOKEN, "pin": "9999"}
    assert row().settings == {"account": "2", "days": 3}


def test_an_empty_value_removes_a_setting_and_defaults_fill_in():
    plugin_config.configure("bank", {"account": "1", "days": "9"})
    plugin_config.configure("bank", {"days": ""})
    assert row().settings == {"account": "1"}
    assert plugin_config.effective_settings(Bank, row().settings) == {
        "account": "1",
        "days": 30,
        "format": "json",
        "dry": False,
    }


def test_wrong_values_are_reported_per_field_and_nothing_is_saved():
    plugin_config.configure("bank", {"account": "1"}, {"token": TOKEN})
    before = (row().settings, bytes(row().credentials), AuditRecord.select().count())
    with pytest.raises(FormErrors) as refused:
        plugin_config.configure(
            "bank", {"account": "2", "days": "x", "format": "csv", "dry": "perhaps"}, {"pin": "1111"}
        )
    assert set(refused.value.errors) == {"days", "format", "dry"}
    assert "Days back" in refused.value.errors["days"] and "json, xml" in refused.value.errors["format"]
    assert (row().settings, bytes(row().credentials), AuditRecord.select().count()) == before


def test_unknown_keys_are_refused():
    with pytest.raises(ValidationError) as refused:
        plugin_config.configure("bank", {"acount": "1"})
    assert str(refused.value) == (
        "bank has no setting 'acount'; its settings are: token, pin, account, days, limit, since, format, dry, folder."
    )
    with pytest.raises(ValidationError, match="no setting 'password'"):
        plugin_config.configure("bank", {}, {"password": "x"})
    assert plugin_config.get_config("bank") is None


def test_a_setting_given_as_a_secret_is_refused():
    with pytest.raises(FormErrors) as refused:
        plugin_config.configure("bank", {}, {"account": "123"})
    assert refused.value.errors == {"account": "Account number is not a secret; give it with --set."}
    assert plugin_config.get_config("bank") is None


def test_unknown_plugin():
    with pytest.raises(UnknownPlugin):
        plugin_config.configure("nope", {"a": "1"})
    with pytest.raises(UnknownPlugin):
        plugin_config.set_enabled("nope", True)


# -- required fields and status ---------------------------------------------------------------------


def test_required_fields_and_status():
    status = plugin_config.plugin_status("bank")
    assert (status.enabled, status.configured, status.missing, status.last_run) == (
        False,
        False,
        ["token", "account"],
        None,
    )
    # "format" is required but has a default: not missing.
    plugin_config.configure("bank", {"account": "1"})
    assert plugin_config.plugin_status("bank").missing == ["token"]
    plugin_config.configure("bank", {}, {"token": TOKEN})
    plugin_config.set_enabled("bank", True)
    status = plugin_config.plugin_status("bank")
    assert (status.enabled, status.configured, status.missing, status.problem) == (True, True, [], None)
    assert [s.name for s in plugin_config.all_statuses()] == ["bank"]
    # A required field cannot be blanked (one with a default can: the default applies).
    with pytest.raises(FormErrors) as refused:
        plugin_config.configure("bank", {"account": ""})
    assert refused.value.errors == {"account": "Account number is required."}
    plugin_config.configure("bank", {"format": ""})
    assert plugin_config.plugin_status("bank").configured
    assert plugin_config.effective_settings(Bank, row().settings)["format"] == "json"


def test_masked_view_never_shows_a_secret():
    assert plugin_config.masked_view("bank")["token"] == ""
    plugin_config.configure("bank", {"account": "1"}, {"token": TOKEN})
    view = plugin_config.masked_view("bank")
    assert view["token"] == "***" and view["pin"] == ""
    assert view["account"] == "1" and view["days"] == 30 and view["format"] == "json"
    assert TOKEN not in json.dumps(view)


# -- audit -----------------------------------------------------------------------------------------------


def test_configuration_changes_are_audited_with_credentials_as_stars():
    plugin_config.configure("bank", {"account": "1"}, {"token": TOKEN})
    plugin_config.set_enabled("bank", True)
    plugin_config.configure("bank", {"days": "5"}, {"token": "tok-new-value"})
    plugin_config.configure("bank", {"days": "5"})  # no change: no record
    plugin_config.configure("bank", {"days": "5"}, {"token": ""})  # a secret left empty: kept, no record
    plugin_config.set_enabled("bank", False)
    records = config_audit()
    assert all(r.source == "manual" and r.row_id == row().id and r.sync_run is None for r in records)
    changes = [r.changes for r in records]
    assert [r.action for r in records][0] == "create"
    assert changes[0]["settings"] == [None, {"account": "1"}]
    assert [c["credentials"] for c in changes if "credentials" in c] == [[None, "***"], ["***", "***"]]
    assert [c["enabled"] for c in changes if "enabled" in c] == [[None, False], [False, True], [True, False]]
    assert [c["settings"] for c in changes if "settings" in c][-1] == [{"account": "1"}, {"account": "1", "days": 5}]
    dumped = json.dumps(changes)
    assert TOKEN not in dumped and "tok-new-value" not in dumped
    # the day the token was entered (for its expiry warning): recorded once, the day does not change after
    entered = [c["secrets_entered"] for c in changes[1:] if "secrets_entered" in c]
    assert entered == [[{}, {"token": date.today().isoformat()}]]
    # create, credentials, the day entered, enabled, settings + credentials, disabled
    assert len(records) == 7


# -- credentials that cannot be decrypted --------------------------------------------------------------------


def test_lost_key_is_a_problem_and_re_entering_the_secrets_recovers(fakturka_home):
    plugin_config.configure("bank", {"account": "1"}, {"token": TOKEN, "pin": "1234"})
    (fakturka_home / "credentials.key").unlink()
    status = plugin_config.plugin_status("bank")
    assert not status.configured and "cannot be decrypted" in status.problem
    assert plugin_config.masked_view("bank")["token"] == ""
    with pytest.raises(CredentialError, match="re-enter"):
        creds.get_credentials("bank")
    old_blob = bytes(row().credentials)
    # Settings can still be changed, and the unreadable blob is kept.
    plugin_config.configure("bank", {"days": "2"})
    assert bytes(row().credentials) == old_blob
    # Re-entering the secrets, as the message says, replaces the unreadable ones.
    plugin_config.configure("bank", {}, {"token": "tok-again"})
    assert creds.get_credentials("bank") == {"token": "tok-again"}
    status = plugin_config.plugin_status("bank")
    assert (status.configured, status.problem) == (True, None)
