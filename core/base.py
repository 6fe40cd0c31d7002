"""The Peewee base model and the custom field types every model shares."""
from __future__ import annotations

import json
from decimal import Decimal

from peewee import Model, TextField

from core.db import db


class BaseModel(Model):
    class Meta:
        database = db
        legacy_table_names = False


# How every JSON column is written: keys sorted so equal values are equal text, and
# compact, which is also how SQLite's JSON functions write (see core.audit_sql).
json_text = json.JSONEncoder(sort_keys=True, ensure_ascii=False, default=str, separators=(",", ":")).encode


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
