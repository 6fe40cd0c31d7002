"""A Fio-compatible HTTP server for tests and benchmarks (a real socket on 127.0.0.1).

It speaks the one endpoint the ``fio`` plugin uses::

    GET /v1/rest/periods/{token}/{YYYY-MM-DD}/{YYYY-MM-DD}/transactions.json

and behaves like Fio where it matters (see the shared specs, banking.md):

- a wrong token gets HTTP 500; an unknown path or a date that cannot be read
  gets HTTP 404 (the error page echoes the path, as many servers do, so a
  client that shows error bodies would leak the token: the plugin must not);
- movements are filtered by the date part of column 0, inclusive;
- more than ``max_items`` movements in the range gets HTTP 413;
- one request per token every 30 seconds, measured on ``server.clock``, a
  :class:`FakeClock` the test advances (a request within 30 s of the previous
  one with the same token gets HTTP 409, and counts as a request: Fio's
  window restarts with it);
- the response is Fio's JSON: ``accountStatement.info`` (the fixture's
  account) and ``accountStatement.transactionList.transaction[]`` of
  ``columnN -> {"value", "name", "id"}`` maps, amounts as JSON numbers.

What it serves: the shared fixture (``fixture=True``, two card payments of
2016-08-03) plus whatever a test adds with ``server.add(movement(...))``.

Scripted answers for the next request(s), whatever the token or the clock::

    server.respond(404)                 # any status, with a small error page
    server.respond(409, times=10)
    server.hang()                       # never answers (until server.stop())
    server.malformed()                  # 200 with an HTML page instead of JSON
    server.truncated()                  # 200 with the JSON cut in half (a complete HTTP body)
    server.drop_connection()            # announces the full body, sends half, closes
    server.null_transaction_list()      # 200, "transactionList": null
    server.respond_raw(b"[]")           # 200 (or status=) with exactly these bytes

Every request is recorded in ``server.requests`` (path, token, date range,
status, clock time). The path contains the token: a test may read it (it
proves the token really travelled), the application must never store it.

Use it as a context manager (``with FioServer() as server: ...``) or through
the ``fio_server`` pytest fixture defined below; ``stop()`` releases hanging
requests, shuts the server down and joins every thread it started.
"""

from __future__ import annotations

import json
import re
import threading
from collections import deque
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

try:  # the benchmark imports this module without the test extras
    import pytest
except ImportError:  # pragma: no cover
    pytest = None

FIXTURES = Path(__file__).resolve().parent / "fixtures"
FIO_FIXTURE = FIXTURES / "fio" / "fiobank-transactions.json"

# A realistic token: 64 characters, letters and digits, as Fio issues them.
TOKEN = "q7Vf2LkR9zXw3NcBm8TyH4sJpD6aGe1UoWi5QrZt0YxKvCn2MbLa7SdFh3JkPu9E"
assert len(TOKEN) == 64

RATE_LIMIT_SECONDS = 30
MAX_ITEMS = 50_000
PATH_RE = re.compile(
    r"^/v1/rest/periods/([^/]+)/([0-9]{4}-[0-9]{2}-[0-9]{2})/([0-9]{4}-[0-9]{2}-[0-9]{2})"
    r"/transactions\.json$"
)

# Fio's column names (Czech, as the API sends them).
COLUMN_LABELS = {
    0: "Datum",
    1: "Objem",
    2: "Protiúčet",
    3: "Kód banky",
    4: "KS",
    5: "VS",
    6: "SS",
    7: "Uživatelská identifikace",
    8: "Typ",
    9: "Provedl",
    10: "Název protiúčtu",
    12: "Název banky",
    14: "Měna",
    16: "Zpráva pro příjemce",
    17: "ID pokynu",
    18: "Upřesnění",
    22: "ID pohybu",
    25: "Komentář",
    26: "BIC",
    27: "Reference plátce",
}


# -- JSON with Decimal numbers ---------------------------------------------------------------


def to_json(value: Any) -> str:
    """JSON text in which a Decimal is written as a JSON number, digit for digit.

    A float is refused: test data must not go through binary floating point
    (``-353.29`` is written as ``-353.29``, never as ``-353.29000000000002``).
    """
    if value is None:
        return "null"
    if value is True:
        return "true"
    if value is False:
        return "false"
    if isinstance(value, Decimal):
        if not value.is_finite():
            raise ValueError(f"{value} is not a JSON number")
        return str(value)
    if isinstance(value, float):
        raise TypeError(f"use Decimal, not float ({value!r}), for amounts in Fio test data")
    if isinstance(value, int):
        return str(value)
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, dict):
        return "{" + ",".join(f"{json.dumps(str(k))}:{to_json(v)}" for k, v in value.items()) + "}"
    if isinstance(value, (list, tuple)):
        return "[" + ",".join(to_json(v) for v in value) + "]"
    raise TypeError(f"cannot write {type(value).__name__} as JSON")


def load_fixture() -> dict:
    """The shared Fio fixture as it is, numbers as Decimal."""
    return json.loads(FIO_FIXTURE.read_text(encoding="utf-8"), parse_float=Decimal)


def _cell(column: int, value: Any) -> dict | None:
    if value is None:
        return None
    return {"value": value, "name": COLUMN_LABELS[column], "id": column}


def movement(
    movement_id: int,
    day: date | str,
    amount: Decimal | str | int,
    *,
    currency: str = "CZK",
    vs: str | None = None,
    ks: str | None = None,
    ss: str | None = None,
    counterparty_account: str | None = None,
    bank_code: str | None = None,
    counterparty_name: str | None = None,
    bank_name: str | None = None,
    message: str | None = None,
    comment: str | None = None,
    kind: str | None = None,
    user_identification: str | None = None,
    executed_by: str | None = None,
    instruction_id: int | None = None,
    detail: str | None = None,
    bic: str | None = None,
    payer_reference: str | None = None,
) -> dict:
    """One movement in Fio's column format (every column present, ``null`` when empty).

    ``amount`` is signed (+ income, - expense) and becomes a Decimal (pass a
    string or a Decimal; a float is refused). ``day`` becomes column 0 as Fio
    writes it, ``YYYY-MM-DD+0200``.
    """
    if isinstance(amount, float):
        raise TypeError("give the amount as a string or a Decimal, not a float")
    value = Decimal(str(amount))
    day_text = day.isoformat() if isinstance(day, date) else str(day)[:10]
    if kind is None:
        kind = "Bezhotovostní příjem" if value > 0 else "Bezhotovostní platba"
    columns = {
        0: f"{day_text}+0200",
        1: value,
        2: counterparty_account,
        3: bank_code,
        4: ks,
        5: vs,
        6: ss,
        7: user_identification,
        8: kind,
        9: executed_by,
        10: counterparty_name,
        12: bank_name,
        14: currency,
        16: message,
        17: instruction_id,
        18: detail,
        22: int(movement_id),
        25: comment,
        26: bic,
        27: payer_reference,
    }
    return {f"column{n}": _cell(n, v) for n, v in columns.items()}


# -- the clock the 30-second rule runs on ---------------------------------------------------


class FakeClock:
    """Seconds that pass only when the test says so (``advance``); thread-safe."""

    def __init__(self, start: float = 1_000_000.0):
        self._now = float(start)
        self._lock = threading.Lock()

    def now(self) -> float:
        with self._lock:
            return self._now

    def advance(self, seconds: float) -> None:
        if seconds < 0:
            raise ValueError("time does not go backwards")
        with self._lock:
            self._now += seconds


# -- the server --------------------------------------------------------------------------------


@dataclass
class Request:
    """One request as the server saw it. ``path`` and ``token`` hold the token in clear."""

    path: str
    token: str | None
    date_from: date | None
    date_to: date | None
    at: float  # server.clock time
    status: int | None = None  # None: no answer (hang, dropped)
    size: int | None = None  # bytes of the body sent


@dataclass
class _Movement:
    day: date
    movement_id: int | None
    json: str


class _HTTPServer(ThreadingHTTPServer):
    daemon_threads = False  # handler threads are joined by server_close(): nothing leaks
    block_on_close = True
    allow_reuse_address = True


class _Handler(BaseHTTPRequestHandler):
    server_version = "FioTestServer/1.0"
    protocol_version = "HTTP/1.0"  # one request per connection, as the plugin uses it
    timeout = 10  # a connection that never sends its request does not keep a thread forever

    def do_GET(self) -> None:  # noqa: N802 - http.server's name
        self.server.fio._handle(self)

    def log_message(self, format: str, *args) -> None:  # noqa: A002 - quiet; tests read server.requests
        pass


class FioServer:
    """See the module docstring. ``base_url`` is what the plugin's setting takes."""

    def __init__(
        self,
        token: str = TOKEN,
        *,
        fixture: bool = True,
        clock: FakeClock | None = None,
        rate_limit: bool = True,
        max_items: int = MAX_ITEMS,
        hang_seconds: float = 60.0,
    ):
        self.token = token
        self.clock = clock or FakeClock()
        self.rate_limit = rate_limit
        self.rate_limit_seconds = RATE_LIMIT_SECONDS
        self.max_items = max_items
        self.hang_seconds = hang_seconds  # far beyond any client timeout a test sets
        self.requests: list[Request] = []
        self._lock = threading.Lock()
        self._script: deque[tuple[str, Any]] = deque()
        self._last_request: dict[str, float] = {}
        self._movements: list[_Movement] = []
        self._stopping = threading.Event()
        self._httpd: _HTTPServer | None = None
        self._thread: threading.Thread | None = None
        data = load_fixture()
        self.info: dict = dict(data["accountStatement"]["info"])
        if fixture:
            self.add(*((data["accountStatement"].get("transactionList") or {}).get("transaction") or []))

    # -- lifecycle ---------------------------------------------------------------------------
    def start(self) -> "FioServer":
        if self._httpd is not None:
            raise RuntimeError("the server is already running")
        self._stopping.clear()
        self._httpd = _HTTPServer(("127.0.0.1", 0), _Handler)
        self._httpd.fio = self
        self._thread = threading.Thread(
            target=self._httpd.serve_forever, kwargs={"poll_interval": 0.05}, name="fio-test-server", daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        """Release hanging requests, stop serving, join the threads. Safe to call twice."""
        httpd, self._httpd = self._httpd, None
        if httpd is None:
            return
        self._stopping.set()
        httpd.shutdown()
        httpd.server_close()  # joins the request threads (block_on_close)
        if self._thread is not None:
            self._thread.join(timeout=10)
            self._thread = None

    def __enter__(self) -> "FioServer":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    @property
    def port(self) -> int:
        if self._httpd is None:
            raise RuntimeError("start the server first")
        return self._httpd.server_address[1]

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1/rest/"

    # -- data ----------------------------------------------------------------------------------
    def add(self, *movements: dict) -> None:
        """Serve these movements too (dicts in Fio's column format, e.g. from ``movement()``)."""
        encoded = []
        for item in movements:
            day = date.fromisoformat(str(item["column0"]["value"])[:10])
            ident = (item.get("column22") or {}).get("value")
            encoded.append(_Movement(day, ident, to_json(item)))
        with self._lock:
            self._movements.extend(encoded)

    def clear(self) -> None:
        with self._lock:
            self._movements.clear()

    # -- scripted answers ------------------------------------------------------------------
    def _push(self, kind: str, times: int, arg: Any = None) -> None:
        with self._lock:
            self._script.extend([(kind, arg)] * times)

    def respond(self, status: int, times: int = 1) -> None:
        """Answer the next ``times`` requests with ``status`` (and Fio-like error text)."""
        self._push("status", times, int(status))

    def respond_raw(
        self, body: bytes, status: int = 200, times: int = 1, content_type: str = "application/json;charset=UTF-8"
    ) -> None:
        self._push("raw", times, (status, body, content_type))

    def hang(self, times: int = 1) -> None:
        """Accept the next request(s) and never answer (until ``hang_seconds`` or ``stop()``)."""
        self._push("hang", times)

    def malformed(self, times: int = 1) -> None:
        self.respond_raw(
            b"<html><head><title>Fio banka</title></head><body>Omlouvame se, sluzba je "
            b"docasne nedostupna.</body></html>",
            times=times,
            content_type="text/html",
        )

    def truncated(self, times: int = 1) -> None:
        """A complete HTTP answer whose JSON is cut in half."""
        self._push("truncated", times)

    def drop_connection(self, times: int = 1) -> None:
        """Announce the whole body, send half of it, close the connection."""
        self._push("drop", times)

    def null_transaction_list(self, times: int = 1) -> None:
        self._push("null_list", times)

    def reset_rate_limit(self) -> None:
        with self._lock:
            self._last_request.clear()

    # -- reading what happened ---------------------------------------------------------------
    @property
    def paths(self) -> list[str]:
        with self._lock:
            return [r.path for r in self.requests]

    @property
    def statuses(self) -> list[int | None]:
        with self._lock:
            return [r.status for r in self.requests]

    # -- answering ---------------------------------------------------------------------------
    def _handle(self, handler: _Handler) -> None:
        path = handler.path.split("?", 1)[0]
        match = PATH_RE.match(path)
        token, date_from, date_to = (match.group(1), match.group(2), match.group(3)) if match else (None,) * 3
        try:
            span = (date.fromisoformat(date_from), date.fromisoformat(date_to)) if match else None
        except ValueError:
            span = None
        request = Request(
            path=handler.path,
            token=token,
            date_from=span[0] if span else None,
            date_to=span[1] if span else None,
            at=self.clock.now(),
        )
        with self._lock:
            self.requests.append(request)
            scripted = self._script.popleft() if self._script else None

        if span is None:
            return self._error(handler, request, 404)
        if scripted is not None:
            return self._scripted(handler, request, scripted, span)
        if token != self.token:
            return self._error(handler, request, 500)
        if self.rate_limit:
            with self._lock:
                last = self._last_request.get(token)
                self._last_request[token] = request.at
            if last is not None and request.at - last < self.rate_limit_seconds:
                return self._error(handler, request, 409)
        body, count = self._statement(*span)
        if count > self.max_items:
            return self._error(handler, request, 413)
        self._send(handler, request, 200, body)

    def _scripted(self, handler: _Handler, request: Request, scripted: tuple[str, Any], span) -> None:
        kind, arg = scripted
        if kind == "status":
            return self._error(handler, request, arg)
        if kind == "raw":
            status, body, content_type = arg
            return self._send(handler, request, status, body, content_type)
        if kind == "hang":
            self._stopping.wait(self.hang_seconds)
            handler.close_connection = True
            return None  # request.status stays None: never answered
        if kind == "null_list":
            body = f'{{"accountStatement":{{"info":{self._info(*span, [])},"transactionList":null}}}}'
            return self._send(handler, request, 200, body.encode("utf-8"))
        body, _ = self._statement(*span)
        if kind == "truncated":
            return self._send(handler, request, 200, body[: len(body) // 2])
        if kind == "drop":
            handler.send_response(200)
            handler.send_header("Content-Type", "application/json;charset=UTF-8")
            handler.send_header("Content-Length", str(len(body)))
            handler.end_headers()
            handler.wfile.write(body[: len(body) // 2])
            handler.wfile.flush()
            handler.close_connection = True
            return None  # the client never gets a complete answer
        raise AssertionError(f"unknown scripted answer {kind!r}")

    def _info(self, date_from: date, date_to: date, selected: list[_Movement]) -> str:
        ids = [m.movement_id for m in selected if m.movement_id is not None]
        info = dict(self.info)
        info.update(
            {
                "dateStart": f"{date_from.isoformat()}+0200",
                "dateEnd": f"{date_to.isoformat()}+0200",
                "idFrom": min(ids) if ids else None,
                "idTo": max(ids) if ids else None,
            }
        )
        return to_json(info)

    def _statement(self, date_from: date, date_to: date) -> tuple[bytes, int]:
        with self._lock:
            selected = [m for m in self._movements if date_from <= m.day <= date_to]
        body = (
            f'{{"accountStatement":{{"info":{self._info(date_from, date_to, selected)},'
            f'"transactionList":{{"transaction":[{",".join(m.json for m in selected)}]}}}}}}'
        )
        return body.encode("utf-8"), len(selected)

    def _error(self, handler: _Handler, request: Request, status: int) -> None:
        text = {
            404: f"<html><body><h1>404 Not Found</h1><p>The requested URL {handler.path} was not found "
            f"on this server.</p></body></html>",
            409: "<html><body>Conflict: one request per token every 30 seconds.</body></html>",
            413: "<html><body>Request Entity Too Large</body></html>",
            422: "<html><body>Unprocessable Entity: data older than 90 days needs strong authorisation.</body></html>",
            500: "<html><body>Internal Server Error</body></html>",
        }.get(status, f"<html><body>HTTP {status}</body></html>")
        self._send(handler, request, status, text.encode("utf-8"), "text/html;charset=UTF-8")

    def _send(
        self,
        handler: _Handler,
        request: Request,
        status: int,
        body: bytes,
        content_type: str = "application/json;charset=UTF-8",
    ) -> None:
        request.status, request.size = status, len(body)
        try:
            handler.send_response(status)
            handler.send_header("Content-Type", content_type)
            handler.send_header("Content-Length", str(len(body)))
            handler.end_headers()
            handler.wfile.write(body)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the client gave up (a timeout); nothing to do


if pytest is not None:

    @pytest.fixture
    def fio_server():
        """A running FioServer serving the shared fixture; stopped after the test."""
        with FioServer() as server:
            yield server
