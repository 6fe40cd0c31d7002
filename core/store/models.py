"""The data model. Money columns hold integer minor units next to an ISO 4217 code.

Timestamps are naive UTC datetimes; calendar dates (issued on, booked on) are
dates. Every domain model is an :class:`~core.store.audit.AuditedModel`; the
bookkeeping tables (``sync_histories``, ``audit_records``) are not.
"""

from __future__ import annotations

from peewee import (
    AutoField,
    BlobField,
    BooleanField,
    CharField,
    Check,
    DateField,
    DateTimeField,
    ForeignKeyField,
    IntegerField,
    TextField,
)

from core.store.audit import AuditedModel, AuditRecord
from core.store.base import BaseModel, DecimalTextField, JSONField
from core.store.states import InvoiceStatus, MatchStatus, RunStatus
from core.values.money import MoneyAttribute
from core.values.timeutil import utcnow

__all__ = [
    "AuditRecord",
    "BusinessProfile",
    "Client",
    "Project",
    "WorkEntry",
    "Invoice",
    "InvoiceLine",
    "RecurringRule",
    "MoneyTransaction",
    "PluginConfiguration",
    "SyncHistory",
    "ShareLink",
    "PassphraseEvent",
    "ALL_MODELS",
    "AUDITED_MODELS",
]


class Timestamped(AuditedModel):
    created_at = DateTimeField(default=utcnow)
    updated_at = DateTimeField(default=utcnow)


# -- integrations (the seed tables) ------------------------------------------


class PluginConfiguration(Timestamped):
    id = AutoField()
    plugin_name = CharField(unique=True)
    enabled = BooleanField(default=False)
    credentials = BlobField(null=True)  # AES-256-GCM blob, see core.platform.credentials
    settings = JSONField(default=dict)
    state = JSONField(default=dict)  # incremental-sync cursor, saved only on success
    schedule = JSONField(default=dict)  # core.automation.schedule: {} is off
    secrets_entered = JSONField(default=dict)  # secret key -> ISO day it was last entered (expiry warnings)

    redacted_fields = frozenset({"credentials"})

    class Meta:
        table_name = "plugin_configurations"


class SyncHistory(BaseModel):
    STATUSES = tuple(RunStatus)
    TRIGGERS = ("tui", "cli", "schedule")

    id = AutoField()
    plugin_name = CharField(index=True)
    status = CharField(default=RunStatus.PENDING, index=True)
    started_at = DateTimeField(null=True)
    completed_at = DateTimeField(null=True)
    records_processed = IntegerField(default=0)
    records_created = IntegerField(default=0)
    records_updated = IntegerField(default=0)
    records_skipped = IntegerField(default=0)
    error_message = TextField(null=True)
    error_backtrace = TextField(null=True)
    metadata = JSONField(default=dict)
    log = TextField(default="")
    trigger = CharField(default="cli")
    preview = BooleanField(default=False)  # a dry run: it showed what it would do and wrote nothing
    created_at = DateTimeField(default=utcnow)
    updated_at = DateTimeField(default=utcnow)

    class Meta:
        table_name = "sync_histories"

    @property
    def duration(self):
        """How long the run took (``timedelta``), or ``None`` while it has not finished."""
        if self.started_at is None or self.completed_at is None:
            return None
        return self.completed_at - self.started_at


# -- invoicing domain ----------------------------------------------------------


class BusinessProfile(Timestamped):
    """The person's own business details. A single row (id 1)."""

    id = AutoField()
    name = CharField(default="")
    address = TextField(default="")
    email = CharField(default="")
    phone = CharField(default="")
    ico = CharField(default="")  # company ID (IČO)
    dic = CharField(default="")  # VAT ID (DIČ)
    registry_line = CharField(default="")
    vat_payer = BooleanField(default=False)
    iban = CharField(default="")
    bic = CharField(default="")
    bank_account = CharField(default="")  # Czech domestic: [prefix-]number/bank
    default_currency = CharField(default="CZK")
    default_hourly_rate = IntegerField(default=0)  # minor units of default_currency
    payment_terms_days = IntegerField(default=14)
    invoice_number_pattern = CharField(default="{year}{seq:04}")
    locale = CharField(default="cs")  # default invoice language: en | cs
    default_vat_rate = DecimalTextField(default="21")  # percent, used when vat_payer

    class Meta:
        table_name = "business_profile"


class Client(Timestamped):
    id = AutoField()
    name = CharField()
    email = CharField(default="")
    address = TextField(default="")
    country = CharField(default="CZ")  # ISO 3166 alpha-2; decides reverse charge
    ico = CharField(default="")
    dic = CharField(default="")
    currency = CharField(default="CZK")
    language = CharField(default="cs")  # invoice language: en | cs
    hourly_rate = IntegerField(null=True)  # minor units of currency; None -> profile
    payment_terms_days = IntegerField(null=True)  # None -> profile
    archived = BooleanField(default=False, index=True)

    hourly_rate_value = MoneyAttribute("hourly_rate")

    class Meta:
        table_name = "clients"


class Project(Timestamped):
    id = AutoField()
    client = ForeignKeyField(Client, backref="projects", index=True)
    name = CharField()
    hourly_rate = IntegerField(null=True)  # minor units of the client's currency
    vat_rate = DecimalTextField(null=True)  # percent; None -> profile default
    archived = BooleanField(default=False, index=True)

    class Meta:
        table_name = "projects"
        indexes = ((("client", "name"), True),)


class Invoice(Timestamped):
    STATUSES = tuple(InvoiceStatus)

    id = AutoField()
    number = CharField(unique=True)
    year = IntegerField()
    seq = IntegerField()
    client = ForeignKeyField(Client, backref="invoices", index=True)
    status = CharField(default=InvoiceStatus.DRAFT, index=True)
    currency = CharField()
    language = CharField(default="cs")
    issued_on = DateField(index=True)
    due_on = DateField(index=True)
    taxable_supply_on = DateField(null=True)
    sent_on = DateField(null=True)
    paid_on = DateField(null=True)
    variable_symbol = CharField(default="", index=True)
    vat_payer = BooleanField(default=False)
    reverse_charge = BooleanField(default=False)
    subtotal = IntegerField(default=0)  # minor units, without VAT
    vat_total = IntegerField(default=0)
    total = IntegerField(default=0)
    supplier = JSONField(default=dict)  # the profile as it was when issued
    customer = JSONField(default=dict)  # the client as it was when issued
    note = TextField(default="")

    total_value = MoneyAttribute("total")

    class Meta:
        table_name = "invoices"
        indexes = ((("year", "seq"), True),)


class InvoiceLine(Timestamped):
    id = AutoField()
    invoice = ForeignKeyField(Invoice, backref="lines", index=True)
    position = IntegerField(default=0)
    description = TextField()
    quantity = DecimalTextField(default="1")
    unit = CharField(default="h")
    unit_price = IntegerField()  # minor units of the invoice currency
    vat_rate = DecimalTextField(default="0")  # percent
    amount = IntegerField()  # quantity * unit_price, rounded; without VAT
    project = ForeignKeyField(Project, null=True, backref="invoice_lines")

    class Meta:
        table_name = "invoice_lines"


class WorkEntry(Timestamped):
    KINDS = ("time", "fixed")

    id = AutoField()
    project = ForeignKeyField(Project, backref="entries", index=True)
    date = DateField(index=True)
    kind = CharField(default="time")
    minutes = IntegerField(null=True)  # None while a timer runs
    started_at = DateTimeField(null=True)  # timer start (UTC)
    ended_at = DateTimeField(null=True)
    description = TextField(default="")
    billable = BooleanField(default=True)
    fixed_amount = IntegerField(null=True)  # minor units, for kind == "fixed"
    hourly_rate = IntegerField(null=True)  # the entry's own rate, overriding project/client
    billed_rate = IntegerField(null=True)  # the rate it was invoiced at, frozen
    invoice_line = ForeignKeyField(InvoiceLine, null=True, backref="entries", index=True)
    source = CharField(default="manual")
    external_id = CharField(null=True)

    class Meta:
        table_name = "work_entries"
        indexes = ((("source", "external_id"), True),)


class RecurringRule(Timestamped):
    """A rule that creates a record per occurrence (core.automation.rules)."""

    id = AutoField()  # AUTOINCREMENT in the schema: never reused, the rule's records carry it
    name = CharField()
    creates = CharField()  # work | income | expense
    project = ForeignKeyField(Project, backref="recurring_rules", index=True, null=True)  # for work
    amount = IntegerField()  # minor units, 0 or more (0: occurrences are skipped)
    currency = CharField()
    counterparty = TextField(default="")
    description = TextField(default="")
    cadence = CharField()  # weekly | monthly | yearly
    day = IntegerField()  # weekly: 0 (Monday) to 6; monthly and yearly: day of the month
    month = IntegerField(null=True)  # yearly only
    start_on = DateField()
    end_on = DateField(null=True)
    enabled = BooleanField(default=True)
    invoice = CharField(default="")  # "", "draft" or "sent": a work rule can issue the period's invoice
    next_on = DateField(null=True)  # the first occurrence not handled yet
    last_on = DateField(null=True)  # the last occurrence handled (created or skipped)

    class Meta:
        table_name = "recurring_rules"


class MoneyTransaction(Timestamped):
    TYPES = ("income", "expense")

    id = AutoField()
    external_id = CharField(null=True)
    source = CharField()
    transaction_type = CharField()
    amount = IntegerField(constraints=[Check("amount > 0")])  # minor units, always positive
    currency = CharField(default="EUR")
    description = TextField(default="")
    transacted_on = DateField(index=True)
    counterparty = CharField(default="")
    counterparty_account = CharField(default="")
    reference = CharField(default="")  # variable symbol / payment reference
    # Indexed only where set (migration 5): most movements pay no invoice.
    invoice = ForeignKeyField(Invoice, null=True, backref="payments", index=False)
    raw_data = JSONField(default=dict)
    # Only review/ignored rows are indexed (migration 5).
    match_status = CharField(default=MatchStatus.UNMATCHED)
    match_note = JSONField(default=dict)  # how it was matched, or the candidates to review

    MATCH_STATUSES = tuple(MatchStatus)
    amount_value = MoneyAttribute("amount")

    class Meta:
        table_name = "money_transactions"
        # SQLite treats NULLs as distinct: unique only when external_id is set.
        indexes = ((("source", "external_id"), True),)


class ShareLink(Timestamped):
    """A link that opens one invoice, or a client's non-draft invoices, in the portal (core.sharing.links).

    Only the SHA-256 of its random token is stored (never in an audit record: redacted); ids are never
    reused (AUTOINCREMENT), and a view is counted beside the database by the link's id alone.
    """

    KINDS = ("invoice", "client")

    id = AutoField()  # AUTOINCREMENT in the schema
    kind = CharField()  # invoice | client
    # Exactly one of these is set, by kind (a CHECK in the schema); indexed where set (migration 10).
    invoice = ForeignKeyField(Invoice, null=True, backref="share_links", index=False)
    client = ForeignKeyField(Client, null=True, backref="share_links", index=False)
    token_hash = CharField(unique=True)  # sha256 hex of the token
    expires_at = DateTimeField()
    revoked_at = DateTimeField(null=True)

    redacted_fields = frozenset({"token_hash"})

    class Meta:
        table_name = "share_links"


class PassphraseEvent(Timestamped):
    """A passphrase set, changed or removed (core.store.rekey): when and which, never the passphrase.

    Written into the re-encrypted copy before it replaces the database, so a re-key and its record
    land together or not at all."""

    ACTIONS = ("set", "changed", "removed")

    id = AutoField()
    action = CharField()  # set | changed | removed

    class Meta:
        table_name = "passphrase_events"


AUDITED_MODELS = [
    BusinessProfile,
    Client,
    Project,
    Invoice,
    InvoiceLine,
    WorkEntry,
    RecurringRule,
    MoneyTransaction,
    PluginConfiguration,
    ShareLink,
    PassphraseEvent,
]
ALL_MODELS = AUDITED_MODELS + [SyncHistory, AuditRecord]


def database_is_empty() -> bool:
    """Nothing a person entered yet (no profile, client, work, invoice or movement): a first start."""
    return not any(model.select().exists() for model in (BusinessProfile, Client, WorkEntry, Invoice, MoneyTransaction))
