"""The Peewee base model and the custom field types every model shares."""

from __future__ import annotations

import json
from decimal import Decimal

from peewee import Model, TextField

from core.store.db import db


class BaseModel(Model):
    class Meta:
        database = db
        legacy_table_names = False


# How every JSON column is written: keys sorted so equal values are equal text, and
# compact, which is also how SQLite's JSON functions write (see core.store.audit_sql).
_ENCODER = json.JSONEncoder(sort_keys=True, ensure_ascii=False, default=str, separators=(",", ":"))


def _c_json_text():
    """The same encoding by the C encoder made once, not per call as ``JSONEncoder.encode`` does (that is
    half the cost of a small document, and a bank import encodes one per movement). Without the
    circular-reference check: data made from parsed JSON cannot be circular, and a cycle still fails
    (RecursionError). None where the C encoder is missing or differs."""
    make = getattr(json.encoder, "c_make_encoder", None)
    if make is None:
        return None
    try:
        encode = make(None, _ENCODER.default, json.encoder.encode_basestring, None, ":", ",", True, False, True)
    except TypeError:
        return None

    def json_text(value) -> str:
        if type(value) is str:
            return json.encoder.encode_basestring(value)
        return "".join(encode(value, 0))

    sample = {"b": [1, 2.5, None, True], "a": 'č\u0001"', "n": {"z": {}, "y": []}}
    return json_text if json_text(sample) == _ENCODER.encode(sample) else None


json_text = _c_json_text() or _ENCODER.encode


class JSONField(TextField):
    """A JSON document stored as text; keys sorted so equal values compare equal."""

    field_type = "TEXT"

    def db_value(self, value):
        if value is None:
            return None
        return json_text(value)

    def python_value(self, value):
        if value is None or not isinstance(value, str):
            return value
        return json.loads(value)


class DecimalTextField(TextField):
    """An exact decimal (e.g. a quantity of hours) stored as text, never as a float."""

    def db_value(self, value):
        if value is None:
            return None
        return str(Decimal(str(value)))

    def python_value(self, value):
        return None if value is None else Decimal(value)
