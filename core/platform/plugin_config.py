"""Per-plugin configuration: enabled flag, encrypted secrets, JSON settings, persisted state.

Values are validated from the plugin's ``fields``; secret fields go to the
encrypted credentials blob, everything else to ``settings``. A secret that
is not given again is kept (forms show it masked and never send it back).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any, Iterable

from core.billing.profile import _check_bool
from core.platform import credentials as creds
from core.platform.key_file import CredentialError
from core.plugins import broken, get_plugin, registry
from core.plugins.base import Field, Plugin
from core.store.db import db
from core.store.models import PluginConfiguration, SyncHistory
from core.values.dates import parse_date
from core.values.forms import FormErrors
from core.values.messages import Message, message_of
from core.values.money import MoneyError, parse_amount
from core.values.validation import ValidationError


def get_config(name: str) -> PluginConfiguration | None:
    return PluginConfiguration.get_or_none(PluginConfiguration.plugin_name == name)


def parse_field(field: Field, value: Any) -> Any:
    """Text from a form or the command line -> the stored value; raises ValidationError."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    text = str(value).strip()
    label = Message(field.label)  # a bundled plugin's label is in the catalog: said in the face's language
    if field.kind in ("text", "secret"):
        return text if field.kind == "text" else str(value)  # secrets are kept exactly as typed
    if field.kind == "number":
        try:
            number = Decimal(text.replace(",", "."))
        except ArithmeticError:
            raise ValidationError(_not_a_number(label, text), field.key) from None
        if not number.is_finite():  # "inf", "nan": Decimal accepts them, a setting must not
            raise ValidationError(_not_a_number(label, text), field.key)
        return int(number) if number == number.to_integral_value() else str(number)
    if field.kind == "money":
        try:
            return str(parse_amount(text))
        except MoneyError as exc:
            raise ValidationError(_field_problem(label, exc), field.key) from None
    if field.kind == "date":
        if isinstance(value, date):
            return value.isoformat()
        try:
            return parse_date(text).isoformat()
        except ValidationError as exc:
            raise ValidationError(_field_problem(label, exc), field.key) from None
    if field.kind == "choice":
        if text not in field.choices:
            raise ValidationError(
                Message("{label}: choose one of {choices}.", label=label, choices=", ".join(field.choices)), field.key
            )
        return text
    if field.kind == "bool":
        try:
            return _check_bool(value)
        except ValidationError as exc:
            raise ValidationError(_field_problem(label, exc), field.key) from None
    if field.kind == "path":
        # Absolute: a sync may run from another working directory than the one it was typed in.
        return os.path.abspath(Path(text).expanduser())
    raise ValidationError(Message("{label}: unknown field kind {kind}.", label=label, kind=repr(field.kind)), field.key)


def _not_a_number(label: Message, text: str) -> Message:
    return Message("{label}: {text} is not a number.", label=label, text=repr(text))


def _field_problem(label: Message, exc: Exception) -> Message:
    """The field's own refusal (an amount, a date, yes/no), after its label."""
    return Message("{label}: {problem}", label=label, problem=message_of(exc))


def missing_fields(plugin: type[Plugin], settings: dict, secrets_present: set[str]) -> list[Field]:
    """Required fields that have no value (and no default)."""
    missing = []
    for field in plugin.fields:
        if not field.required:
            continue
        if field.secret:
            if field.key not in secrets_present:
                missing.append(field)
        elif settings.get(field.key) in (None, "") and field.default in (None, ""):
            missing.append(field)
    return missing


def stored_secret_keys(name: str) -> set[str]:
    """Which secret keys are stored; decrypts (raises CredentialError if it cannot)."""
    return {key for key, value in creds.get_credentials(name).items() if value not in (None, "")}


def configure(
    name: str, values: dict[str, Any], secrets: dict[str, str] | None = None, clear_secrets: Iterable[str] = ()
) -> PluginConfiguration:
    """Validate and store settings (``values``) and secrets; all-or-nothing, audited.

    ``values`` may also carry secret keys (a form does); an empty secret
    keeps the stored one. ``clear_secrets`` names stored secrets to remove.
    Unknown keys are refused.
    """
    plugin = get_plugin(name)
    by_key = {field.key: field for field in plugin.fields}
    secrets = dict(secrets or {})
    clear_secrets = list(clear_secrets)
    unknown = [key for key in list(values) + list(secrets) + clear_secrets if key not in by_key]
    if unknown:
        raise ValidationError(
            Message(
                "{name} has no setting {key}; its settings are: {keys}.",
                name=name,
                key=repr(unknown[0]),
                keys=", ".join(by_key) or Message("none"),
            )
        )
    errors: dict[str, str] = {}
    settings: dict[str, Any] = {}
    for key, raw in values.items():
        field = by_key[key]
        if field.secret:
            if raw not in (None, ""):
                secrets[key] = raw
            continue
        try:
            settings[key] = parse_field(field, raw)
        except ValidationError as exc:
            errors[key] = message_of(exc)
            continue
        if settings[key] is None and field.required and field.default in (None, ""):
            errors[key] = Message("{label} is required.", label=Message(field.label))
    for key in secrets:
        if not by_key[key].secret:
            errors[key] = Message("{label} is not a secret; give it with --set.", label=Message(by_key[key].label))
    for key in clear_secrets:
        if not by_key[key].secret:
            errors[key] = Message(
                "{label} is not a secret; clear it with --set {key}=.", label=Message(by_key[key].label), key=key
            )
    if errors:
        raise FormErrors(errors)
    with db.atomic():
        row = get_config(name) or PluginConfiguration(plugin_name=name)
        merged = dict(row.settings or {})
        for key, value in settings.items():
            if value is None:
                merged.pop(key, None)
            else:
                merged[key] = value
        row.settings = merged
        row.save()
        retyped = {k: v for k, v in secrets.items() if v not in (None, "")}
        if retyped or clear_secrets:
            try:
                current = creds.get_credentials(name) if row.credentials else {}
            except CredentialError:
                current = {}  # unreadable (lost or changed key): the secrets typed now replace them
            for key in clear_secrets:
                current.pop(key, None)
            current.update(retyped)
            creds.set_credentials(name, current)
            # The day each secret was entered: a token that lasts N days is warned of before it expires.
            entered = {k: v for k, v in (row.secrets_entered or {}).items() if k not in clear_secrets}
            entered.update({key: date.today().isoformat() for key in retyped})
            if entered != (row.secrets_entered or {}):
                row = get_config(name)
                row.secrets_entered = entered
                row.save()
    return get_config(name)


def set_enabled(name: str, enabled: bool) -> PluginConfiguration:
    get_plugin(name)
    with db.atomic():
        row = get_config(name) or PluginConfiguration(plugin_name=name)
        row.enabled = enabled
        row.save()
    return row


@dataclass
class PluginStatus:
    name: str
    version: str
    enabled: bool
    configured: bool
    missing: list[str]
    last_run: SyncHistory | None
    problem: str | None = None  # e.g. credentials that cannot be decrypted, or why the plugin is broken
    broken: bool = False  # failed its start-up check: listed with the reason, refused where it is used
    secrets_unreadable: bool = False  # stored but cannot be decrypted: the reason and the fix are in ``problem``


def effective_settings(plugin: type[Plugin], stored: dict) -> dict[str, Any]:
    """Stored settings with each field's default filled in."""
    result = {field.key: field.default for field in plugin.fields if not field.secret and field.default is not None}
    result.update(stored or {})
    return result


def unreadable_problem(exc: CredentialError) -> str:
    """A status line for secrets that are stored but cannot be decrypted: why, and what to do."""
    return Message(
        "secrets stored but unreadable (cannot be decrypted: {reason}); {remedy}",
        reason=exc.reason,
        remedy=exc.remedy or Message("re-enter them"),
    )


def plugin_status(name: str) -> PluginStatus:
    plugin = get_plugin(name)
    row = get_config(name)
    problem = None
    try:
        present = stored_secret_keys(name) if row and row.credentials else set()
    except CredentialError as exc:
        # Stored, only unreadable: not "missing", which would send the person to re-type a secret
        # that a key reset (or the right key file) is what brings back.
        present, problem = {f.key for f in plugin.fields if f.secret}, unreadable_problem(exc)
    missing = missing_fields(plugin, row.settings if row else {}, present)
    last = SyncHistory.select().where(SyncHistory.plugin_name == name).order_by(SyncHistory.id.desc()).first()
    return PluginStatus(
        name,
        plugin.version,
        bool(row and row.enabled),
        not missing and problem is None,
        [f.key for f in missing],
        last,
        problem,
        secrets_unreadable=problem is not None,
    )


def broken_status(label: str, reason: str) -> PluginStatus:
    last = SyncHistory.select().where(SyncHistory.plugin_name == label).order_by(SyncHistory.id.desc()).first()
    row = get_config(label)
    return PluginStatus(label, "?", bool(row and row.enabled), False, [], last, reason, broken=True)


def all_statuses() -> list[PluginStatus]:
    """Every listed plugin, the broken ones too (``broken`` set, the reason in ``problem``)."""
    statuses = [plugin_status(name) for name in sorted(registry())]
    return statuses + [broken_status(label, reason) for label, reason in sorted(broken().items())]


def masked_view(name: str) -> dict[str, Any]:
    """Settings and secrets for display: secrets as ``***`` (or empty when unset)."""
    plugin = get_plugin(name)
    row = get_config(name)
    settings = effective_settings(plugin, row.settings if row else {})
    try:
        present = stored_secret_keys(name) if row and row.credentials else set()
    except CredentialError:
        present = set()
    view = {}
    for field in plugin.fields:
        view[field.key] = ("***" if field.key in present else "") if field.secret else settings.get(field.key)
    return view
