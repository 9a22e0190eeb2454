"""Money written for people (reasons, evidence): integer minor units shown in major units
with the currency's ISO 4217 exponent. Formatting only; no arithmetic leaves integers."""

from __future__ import annotations

# ISO 4217 currencies whose minor unit is not 1/100; every other code has two decimals.
_EXPONENTS = {
    **dict.fromkeys(("BIF", "CLP", "DJF", "GNF", "ISK", "JPY", "KMF", "KRW", "PYG", "RWF",
                     "UGX", "VND", "VUV", "XAF", "XOF", "XPF"), 0),
    **dict.fromkeys(("BHD", "IQD", "JOD", "KWD", "LYD", "OMR", "TND"), 3),
}


def show(amount: int, currency: str) -> str:
    """`show(123456, "CNY")` -> "1,234.56 CNY"."""
    exponent = _EXPONENTS.get(currency, 2)
    sign = "-" if amount < 0 else ""
    major, minor = divmod(abs(amount), 10**exponent)
    text = f"{major:,}" + (f".{minor:0{exponent}d}" if exponent else "")
    return f"{sign}{text} {currency}"
