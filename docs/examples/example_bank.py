"""Example bank: imports transactions from a JSON statement file. Copy it to start a plugin.

The file (amounts are signed: negative means money went out):

    {"account": "2400123456/2010", "token": "demo-token",
     "transactions": [{"id": "T-1", "date": "2024-05-02", "amount": "1210.00", "currency": "CZK",
                       "counterparty": "Acme s.r.o.", "message": "Invoice 2024-0007", "vs": "20240007"}]}
"""

from __future__ import annotations

import json
from datetime import date
from decimal import Decimal, InvalidOperation
from pathlib import Path

from core.plugins.base import Choice, Date, PathField, Plugin, Secret, SyncError


class ExampleBank(Plugin):
    name = "example-bank"  # stable forever: it is the audit source and owns the imported rows
    version = "1.0.0"
    fields = [  # the configuration form and `fakturka plugins configure` are generated from this
        PathField("path", "Statement file", required=True, help="The JSON statement to import."),
        Secret("api_token", "API token", required=True, help="Stored encrypted; must match the file's token."),
        Choice("currency", "Default currency", ["CZK", "EUR"], default="CZK", help="For rows that name no currency."),
        Date("start", "Import from", help="First sync only: skip older rows. Empty: everything."),
    ]

    def sync(self, ctx):
        path = Path(ctx.settings["path"]).expanduser()
        token = ctx.credentials["api_token"]
        # A real bank would be called here. Tokens often sit in URLs; the engine
        # masks every secret, so the stored log reads .../api/***/statement.json.
        ctx.log(f"Downloading https://bank.example/api/{token}/statement.json")
        if not path.is_file():
            # SyncError = something the person can fix: they see this sentence, no traceback.
            raise SyncError(f"The statement file {path} does not exist (check the Statement file setting).")
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, ValueError) as exc:
            raise SyncError(f"{path.name} is not a readable JSON statement ({exc}).") from None
        if data.get("token") != token:
            raise SyncError("The bank refused the API token; re-enter it in the plugin's configuration.")

        # Incremental sync: ctx.state is what the last *successful* run saved. We re-read
        # the last day seen (more may have arrived later that day); the external id
        # keeps those rows from being imported twice.
        since = ctx.state.get("since") or ctx.settings.get("start") or ""
        rows = sorted(
            (r for r in data.get("transactions", []) if r["date"] >= since), key=lambda r: (r["date"], r["id"])
        )
        ctx.log(f"{len(rows)} transactions on or after {since or 'the beginning'}")
        for done, row in enumerate(rows, start=1):
            try:
                amount = Decimal(str(row["amount"]))
                day = date.fromisoformat(row["date"])
            except (KeyError, InvalidOperation, ValueError):
                raise SyncError(f"{path.name}: transaction {row.get('id')} has a bad amount or date.") from None
            if amount == 0:
                ctx.log(f"{row['id']}: zero amount, skipped", "warning")
                continue
            ctx.upsert_transaction(  # collected now, saved at the end in one transaction
                external_id=row["id"],  # the bank's own id: a re-import updates, never duplicates
                transaction_type="income" if amount > 0 else "expense",
                amount=abs(amount),  # always positive: the type says which way the money went
                currency=row.get("currency") or ctx.settings["currency"],
                transacted_on=day,
                counterparty=row.get("counterparty", ""),
                description=row.get("message", ""),
                reference=row.get("vs", ""),  # the variable symbol: payment matching reads it
                raw_data=row,
            )
            ctx.progress(done, len(rows))  # also where a cancel stops the run
        if rows:
            ctx.state["since"] = rows[-1]["date"]  # saved only if the whole run succeeds
        ctx.metadata.update(account=data.get("account", ""), file=path.name)
