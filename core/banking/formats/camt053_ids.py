"""The external id of one camt.053 entry (the rule is in camt053_entry's docstring, "External ids")."""

from __future__ import annotations

from typing import TYPE_CHECKING

from core.banking.formats.movement import content_hash
from core.banking.formats.xml_paths import canonical_lines
from core.values.messages import Message

if TYPE_CHECKING:  # the reader's types; it imports this module
    from core.banking.formats.camt053_entry import File, Where


def entry_external_id(file: File, entry, where: Where) -> str:
    """``<account>:<AcctSvcrRef>``, ``:ntry:<NtryRef>``, ``:tx:<TxDtls ref>`` or ``:sha256:<hash>``; unique."""
    x = file.x
    details = [tx for group in x.findall(entry, "NtryDtls") for tx in x.findall(group, "TxDtls")]
    servicer_ref = x.text(entry, "AcctSvcrRef")
    entry_ref = x.text(entry, "NtryRef")
    tx_ref = x.text(details[0], "Refs/AcctSvcrRef") if len(details) == 1 else ""
    prefix = where.account or "camt"
    if servicer_ref:
        base = f"{prefix}:{servicer_ref}"
    elif entry_ref:
        base = f"{prefix}:ntry:{entry_ref}"
    elif tx_ref:
        base = f"{prefix}:tx:{tx_ref}"
    else:
        base = f"{prefix}:sha256:{content_hash(prefix, *canonical_lines(entry))}"
    external_id, repeated = file.ids(base)
    if repeated:
        file.result.warnings.append(
            Message(
                "{where}: the reference {reference} appears more than once in this file; imported again as "
                "{external_id}.",
                where=where.text,
                reference=base,
                external_id=external_id,
            )
        )
    return external_id
