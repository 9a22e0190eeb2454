"""Minor units of ISO 4217 currencies: to print amounts, and to read a bank file's decimal
amounts without rounding. Currencies not listed have two decimals."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation

from shared.errors import Invalid

_EXPONENTS = {
    **dict.fromkeys(("BIF", "CLP", "DJF", "GNF", "ISK", "JPY", "KMF", "KRW", "PYG", "RWF",
                     "UGX", "UYI", "VND", "VUV", "XAF", "XOF", "XPF"), 0),
    **dict.fromkeys(("BHD", "IQD", "JOD", "KWD", "LYD", "OMR", "TND"), 3),
    "CLF": 4, "UYW": 4,
}


def exponent(currency: str) -> int:
    return _EXPONENTS.get(currency, 2)


def to_minor_units(text: str, currency: str, *, decimal_mark: str = ".", field: str = "amount") -> int:
    """'1,234.50' -> 123450 for CNY. More decimals than the currency has are refused, never
    rounded: a bank amount is exact."""
    cleaned = text.strip().replace(" ", "").replace("\u00a0", "")
    thousands = "," if decimal_mark == "." else "."
    cleaned = cleaned.replace(thousands, "").replace(decimal_mark, ".")
    try:
        value = Decimal(cleaned)
    except InvalidOperation as exc:
        raise Invalid(f"{text!r} is not an amount", field=field) from exc
    scaled = value.scaleb(exponent(currency))
    if not value.is_finite() or scaled != scaled.to_integral_value():
        raise Invalid(f"{text!r} has more decimals than {currency} allows", field=field)
    return int(scaled)


def format_amount(minor: int, currency: str) -> str:
    """123450, CNY -> '1,234.50' (the sign in front)."""
    places = exponent(currency)
    sign = "-" if minor < 0 else ""
    whole, fraction = divmod(abs(minor), 10**places)
    return f"{sign}{whole:,}" + (f".{fraction:0{places}d}" if places else "")
