"""Patterns mean what a RabbitMQ topic binding means, so the embedded mode routes like the
broker."""

import pytest

from shared.events.topics import check_pattern, matches


@pytest.mark.parametrize(("pattern", "event_type", "expected"), [
    ("ledger.payment.missed", "ledger.payment.missed", True),
    ("ledger.payment.missed", "ledger.payment.received", False),
    ("#", "ledger.payment.missed", True),
    ("ledger.#", "ledger.payment.missed", True),
    ("ledger.#", "ledger", True),
    ("ledger.#", "credit.hold.placed", False),
    ("#.placed", "credit.hold.placed", True),
    ("#.placed", "placed", True),
    ("credit.#.placed", "credit.placed", True),
    ("credit.#.placed", "credit.hold.placed", True),
    ("credit.#.placed", "credit.hold.placedx", False),
    ("*.hold.*", "credit.hold.placed", True),
    ("*.hold.*", "credit.hold", False),
    ("ledger.*", "ledger.payment.missed", False),
    ("ledger.*.missed", "ledger.payment.missed", True),
])
def test_topic_semantics(pattern: str, event_type: str, expected: bool) -> None:
    assert matches(pattern, event_type) is expected


@pytest.mark.parametrize("pattern", ["", "ledger..missed", "Ledger.x", "ledger.pay ment", "a.b*"])
def test_malformed_patterns_are_refused(pattern: str) -> None:
    with pytest.raises(ValueError):
        check_pattern(pattern)
