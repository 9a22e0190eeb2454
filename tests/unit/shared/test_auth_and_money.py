import pytest

from shared.auth import Keyring, KeySpecError
from shared.money import CurrencyMismatch, Money


def test_keys_carry_their_scopes_and_admin_implies_all() -> None:
    ring = Keyring.parse("s3cret=ledger:read;boss=admin")
    reader = ring.authenticate("s3cret")
    assert reader is not None and reader.allows("ledger:read") and not reader.allows("ledger:write")
    assert ring.authenticate("boss").allows("credit:write")
    assert ring.authenticate("guess") is None
    assert "s3cret" not in reader.name


@pytest.mark.parametrize("spec", ["justasecret", "k=ledger:fly", "=admin", "k="])
def test_malformed_key_specs_are_refused(spec: str) -> None:
    with pytest.raises(KeySpecError):
        Keyring.parse(spec)


def test_money_never_mixes_currencies_or_floats() -> None:
    assert Money(150, "CNY") + Money(50, "CNY") == Money(200, "CNY")
    with pytest.raises(CurrencyMismatch):
        Money(1, "CNY") + Money(1, "USD")
    with pytest.raises(TypeError):
        Money(1.5, "CNY")  # type: ignore[arg-type]
    assert Money(999, "CNY").percent(10) == Money(99, "CNY")
