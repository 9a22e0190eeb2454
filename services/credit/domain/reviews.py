"""Dynamic account tracking (DOMAIN.md): every customer is re-rated once a month; the
month's review is the annual review in the configured month, a quarterly inspection at the
start of each other quarter, a monthly assessment otherwise."""

from __future__ import annotations

from datetime import date

from services.credit.domain.detection import month_key

MONTHLY = "monthly_assessment"
QUARTERLY = "quarterly_inspection"
ANNUAL = "annual_review"


def review_for(as_of: date, annual_month: int = 1) -> tuple[str, str]:
    """(period, kind): the review a customer is due in `as_of`'s month; it runs once per
    period, on the first daily run of the month (or any later one)."""
    period = month_key(as_of)
    if as_of.month == annual_month:
        return period, ANNUAL
    if (as_of.month - annual_month) % 3 == 0:
        return period, QUARTERLY
    return period, MONTHLY
