"""Field types every API uses: money in integer minor units, ISO 4217 codes, ids."""

from __future__ import annotations

from datetime import date
from typing import Annotated

from pydantic import BaseModel, Field, StrictInt

# StrictInt: 10.5 or "10" is refused rather than silently turned into minor units.
MinorUnits = Annotated[StrictInt, Field(gt=0, le=10**15, description="amount in minor units")]
Currency = Annotated[str, Field(pattern=r"^[A-Z]{3}$", description="ISO 4217 code")]
Identifier = Annotated[str, Field(min_length=1, max_length=64, pattern=r"^[^\s/]+$")]
# Business dates stay far from the calendar's ends, so date arithmetic cannot overflow.
BusinessDate = Annotated[date, Field(ge=date(1900, 1, 1), le=date(2999, 12, 31))]
Days = Annotated[int, Field(ge=0, le=3650)]


class MoneyOut(BaseModel):
    amount: int
    currency: str


class MoneyIn(BaseModel):
    amount: MinorUnits
    currency: Currency
