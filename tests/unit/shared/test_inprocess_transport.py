import uuid

from shared.events import CloudEvent, new_event
from shared.events import contracts as ev
from shared.messaging.inprocess import InProcessTransport


def event(n: int) -> CloudEvent:
    return new_event("test", ev.CaseOpened(customer_id="C1", case_id=str(n), opened_on="2026-01-01"))


class Subscriber:
    event_types = ("collections.case.opened",)

    def __init__(self, service: str, broken_case: str | None = None) -> None:
        self.service = service
        self.seen: list[str] = []
        self.dead: list[str] = []
        self._broken = broken_case

    async def handle(self, e: CloudEvent) -> None:
        if e.data["case_id"] == self._broken:
            raise RuntimeError("handler bug")
        self.seen.append(e.data["case_id"])

    async def dead_letter(self, e: CloudEvent, error: str) -> None:
        if self.service == "fragile":
            raise ConnectionError("database gone")
        self.dead.append(e.data["case_id"])


async def test_each_subscriber_takes_the_batch_in_order_and_poison_is_set_aside() -> None:
    transport = InProcessTransport(delivery_limit=1, retry_base_seconds=0)
    steady, picky = Subscriber("steady"), Subscriber("picky", broken_case="1")
    await transport.subscribe(steady)
    await transport.subscribe(picky)
    assert await transport.publish_batch([event(n) for n in range(3)]) == [None, None, None]
    assert steady.seen == ["0", "1", "2"]
    assert (picky.seen, picky.dead) == (["0", "2"], ["1"])


async def test_an_event_nobody_could_take_is_retried_with_everything_after_it() -> None:
    transport = InProcessTransport(delivery_limit=0, retry_base_seconds=0)
    await transport.subscribe(Subscriber("steady"))
    await transport.subscribe(Subscriber("fragile", broken_case="1"))
    outcome = await transport.publish_batch([event(n) for n in range(3)])
    assert outcome[0] is None
    assert all(isinstance(o, ConnectionError) for o in outcome[1:])


async def test_events_nobody_subscribes_to_are_handed_over() -> None:
    transport = InProcessTransport()
    other = new_event("test", ev.StatementConfirmed(customer_id="C", statement_id=str(uuid.uuid4()),
                                                    confirmed_by="x"))
    assert await transport.publish_batch([other]) == [None]
