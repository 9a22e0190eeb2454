from services.credit.domain.money import show
from shared.money import format_amount


def test_amounts_are_written_with_their_currencys_decimals() -> None:
    assert format_amount(123450, "CNY") == "1,234.50"
    assert format_amount(-5, "JPY") == "-5"
    assert format_amount(1234567, "KWD") == "1,234.567"
    assert show(12345, "CLF") == "1.2345 CLF"  # credit's reasons use the same table
