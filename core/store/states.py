"""The states a row moves through, named once; the stored values are these strings.

``StrEnum`` members are the strings themselves, so a member compares equal to
what the database holds and goes into a query as is.
"""

from __future__ import annotations

from enum import StrEnum


class InvoiceStatus(StrEnum):
    """An invoice's stored status. "Overdue" is not stored: it is a sent invoice past its due date."""

    DRAFT = "draft"
    SENT = "sent"
    PAID = "paid"
    CANCELLED = "cancelled"


class MatchStatus(StrEnum):
    """How a bank movement stands against the invoices."""

    UNMATCHED = "unmatched"
    MATCHED = "matched"  # linked to an invoice (invoice_id)
    REVIEW = "review"  # several candidates or another currency: the person decides
    IGNORED = "ignored"  # the person said it pays no invoice


class RunStatus(StrEnum):
    """A sync run's status: pending -> running -> completed | failed."""

    PENDING = "pending"
    RUNNING = "running"
    COMPLETED = "completed"
    FAILED = "failed"
