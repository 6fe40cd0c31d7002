"""The client portal as an ASGI app (Starlette): read-only pages behind share links, and nothing else.

Routes (no ids anywhere, no directory of anything):

- ``GET /s/{token}``: the invoice of an invoice link, or the invoices and statement of a client link;
- ``GET /s/{token}/invoice.pdf``: an invoice link's PDF;
- ``GET /s/{token}/{number}`` and ``/s/{token}/{number}.pdf``: an invoice of a client link's client;
- ``GET /static/portal.css``.

Everything else, and every token that is unknown, expired or revoked, and every number outside the
link's scope, gets the same 404 page, byte for byte. Failed look-ups are counted per client address
(:class:`FailureLimiter`): past the limit every share-link request from that address is answered 429
until the window has passed. Every response carries the security headers (:class:`SecurityHeaders`,
the outermost layer, so a 500 carries them too).

The database is opened read-only by whoever starts the app (``fakturka portal``, the tests); views go
to a side file through ``core.sharing.views.ViewRecorder``, never into the database.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import OrderedDict, deque
from contextlib import asynccontextmanager
from datetime import date
from importlib import resources
from pathlib import Path
from typing import Callable
from urllib.parse import quote

from jinja2 import Environment, PackageLoader, select_autoescape
from markupsafe import Markup
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response
from starlette.routing import Route

from core.billing.pdf import invoice_filename, render_invoice_bytes
from core.sharing import links, pages, views
from core.values import i18n

log = logging.getLogger("fakturka.portal")

MAX_TOKEN = 256  # longer is never a token: refused before any look-up
FAILURE_LIMIT = 20  # failed look-ups per address ...
FAILURE_WINDOW = 60.0  # ... within this many seconds
PDF_CACHE_SIZE = 32

SECURITY_HEADERS = [
    (b"referrer-policy", b"no-referrer"),
    (
        b"content-security-policy",
        b"default-src 'none'; style-src 'self'; img-src 'self' data:; base-uri 'none'; "
        b"form-action 'none'; frame-ancestors 'none'",
    ),
    (b"x-content-type-options", b"nosniff"),
    (b"x-frame-options", b"DENY"),
    (b"cache-control", b"no-store"),
]
_REPLACED = {name for name, _ in SECURITY_HEADERS}


class SecurityHeaders:
    """ASGI middleware: the security headers on every HTTP response, whatever produced it."""

    def __init__(self, app):
        self.app = app

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)

        async def send_with_headers(message):
            if message["type"] == "http.response.start":
                headers = [(k, v) for k, v in message.get("headers", []) if k.lower() not in _REPLACED]
                message = {**message, "headers": headers + SECURITY_HEADERS}
            await send(message)

        await self.app(scope, receive, send_with_headers)


class FailureLimiter:
    """Failed look-ups per client address in a sliding window, in memory (one portal process).

    ``blocked(address)`` once ``limit`` failures fell within the last ``window`` seconds; successful
    look-ups are never counted. At most ``max_addresses`` are remembered (the oldest forgotten first), so
    a flood of addresses cannot grow the table without bound.
    """

    def __init__(
        self,
        limit: int = FAILURE_LIMIT,
        window: float = FAILURE_WINDOW,
        clock: Callable[[], float] = time.monotonic,
        max_addresses: int = 10_000,
    ):
        self.limit, self.window, self.clock, self.max_addresses = limit, window, clock, max_addresses
        self._failures: OrderedDict[str, deque[float]] = OrderedDict()
        self._lock = threading.Lock()

    def _recent(self, address: str, now: float) -> deque[float] | None:
        times = self._failures.get(address)
        if times is None:
            return None
        while times and times[0] <= now - self.window:
            times.popleft()
        if not times:
            del self._failures[address]
            return None
        return times

    def blocked(self, address: str) -> float:
        """Seconds until ``address`` may try again; 0 when it may now."""
        with self._lock:
            now = self.clock()
            times = self._recent(address, now)
            if times is None or len(times) < self.limit:
                return 0.0
            return max(0.0, times[-self.limit] + self.window - now)

    def failed(self, address: str) -> None:
        with self._lock:
            now = self.clock()
            times = self._recent(address, now)
            if times is None:
                times = self._failures[address] = deque(maxlen=self.limit)
                while len(self._failures) > self.max_addresses:
                    self._failures.popitem(last=False)
            else:
                self._failures.move_to_end(address)
            times.append(now)


class PdfCache:
    """The last few PDFs made, per invoice version (id, last change, status): a client reloading the
    download does not pay for a render twice, and a changed invoice is never served stale."""

    def __init__(self, size: int = PDF_CACHE_SIZE):
        self.size = size
        self._items: OrderedDict[tuple, bytes] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, invoice) -> bytes:
        key = (invoice.id, str(invoice.updated_at), invoice.status, invoice.total)
        with self._lock:
            data = self._items.get(key)
            if data is not None:
                self._items.move_to_end(key)
                return data
        data = render_invoice_bytes(invoice)
        with self._lock:
            self._items[key] = data
            while len(self._items) > self.size:
                self._items.popitem(last=False)
        return data


class Speaker:
    """The words and formats of one page, in its language (the invoice's or the client's)."""

    def __init__(self, lang: str):
        self.lang = pages.page_language(lang)

    def t(self, msgid: str, **params) -> str:
        text = i18n.gettext(self.lang, msgid)
        return text.format(**params) if params else text

    def n(self, singular: str, plural: str, count: int, **params) -> str:
        return i18n.ngettext(self.lang, singular, plural, count).format(n=count, **params)

    def money(self, minor: int, currency: str) -> str:
        return i18n.format_money(int(minor or 0), currency, self.lang)

    def date(self, value: date | None) -> str:
        return i18n.format_date(value, self.lang)

    def quantity(self, value) -> str:
        return i18n.format_quantity(value, self.lang)

    def percent(self, value) -> str:
        return i18n.format_percent_rate(value, self.lang)

    def unit(self, unit: str) -> str:
        return i18n.pgettext(self.lang, "unit", unit) if unit in ("h", "pcs") else unit

    def status(self, status: str, overdue_days: int = 0) -> str:
        """What the badge says: paid, awaiting payment, N days overdue, cancelled."""
        if status == "overdue":
            return self.n("{n} day overdue", "{n} days overdue", overdue_days)
        if status == "sent":
            return self.t("Awaiting payment")
        words = {"paid": self.t("paid"), "cancelled": self.t("cancelled")}.get(status, status)
        return words[:1].upper() + words[1:]


def _lines(text: str | None) -> list[str]:
    return [line.strip() for line in (text or "").splitlines() if line.strip()]


def create_app(
    db_path: Path | str | None,
    *,
    today: Callable[[], date] = date.today,
    failure_limit: int = FAILURE_LIMIT,
    failure_window: float = FAILURE_WINDOW,
    clock: Callable[[], float] = time.monotonic,
    count_views: bool = True,
):
    """The portal over the database already open (read-only) in this process.

    ``db_path`` is the database file itself: views are written beside it through one
    ``core.sharing.views.ViewRecorder``, closed when the app's lifespan ends (``count_views=False`` skips
    counting, for benchmarks).
    """
    env = Environment(
        loader=PackageLoader("portal", "templates"),
        autoescape=select_autoescape(default=True, default_for_string=True),
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.globals["lines_of"] = _lines
    env.globals["quote"] = lambda value: quote(str(value), safe="")
    css = resources.files("portal").joinpath("static", "portal.css").read_bytes()
    limiter = FailureLimiter(failure_limit, failure_window, clock)
    pdfs = PdfCache()
    db_file = Path(db_path) if db_path else None

    def render(name: str, status_code: int = 200, **context) -> HTMLResponse:
        return HTMLResponse(env.get_template(name).render(**context), status_code=status_code)

    not_found_body = env.get_template("not_found.html").render(speakers=[Speaker("en"), Speaker("cs")])

    def not_found() -> HTMLResponse:
        return HTMLResponse(not_found_body, status_code=404)

    def too_many(wait: float) -> HTMLResponse:
        response = render("too_many.html", 429, speakers=[Speaker("en"), Speaker("cs")])
        response.headers["Retry-After"] = str(max(1, int(wait + 0.999)))
        return response

    def address(request: Request) -> str:
        return request.client.host if request.client else "-"

    recorder = views.ViewRecorder(db_file) if count_views and db_file is not None else None

    def viewed(link) -> None:
        if recorder is not None:
            try:
                recorder.record(link.id)
            except Exception as exc:  # a view not counted (a full disk, a locked file) never costs the page
                log.warning("portal: a view of share link %s was not counted: %s", link.id, exc)

    def look_up(request: Request):
        """The link the request's token names, or the response to give instead (429 or 404)."""
        who = address(request)
        wait = limiter.blocked(who)
        if wait:
            return None, too_many(wait)
        token = request.path_params.get("token", "")
        link = links.find_link(token) if 0 < len(token) <= MAX_TOKEN else None
        if link is None:
            limiter.failed(who)
            return None, not_found()
        return link, None

    def miss(request: Request) -> HTMLResponse:
        limiter.failed(address(request))
        return not_found()

    def base(request: Request) -> str:
        token = quote(request.path_params["token"], safe="")
        return f"{request.scope.get('root_path', '')}/s/{token}"

    def invoice_response(request: Request, link, invoice, *, back: str = "", pdf_href: str) -> Response:
        page = pages.invoice_page(invoice, today())
        viewed(link)
        return render(
            "invoice.html",
            page=page,
            s=Speaker(page.language),
            pdf_href=pdf_href,
            back=back,
            qr=Markup(page.payment.qr_svg) if page.payment and page.payment.qr_svg else "",
            css_href=f"{request.scope.get('root_path', '')}/static/portal.css",
        )

    async def pdf_response(invoice) -> Response:
        data = await run_in_threadpool(pdfs.get, invoice)  # 30-150 ms of layout: off the event loop
        filename = invoice_filename(invoice)
        return Response(
            data,
            media_type="application/pdf",
            headers={"Content-Disposition": f'attachment; filename="{filename}"'},
        )

    async def share(request: Request) -> Response:
        link, refused = look_up(request)
        if refused is not None:
            return refused
        invoice = pages.linked_invoice(link)
        if invoice is not None:
            return invoice_response(request, link, invoice, pdf_href=f"{base(request)}/invoice.pdf")
        client = pages.linked_client(link)
        if client is None:
            return miss(request)
        page = pages.client_page(client, today())
        viewed(link)
        return render(
            "client.html",
            page=page,
            s=Speaker(page.language),
            base=base(request),
            css_href=f"{request.scope.get('root_path', '')}/static/portal.css",
        )

    async def share_item(request: Request) -> Response:
        link, refused = look_up(request)
        if refused is not None:
            return refused
        item = request.path_params["item"]
        if link.kind == "invoice":
            invoice = pages.linked_invoice(link) if item == "invoice.pdf" else None
            return await pdf_response(invoice) if invoice is not None else miss(request)
        is_pdf = item.endswith(".pdf")
        invoice = pages.client_invoice(link, item[:-4] if is_pdf else item)
        if invoice is None:
            return miss(request)
        if is_pdf:
            return await pdf_response(invoice)
        href = f"{base(request)}/{quote(str(invoice.number), safe='')}"
        return invoice_response(request, link, invoice, back=base(request), pdf_href=f"{href}.pdf")

    async def stylesheet(request: Request) -> Response:
        return Response(css, media_type="text/css; charset=utf-8")

    async def http_error(request: Request, exc: Exception) -> Response:
        return not_found()

    async def server_error(request: Request, exc: Exception) -> Response:
        return render("error.html", 500, speakers=[Speaker("en"), Speaker("cs")])

    @asynccontextmanager
    async def lifespan(app):
        try:
            yield
        finally:
            if recorder is not None:
                recorder.close()

    app = Starlette(
        routes=[
            Route("/s/{token}", share, methods=["GET"]),
            Route("/s/{token}/{item:path}", share_item, methods=["GET"]),
            Route("/static/portal.css", stylesheet, methods=["GET"]),
        ],
        exception_handlers={HTTPException: http_error, 500: server_error},
        lifespan=lifespan,
    )
    app.router.redirect_slashes = False
    return SecurityHeaders(app)
