"""Invoice arithmetic, in one place: line amounts, the per-rate VAT summary, totals.

All amounts are integer minor units; quantities and rates are Decimals.
Rounding is half-up, once per line (quantity x unit price) and once per VAT
rate (the tax of each rate's base), which is how Czech VAT summaries are
computed (tax per rate, not per line).

Time is worth what the invoice bills for it (the one rounding rule, used by
the Time screen, the dashboard, the preview and the invoice): each entry's
minutes become hours to two decimals (``hours_quantity``), and its amount is
those hours x the hourly rate, rounded half-up (``time_amount``). An invoice
line's quantity is the sum of its entries' hours, so it bills exactly the
sum of what they are worth whenever the rate is in whole units (with a rate
such as 1,234.56/h a project line rounds once, its entries each: see
docs/user-guide.md).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from typing import Iterable


def round_half_up(value: Decimal) -> int:
    return int(value.quantize(Decimal(1), rounding=ROUND_HALF_UP))


def line_amount(quantity: Decimal, unit_price_minor: int) -> int:
    """quantity x unit price, rounded half-up to a whole minor unit."""
    return round_half_up(Decimal(quantity) * Decimal(unit_price_minor))


HOURS_QUANTUM = Decimal("0.01")


def hours_quantity(minutes: int) -> Decimal:
    """Minutes as the hours an invoice prints: two decimals, half-up (never a tie: 100 x m / 60 is
    never an odd number of halves)."""
    return (Decimal(minutes) / Decimal(60)).quantize(HOURS_QUANTUM, rounding=ROUND_HALF_UP)


def time_amount(minutes: int, rate_minor: int) -> int:
    """What ``minutes`` at an hourly rate are worth: ``line_amount`` of ``hours_quantity``."""
    return line_amount(hours_quantity(minutes), rate_minor)


def time_amount_sql(minutes, rate):
    """``time_amount`` over SQL integer expressions (SQLite's integer division truncates, and both
    are never negative): hundredths of an hour (100 x m + 30) / 60, then (hundredths x rate + 50) / 100.
    """
    return (((minutes * 100 + 30) / 60) * rate + 50) / 100


@dataclass(frozen=True)
class RateSummary:
    rate: Decimal  # percent, e.g. Decimal("21")
    base: int  # minor units
    vat: int  # minor units


@dataclass(frozen=True)
class Totals:
    subtotal: int
    vat_total: int
    total: int
    per_rate: list[RateSummary] = field(default_factory=list)


def compute_totals(lines: Iterable[tuple[int, Decimal]], *, vat_payer: bool, reverse_charge: bool) -> Totals:
    """Totals from ``(amount_minor, vat_rate_percent)`` pairs.

    A non-payer, or a reverse-charge invoice, charges no VAT: the summary
    still lists the bases per rate (at 0 VAT) so the document can show them.
    """
    bases: dict[Decimal, int] = {}
    for amount, rate in lines:
        rate = Decimal(rate).normalize() if vat_payer and not reverse_charge else Decimal(0)
        bases[rate] = bases.get(rate, 0) + int(amount)
    per_rate = [
        RateSummary(rate=rate, base=base, vat=round_half_up(Decimal(base) * rate / Decimal(100)))
        for rate, base in sorted(bases.items(), key=lambda item: item[0], reverse=True)
    ]
    subtotal = sum(r.base for r in per_rate)
    vat_total = sum(r.vat for r in per_rate)
    return Totals(subtotal=subtotal, vat_total=vat_total, total=subtotal + vat_total, per_rate=per_rate)
