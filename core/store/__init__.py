"""Storage and audit: the database file, the models, migrations, and the audit trail every write leaves."""
