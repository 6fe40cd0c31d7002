"""Serving the portal with uvicorn: one process, the database already open read-only in it."""

from __future__ import annotations

from pathlib import Path

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8765


def serve(db_path: Path | str | None, *, host: str = DEFAULT_HOST, port: int = DEFAULT_PORT, log_level="warning"):
    """Run the portal until interrupted (Ctrl+C, SIGTERM).

    Uvicorn's defaults stand for proxy headers: ``X-Forwarded-For`` and ``X-Forwarded-Proto`` are
    trusted from the loopback addresses only (127.0.0.1 and ::1; ``FORWARDED_ALLOW_IPS``), so behind
    Caddy or nginx on the same machine the rate limit counts the client's address, and nobody else can
    claim one. No ``Server`` header.
    """
    import uvicorn

    from portal.app import create_app

    config = uvicorn.Config(
        create_app(db_path),
        host=host,
        port=port,
        log_level=log_level,
        access_log=False,  # an access log would write every share link's token into the terminal
        server_header=False,
        lifespan="on",  # closes the connection that counts views
    )
    uvicorn.Server(config).run()
