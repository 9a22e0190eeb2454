"""The embedded mode keeps the same promises as the broker: events committed before a
crash go out after the restart, and a poisoned event is set aside without stopping
the others."""

from __future__ import annotations

from datetime import date
from pathlib import Path

from sqlalchemy import select

from recoup import services
from services.credit import handlers as credit
from services.ledger import handlers as ledger
from services.ledger.domain.commands import PostInvoice
from services.ledger.tables import LedgerCustomer
from shared.auth import Keyring
from shared.events import contracts as ev
from shared.events import new_event
from shared.messaging.consumer import ServiceConsumer
from shared.messaging.inprocess import InProcessTransport
from shared.runtime import ServiceRuntime
from shared.settings import Settings
from tests.support.api import eventually
from tests.support.embedded import embedded_settings, running_app
from tests.support.seed import register_dealer


async def offline(settings: Settings, name: str) -> ServiceRuntime:
    """A service's runtime with no relay running: what is on disk when the process dies
    after a commit and before its relay published anything."""
    (definition,) = services.load([name])
    runtime = ServiceRuntime(definition, settings, Keyring(), InProcessTransport())
    await runtime.migrate()
    return runtime


async def test_events_committed_before_a_crash_are_delivered_after_restart(tmp_path: Path) -> None:
    settings = embedded_settings(tmp_path)
    # credit registers a customer and "crashes" before publishing: credit starts first on
    # restart, so its relay must not run before the ledger consumes.
    credit_offline = await offline(settings, "credit")
    await register_dealer(credit_offline)
    assert await credit_offline.relay.backlog() == 2  # registered, rating changed: unsent
    await credit_offline.engine.dispose()

    async with running_app(settings) as app:
        runtimes = app.state.runtimes

        async def ledger_knows_customer() -> None:
            async with runtimes["ledger"].sessions() as session:
                assert await session.get(LedgerCustomer, "C1") is not None
        await eventually(ledger_knows_customer)

    # Now the ledger books an invoice and crashes before publishing.
    ledger_offline = await offline(settings, "ledger")
    async with ledger_offline.unit_of_work("test") as uow:
        await ledger.post_invoice(uow, PostInvoice(
            id="I1", customer_id="C1", amount=250_000, currency="CNY", issue_date=date(2026, 1, 1)))
        await uow.commit()
    assert await ledger_offline.relay.backlog() == 2  # invoice posted, balance changed: unsent
    await ledger_offline.engine.dispose()

    async with running_app(settings) as app:
        runtimes = app.state.runtimes

        async def credit_heard_of_it() -> None:
            async with runtimes["credit"].unit_of_work() as uow:
                views = [(v.currency, v.balance) for v in await credit.balances(uow, "C1")]
            assert views == [("CNY", 250_000)]
        await eventually(credit_heard_of_it)

        async def marked_sent() -> None:  # just after delivery, the relay marks the rows
            assert await runtimes["ledger"].relay.backlog() == 0
        await eventually(marked_sent)


async def test_a_poisoned_event_is_dead_lettered_and_the_next_one_handled(tmp_path: Path) -> None:
    settings = embedded_settings(tmp_path)
    async with running_app(settings, ["credit"]) as app:
        runtime = app.state.runtimes["credit"]
        handled: list[str] = []

        async def fragile(uow: object, data: ev.SignalRecorded, event: object) -> None:
            if data.note == "poison":
                raise RuntimeError("cannot handle this one")
            handled.append(data.signal_id)

        consumer = ServiceConsumer("probe", {"credit.signal.recorded": fragile},
                                   runtime.unit_of_work, inbox=runtime.infra.inbox,
                                   dead_letters=runtime.infra.dead_letters)
        transport = InProcessTransport(delivery_limit=2, retry_base_seconds=0)
        await transport.subscribe(consumer)
        poison, good = (new_event("test", ev.SignalRecorded(
            customer_id="C1", signal_id=note, kind="closure", observed_on="2026-01-01",
            note=note, serious=True)) for note in ("poison", "good"))
        await transport.publish(poison)
        await transport.publish(good)

        assert handled == ["good"]
        dead = runtime.infra.dead_letters
        async with runtime.sessions() as session:
            rows = (await session.execute(select(dead.c.consumer, dead.c.event_id, dead.c.error))).all()
        assert [(r.consumer, r.event_id) for r in rows] == [("probe", poison.id)]
        assert "cannot handle this one" in rows[0].error

