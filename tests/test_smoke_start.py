from core.store.db import db
from core.store.migrations import LATEST, schema_version


def test_fresh_database_is_at_latest_schema(database):
    assert schema_version(db) == LATEST
