"""Run a plugin against a temporary database in a few lines (for plugin tests).

The one-liner::

    from core.plugins.testing import run_plugin

    result = run_plugin(MyBank, settings={"account": "123"}, credentials={"token": "t"})
    assert result.ok and result.created == 3  # ok: the run completed
    result.transactions  # MoneyTransaction rows owned by the plugin (source == its name)
    result.log, result.state, result.audit, result.metadata

Several runs on the same temporary database (re-runs, idempotence, state)::

    with PluginTestKit(MyBank, settings=..., credentials=...) as kit:
        first = kit.run()
        second = kit.run()      # same database, the state the first run saved
        assert second.created == 0

How the database is handled (a decision, not an accident): the kit **never
reuses** a database that is already open, and never touches the one
``FAKTURKA_HOME`` points at. Opening a kit

1. remembers ``FAKTURKA_HOME``, the database the process had open (or
   initialised) and the plugin registry;
2. makes a fresh temporary directory, points ``FAKTURKA_HOME`` at it (so the
   credentials key file and the sync locks land there too) and opens a new,
   migrated database in it;
3. registers only the plugin under test (plus ``extra_plugins``), then
   configures and enables it through :mod:`core.platform.plugin_config`, exactly as
   the CLI and the configuration form do.

Closing it (the end of the ``with`` block) closes the temporary database,
deletes the directory (unless you passed ``home=`` or ``keep=True``) and
restores all three. So a plugin test cannot write into a person's real data,
tests do not see each other's rows, and a test suite that had its own
database open gets it back.

Inside the ``with`` block the temporary database is *the* open database:
set up what the plugin needs (clients, projects, invoices) with the normal
core services before ``kit.run()``. The kit swaps process-wide state
(an environment variable, the one ``db`` object, the registry), so use it
from one thread at a time and not inside the running app.

Refusals are not results: a disabled or incompletely configured plugin makes
``run()`` raise :class:`core.platform.sync.SyncRefused`, an invalid setting makes
opening the kit raise :class:`core.values.forms.FormErrors`, a malformed class
raises :class:`core.plugins.PluginRegistrationError`, just as the app would.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

import core.plugins as plugins_pkg
from core.platform import plugin_config
from core.platform.history import run_changes
from core.platform.sync import SyncRefused, run_sync
from core.plugins.base import Plugin
from core.store.db import PRAGMAS, close_database, db, open_database
from core.store.models import AuditRecord, MoneyTransaction, SyncHistory, WorkEntry
from core.store.states import RunStatus

__all__ = ["PluginTestKit", "SyncRefused", "SyncResult", "assert_writes_match", "run_plugin", "written"]


@dataclass
class SyncResult:
    """One run as the sync history stored it, plus the rows the plugin owns afterwards."""

    run_id: int
    status: str  # "completed" or "failed"
    error: str | None  # the message the person sees (secrets masked)
    backtrace: str | None  # only for an unexpected exception (a bug), never for SyncError
    processed: int
    created: int
    updated: int
    skipped: int  # sent again unchanged
    log: list[str]  # the stored log lines, as `fakturka history show` prints them
    metadata: dict
    state: dict  # PluginConfiguration.state after the run (unchanged when it failed)
    transactions: list[MoneyTransaction]  # every row with source == plugin name, by id
    work_entries: list[WorkEntry]  # likewise
    audit: list[AuditRecord]  # what this run changed (its audit records, in order)
    progress: list[tuple[int, int]] = field(default_factory=list)  # each ctx.progress(done, total)
    history: SyncHistory | None = None  # the sync_histories row itself

    @property
    def ok(self) -> bool:
        return self.status == RunStatus.COMPLETED

    def stored_text(self) -> str:
        """Everything this run stored as text (log, error, backtrace, metadata, audit changes).

        Handy for leak checks: ``assert token not in result.stored_text()``.
        """
        parts = list(self.log)
        parts += [self.error or "", self.backtrace or "", json.dumps(self.metadata, default=str)]
        parts += [json.dumps(record.changes, default=str) for record in self.audit]
        return "\n".join(parts)


class PluginTestKit:
    """A temporary home and database with one plugin registered, configured and enabled.

    ``settings`` and ``credentials`` are what a person would type in the
    configuration form (strings are fine: they are validated and parsed from
    the plugin's ``fields``); ``credentials`` holds the secret fields.
    ``state`` seeds the saved incremental-sync state before the first run.
    """

    def __init__(
        self,
        plugin: type[Plugin],
        *,
        settings: dict[str, Any] | None = None,
        credentials: dict[str, str] | None = None,
        state: dict | None = None,
        enabled: bool = True,
        extra_plugins: list[type[Plugin]] | tuple = (),
        home: str | Path | None = None,
        keep: bool = False,
    ):
        self.plugin = plugin
        self.settings = dict(settings or {})
        self.credentials = dict(credentials or {})
        self.initial_state = state
        self.enabled = enabled
        self.extra_plugins = list(extra_plugins)
        self._home_arg = Path(home) if home is not None else None
        self._keep = keep or home is not None
        self.home: Path | None = None
        self.db_path: Path | None = None
        self._saved: dict[str, Any] | None = None

    @property
    def name(self) -> str:
        return self.plugin.name

    @property
    def is_open(self) -> bool:
        return self._saved is not None

    # -- opening and closing -------------------------------------------------------------
    def open(self) -> "PluginTestKit":
        if self.is_open:
            raise RuntimeError("this PluginTestKit is already open")
        self._saved = {
            "env": os.environ.get("FAKTURKA_HOME"),
            "db_path": db.database,  # None when no database was ever initialised
            "db_open": not db.is_closed(),
            "registry": plugins_pkg._registry,  # None: built from BUNDLED on next use
        }
        try:
            if self._home_arg is not None:
                self._home_arg.mkdir(parents=True, exist_ok=True)
                self.home = self._home_arg
            else:
                self.home = Path(tempfile.mkdtemp(prefix="fakturka-plugin-test-"))
            os.environ["FAKTURKA_HOME"] = str(self.home)
            self.db_path = open_database(self.home / "fakturka.db")
            plugins_pkg.use_plugins([self.plugin, *self.extra_plugins])  # checks the class like start-up does
            self.configure(self.settings, self.credentials)
            plugin_config.set_enabled(self.name, self.enabled)
            if self.initial_state is not None:
                self.set_state(self.initial_state)
        except BaseException:
            self.close()
            raise
        return self

    def close(self) -> None:
        """Close the temporary database and put back what was there before. Safe to call twice."""
        saved, self._saved = self._saved, None
        if saved is None:
            return
        try:
            close_database()
        finally:
            plugins_pkg._registry = saved["registry"]
            if saved["env"] is None:
                os.environ.pop("FAKTURKA_HOME", None)
            else:
                os.environ["FAKTURKA_HOME"] = saved["env"]
            if saved["db_open"]:
                open_database(saved["db_path"], migrate=False)
            else:
                db.init(saved["db_path"], pragmas=PRAGMAS, timeout=5)
            if self.home is not None and not self._keep:
                shutil.rmtree(self.home, ignore_errors=True)

    def __enter__(self) -> "PluginTestKit":
        return self.open()

    def __exit__(self, *exc) -> None:
        self.close()

    # -- between runs --------------------------------------------------------------------
    def _require_open(self) -> None:
        if not self.is_open:
            raise RuntimeError(
                "open the kit first: 'with PluginTestKit(...) as kit: kit.run()' "
                "(or use run_plugin(...) for a single run)"
            )

    def configure(self, settings: dict[str, Any] | None = None, credentials: dict[str, str] | None = None) -> None:
        """Change settings/secrets as the form would (validated; a setting set to None is removed)."""
        self._require_open()
        plugin_config.configure(self.name, dict(settings or {}), dict(credentials or {}))

    def set_state(self, state: dict) -> None:
        """Overwrite the saved incremental-sync state (as if an earlier run had left it)."""
        self._require_open()
        row = plugin_config.get_config(self.name)
        row.state = dict(state)
        row.save()

    # -- running ---------------------------------------------------------------------------
    def run(
        self,
        *,
        cancel_event: threading.Event | None = None,
        cancel_at_progress: int | None = None,
        on_log: Callable[[str], None] | None = None,
    ) -> SyncResult:
        """Run the plugin once through the real engine (``core.platform.sync.run_sync``).

        ``cancel_at_progress=n`` cancels the run (as the person's cancel key
        does) once the plugin reports ``progress(done >= n, ...)``; the plugin's
        next ctx call then stops it. Raises SyncRefused if the engine refuses.
        """
        self._require_open()
        event = cancel_event or threading.Event()
        progress: list[tuple[int, int]] = []

        def on_progress(done: int, total: int) -> None:
            progress.append((done, total))
            if cancel_at_progress is not None and done >= cancel_at_progress:
                event.set()

        outcome = run_sync(self.name, trigger="cli", on_log=on_log, on_progress=on_progress, cancel_event=event)
        return self.result(outcome.run_id, progress)

    def result(self, run_id: int, progress: list[tuple[int, int]] | None = None) -> SyncResult:
        """Read a stored run back (``run()`` does this for you)."""
        self._require_open()
        run = SyncHistory.get_by_id(run_id)
        config = plugin_config.get_config(self.name)
        return SyncResult(
            run_id=run.id,
            status=run.status,
            error=run.error_message,
            backtrace=run.error_backtrace,
            processed=run.records_processed,
            created=run.records_created,
            updated=run.records_updated,
            skipped=run.records_skipped,
            log=run.log.splitlines(),
            metadata=dict(run.metadata or {}),
            state=dict(config.state or {}) if config else {},
            transactions=list(
                MoneyTransaction.select().where(MoneyTransaction.source == self.name).order_by(MoneyTransaction.id)
            ),
            work_entries=list(WorkEntry.select().where(WorkEntry.source == self.name).order_by(WorkEntry.id)),
            audit=run_changes(run.id),
            progress=list(progress or []),
            history=run,
        )


def run_plugin(
    plugin: type[Plugin],
    *,
    settings: dict[str, Any] | None = None,
    credentials: dict[str, str] | None = None,
    state: dict | None = None,
    **kit_options,
) -> SyncResult:
    """Run ``plugin`` once on a fresh temporary database and return what the run did.

    ``kit_options`` go to :class:`PluginTestKit` (``enabled``, ``extra_plugins``, ``home``, ``keep``).
    """
    with PluginTestKit(plugin, settings=settings, credentials=credentials, state=state, **kit_options) as kit:
        return kit.run()


# -- golden tests: what a run wrote, compared with an expected JSON file ------------------------

_SKIPPED_COLUMNS = ("id", "created_at", "updated_at")  # differ from run to run


def written(result: SyncResult) -> dict:
    """What a run left in the database as plain JSON: the plugin's transactions and work entries
    (without ids and timestamps), its saved state and its counts."""

    def plain(row) -> dict:
        data = row.__data__
        return {k: _jsonable(v) for k, v in data.items() if k not in _SKIPPED_COLUMNS}

    return {
        "status": result.status,
        "error": result.error,
        "counts": {k: getattr(result, k) for k in ("processed", "created", "updated", "skipped")},
        "transactions": [plain(t) for t in result.transactions],
        "work_entries": [plain(e) for e in result.work_entries],
        "state": result.state,
    }


def _jsonable(value: Any) -> Any:
    return json.loads(json.dumps(value, default=str))


def assert_writes_match(
    plugin: type[Plugin],
    input_path: str | Path,
    expected_json_path: str | Path,
    *,
    setting: str = "path",
    settings: dict[str, Any] | None = None,
    credentials: dict[str, str] | None = None,
    regenerate: bool | None = None,
    **kit_options,
) -> SyncResult:
    """A golden test in one line: run ``plugin`` with ``settings[setting] = input_path`` on a fresh
    database and compare what it wrote (:func:`written`) with the JSON file ``expected_json_path``.

    With ``regenerate=True`` (or the environment variable ``FAKTURKA_REGENERATE=1``) the file is
    (re)written from this run instead, and the test passes: look at the diff before you commit it.
    A missing expected file is an error that says how to create it.
    """
    expected_path = Path(expected_json_path)
    if regenerate is None:
        regenerate = os.environ.get("FAKTURKA_REGENERATE", "") not in ("", "0")
    result = run_plugin(
        plugin,
        settings={**(settings or {}), setting: str(input_path)},
        credentials=credentials,
        **kit_options,
    )
    got = written(result)
    text = json.dumps(got, indent=2, ensure_ascii=False, sort_keys=True) + "\n"
    if regenerate:
        expected_path.write_text(text, encoding="utf-8")
        return result
    if not expected_path.is_file():
        raise AssertionError(
            f"{expected_path} does not exist; create it from this run with regenerate=True "
            "(or FAKTURKA_REGENERATE=1) and check it by eye."
        )
    expected = json.loads(expected_path.read_text(encoding="utf-8"))
    if got != expected:
        import difflib

        diff = "".join(
            difflib.unified_diff(
                (json.dumps(expected, indent=2, ensure_ascii=False, sort_keys=True) + "\n").splitlines(True),
                text.splitlines(True),
                str(expected_path),
                "this run",
            )
        )
        raise AssertionError(f"what {plugin.name} wrote differs from {expected_path}:\n{diff}")
    return result
