"""Changing an event contract must be a deliberate act: the JSON Schemas of all
contracts are compared with a stored snapshot. After an intended change, regenerate
it with `RECOUP_UPDATE_SNAPSHOTS=1 make test` and review the diff."""

from __future__ import annotations

import json
import os
import re
from pathlib import Path

from shared.events import EVENT_TYPES

SNAPSHOT = Path(__file__).parent / "event_contracts.snapshot.json"
CONTRACT_MD = Path(__file__).parents[4] / "shared" / "handbook" / "CONTRACT.md"

# The event types CONTRACT.md promises integrators (a copy, so the test runs anywhere).
PROMISED = {
    "credit.customer.registered", "credit.terms.changed", "credit.rating.changed",
    "credit.signal.recorded", "credit.hold.placed", "credit.hold.released",
    "ledger.invoice.posted", "ledger.payment.received", "ledger.invoice.settled",
    "ledger.payment.missed", "ledger.balance.changed",
    "collections.case.opened", "collections.case.escalated", "collections.case.closed",
    "collections.promise.broken", "collections.agreement.signed",
    "reconciliation.statement.issued", "reconciliation.statement.confirmed",
    "reconciliation.statement.disputed", "reconciliation.payment.identified",
}


def current_schemas() -> dict[str, object]:
    return {
        name: {"version": cls.event_version, "schema": cls.model_json_schema(by_alias=True)}
        for name, cls in sorted(EVENT_TYPES.items())
    }


def test_every_promised_event_type_has_a_contract() -> None:
    assert set(EVENT_TYPES) >= PROMISED
    if CONTRACT_MD.exists():  # the team handbook, when it sits beside the project
        listed = set(re.findall(r"`((?:credit|ledger|collections|reconciliation)\.[a-z_.]+)`",
                                CONTRACT_MD.read_text().split("## Events", 1)[1]))
        assert listed <= set(EVENT_TYPES)


def test_contracts_match_the_snapshot() -> None:
    schemas = current_schemas()
    if os.environ.get("RECOUP_UPDATE_SNAPSHOTS"):
        SNAPSHOT.write_text(json.dumps(schemas, indent=2, sort_keys=True) + "\n")
    assert SNAPSHOT.exists(), "no snapshot: run with RECOUP_UPDATE_SNAPSHOTS=1, review, commit"
    assert json.loads(SNAPSHOT.read_text()) == json.loads(json.dumps(schemas)), (
        "an event contract changed: if intended, regenerate the snapshot (see module doc)")
