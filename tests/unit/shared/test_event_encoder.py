"""Events written out by EventEncoder (plain data, no model per event: the sweep's way) are
the JSON the contracts' models write, to the byte; data of another shape is refused."""

from __future__ import annotations

import json
import time
import uuid
from datetime import date
from typing import Any

import pytest

from shared.events import CloudEvent, EventData, EventEncoder, new_event
from shared.events import contracts as ev
from shared.events.envelope import uuid7

MISSED = {"customer_id": "K1", "invoice_id": "I-1", "currency": "CNY", "open_amount": 12_345,
          "due_date": date(2026, 1, 31), "as_of": date(2026, 3, 5), "days_past_due": 33,
          "balance_version": 4}
CASES: list[tuple[type[EventData], dict[str, Any]]] = [
    (ev.PaymentMissed, MISSED),
    (ev.InvoiceAged, MISSED | {"threshold_days": 30}),
    (ev.BalanceChanged, {"customer_id": "K1", "version": 4, "as_of": date(2026, 3, 5), "balances": [
        {"currency": "CNY", "balance": 10_000, "overdue": 12_345,
         "oldest_overdue_due_date": date(2026, 1, 31)},
        {"currency": "USD", "balance": 99, "overdue": 0, "oldest_overdue_due_date": None}]}),
]


def validated(source: str, contract: type[EventData], data: dict[str, Any], like: CloudEvent,
              subject: str | None = None) -> str:
    """The envelope the contract's model writes, with `like`'s id and time."""
    event = new_event(source, contract.model_validate(data), subject=subject)
    return event.model_copy(update={"id": like.id, "time": like.time}).to_json()


@pytest.mark.parametrize(("contract", "data"), CASES)
def test_encoded_events_are_the_models_json(contract: type[EventData], data: dict[str, Any]
                                            ) -> None:
    encode = EventEncoder("ledger", contract)
    events = [encode(data), encode(data | {"customer_id": "K\"2\u00e9"})]  # the second unchecked
    for event, subject in zip(events, ("K1", "K\"2\u00e9"), strict=True):
        parsed = CloudEvent.model_validate_json(event.envelope)
        assert (event.id, event.type, parsed.subject) == (parsed.id, contract.event_type, subject)
        assert event.to_json() == validated("ledger", contract, json.loads(event.envelope)["data"],
                                            parsed)
        assert parsed.payload() == contract.model_validate(json.loads(event.envelope)["data"])
    assert events[0].id != events[1].id


def test_a_subject_given_is_written_and_none_is_left_out() -> None:
    data = {"customer_id": None, "version": 1, "as_of": date(2026, 3, 5), "balances": []}

    class Anonymous(EventData):
        event_type = "test.anonymous"
        customer_id: str | None = None
        version: int
        as_of: date
        balances: list[ev.CurrencyBalance]

    encode = EventEncoder("ledger", Anonymous)
    unnamed = encode(data)
    assert "subject" not in json.loads(unnamed.envelope)
    named = encode(data, subject="S")
    assert named.to_json() == validated("ledger", Anonymous, data,
                                        CloudEvent.model_validate_json(named.envelope), "S")


@pytest.mark.parametrize("data", [
    {k: MISSED[k] for k in ("invoice_id", "customer_id", *list(MISSED)[2:])},  # order
    {k: v for k, v in MISSED.items() if k != "days_past_due"},  # a field missing
    MISSED | {"open_amount": "12345"},  # a value the contract would convert
])
def test_data_the_contract_would_write_otherwise_is_refused(data: dict[str, Any]) -> None:
    with pytest.raises(ValueError):
        EventEncoder("ledger", ev.PaymentMissed)(data)


def test_event_ids_are_unique_version_7_uuids_in_time_order() -> None:
    started = time.time_ns() // 1_000_000
    ids = [uuid7() for _ in range(20_000)]
    time.sleep(0.002)
    later = uuid7()
    assert len(set(ids)) == len(ids)
    for text in (ids[0], ids[-1], later):
        parsed = uuid.UUID(text)
        assert str(parsed) == text
        assert (parsed.version, parsed.variant) == (7, uuid.RFC_4122)
        assert started <= parsed.int >> 80 <= time.time_ns() // 1_000_000
    assert max(ids) < later  # a later millisecond sorts after
    encode = EventEncoder("ledger", ev.PaymentMissed)
    assert uuid.UUID(encode(MISSED).id).version == 7
