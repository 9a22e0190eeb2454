"""Reading a bank file's decimal amounts into minor units without rounding (the currencies'
decimals: shared.money)."""

from __future__ import annotations

import re

from shared.errors import Invalid
from shared.money import exponent

# As MinorUnits in shared/schemas.py: what the ledger takes and the database holds.
MAX_MINOR_UNITS = 10**15
_AMOUNT = re.compile(r"(?P<sign>[+-]?)\s*(?P<digits>[0-9][0-9.,' \u00a0\u202f]*)")
_GROUP_MARKS = re.compile(r"[' \u00a0\u202f]")
# Plain digits, or groups: 1,234,567 and the Indian 12,34,567 (the last group of three).
_WHOLE = re.compile(r"[0-9]+|[0-9]{1,3}(?:_[0-9]{2,3})*_[0-9]{3}")


def is_currency_code(code: str) -> bool:
    """Three capital letters, as ISO 4217 writes them."""
    return len(code) == 3 and code.isascii() and code.isalpha() and code.isupper()


def to_minor_units(text: str, currency: str, *, decimal_mark: str = ".", field: str = "amount") -> int:
    """'1,234.50' -> 123450 for CNY. More decimals than the currency has are refused, never
    rounded: a bank amount is exact. Digit groups are checked (the last of three digits):
    a decimal comma read as a thousands separator would turn 1,5 into fifteen."""
    thousands = "," if decimal_mark == "." else "."
    match = _AMOUNT.fullmatch(text.strip())
    whole, fraction = "", ""
    if match:
        whole, _, fraction = match["digits"].replace(thousands, "_").partition(decimal_mark)
        whole = _GROUP_MARKS.sub("_", whole)
    if not match or not _WHOLE.fullmatch(whole) or not fraction.isascii() or not (
            fraction == "" or fraction.isdigit()):
        raise Invalid(f"{text!r} is not an amount (decimal mark {decimal_mark!r})", field=field)
    places = exponent(currency)
    if len(fraction.rstrip("0")) > places:
        raise Invalid(f"{text!r} has more decimals than {currency} allows", field=field)
    minor = int(whole.replace("_", "") + fraction.ljust(places, "0")[:places])
    if minor > MAX_MINOR_UNITS:
        raise Invalid(f"{text!r} is larger than any amount taken", field=field)
    return -minor if match["sign"] == "-" else minor
