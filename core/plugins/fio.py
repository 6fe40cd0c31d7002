"""Fio banka: account movements through the Fio REST API.

Uses the ``periods`` endpoint with our own persisted state (the last synced
day, minus a few days of overlap) and dedups by movement id (column 22), so
a re-run or an overlap never duplicates and a failed write loses nothing
(the bank-side cursor of ``last`` is never moved). Amounts are parsed as
Decimal, never through float. The token sits in the URL path, so no URL is
ever logged; the engine masks it anyway. A user and password written into
the API address (``https://user:password@host/``) are taken out of it and
sent as HTTP basic authentication, so no log line or error can echo them.

Whatever Fio sends is checked before it is used: an answer that is not JSON,
is nested too deeply, or has an ``info`` or a movement that is not an object
is refused with a sentence; an amount is ASCII digits (no ``NaN``, no
Arabic-Indic digits) and a date is ``YYYY-MM-DD`` (with Fio's time zone
after it), and the sync context refuses what Fakturka does not keep (a date
outside 1990-2099, a currency that is not money) with the movement's id.
"""

from __future__ import annotations

import contextlib
import json
import logging
import re
import time
from datetime import date, timedelta
from decimal import Decimal, InvalidOperation
from urllib.parse import quote, unquote, urlsplit

import httpx

from core.plugins.base import Date, Message, Number, Plugin, Secret, SyncError, Text, message_of

DEFAULT_BASE_URL = "https://fioapi.fio.cz/v1/rest/"
HISTORY_DAYS = 89  # Fio refuses older data without strong authorisation (90 days)
MAX_OVERLAP_DAYS = 366
MAX_TIMEOUT_SECONDS = 3600
# Fio's dates: "2026-03-02+0100"; the date part in ASCII digits (no ISO week dates, no 20260302).
FIO_DAY = re.compile(r"^([0-9]{4})-([0-9]{2})-([0-9]{2})(?![0-9])")
PLAIN_AMOUNT = re.compile(r"^-?[0-9]+(\.[0-9]+)?([eE][+-]?[0-9]{1,3})?$")
COLUMN_NAMES = {
    0: "date",
    1: "amount",
    2: "counterparty_account",
    3: "bank_code",
    4: "constant_symbol",
    5: "variable_symbol",
    6: "specific_symbol",
    7: "user_identification",
    8: "type",
    9: "executed_by",
    10: "counterparty_name",
    12: "bank_name",
    14: "currency",
    16: "message",
    17: "instruction_id",
    18: "detail",
    22: "movement_id",
    25: "comment",
    26: "bic",
    27: "payer_reference",
}


class FioPlugin(Plugin):
    name = "fio"
    version = "1.2.0"
    fields = [
        Secret(
            "token",
            "API token",
            required=True,
            help="Create a read-only token in Fio internet banking (Settings -> API). It is valid 180 days.",
            expires_after_days=180,
        ),
        Date(
            "token_expires",
            "Token valid until",
            expiry_of="token",
            help="The day the token stops working, as Fio showed it; empty: 180 days from when you entered it.",
        ),
        Date(
            "start_date",
            "First day to download",
            help="Only for the first sync; default 90 days back (Fio refuses older data without strong authorisation).",
        ),
        Number(
            "overlap_days",
            "Overlap (days)",
            default=3,
            help="Each sync re-reads this many days before the last one; duplicates are skipped.",
        ),
        Number("timeout", "Timeout (seconds)", default=30),
        Text(
            "base_url",
            "API address (advanced)",
            default=DEFAULT_BASE_URL,
            help="Leave as it is; tests and demos point it at a local server.",
        ),
    ]

    # Fio allows one request per token every 30 seconds; on 409 we wait and retry.
    RATE_LIMIT_SECONDS = 30
    RATE_LIMIT_RETRIES = 2

    def sleep(self, seconds: float) -> None:  # tests replace this to drive a fake clock
        time.sleep(seconds)

    def sync(self, ctx):
        token = ctx.credentials["token"].strip()
        today = date.today()
        start = _as_date(ctx.settings.get("start_date")) or today - timedelta(days=HISTORY_DAYS)
        last = _as_date(ctx.state.get("last_date"))
        overlap = int(
            _number_setting(ctx.settings, "overlap_days", "Overlap (days)", 0, MAX_OVERLAP_DAYS, 0, whole=True)
        )
        since = max(start, last - timedelta(days=overlap)) if last else start
        if since > today:
            since = today
        base, auth = _without_credentials(str(ctx.settings.get("base_url") or DEFAULT_BASE_URL).rstrip("/") + "/")
        url = f"{base}periods/{token}/{since.isoformat()}/{today.isoformat()}/transactions.json"
        try:
            host = urlsplit(base).netloc or base
        except ValueError:  # e.g. "http://[::1/": a mistyped API address setting
            raise SyncError(_invalid_address(base)) from None
        ctx.log(
            Message(
                "Downloading movements from {start} to {end} ({host})",
                start=since.isoformat(),
                end=today.isoformat(),
                host=host,
            )
        )
        timeout = _number_setting(ctx.settings, "timeout", "Timeout (seconds)", 0, MAX_TIMEOUT_SECONDS, 30, whole=False)
        with _hidden_from_http_logs(token):
            body = self._get(ctx, url, host, float(timeout) or 30.0, auth)
        info, movements = _contents(_statement(body))
        ctx.log(
            Message(
                "Fio sent {count} movement(s) for account {account}",
                count=len(movements),
                account=info.get("iban") or info.get("accountId") or "?",
            )
        )
        for number, movement in enumerate(movements, start=1):
            ctx.progress(number, len(movements))
            self._import(ctx, movement, info)
        ctx.state["last_date"] = today.isoformat()
        ctx.metadata.update(
            {
                "account": info.get("iban") or info.get("accountId"),
                "from": since.isoformat(),
                "to": today.isoformat(),
                "movements": len(movements),
            }
        )

    def _get(self, ctx, url: str, host: str, timeout: float, auth: tuple[str, str] | None = None) -> bytes:
        attempts = self.RATE_LIMIT_RETRIES + 1
        for attempt in range(1, attempts + 1):
            try:
                with httpx.Client(timeout=timeout, follow_redirects=False, auth=auth) as client:
                    response = client.get(url)
            except httpx.TimeoutException:
                raise SyncError(
                    Message(
                        "Fio did not answer within {timeout:g} s. The bank may be busy, or the token "
                        "may be invalid (Fio sometimes just hangs then). Try again later.",
                        timeout=timeout,
                    )
                ) from None
            except httpx.HTTPError as exc:
                raise SyncError(
                    Message(
                        "Could not reach Fio at {host} ({error_type}). Check your connection.",
                        host=host,
                        error_type=type(exc).__name__,
                    )
                ) from None
            except httpx.InvalidURL:  # not an HTTPError: a mistyped API address setting
                raise SyncError(_invalid_address(host)) from None
            status = response.status_code
            if status == 200:
                return response.content
            if status == 409:
                if attempt == attempts:
                    raise SyncError(
                        Message(
                            "Fio allows one request every 30 seconds and still refused after "
                            "{attempts} tries; wait a minute and sync again.",
                            attempts=attempts,
                        )
                    )
                self._countdown(ctx, self.RATE_LIMIT_SECONDS)
                continue
            raise SyncError(_status_message(status))
        raise SyncError(Message("Fio did not answer."))  # not reached

    def _countdown(self, ctx, seconds: int) -> None:
        for remaining in range(seconds, 0, -1):
            if remaining == seconds or remaining % 10 == 0 or remaining <= 3:
                ctx.log(
                    Message(
                        "Fio allows one request every 30 seconds; trying again in {remaining} s", remaining=remaining
                    ),
                    "warning",
                )
            ctx.check_cancelled()  # a cancel lands within a second, not after the wait
            self.sleep(1)

    def _import(self, ctx, movement: dict, info: dict) -> None:
        def col(n):
            cell = movement.get(f"column{n}")
            return cell.get("value") if isinstance(cell, dict) else None

        movement_id = col(22)
        if movement_id is None:
            raise SyncError(Message("Fio sent a movement without an id (column 22); nothing was imported."))
        raw_amount = col(1)
        amount, day = _amount(raw_amount), _day(col(0))
        if amount is None or day is None:
            raise SyncError(
                Message(
                    "Fio movement {id} has an amount or date that cannot be read ({amount}, {date}); "
                    "nothing was imported.",
                    id=str(movement_id)[:40],
                    amount=repr(str(raw_amount)[:40]),
                    date=repr(str(col(0))[:40]),
                )
            )
        if amount == 0:
            return  # nothing moved (Fio lists some zero fee lines)
        account = col(2) or ""
        if account and col(3):
            account = f"{account}/{col(3)}"
        texts = [str(t) for t in (col(16), col(25)) if t]
        description = " · ".join(dict.fromkeys(texts)) or str(col(8) or "")
        values = dict(
            external_id=f"fio:{movement_id}",  # as a Fio CSV export names it: the same movement is stored once
            transaction_type="income" if amount > 0 else "expense",
            amount=abs(amount),
            currency=str(col(14) or info.get("currency") or "CZK"),
            transacted_on=day,
            description=description,
            counterparty=str(col(10) or ""),
            counterparty_account=account,
            reference=str(col(5) or ""),
            raw_data={
                _column_name(key): (str(cell.get("value")) if cell.get("value") is not None else None)
                for key, cell in movement.items()
                if key.startswith("column") and isinstance(cell, dict)
            },
        )
        try:
            ctx.upsert_transaction(**values)
        except ValueError as exc:  # the engine's check of what Fio sent (a year 9999, 1e30 CZK, ...)
            raise SyncError(
                Message(
                    "Fio sent a movement Fakturka cannot keep: {error} Nothing was imported.", error=message_of(exc)
                )
            ) from None


class _MaskToken(logging.Filter):
    def __init__(self, token: str):
        super().__init__()
        self.variants = [v for v in dict.fromkeys((token, quote(token, safe=""))) if v]

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        if any(v in message for v in self.variants):
            for variant in self.variants:
                message = message.replace(variant, "***")
            record.msg, record.args = message, ()
        return True


@contextlib.contextmanager
def _hidden_from_http_logs(token: str):
    """httpx logs every request's URL (logger "httpx", INFO); Fio's URL holds the token: mask it there."""
    logger = logging.getLogger("httpx")
    mask = _MaskToken(token)
    logger.addFilter(mask)
    try:
        yield
    finally:
        logger.removeFilter(mask)


def _as_date(value) -> date | None:
    """A date setting or the saved last day; None when absent (or not a date: the default then applies)."""
    if not value:
        return None
    if isinstance(value, date):
        return value
    return _day(value)


def _day(value) -> date | None:
    """The date part of Fio's ``2026-03-02+0100``; None for anything else (week dates, other digits)."""
    match = FIO_DAY.match(str(value)) if isinstance(value, str) else None
    if match is None:
        return None
    try:
        return date(int(match.group(1)), int(match.group(2)), int(match.group(3)))
    except ValueError:
        return None


def _amount(value) -> Decimal | None:
    """A finite amount in ASCII digits (JSON's number, or its text); None for anything else."""
    if isinstance(value, bool) or not isinstance(value, (int, Decimal, str)):
        return None
    text = str(value).strip()
    if not PLAIN_AMOUNT.match(text):  # NaN, Infinity, "1 000", other scripts' digits, 1e999999
        return None
    try:
        amount = Decimal(text)
    except InvalidOperation:
        return None
    return amount if amount.is_finite() else None


def _column_name(key: str) -> str:
    """``column22`` -> ``movement_id``; an unknown ``columnN`` (or ``columnX``) keeps its key."""
    number = key[6:]
    if number.isascii() and number.isdigit() and len(number) <= 3:
        return COLUMN_NAMES.get(int(number), key)
    return key


def _number_setting(settings, key: str, label: str, low: int, high: int, default: int, *, whole: bool) -> Decimal:
    """A number setting within ``low..high`` (a whole one when ``whole``); SyncError naming the setting otherwise."""
    value = settings.get(key)
    if value is None or value == "":
        return Decimal(default)
    try:
        number = Decimal(str(value))
    except InvalidOperation:
        number = Decimal("NaN")
    if not number.is_finite() or (whole and number != number.to_integral_value()) or not low <= number <= high:
        said = {"label": Message(label), "key": key, "low": low, "high": high, "value": repr(value)}
        if whole:
            raise SyncError(
                Message("The setting {label} ({key}) must be a whole number from {low} to {high}, not {value}.", **said)
            )
        raise SyncError(
            Message("The setting {label} ({key}) must be a number from {low} to {high}, not {value}.", **said)
        )
    return number


def _without_credentials(url: str) -> tuple[str, tuple[str, str] | None]:
    """``https://user:pw@host/x`` -> ``(https://host/x, (user, pw))``: the URL that may be shown and logged,
    and the credentials for basic authentication (what httpx would have made of them in the URL)."""
    scheme, separator, rest = url.partition("://")
    if not separator:
        return url, None
    ends = [index for index in (rest.find(c) for c in "/?#") if index >= 0]
    end = min(ends) if ends else len(rest)
    userinfo, at, host = rest[:end].rpartition("@")
    if not at:
        return url, None
    user, _, password = userinfo.partition(":")
    return f"{scheme}://{host}{rest[end:]}", (unquote(user), unquote(password))


def _statement(body: bytes) -> dict:
    try:
        data = json.loads(body, parse_float=Decimal, parse_constant=_no_constant)
    except (ValueError, UnicodeDecodeError, RecursionError):  # RecursionError: "[[[[..." nested too deeply
        raise SyncError(
            Message(
                "Fio sent an answer that is not valid JSON (it may have been cut off); nothing was imported. Try again."
            )
        ) from None
    statement = data.get("accountStatement") if isinstance(data, dict) else None
    if not isinstance(statement, dict):
        raise SyncError(Message("Fio's answer has no account statement; nothing was imported."))
    return statement


def _no_constant(name: str):
    raise ValueError(f"{name} is not a JSON number")  # NaN, Infinity: Python's json reads them, JSON has none


def _contents(statement: dict) -> tuple[dict, list[dict]]:
    """The statement's account ``info`` and its movements, each checked to be what Fio documents."""
    info = statement.get("info") or {}
    if not isinstance(info, dict):
        raise SyncError(
            Message("Fio's answer has an account description (info) that is not an object; nothing was imported.")
        )
    listing = statement.get("transactionList") or {}
    movements = (listing.get("transaction") if isinstance(listing, dict) else listing) or []
    if not isinstance(movements, list):
        raise SyncError(Message("Fio's answer has a transaction list that is not a list; nothing was imported."))
    for number, movement in enumerate(movements, start=1):
        if not isinstance(movement, dict):
            raise SyncError(
                Message(
                    "Fio's answer has a movement (number {number}) that is not an object; nothing was imported.",
                    number=number,
                )
            )
    return info, movements


def _invalid_address(address: str) -> Message:
    return Message(
        "The API address {address} is not a valid URL; check the API address setting "
        "(or leave it empty for the real Fio API).",
        address=address,
    )


def _status_message(status: int) -> Message:
    if status == 500:
        return Message(
            "Fio refused the token: it is invalid, inactive or expired (tokens last at most 180 days). "
            "Create a new one in Fio internet banking and enter it again."
        )
    if status == 404:
        return Message("Fio did not recognise the request (HTTP 404); check the API address setting.")
    if status == 413:
        return Message("Fio would send more than 50,000 movements at once (HTTP 413); set a later first day.")
    if status == 422:
        return Message(
            "Fio needs strong authorisation for data older than 90 days (HTTP 422): confirm it in Fio "
            "internet banking, or set a first day within the last 90 days."
        )
    return Message("Fio answered with HTTP {status}; nothing was imported. Try again later.", status=status)
