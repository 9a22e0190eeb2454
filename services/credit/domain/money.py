"""Money written for people (reasons, evidence): formatting only; no arithmetic leaves
integers."""

from __future__ import annotations

from shared.money import format_amount


def show(amount: int, currency: str) -> str:
    """`show(123456, "CNY")` -> "1,234.56 CNY"."""
    return f"{format_amount(amount, currency)} {currency}"
