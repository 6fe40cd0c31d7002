"""The plugin platform: registration checks, configuration and credentials, the sync engine, run history."""
