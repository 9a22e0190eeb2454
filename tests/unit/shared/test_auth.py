import pytest

from shared.auth import Keyring, KeySpecError


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
