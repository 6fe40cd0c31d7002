"""Share links: a random token that opens one invoice, or a client's invoices, in the portal.

A token is ``secrets.token_urlsafe(24)`` (192 random bits), shown once when the link is made and never
stored: the database keeps its SHA-256 (``ShareLink.token_hash``, unique, so the portal finds a link by
one index seek), and the audit trail records only that a hash was set. A link expires (1 to 3650 days,
30 by default) and can be revoked; both are final. Making and revoking a link are audited writes under
the source "share". :func:`find_link` only reads, so the portal can call it on a read-only connection,
and it answers ``None`` alike for a token that is unknown, malformed, expired or revoked.

A link on an invoice reaches that invoice only; a link on a client reaches the client's invoices that
are not drafts (:func:`link_invoices`). Views are counted beside the database (core.sharing.views).
"""

from __future__ import annotations

import hashlib
import hmac
import os
import re
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path

from peewee import JOIN

from core.billing.clients import find_client
from core.billing.invoicing import find_invoice
from core.errors import FakturkaError
from core.sharing.views import view_counts
from core.store.audit import audit_context
from core.store.db import db
from core.store.models import Client, Invoice, ShareLink
from core.store.states import InvoiceStatus
from core.values.messages import Message
from core.values.timeutil import utcnow

__all__ = [
    "DEFAULT_EXPIRY_DAYS",
    "MAX_EXPIRY_DAYS",
    "SOURCE",
    "LinkSummary",
    "ShareError",
    "create_client_link",
    "create_invoice_link",
    "find_link",
    "hash_token",
    "link_invoices",
    "link_state",
    "list_links",
    "portal_url",
    "revoke_link",
    "share_url",
]

DEFAULT_EXPIRY_DAYS = 30
MAX_EXPIRY_DAYS = 3650
SOURCE = "share"  # the audit source of making and revoking links
DEFAULT_PORTAL_URL = "http://127.0.0.1:8765"
PORTAL_URL_ENV = "FAKTURKA_PORTAL_URL"

_TOKEN_BYTES = 24  # 192 bits; token_urlsafe gives 32 characters
# What a token can look like: URL-safe base64 of 16 to 96 bytes. Anything else is refused before hashing.
_TOKEN_SHAPE = re.compile(r"[A-Za-z0-9_-]{22,128}")


class ShareError(FakturkaError):
    """A share link that cannot be made or revoked; the message says why in a sentence."""


@dataclass(frozen=True)
class LinkSummary:
    """One link as ``fakturka share list`` shows it: never its token, nor its hash."""

    id: int
    kind: str  # invoice | client
    what: str  # the invoice number or the client name
    created_at: datetime
    expires_at: datetime
    revoked_at: datetime | None
    state: str  # active | expired | revoked
    views: int
    last_view: datetime | None


def hash_token(token: str) -> str:
    """The stored form of a token: its SHA-256 as 64 hex digits."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def _utc(now: datetime | None) -> datetime:
    """``now`` as the models store time (naive UTC); the current time when None."""
    if now is None:
        return utcnow()
    if now.tzinfo is not None:
        return now.astimezone(timezone.utc).replace(tzinfo=None)
    return now


def _check_days(expires_days: object) -> int:
    if isinstance(expires_days, bool) or not isinstance(expires_days, int):
        raise ShareError(Message("A share link's expiry is a whole number of days, from 1 to 3650."))
    if not 1 <= expires_days <= MAX_EXPIRY_DAYS:
        raise ShareError(
            Message(
                "A share link expires after 1 to {most} days; {days} is outside that.",
                most=MAX_EXPIRY_DAYS,
                days=expires_days,
            )
        )
    return expires_days


def _create(*, kind: str, invoice: Invoice | None, client: Client | None, days: int, now: datetime):
    token = secrets.token_urlsafe(_TOKEN_BYTES)
    with db.atomic(), audit_context(SOURCE):
        link = ShareLink.create(
            kind=kind,
            invoice=invoice,
            client=client,
            token_hash=hash_token(token),
            expires_at=now + timedelta(days=days),
            created_at=now,
            updated_at=now,
        )
    return link, token


def create_invoice_link(
    number: str, *, expires_days: int = DEFAULT_EXPIRY_DAYS, now: datetime | None = None
) -> tuple[ShareLink, str]:
    """A new link to the invoice ``number`` (not a draft); returns the stored link and its token, which
    is shown once and stored nowhere."""
    days = _check_days(expires_days)
    invoice = find_invoice(number)
    if invoice.status == InvoiceStatus.DRAFT:
        raise ShareError(
            Message(
                "Invoice {number} is a draft; send it first (S on the Invoices screen, or "
                "'fakturka invoice send {number}'), then share it.",
                number=invoice.number,
            )
        )
    return _create(kind="invoice", invoice=invoice, client=None, days=days, now=_utc(now))


def create_client_link(
    name: str, *, expires_days: int = DEFAULT_EXPIRY_DAYS, now: datetime | None = None
) -> tuple[ShareLink, str]:
    """A new link to a client's non-draft invoices (the client by id, name or unambiguous name prefix);
    returns the stored link and its token, shown once."""
    days = _check_days(expires_days)
    client = find_client(name)
    return _create(kind="client", invoice=None, client=client, days=days, now=_utc(now))


def revoke_link(link_id: int, *, now: datetime | None = None) -> ShareLink:
    """Revoke a link for good: its token opens nothing from now on."""
    when = _utc(now)
    with db.atomic(), audit_context(SOURCE):
        link = ShareLink.get_or_none(ShareLink.id == link_id)
        if link is None:
            raise ShareError(Message("There is no share link {id}; see 'fakturka share list'.", id=link_id))
        if link.revoked_at is not None:
            raise ShareError(
                Message(
                    "Share link {id} was already revoked on {day}; its token opens nothing.",
                    id=link.id,
                    day=link.revoked_at.date().isoformat(),
                )
            )
        link.revoked_at = when
        link.save()
    return link


def link_state(link: ShareLink, now: datetime | None = None) -> str:
    """``revoked``, ``expired`` or ``active``."""
    if link.revoked_at is not None:
        return "revoked"
    if link.expires_at <= _utc(now):
        return "expired"
    return "active"


def find_link(token: str, *, now: datetime | None = None) -> ShareLink | None:
    """The active link this token opens, or None (unknown, malformed, expired or revoked: the caller
    cannot tell which). Reads only: one index seek by the token's hash."""
    if not isinstance(token, str) or not _TOKEN_SHAPE.fullmatch(token):
        return None
    wanted = hash_token(token)
    link = ShareLink.select().where(ShareLink.token_hash == wanted).first()
    if link is None or not hmac.compare_digest(link.token_hash, wanted):
        return None
    return link if link_state(link, now) == "active" else None


def link_invoices(link: ShareLink) -> list[Invoice]:
    """What a link reaches: its invoice, or its client's invoices (newest first); never a draft."""
    not_draft = Invoice.status != InvoiceStatus.DRAFT
    if link.kind == "invoice":
        query = Invoice.select().where((Invoice.id == link.invoice_id) & not_draft)
    else:
        query = (
            Invoice.select()
            .where((Invoice.client == link.client_id) & not_draft)
            .order_by(Invoice.issued_on.desc(), Invoice.id.desc())
        )
    return list(query)


def _database_file() -> Path | None:
    """The open database's file (``db.database`` is a ``file:...?mode=ro`` URI while the portal has it)."""
    return db.path or (Path(db.database) if db.database else None)


def list_links(now: datetime | None = None) -> list[LinkSummary]:
    """Every link, oldest first, with its state and how often it was opened."""
    when = _utc(now)
    path = _database_file()
    counts = view_counts(path) if path is not None else {}
    query = (
        ShareLink.select(ShareLink, Invoice.number, Client.name)
        .join(Invoice, join_type=JOIN.LEFT_OUTER, on=(ShareLink.invoice == Invoice.id))
        .switch(ShareLink)
        .join(Client, join_type=JOIN.LEFT_OUTER, on=(ShareLink.client == Client.id))
        .order_by(ShareLink.id)
        .objects()
    )
    summaries = []
    for row in query:
        views, last_view = counts.get(row.id, (0, None))
        summaries.append(
            LinkSummary(
                id=row.id,
                kind=row.kind,
                what=(row.number if row.kind == "invoice" else row.name) or "",
                created_at=row.created_at,
                expires_at=row.expires_at,
                revoked_at=row.revoked_at,
                state=link_state(row, when),
                views=views,
                last_view=last_view,
            )
        )
    return summaries


def portal_url() -> str:
    """Where the portal answers: ``$FAKTURKA_PORTAL_URL``, else http://127.0.0.1:8765 (no trailing slash)."""
    return (os.environ.get(PORTAL_URL_ENV, "").strip() or DEFAULT_PORTAL_URL).rstrip("/")


def share_url(token: str) -> str:
    """The address a link's token opens: ``<portal>/s/<token>``."""
    return f"{portal_url()}/s/{token}"
