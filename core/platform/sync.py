"""The sync engine: runs one plugin, records the run, lands its writes all-or-nothing.

A run, step by step (``run_sync``):

1. Refuse before anything runs: unknown plugin, disabled, missing required
   fields, credentials that cannot be decrypted, or the plugin already
   syncing in any process on the same database file (a ``flock`` per plugin
   beside the database, released by the OS if the process dies).
2. A ``sync_histories`` row goes pending -> running.
3. The plugin's ``sync(ctx)`` runs with no transaction open: it downloads
   and calls the ``ctx`` write helpers, which only collect. A direct model
   write here is refused (it would escape the all-or-nothing guarantee), and
   so is raw SQL: the plugin's connection has an authorizer that denies
   every write (``sync_guard``); ``ctx.apply(fn)`` defers one to the commit.
   Meanwhile a heartbeat thread writes the run's ``updated_at`` and log
   every few seconds (``sync_heartbeat``), so a killed run keeps its log and
   ends at its last sign of life.
4. One IMMEDIATE transaction applies everything, with audit rows under the
   plugin's name and the run's id, runs the after-apply hooks (payment
   matching), saves the new ``state`` and completes the history row. The
   write lock is held only for this step, never across a network wait. If
   another sync or program holds it, the run waits (``core.store.write_lock``:
   bounded, and said in the log every busy timeout) rather than fail.
5. On any error or a cancel, nothing of the run is written; the history row
   becomes failed with the message (and the backtrace of an unexpected error),
   written after waiting for the write lock like the commit.
6. A preview (``dry_run=True``) does all of the above, then rolls step 4's
   transaction back and writes only its history row (``preview`` set), with
   what it would have done: the counts, the records skipped and why, the
   invoices it would have marked paid (``SyncOutcome.preview``).

Every string stored or shown from a run has the plugin's secret values
replaced by ``***``, including URL-encoded forms.

This module is the run's lifecycle; the parts live beside it:
``sync_context`` (SyncContext and its collecting write helpers),
``sync_landing`` (the all-or-nothing commit and the after-apply hooks),
``sync_masking`` (Masker) and ``sync_guard`` (no writes from a plugin's
code). The public names stay importable from here.
"""

from __future__ import annotations

import asyncio
import contextvars
import inspect
import threading
import traceback
from dataclasses import dataclass
from datetime import datetime
from typing import Callable

from core.errors import FakturkaError
from core.platform import credentials as creds
from core.platform import plugin_config
from core.platform.key_file import CredentialError
from core.platform.sync_context import (  # noqa: F401 - the public names, importable from core.platform.sync
    Counts,
    Listed,
    LogCallback,
    Preview,
    ProgressCallback,
    SyncCancelled,
    SyncContext,
)
from core.platform.sync_guard import ReadOnlyGuard, is_refused_write, refusal
from core.platform.sync_heartbeat import Heartbeat
from core.platform.sync_landing import AFTER_APPLY, commit, preview  # noqa: F401 - AFTER_APPLY: read by bench/
from core.platform.sync_masking import MASK, Masker  # noqa: F401
from core.platform.sync_recovery import local_time, lock_name, recover_interrupted_runs  # noqa: F401 - recover_*: public here too
from core.plugins import UnknownPlugin, get_plugin
from core.plugins.base import SyncError
from core.store.audit import write_block
from core.store.db import db, describe_database_error
from core.store.gcpause import gc_paused
from core.store.locks import FileLock, LockBusy
from core.store.models import PluginConfiguration, SyncHistory
from core.store.states import RunStatus
from core.store.write_lock import WriteLockTimeout, is_lock_error, write_transaction
from core.values.limits import MAX_TEXT_LENGTH
from core.values.messages import Message, in_language, message_of
from core.values.text import clean_text
from core.values.timeutil import utcnow

TRIGGER_LABELS = {"tui": Message("the TUI"), "cli": Message("the command line"), "schedule": Message("the scheduler")}


class SyncRefused(FakturkaError):
    """The run was refused before it started; the message says why and what to do."""


# -- running -------------------------------------------------------------------------------


@dataclass
class SyncOutcome:
    run_id: int
    status: str
    counts: Counts
    error: str | None
    metadata: dict
    log: list[str]
    preview: Preview | None = None  # a dry run that completed: what it would have done (nothing was saved)


def check_runnable(name: str) -> tuple[type, PluginConfiguration, dict]:
    """The plugin class, its configuration and decrypted credentials, or SyncRefused."""
    try:
        plugin = get_plugin(name)
    except UnknownPlugin as exc:
        raise SyncRefused(message_of(exc)) from None
    row = plugin_config.get_config(name)
    if row is None or not row.enabled:
        raise SyncRefused(
            Message(
                "{name} is disabled; enable it first ('fakturka plugins enable {name}', "
                "or space on the Plugins screen).",
                name=name,
            )
        )
    try:
        secrets = creds.get_credentials(name)
    except CredentialError as exc:
        raise SyncRefused(Message("{error}.", error=message_of(exc))) from None
    missing = plugin_config.missing_fields(plugin, row.settings, {k for k, v in secrets.items() if v})
    if missing:
        names = Listed(Message("{label} ({key})", label=Message(f.label), key=f.key) for f in missing)
        raise SyncRefused(
            Message(
                "{name} is not fully configured: missing {names}. "
                "Configure it with 'fakturka plugins configure {name}' or on the Plugins screen.",
                name=name,
                names=names,
            )
        )
    return plugin, row, secrets


def run_sync(
    name: str,
    *,
    trigger: str = "cli",
    on_log: LogCallback | None = None,
    on_progress: ProgressCallback | None = None,
    cancel_event: threading.Event | None = None,
    on_started: Callable[[int], None] | None = None,
    language: str = "en",
    dry_run: bool = False,
) -> SyncOutcome:
    """Run plugin ``name`` once. Raises SyncRefused before starting; otherwise returns the outcome.

    ``language`` is the one the run's log is written in (core's Messages are translated). With
    ``dry_run`` the run is a preview: everything happens as in a real run, inside a transaction that is
    then rolled back; only its history row (``preview`` set) is kept, and ``outcome.preview`` says what
    it would have done."""
    recover_interrupted_runs(language)
    plugin_cls, config, secrets = check_runnable(name)
    lock = FileLock(lock_name(name))
    try:
        lock.acquire()
    except LockBusy:
        running = (
            SyncHistory.select()
            .where((SyncHistory.plugin_name == name) & SyncHistory.status.in_((RunStatus.PENDING, RunStatus.RUNNING)))
            .order_by(SyncHistory.id.desc())
            .first()
        )
        if running is not None:
            by = TRIGGER_LABELS.get(running.trigger, running.trigger)
            raise SyncRefused(
                Message(
                    "{name} is already syncing (started {time} by {by}).",
                    name=name,
                    time=local_time(running.started_at),
                    by=by,
                )
            ) from None
        raise SyncRefused(Message("{name} is already syncing in another process.", name=name)) from None
    try:
        with gc_paused():  # a large import builds many objects that live until the run ends
            return _run_locked(
                plugin_cls, config, secrets, trigger, on_log, on_progress, cancel_event, on_started, language, dry_run
            )
    finally:
        lock.release()


def _run_locked(
    plugin_cls, config, secrets, trigger, on_log, on_progress, cancel_event, on_started, language, dry_run=False
) -> SyncOutcome:
    name = plugin_cls.name
    masker = Masker(v for v in secrets.values() if isinstance(v, str))
    run_id, waits = _start_row(name, trigger, on_log, language, dry_run=dry_run)
    if on_started:
        on_started(run_id)
    settings = plugin_config.effective_settings(plugin_cls, config.settings)
    ctx = SyncContext(
        name,
        run_id,
        secrets,
        settings,
        config.state,
        masker,
        on_log,
        on_progress,
        cancel_event,
        language=language,
        dry_run=dry_run,
    )
    ctx.lines.extend(waits)  # already shown live; kept in the run's log
    ctx._emit(Message("{name} {version}: sync started", name=name, version=plugin_cls.version))
    if dry_run:
        ctx._emit(Message("Preview (dry run): nothing will be saved."))
    found = None
    try:
        with Heartbeat(run_id, lambda: "\n".join(ctx.lines)):
            _run_plugin_code(plugin_cls, ctx)
        ctx.check_cancelled()
        if dry_run:
            found = preview(ctx, run_id, on_wait=lambda waited: _waiting(ctx, waited))
        else:
            commit(ctx, run_id, config.id, on_wait=lambda waited: _waiting(ctx, waited))
    except SyncCancelled:
        message = Message("Cancelled by the user; nothing was saved.")
        ctx._emit(message, "warning")
        return _fail(ctx, run_id, message, None)
    except KeyboardInterrupt:
        # ctrl+c at `fakturka sync`: close the run now, with its log, rather than leave it "running"
        # for the next start to call interrupted.
        message = Message("Interrupted (ctrl+c); nothing was saved.")
        ctx._emit(message, "warning")
        _fail(ctx, run_id, message, None)
        raise
    except (SyncError, WriteLockTimeout) as exc:  # a refusal with its sentence (bad input, a busy database)
        message = message_of(exc)
        ctx._emit(message, "error")
        return _fail(ctx, run_id, message, None)
    except Exception as exc:  # noqa: BLE001 - a plugin bug must become a failed run, not a crash
        if is_lock_error(exc):  # SQLite's "database is locked" outside the commit's wait: not a bug
            message = Message("{name} could not finish: {error}", name=name, error=describe_database_error(exc))
            ctx._emit(message, "error")
            return _fail(ctx, run_id, message, None)
        message = Message(
            "{name} failed: {error_type}: {error}", name=name, error_type=type(exc).__name__, error=message_of(exc)
        )
        ctx._emit(message, "error")
        return _fail(ctx, run_id, message, traceback.format_exc())
    return SyncOutcome(run_id, RunStatus.COMPLETED, ctx.counts, None, masker.data(ctx.metadata), ctx.lines, found)


def _start_row(
    name: str, trigger: str, on_log: LogCallback | None, language: str = "en", *, dry_run: bool = False
) -> tuple[int, list[str]]:
    """The run's history row, running from now (marked a preview for a dry run), and the log lines of any
    wait for the write lock."""
    waits: list[str] = []

    def waiting(waited: float) -> None:
        line = f"{datetime.now():%H:%M:%S} {'INFO':<7} " + in_language(_waiting_message(waited), language)
        waits.append(line)
        if on_log:
            on_log(line)

    with write_transaction(on_wait=waiting):
        history = SyncHistory.create(plugin_name=name, status=RunStatus.PENDING, trigger=trigger, preview=dry_run)
        SyncHistory.update(status=RunStatus.RUNNING, started_at=utcnow(), updated_at=utcnow()).where(
            SyncHistory.id == history.id
        ).execute()
    return history.id, waits


def _waiting_message(waited: float) -> Message:
    """The log line of a run waiting for the write lock (at its start and at its commit)."""
    return Message(
        "Waiting for the database: another sync or program is writing ({waited:.0f} s so far)", waited=waited
    )


def _waiting(ctx: SyncContext, waited: float) -> None:
    """Said in the run's log while its commit waits for another writer; a cancel stops the wait."""
    ctx._emit(_waiting_message(waited))
    ctx.check_cancelled()


def _run_plugin_code(plugin_cls, ctx: SyncContext) -> None:
    """The plugin's sync(), on a connection that refuses writes (core.platform.sync_guard)."""
    name = plugin_cls.name
    guard = ReadOnlyGuard(name)
    token = write_block.set(f"a plugin's sync() writes through ctx helpers or ctx.apply() (plugin {name})")
    try:
        with guard.on_this_thread():
            plugin = plugin_cls()
            outcome = plugin.sync(ctx)
            if inspect.isawaitable(outcome):
                _run_coroutine(outcome, guard)
    except Exception as exc:
        if is_refused_write(exc) or guard.attempted:
            raise refusal(name) from exc
        raise
    finally:
        write_block.reset(token)
    guard.check()  # it tried, and swallowed SQLite's refusal: still a failed run


async def _await(awaitable):
    # asyncio.run takes a coroutine; a plugin's sync may return any awaitable.
    return await awaitable


def _run_coroutine(awaitable, guard: ReadOnlyGuard | None = None) -> None:
    """Run an async plugin's sync to completion from this (synchronous) engine.

    Normally there is no event loop in this thread (CLI, a Textual thread
    worker) and asyncio.run is enough; when the caller already runs one, the
    coroutine gets its own thread, with this context (source, write guard).
    """
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        asyncio.run(_await(awaitable))
        return
    context = contextvars.copy_context()
    errors: list[BaseException] = []

    def target() -> None:
        try:
            if guard is None:
                context.run(asyncio.run, _await(awaitable))
            else:
                try:
                    with guard.on_this_thread():  # this thread's own connection refuses writes too
                        context.run(asyncio.run, _await(awaitable))
                finally:
                    db.close()  # the connection this thread opened
        except BaseException as exc:  # noqa: BLE001 - re-raised below in the caller's thread
            errors.append(exc)

    thread = threading.Thread(target=target, name="fakturka-async-plugin")
    thread.start()
    thread.join()
    if errors:
        raise errors[0]


def _fail(ctx: SyncContext, run_id: int, message: str, backtrace: str | None) -> SyncOutcome:
    """Record the failed run with its message and log, waiting for the write lock like the commit."""
    masker = ctx._masker
    # A plugin's message can quote its input: stored and shown as one plain line of bounded length.
    message = clean_text(in_language(message, ctx.language))[:MAX_TEXT_LENGTH]
    backtrace = clean_text(backtrace, multiline=True) if backtrace else None
    try:
        with write_transaction():
            _write_failed_row(ctx, run_id, message, backtrace)
    except (WriteLockTimeout, SyncCancelled):
        pass  # the row stays "running": the next start marks it interrupted, with the heartbeat's log
    return SyncOutcome(
        run_id,
        RunStatus.FAILED,
        Counts(processed=ctx.counts.processed),
        masker.text(message),
        masker.data(ctx.metadata),
        ctx.lines,
    )


def _write_failed_row(ctx: SyncContext, run_id: int, message: str, backtrace: str | None) -> None:
    masker = ctx._masker
    SyncHistory.update(
        status=RunStatus.FAILED,
        completed_at=utcnow(),
        updated_at=utcnow(),
        records_processed=ctx.counts.processed,
        records_created=0,
        records_updated=0,
        records_skipped=0,
        error_message=masker.text(message),
        error_backtrace=masker.text(backtrace) if backtrace else None,
        metadata=masker.data(ctx.metadata),
        log="\n".join(ctx.lines),
    ).where(SyncHistory.id == run_id).execute()
