"""Minor units of ISO 4217 currencies, and amounts written for people. Money is integer
minor units everywhere; this only says where the decimal point goes."""

from __future__ import annotations

# Currencies whose minor unit is not 1/100; every other code has two decimals.
_EXPONENTS = {
    **dict.fromkeys(("BIF", "CLP", "DJF", "GNF", "ISK", "JPY", "KMF", "KRW", "PYG", "RWF",
                     "UGX", "UYI", "VND", "VUV", "XAF", "XOF", "XPF"), 0),
    **dict.fromkeys(("BHD", "IQD", "JOD", "KWD", "LYD", "OMR", "TND"), 3),
    "CLF": 4, "UYW": 4,
}


def exponent(currency: str) -> int:
    return _EXPONENTS.get(currency, 2)


def format_amount(minor: int, currency: str) -> str:
    """123450, CNY -> '1,234.50' (the sign in front)."""
    places = exponent(currency)
    sign = "-" if minor < 0 else ""
    whole, fraction = divmod(abs(minor), 10**places)
    return f"{sign}{whole:,}" + (f".{fraction:0{places}d}" if places else "")
