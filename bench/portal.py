"""Benchmark: the client portal (``fakturka portal``) at the 1M-entry database.

Run: ``.venv/bin/python bench/portal.py [--db PATH] [--scale 1] [--requests 500] [--clients 200] [--seconds 30]``

Builds the big database with ``bench/make_big_db.py`` (1,000,000 work entries, 50,000 invoices,
200,000 movements at ``--scale 1``; about 12 s) in a temporary folder unless ``--db`` names one
already built, and a small one (``--scale 0.001``) as the baseline. In each it gives one sent invoice
the supplier's bank details (so its page draws the QR) and makes an invoice link and a client link
through ``core.sharing.links``; then it opens the database read-only, as the portal does, and
measures:

(a) server-side time of a page: ``--requests`` requests through the ASGI app in this process (the
    Starlette app with its middleware, the thread pool the page runs in, the view written to the side
    file), no network: median and p95 in ms, for the invoice page, a client page and the look-up of an
    unknown token, at the big database and at the small one (the ratio shows whether the cost grows
    with the database: it should not). Budget: an invoice page <= 50 ms.

(b) the real server: ``fakturka portal`` started on a free port of 127.0.0.1 over the big database,
    ``--clients`` concurrent keep-alive connections (asyncio streams, one HTTP/1.1 request at a time
    each) fetching the invoice page for ``--seconds``: requests per second, p50/p99 latency and the
    number of errors (a status other than 200, a dropped connection or a timeout). The load runs in this
    process on the same machine, so it takes CPU from the server: the figure is a floor.

Figures are printed, never asserted (the machine is shared).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

BUDGET_MS = 50.0
SUPPLIER = {
    "name": "Bench Person",
    "address": "Korunní 1\n120 00 Praha 2",
    "ico": "25596641",
    "iban": "CZ6508000000192000145399",
    "bic": "GIBACZPX",
    "bank_account": "19-2000145399/0800",
}


def prepare(path: Path, scale: float, build: bool) -> dict[str, str]:
    """Build the database (unless it exists and ``build`` is False), make the links; returns the URLs."""
    from make_big_db import build as build_db

    from core.sharing import links
    from core.store.db import close_database, open_database
    from core.store.models import Client, Invoice

    if build or not path.exists():
        started = time.perf_counter()
        build_db(path, scale)
        print(f"built {path.name} at scale {scale} in {time.perf_counter() - started:.1f} s", flush=True)
    open_database(path)
    middle = Invoice.select(Invoice.id).where(Invoice.status == "sent").order_by(Invoice.id)
    count = middle.count()
    invoice = Invoice.get_by_id(middle.offset(count // 2).limit(1).scalar())
    invoice.supplier = SUPPLIER
    invoice.customer = {"name": invoice.client.name, "address": "Street 1\nTown"}
    invoice.save()  # audited, as every change of an invoice
    _, invoice_token = links.create_invoice_link(invoice.number, expires_days=1)
    client = Client.get_by_id(invoice.client_id)
    _, client_token = links.create_client_link(str(client.id), expires_days=1)
    close_database()
    return {
        "invoice page": f"/s/{invoice_token}",
        "client page": f"/s/{client_token}",
        "unknown token (404)": "/s/" + "Q" * 32,
    }


# -- (a) in process -------------------------------------------------------------------------------


async def _call(app, path: str) -> tuple[int, int]:
    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "GET",
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "root_path": "",
        "query_string": b"",
        "headers": [(b"host", b"127.0.0.1")],
        "client": ("127.0.0.1", 50000),
        "server": ("127.0.0.1", 8765),
    }
    status, size = 0, 0

    async def receive():
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message):
        nonlocal status, size
        if message["type"] == "http.response.start":
            status = message["status"]
        elif message["type"] == "http.response.body":
            size += len(message.get("body", b""))

    await app(scope, receive, send)
    return status, size


def in_process(path: Path, urls: dict[str, str], requests: int) -> dict[str, tuple[float, float]]:
    from core.store.db import close_database, open_database
    from portal.app import create_app

    open_database(path, read_only=True, migrate=False)
    app = create_app(path, failure_limit=10**9)
    figures = {}

    async def run():
        for name, url in urls.items():
            for _ in range(20):  # warm: fonts of nothing, templates compiled, connections made
                await _call(app, url)
            times = []
            for _ in range(requests):
                started = time.perf_counter()
                status, size = await _call(app, url)
                times.append((time.perf_counter() - started) * 1000)
            expected = 404 if "404" in name else 200
            assert status == expected, (name, status)
            times.sort()
            figures[name] = (statistics.median(times), times[int(len(times) * 0.95) - 1], size)

    asyncio.run(run())
    close_database()
    return figures


# -- (b) the real server under load ---------------------------------------------------------------


async def _fetch(reader, writer, request: bytes) -> int:
    writer.write(request)
    await writer.drain()
    head = await reader.readuntil(b"\r\n\r\n")
    lines = head.split(b"\r\n")
    status = int(lines[0].split()[1])
    length = 0
    for line in lines[1:]:
        if line.lower().startswith(b"content-length:"):
            length = int(line.split(b":", 1)[1])
    await reader.readexactly(length)
    return status


async def _client(port: int, request: bytes, until: float, latencies: list[float], errors: list[str]) -> None:
    reader = writer = None
    while time.perf_counter() < until:
        try:
            if writer is None:
                reader, writer = await asyncio.wait_for(asyncio.open_connection("127.0.0.1", port), 10)
            started = time.perf_counter()
            status = await asyncio.wait_for(_fetch(reader, writer, request), 10)
            latencies.append(time.perf_counter() - started)
            if status != 200:
                errors.append(f"status {status}")
        except (OSError, asyncio.TimeoutError, asyncio.IncompleteReadError, ValueError) as exc:
            errors.append(type(exc).__name__)
            if writer is not None:
                writer.close()
            reader = writer = None
    if writer is not None:
        writer.close()


def under_load(path: Path, url: str, clients: int, seconds: float) -> None:
    from portal.child import child_portal

    with child_portal("--db", str(path), cwd=ROOT) as server:
        request = f"GET {url} HTTP/1.1\r\nHost: 127.0.0.1:{server.port}\r\n\r\n".encode()
        latencies: list[float] = []
        errors: list[str] = []

        async def run():
            until = time.perf_counter() + seconds
            await asyncio.gather(*(_client(server.port, request, until, latencies, errors) for _ in range(clients)))

        started = time.perf_counter()
        asyncio.run(run())
        elapsed = time.perf_counter() - started
    latencies.sort()
    done = len(latencies)
    p50 = latencies[done // 2] * 1000 if done else float("nan")
    p99 = latencies[max(0, int(done * 0.99) - 1)] * 1000 if done else float("nan")
    kinds = {kind: errors.count(kind) for kind in sorted(set(errors))}
    print(
        f"real server, {clients} clients for {elapsed:.1f} s (invoice page): {done} requests, "
        f"{done / elapsed:.0f} requests/s, p50 {p50:.1f} ms, p99 {p99:.1f} ms, errors {len(errors)}"
        + (f" {kinds}" if kinds else "")
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--db", type=Path, help="the big database (built there when missing)")
    parser.add_argument("--scale", type=float, default=1.0, help="make_big_db scale (1 = 1M entries)")
    parser.add_argument("--requests", type=int, default=500, help="requests per page in (a)")
    parser.add_argument("--clients", type=int, default=200, help="concurrent connections in (b)")
    parser.add_argument("--seconds", type=float, default=30.0, help="how long (b) runs")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="fakturka-bench-portal-") as tmp:
        os.environ["FAKTURKA_HOME"] = str(Path(tmp) / "home")
        big = args.db or Path(tmp) / "big.db"
        small = Path(tmp) / "small.db"
        big_urls = prepare(big, args.scale, build=False)
        small_urls = prepare(small, 0.001, build=True)
        big_figures = in_process(big, big_urls, args.requests)
        small_figures = in_process(small, small_urls, args.requests)
        print(f"(a) in process, {args.requests} requests each: median / p95 ms (big vs small database)")
        for name, (median, p95, size) in big_figures.items():
            small_median = small_figures[name][0]
            print(
                f"  {name:20} {median:6.2f} / {p95:6.2f} ms   small {small_median:6.2f} ms   "
                f"big/small {median / small_median:4.2f}   {size:,} bytes"
            )
        verdict = "within" if big_figures["invoice page"][1] <= BUDGET_MS else "OVER"
        print(f"  invoice page p95 {verdict} the {BUDGET_MS:.0f} ms budget")
        print("(b)", end=" ", flush=True)
        under_load(big, big_urls["invoice page"], args.clients, args.seconds)


if __name__ == "__main__":
    main()
