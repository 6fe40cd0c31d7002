"""Recurring rules: what a rule creates, on which days, and the rules themselves (add, edit, enable...).

A rule creates one record per occurrence: a fixed-amount work entry on a project (a retainer), or a
money movement, income or expense (an allowance, a subscription). Its cadence is weekly on a weekday,
monthly on a day (clamped to the month's end: the 31st is the 30th in April and the 28th or 29th in
February) or yearly on a month and day (the 29th of February is the 28th in other years).

``next_on`` is the first occurrence the rule has not handled yet (``last_on`` the last it handled).
A run (core.automation.recurring) handles every occurrence from there up to today and moves it on,
so occurrences missed while no run happened, or while the rule was disabled, are caught up, and none
is handled twice. Disabling keeps the amount and everything else; enabling again needs no re-entry.
An amount of 0 is allowed: its occurrences are skipped (and counted as skipped), not created.
"""

from __future__ import annotations

import calendar
from datetime import date, timedelta
from typing import Any, Iterator

from core.billing.clients import find_project, record_id_in
from core.billing.profile import _check_bool, check_text, get_profile, quoted
from core.errors import FakturkaError
from core.store.db import db
from core.store.models import Project, RecurringRule
from core.values import validation as v
from core.values.dates import parse_date
from core.values.forms import Checker
from core.values.limits import check_date_span
from core.values.messages import Message
from core.values.money import exact_minor, parse_amount

CREATES = ("work", "income", "expense")
CADENCES = ("weekly", "monthly", "yearly")
INVOICE_MODES = ("", "draft", "sent")  # a work rule can also issue the period's invoice
WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
RULE_FIELDS = (
    "name",
    "creates",
    "project",
    "amount",
    "currency",
    "counterparty",
    "description",
    "cadence",
    "on",
    "start_on",
    "end_on",
    "enabled",
    "invoice",
)
SOURCE = "recurring"  # the audit source, the sync history's name and the created records' source


class RuleNotFound(FakturkaError):
    pass


# -- cadence ---------------------------------------------------------------------------------------


def _clamped(year: int, month: int, day: int) -> date:
    return date(year, month, min(day, calendar.monthrange(year, month)[1]))


def occurrence_on_or_after(rule: RecurringRule, day: date) -> date:
    """The first day on or after ``day`` that the rule's cadence falls on."""
    if rule.cadence == "weekly":
        return day + timedelta(days=(rule.day - day.weekday()) % 7)
    if rule.cadence == "monthly":
        candidate = _clamped(day.year, day.month, rule.day)
        if candidate >= day:
            return candidate
        year, month = (day.year + 1, 1) if day.month == 12 else (day.year, day.month + 1)
        return _clamped(year, month, rule.day)
    candidate = _clamped(day.year, rule.month, rule.day)
    return candidate if candidate >= day else _clamped(day.year + 1, rule.month, rule.day)


def occurrences(rule: RecurringRule, first: date, last: date) -> Iterator[date]:
    """Every day from ``first`` to ``last`` (both included) the rule falls on, oldest first."""
    day = occurrence_on_or_after(rule, first)
    while day <= last:
        yield day
        day = occurrence_on_or_after(rule, day + timedelta(days=1))


def period_of(rule: RecurringRule, day: date) -> tuple[date, date]:
    """The period an occurrence stands for: its week (Monday to Sunday), its month or its year."""
    if rule.cadence == "weekly":
        monday = day - timedelta(days=day.weekday())
        return monday, monday + timedelta(days=6)
    if rule.cadence == "monthly":
        return day.replace(day=1), _clamped(day.year, day.month, 31)
    return date(day.year, 1, 1), date(day.year, 12, 31)


def next_due(rule: RecurringRule) -> date | None:
    """The next occurrence a run will handle, or None when the rule has ended."""
    if rule.next_on is None or (rule.end_on is not None and rule.next_on > rule.end_on):
        return None
    return rule.next_on


def cadence_text(rule: RecurringRule) -> Message:
    """ "monthly on day 31", "weekly on mon", "yearly on 12-24": as the command line takes it back."""
    return Message("{cadence} on {on}", cadence=Message(rule.cadence), on=on_text(rule))


def on_text(rule: RecurringRule) -> str:
    if rule.cadence == "weekly":
        return WEEKDAYS[rule.day]
    if rule.cadence == "monthly":
        return str(rule.day)
    return f"{rule.month:02d}-{rule.day:02d}"


# -- checking what a person typed -----------------------------------------------------------------


def _check_choice(value: Any, choices: tuple[str, ...], field: str, what: Message) -> str:
    text = str(value or "").strip().lower()
    if text not in choices:
        raise v.ValidationError(
            Message(
                "{what} must be one of {choices}, not {value}.",
                what=what,
                choices=", ".join(c or '""' for c in choices),
                value=quoted(text),
            ),
            field,
        )
    return text


WEEKDAY_NAMES = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")


def _check_on(value: Any, cadence: str, start: date) -> tuple[int, int | None]:
    """(day, month) from what was typed for "on"; empty takes it from the start date."""
    text = str(value if value is not None else "").strip().lower()
    if cadence == "weekly":
        if not text:
            return start.weekday(), None
        if text in WEEKDAYS or text in WEEKDAY_NAMES:
            return (WEEKDAYS.index(text) if text in WEEKDAYS else WEEKDAY_NAMES.index(text)), None
        if text.isdigit() and 1 <= int(text) <= 7:
            return int(text) - 1, None
        raise v.ValidationError(
            Message(
                "A weekly rule runs on a weekday: mon, tue, wed, thu, fri, sat or sun, not {value}.", value=quoted(text)
            ),
            "on",
        )
    if cadence == "monthly":
        if not text:
            return start.day, None
        if text.isdigit() and 1 <= int(text) <= 31:
            return int(text), None
        raise v.ValidationError(
            Message(
                "A monthly rule runs on a day from 1 to 31 (31: the month's last day), not {value}.", value=quoted(text)
            ),
            "on",
        )
    if not text:
        return start.day, start.month
    month_text, _sep, day_text = text.partition("-")
    if month_text.isdigit() and day_text.isdigit():
        month, day = int(month_text), int(day_text)
        if 1 <= month <= 12 and 1 <= day <= calendar.monthrange(2024, month)[1]:  # 2024: a leap year
            return day, month
    raise v.ValidationError(
        Message("A yearly rule runs on a month and day written MM-DD (12-24), not {value}.", value=quoted(text)), "on"
    )


def _check_amount(value: Any, currency: str) -> int:
    amount = parse_amount(str(value if value is not None else ""))
    if amount < 0:
        raise v.ValidationError(Message("A rule's amount cannot be negative; 0 skips its occurrences."), "amount")
    return exact_minor(amount, currency)


def _check_day(value: Any, field: str) -> date:
    return check_date_span(value, field) if isinstance(value, date) else parse_date(str(value or ""), field)


def _clean(values: dict[str, Any], current: RecurringRule | None) -> dict[str, Any]:
    unknown = set(values) - set(RULE_FIELDS)
    if unknown:
        raise v.ValidationError(
            Message(
                "Unknown rule field {field}; known fields: {fields}.",
                field=quoted(sorted(unknown)[0]),
                fields=", ".join(RULE_FIELDS),
            )
        )
    checker = Checker(values)
    checker.check("name", lambda x: check_text(x, "name", Message("name")))
    checker.check("creates", lambda x: _check_choice(x, CREATES, "creates", Message("What a rule creates")))
    checker.check("cadence", lambda x: _check_choice(x, CADENCES, "cadence", Message("A rule's cadence")))
    checker.check("invoice", lambda x: _check_choice(x, INVOICE_MODES, "invoice", Message("A rule's invoice")))
    checker.check("project", lambda x: None if x in (None, "") else x if isinstance(x, Project) else find_project(x))
    checker.check("currency", lambda x: v.check_currency(x or get_profile().default_currency, "currency"))
    checker.check("counterparty", lambda x: check_text(x, "counterparty", Message("counterparty")))
    checker.check("description", lambda x: check_text(x, "description", Message("description")))
    checker.check("start_on", lambda x: _check_day(x, "start_on"))
    checker.check("end_on", lambda x: None if x in (None, "") else _check_day(x, "end_on"))
    checker.check("enabled", _check_bool)
    got = checker.cleaned

    def now(name: str, default: Any = None) -> Any:
        """The value the rule will have: as typed, else as stored."""
        if name in got:
            return got[name]
        return getattr(current, name) if current is not None else default

    creates = now("creates", "work")
    project = got["project"] if "project" in got else (current.project if current and current.project_id else None)
    currency = project.client.currency if creates == "work" and project is not None else now("currency")
    if creates != "work" and currency is None:
        currency = get_profile().default_currency
    if currency is not None:
        checker.check("amount", lambda x: _check_amount(x, currency))
    cadence, start = now("cadence"), now("start_on")
    if cadence and start:
        if "on" in values:
            checker.check("on", lambda x: _check_on(x, cadence, start))
        elif current is None or cadence != current.cadence:  # a new cadence: its day follows the start
            checker.values = {**values, "on": None}
            checker.check("on", lambda x: _check_on(x, cadence, start))
    cleaned = checker.result()
    if creates == "work" and project is None:
        raise v.ValidationError(Message("A rule that creates work entries needs a project."), "project")
    end = now("end_on")
    if start and end and end < start:
        raise v.ValidationError(Message("The end date is before the start date."), "end_on")
    if creates != "work" and now("invoice", ""):
        raise v.ValidationError(Message("Only a rule that creates work entries can issue invoices."), "invoice")
    cleaned["currency"] = currency
    return cleaned


def _store(rule: RecurringRule, cleaned: dict[str, Any]) -> None:
    on = cleaned.pop("on", None)
    for name, value in cleaned.items():
        setattr(rule, name, value)
    if on is not None:
        rule.day, rule.month = on
    if rule.creates != "work":
        rule.project = None
        rule.invoice = ""


def add_rule(**values: Any) -> RecurringRule:
    """A new rule; its first occurrence is the first day on or after its start."""
    for required, sentence in (
        ("name", Message("The rule needs a name.")),
        ("amount", Message("The rule needs an amount (0 skips its occurrences).")),
        ("cadence", Message("The rule needs a cadence: weekly, monthly or yearly.")),
    ):
        if values.get(required) in (None, ""):
            raise v.ValidationError(sentence, required)
    values.setdefault("start_on", date.today())
    values.setdefault("creates", "work")
    cleaned = _clean(values, None)
    rule = RecurringRule(enabled=True, invoice="", counterparty="", description="")
    _store(rule, cleaned)
    rule.next_on = occurrence_on_or_after(rule, rule.start_on)
    rule.save()
    return rule


def _fresh(rule: RecurringRule) -> RecurringRule:
    """The rule as stored now. A rule object read earlier (a screen's, before a run handled occurrences)
    must not write back the ``next_on`` it was read with: that would hand the run those days again."""
    fresh = RecurringRule.get_or_none(RecurringRule.id == rule.id)
    if fresh is None:
        raise RuleNotFound(Message("The recurring rule {name} was deleted meanwhile.", name=quoted(rule.name)))
    return fresh


def edit_rule(rule: RecurringRule, **values: Any) -> RecurringRule:
    """Change a rule. A new start, cadence or day moves the next occurrence (never before what was handled)."""
    with db.atomic():
        rule = _fresh(rule)
        cleaned = _clean(values, rule)
        _store(rule, cleaned)
        if {"start_on", "cadence", "on"} & set(values):
            first = occurrence_on_or_after(rule, rule.start_on)
            if rule.last_on is not None:  # occurrences already handled are never handled again
                first = max(first, occurrence_on_or_after(rule, rule.last_on + timedelta(days=1)))
            rule.next_on = first
        rule.save()
    return rule


def set_enabled(rule: RecurringRule, enabled: bool) -> RecurringRule:
    """Disable or enable; nothing else changes, so the missed occurrences are caught up when enabled."""
    with db.atomic():
        rule = _fresh(rule)
        rule.enabled = enabled
        rule.save()
    return rule


def delete_rule(rule: RecurringRule) -> None:
    """Delete the rule; what it created stays (a work entry, a movement) and says it was automatic."""
    with db.atomic():
        _fresh(rule).delete_instance()


def rules_query():
    return RecurringRule.select().order_by(RecurringRule.name, RecurringRule.id)


def list_rules() -> list[RecurringRule]:
    return list(rules_query())


def find_rule(ref: str | int) -> RecurringRule:
    """A rule by id or by name (case-insensitive)."""
    text = str(ref).strip()
    rule = None
    rule_id = record_id_in(text, Message("rule id"))  # a number too long for an id is refused with a sentence
    if rule_id is not None:
        rule = RecurringRule.get_or_none(RecurringRule.id == rule_id)
    if rule is None:
        matches = [r for r in list_rules() if r.name.casefold() == text.casefold()]
        rule = matches[0] if len(matches) == 1 else None
        if len(matches) > 1:
            raise RuleNotFound(Message("Several rules are called {name}; use the rule's id.", name=quoted(text)))
    if rule is None:
        raise RuleNotFound(Message("No recurring rule {ref}; 'fakturka recurring list' shows them.", ref=quoted(text)))
    return rule
