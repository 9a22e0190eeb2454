"""Written settlement terms, checked for sense when agreed (CONTRACT.md `terms`)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from shared.errors import Invalid

MODES = ("cash", "net_days", "monthly", "deliver_two_settle_one", "one_off")


@dataclass(frozen=True)
class EarlyPaymentDiscount:
    percent: int
    within_days: int


@dataclass(frozen=True)
class Terms:
    mode: str
    days: int | None = None
    day_of_month: int | None = None
    due_date: date | None = None
    early_payment_discount: EarlyPaymentDiscount | None = None


def check_terms(terms: Terms) -> Terms:
    """Refuse vague terms: every mode names what it needs, nothing else."""
    if terms.mode not in MODES:
        raise Invalid(f"terms.mode must be one of {', '.join(MODES)}", field="terms.mode")
    if terms.mode == "net_days" and (terms.days is None or terms.days < 0):
        raise Invalid("net_days terms need days (0 or more)", field="terms.days")
    if terms.mode == "deliver_two_settle_one" and terms.days is not None and terms.days < 0:
        raise Invalid("days cannot be negative", field="terms.days")
    if terms.mode == "monthly" and not (terms.day_of_month and 1 <= terms.day_of_month <= 31):
        raise Invalid("monthly terms need day_of_month between 1 and 31", field="terms.day_of_month")
    if terms.mode == "one_off" and terms.due_date is None:
        raise Invalid("one-off terms need an explicit due_date (never 'pay after sold')",
                      field="terms.due_date")
    discount = terms.early_payment_discount
    if discount and not (0 < discount.percent < 100 and discount.within_days >= 0):
        raise Invalid("the early-payment discount needs 0 < percent < 100 and within_days >= 0",
                      field="terms.early_payment_discount")
    if discount and terms.mode == "net_days" and terms.days is not None and discount.within_days > terms.days:
        # A reward for paying by the agreed date cannot outlast the date itself.
        raise Invalid(f"an early-payment discount within {discount.within_days} days would reward "
                      f"paying after the due date ({terms.days} days)",
                      field="terms.early_payment_discount.within_days")
    return terms
