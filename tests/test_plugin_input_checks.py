"""What a plugin stores is checked as the command line checks what a person types (issue 14, point 9).

Each case runs a small plugin through the real engine (core.plugins.testing): a value out of range
(a 99,999,999-hour entry, the years 1 and 9999, a currency that is not money, a text longer than a
field keeps) fails the run with one sentence naming the field and the record, no backtrace and
nothing written; text with control characters is stored clean; log lines are one line and capped.
"""

from __future__ import annotations

import re
from datetime import date, datetime
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from core.billing import clients as client_service
from core.billing import profile as profile_service
from core.errors import FakturkaError
from core.platform.sync_context import SyncContext, stored_raw_data
from core.platform.sync_masking import Masker
from core.plugins.base import Plugin, Secret, SyncError
from core.plugins.testing import PluginTestKit
from core.store.models import Client, MoneyTransaction, Project, WorkEntry
from core.values.limits import MAX_ENTRY_MINUTES, MAX_LOG_LINE, MAX_TEXT_LENGTH
from core.values.text import ELLIPSIS
from core.values.validation import NOT_MONEY, check_currency

CONTROL = re.compile("[\x00-\x1f\x7f-\x9f]")
HOSTILE = "Acme\x1b]0;X\x07 s.r.o.\x1b[2J\x9b8m\r\nend\t."
CLEANED = "Acme]0;X s.r.o.[2J8m end ."


class Recorder(Plugin):
    """Sends whatever the test puts in ``BODY`` to ctx."""

    name = "input-checks"
    version = "1.0.0"
    fields = [Secret("token", "Token", required=False)]
    BODY = staticmethod(lambda ctx: None)

    def sync(self, ctx):
        type(self).BODY(ctx)


@pytest.fixture
def kit():
    with PluginTestKit(Recorder) as opened:
        yield opened
    Recorder.BODY = staticmethod(lambda ctx: None)


def run_with(kit, body):
    Recorder.BODY = staticmethod(body)
    return kit.run()


def movement(ctx, external_id="m-1", **values):
    fields = {
        "external_id": external_id,
        "transaction_type": "income",
        "amount": Decimal("100.00"),
        "currency": "CZK",
        "transacted_on": date(2025, 3, 3),
    }
    fields.update(values)
    ctx.upsert_transaction(**fields)


def web_project() -> Project:
    return Project.create(client=Client.create(name="Acme s.r.o.", currency="CZK"), name="Web")


def entry(ctx, project, external_id="e-1", **values):
    fields = {"project": project, "date": date(2025, 3, 3), "minutes": 90, "external_id": external_id}
    fields.update(values)
    ctx.add_work_entry(**fields)


def assert_refused(result, *parts: str) -> None:
    """Failed with a sentence (no backtrace) naming every part, and nothing stored."""
    assert result.status == "failed"
    assert result.backtrace is None, result.backtrace
    for part in parts:
        assert part in result.error, result.error
    assert result.transactions == [] and result.work_entries == []


# -- durations and dates, as the command line keeps them ---------------------------------------


def test_a_99999999_hour_entry_is_refused_naming_the_entry(kit):
    project = web_project()
    result = run_with(kit, lambda ctx: entry(ctx, project, "toggl-7", minutes=99_999_999 * 60))
    assert_refused(result, "work entry 'toggl-7'", "longer than a day")


def test_an_entry_of_a_whole_day_is_kept_and_a_minute_more_is_not(kit):
    project = web_project()
    assert run_with(kit, lambda ctx: entry(ctx, project, "day", minutes=MAX_ENTRY_MINUTES)).ok
    assert WorkEntry.get(WorkEntry.external_id == "day").minutes == MAX_ENTRY_MINUTES
    result = run_with(kit, lambda ctx: entry(ctx, project, "day-and-a-minute", minutes=MAX_ENTRY_MINUTES + 1))
    assert result.status == "failed" and "work entry 'day-and-a-minute'" in result.error
    assert WorkEntry.select().where(WorkEntry.external_id == "day-and-a-minute").count() == 0


@pytest.mark.parametrize("day", [date(1, 1, 1), date(9999, 12, 31), date(1989, 12, 31), date(2100, 1, 1)])
def test_entry_dates_outside_the_books_are_refused(kit, day):
    project = web_project()
    result = run_with(kit, lambda ctx: entry(ctx, project, "far", date=day))
    assert_refused(result, "work entry 'far'", day.isoformat(), "outside the dates Fakturka accepts")


@pytest.mark.parametrize("day", [date(1, 1, 1), date(9999, 12, 31), datetime(9999, 12, 31, 23, 59)])
def test_movement_dates_outside_the_books_are_refused(kit, day):
    result = run_with(kit, lambda ctx: movement(ctx, "fio-42", transacted_on=day))
    assert_refused(result, "transaction 'fio-42'", "9999-12-31" if day.year == 9999 else "0001-01-01")


def test_the_first_and_last_day_of_the_books_are_kept(kit):
    project = web_project()

    def body(ctx):
        movement(ctx, "first", transacted_on=date(1990, 1, 1))
        movement(ctx, "last", transacted_on=date(2099, 12, 31))
        entry(ctx, project, "first", date=date(1990, 1, 1))

    result = run_with(kit, body)
    assert result.ok and result.created == 3


# -- currencies that are not money ---------------------------------------------------------------


@pytest.mark.parametrize("code", sorted(NOT_MONEY))
def test_a_code_that_is_not_money_is_refused_saying_what_it_is(kit, code):
    result = run_with(kit, lambda ctx: movement(ctx, "odd", currency=code.lower()))
    assert_refused(result, "transaction 'odd'", f"{code} is not money", NOT_MONEY[code])


def test_the_sentences_say_what_the_codes_mean():
    with pytest.raises(FakturkaError, match='XXX is not money: in ISO 4217 it means "no currency"'):
        check_currency("XXX")
    with pytest.raises(FakturkaError, match="XAU is not money: .* gold"):
        check_currency(" xau ")
    with pytest.raises(FakturkaError, match="XTS is not money: .* testing"):
        check_currency("XTS")
    assert [check_currency(code) for code in ("czk", "EUR", " usd ", "CHF")] == ["CZK", "EUR", "USD", "CHF"]


def test_profile_and_client_refuse_them_too_and_keep_real_currencies(database):
    with pytest.raises(FakturkaError) as refused:
        profile_service.update_profile({"default_currency": "XXX"})
    assert "no currency" in str(refused.value) or "no currency" in str(getattr(refused.value, "errors", ""))
    assert profile_service.update_profile({"default_currency": "eur"}).default_currency == "EUR"
    with pytest.raises(FakturkaError) as refused:
        client_service.add_client(name="Goldsmith", currency="XAU")
    assert "gold" in str(refused.value) or "gold" in str(getattr(refused.value, "errors", ""))
    assert Client.select().where(Client.name == "Goldsmith").count() == 0
    assert client_service.add_client(name="Acme s.r.o.", currency="CZK").currency == "CZK"


# -- text: cleaned when stored, refused when longer than a field keeps -----------------------------


def test_control_characters_are_removed_from_every_text_a_movement_stores(kit):
    def body(ctx):
        movement(
            ctx,
            "id\x1b[2J-1",
            description=HOSTILE,
            counterparty=HOSTILE,
            counterparty_account="CZ65\x9b0800",
            reference="2026\x07001",
            raw_data={"name\x1b]0;X\x07": HOSTILE, "lines": ["a\x1b[8mb", {"deep\x9b": "c\x07d"}], "n": 5},
        )

    result = run_with(kit, body)
    assert result.ok, result.error
    (tx,) = result.transactions
    assert (tx.external_id, tx.description, tx.counterparty) == ("id[2J-1", CLEANED, CLEANED)
    assert (tx.counterparty_account, tx.reference) == ("CZ650800", "2026001")
    # raw_data keeps the source's line breaks and tabs (JSON escapes them), nothing else.
    assert tx.raw_data == {
        "name]0;X": "Acme]0;X s.r.o.[2J8m\nend\t.",
        "lines": ["a[8mb", {"deep": "cd"}],
        "n": 5,
    }


def test_the_same_hostile_movement_again_is_unchanged_not_updated(kit):
    body = lambda ctx: movement(ctx, "again", description=HOSTILE, raw_data={"text": HOSTILE})  # noqa: E731
    assert run_with(kit, body).created == 1
    second = run_with(kit, body)
    assert (second.created, second.updated, second.skipped) == (0, 0, 1)


def test_work_entry_texts_are_cleaned(kit):
    project = web_project()
    result = run_with(kit, lambda ctx: entry(ctx, project, "e\x1b-1", description=HOSTILE))
    assert result.ok, result.error
    (stored,) = result.work_entries
    assert (stored.external_id, stored.description) == ("e-1", CLEANED)


@pytest.mark.parametrize("field", ["description", "counterparty", "counterparty_account", "reference"])
def test_a_movement_text_longer_than_a_field_keeps_is_refused_naming_it(kit, field):
    assert run_with(kit, lambda ctx: movement(ctx, "fits", **{field: "x" * MAX_TEXT_LENGTH})).ok
    result = run_with(kit, lambda ctx: movement(ctx, "long-1", **{field: "x" * (MAX_TEXT_LENGTH + 1)}))
    assert result.status == "failed" and result.backtrace is None
    assert f"transaction 'long-1': its {field.replace('_', ' ')} is 4,097 characters long" in result.error
    assert "at most 4,096" in result.error
    assert MoneyTransaction.select().where(MoneyTransaction.external_id == "long-1").count() == 0


def test_a_long_raw_data_value_is_refused_naming_its_key(kit):
    result = run_with(kit, lambda ctx: movement(ctx, "raw-1", raw_data={"memo": "y" * (MAX_TEXT_LENGTH + 1)}))
    assert_refused(result, "transaction 'raw-1': its raw_data['memo'] is 4,097 characters long")


def test_a_megabyte_id_is_named_by_its_start_only(kit):
    result = run_with(kit, lambda ctx: movement(ctx, "A" * 1_000_000, currency="XXX"))
    assert_refused(result, "transaction 'AAAA", "XXX is not money")
    assert len(result.error) < 400


def test_a_raw_document_nested_too_deep_is_refused_with_a_sentence(kit):
    deep: dict = {"leaf": "x"}
    for _level in range(5000):  # deeper than Python's recursion limit
        deep = {"next": deep}
    result = run_with(kit, lambda ctx: movement(ctx, "deep-1", raw_data=deep))
    assert_refused(result, "transaction 'deep-1': its raw_data is nested more than 64 levels deep")


def test_a_long_entry_description_is_refused(kit):
    project = web_project()
    result = run_with(kit, lambda ctx: entry(ctx, project, "long", description="z" * (MAX_TEXT_LENGTH + 1)))
    assert_refused(result, "work entry 'long': its description is 4,097 characters long")


def test_control_characters_do_not_count_towards_the_length(kit):
    text = "a" * MAX_TEXT_LENGTH + "\x07" * 10
    assert run_with(kit, lambda ctx: movement(ctx, "bells", description=text)).ok
    assert MoneyTransaction.get().description == "a" * MAX_TEXT_LENGTH


def test_a_plugin_catching_value_error_can_skip_the_record_and_go_on(kit):
    def body(ctx):
        for external_id, currency in (("good-1", "CZK"), ("odd-2", "XXX"), ("good-3", "EUR")):
            try:
                movement(ctx, external_id, currency=currency)
            except ValueError as exc:
                ctx.log(f"skipped: {exc}", "warning")

    result = run_with(kit, body)
    assert result.ok and [tx.external_id for tx in result.transactions] == ["good-1", "good-3"]
    assert any("skipped: transaction 'odd-2': XXX is not money" in line for line in result.log)


# -- the run's log --------------------------------------------------------------------------------


def test_log_lines_are_one_clean_line_each(kit):
    result = run_with(kit, lambda ctx: ctx.log("file\x1b]0;owned\x07 read\nsecond line\r\x9b2J", "warning"))
    line = next(line for line in result.log if "file" in line)
    assert line.endswith("WARNING file]0;owned read second line 2J")
    assert not any(CONTROL.search(line) for line in result.log)


def test_a_long_log_message_is_cut_with_an_ellipsis_after_masking(kit):
    kit.configure(credentials={"token": "s3cr3t-token"})
    result = run_with(kit, lambda ctx: ctx.log("x" * (MAX_LOG_LINE - 30) + "s3cr3t-token" + "y" * 10_000))
    line = next(line for line in result.log if "xxx" in line)
    assert len(line) == MAX_LOG_LINE and line.endswith(ELLIPSIS)
    assert "s3cr3t" not in result.stored_text() and "***" in line


# -- any text at all ------------------------------------------------------------------------------

TEXT = st.text(st.characters(codec="utf-8"), max_size=40)


@given(description=TEXT, counterparty=TEXT, reference=TEXT, raw=TEXT)
def test_whatever_text_a_plugin_sends_is_stored_without_control_characters(description, counterparty, reference, raw):
    # The helper itself, without the engine: the examples stay fast and independent (a fresh context each).
    ctx = SyncContext("prop", 0, {}, {}, {}, Masker([]))
    movement(
        ctx, description, description=description, counterparty=counterparty, reference=reference, raw_data={raw: raw}
    )
    (values,) = ctx._transactions.values()
    for name in ("external_id", "description", "counterparty", "reference"):
        assert not CONTROL.search(values[name]), name
    ((key, value),) = stored_raw_data(values["raw_data"], values["external_id"]).items()  # as it is written
    assert not re.search("[\x00-\x08\x0b-\x1f\x7f-\x9f]", key + value)


def test_a_failed_runs_message_and_backtrace_are_stored_plain_and_bounded(kit):
    # A plugin's SyncError often quotes its input; a bug's message quotes whatever it was given.
    def refuse(ctx):
        raise SyncError("Bad row " + HOSTILE + "x" * (2 * MAX_TEXT_LENGTH))

    result = run_with(kit, refuse)
    assert result.status == "failed" and result.error.startswith("Bad row " + CLEANED)
    assert not CONTROL.search(result.error) and len(result.error) == MAX_TEXT_LENGTH

    def crash(ctx):
        raise KeyError(HOSTILE)

    result = run_with(kit, crash)
    assert result.status == "failed" and not CONTROL.search(result.error)
    assert "KeyError" in result.backtrace and "\n" in result.backtrace
    assert not re.search("[\x00-\x08\x0b-\x1f\x7f-\x9f]", result.backtrace)  # lines kept, controls gone
