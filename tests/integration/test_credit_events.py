"""Credit driven by the news of the other services, through its own consumer: the
per-invoice view of what is overdue, agreements that shield invoices, reservations that
end exactly when the invoice is in the balance, overrides, promises, collection steps."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import date, timedelta
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from services.credit import handlers
from services.credit.domain.check import OrderLine
from services.credit.domain.commands import CheckCredit, PlaceHold, ReleaseHold, UpdateCustomer
from services.credit.domain.terms import Terms
from services.credit.tables import Reservation, Signal
from shared.events import contracts as ev
from tests.support.credit_feed import Feed, LedgerNews
from tests.support.embedded import embedded_settings, running_app
from tests.support.seed import register_dealer

LIMIT = 1_000_000


@pytest.fixture
async def feed(tmp_path: Path) -> AsyncIterator[Feed]:
    async with running_app(embedded_settings(tmp_path), ["credit"]) as app:
        runtime = app.state.runtimes["credit"]
        await register_dealer(runtime, limit=LIMIT)
        yield Feed(runtime)


async def check(feed: Feed, amount: int, order_id: str | None = None) -> Any:
    async with feed.runtime.unit_of_work("erp") as uow:
        result = await handlers.check_credit(uow, CheckCredit(
            "C1", amount, "CNY", date(2026, 1, 1), order_id=order_id))
        await uow.commit()
    return result


async def holds(feed: Feed) -> dict[str, Any]:
    async with feed.runtime.unit_of_work(read_only=True) as uow:
        return {h.kind: SimpleNamespace(**h.model_dump()) for h in await handlers.active_holds(uow, "C1")}


async def customer(feed: Feed) -> Any:
    async with feed.runtime.unit_of_work(read_only=True) as uow:
        return SimpleNamespace(**(await handlers.get_customer(uow, "C1")).model_dump())


async def test_an_order_is_counted_once_from_approval_to_invoice(feed: Feed) -> None:
    ledger = LedgerNews(feed, "C1")
    first = await check(feed, 600_000, order_id="SO-1")
    assert first.decision.decision == "approve" and first.reservation["amount"] == 600_000
    second = await check(feed, 600_000, order_id="SO-2")
    assert (second.decision.decision, second.decision.max_amount) == ("reduce", 400_000)

    # The invoice for SO-1 is booked; the position that includes it has not arrived yet.
    position = await ledger.invoice("INV-1", 600_000, date(2026, 1, 2), order_id="SO-1",
                                    send="invoice")
    assert (await check(feed, 1)).reserved == 1_000_000  # still reserved, not yet a receivable
    await feed.send(position)
    after = await check(feed, 1)
    assert (after.receivables, after.reserved) == (600_000, 400_000)  # never twice, never neither


async def test_a_position_that_overtakes_the_invoice_news_never_drops_the_order(feed: Feed) -> None:
    await check(feed, 600_000, order_id="SO-1")
    posted = await LedgerNews(feed, "C1").invoice("INV-1", 600_000, date(2026, 1, 2),
                                                  order_id="SO-1", send="position")
    # Counted twice for a moment, on the safe side, until the invoice news arrives.
    assert ((a := await check(feed, 1)).receivables, a.reserved) == (600_000, 600_000)
    await feed.send(posted)
    assert ((a := await check(feed, 1)).receivables, a.reserved) == (600_000, 0)


async def test_an_order_delivered_in_parts_is_reserved_until_every_part_is_invoiced(feed: Feed) -> None:
    ledger = LedgerNews(feed, "C1")
    assert (await check(feed, 600_000, order_id="SO-1")).reservation["amount"] == 600_000
    position = await ledger.invoice("INV-1", 250_000, date(2026, 1, 2), order_id="SO-1",
                                    send="invoice")
    assert ((a := await check(feed, 1)).receivables, a.reserved) == (0, 600_000)
    await feed.send(position)  # the first part is a receivable now, the rest still reserved
    assert ((a := await check(feed, 1)).receivables, a.reserved) == (250_000, 350_000)
    await ledger.invoice("INV-2", 350_000, date(2026, 1, 9), order_id="SO-1")
    assert ((a := await check(feed, 1)).receivables, a.reserved) == (600_000, 0)
    async with feed.runtime.unit_of_work(read_only=True) as uow:
        reservation = await uow.session.get(Reservation, "SO-1")
        assert reservation.status == "invoiced"
        assert [(i["invoice_id"], i["amount"]) for i in reservation.invoices] == [
            ("INV-1", 250_000), ("INV-2", 350_000)]


async def test_a_kept_agreement_shields_its_invoices_and_a_broken_one_brings_the_holds_back(
        feed: Feed) -> None:
    ledger = LedgerNews(feed, "C1")
    await ledger.invoice("INV-1", 300_000, date(2026, 1, 1))
    await ledger.sweep(date(2026, 3, 8))  # 36 days past due
    assert set(await holds(feed)) == {"cash_only", "suspend_incentives", "reduced_batches",
                                      "withhold_key_products"}
    await feed.send(ev.AgreementSigned(customer_id="C1", agreement_id="AG-1", invoice_ids=["INV-1"],
                                       currency="CNY", total=300_000, signed_on=date(2026, 3, 9)))
    assert await holds(feed) == {}
    assert (await check(feed, 100_000)).decision.decision == "approve"  # new business on its terms

    await feed.send(ev.AgreementBroken(customer_id="C1", agreement_id="AG-1", invoice_ids=["INV-1"],
                                       currency="CNY", missed_due_date=date(2026, 4, 1),
                                       missed_amount=100_000, as_of=date(2026, 4, 2)))
    assert "cash_only" in await holds(feed)
    # A late copy of the signing changes nothing: the agreement is over.
    await feed.send(ev.AgreementSigned(customer_id="C1", agreement_id="AG-1", invoice_ids=["INV-1"],
                                       currency="CNY", total=300_000, signed_on=date(2026, 3, 9)))
    assert "cash_only" in await holds(feed)


async def test_an_agreement_shields_only_its_own_invoices(feed: Feed) -> None:
    ledger = LedgerNews(feed, "C1")
    await ledger.invoice("INV-1", 300_000, date(2026, 1, 1))
    await ledger.invoice("INV-2", 100_000, date(2026, 1, 20))
    await ledger.sweep(date(2026, 3, 8))  # INV-1 36 days, INV-2 17 days past due
    await feed.send(ev.AgreementSigned(customer_id="C1", agreement_id="AG-1", invoice_ids=["INV-1"],
                                       currency="CNY", total=300_000))
    assert set(await holds(feed)) == {"cash_only", "suspend_incentives"}  # INV-2's 17 days


async def test_a_settlement_heard_after_the_position_lifts_what_its_invoice_called_for(
        feed: Feed) -> None:
    ledger = LedgerNews(feed, "C1")
    await ledger.invoice("INV-1", 300_000, date(2026, 1, 1))  # due 31 January
    await ledger.invoice("INV-2", 100_000, date(2026, 2, 20))  # due 22 March
    await ledger.sweep(date(2026, 4, 7))  # INV-1 66 days, INV-2 16 days past due
    assert "stop_shipments" in await holds(feed)
    # INV-1 is paid; the position (INV-2 still overdue) overtakes the settlement.
    ledger.invoices["INV-1"].open = 0
    await feed.send(ev.PaymentReceived(
        customer_id="C1", payment_id="PAY-1", amount=300_000, currency="CNY",
        received_on=date(2026, 4, 8), allocations=[ev.Allocation(invoice_id="INV-1", amount=300_000)],
        unapplied=0))
    await feed.send(ledger._position(date(2026, 4, 8)))
    await feed.send(ev.InvoiceSettled(customer_id="C1", invoice_id="INV-1", currency="CNY",
                                      settled_on=date(2026, 4, 8)))
    assert set(await holds(feed)) == {"cash_only", "suspend_incentives"}  # INV-2's 16 days


async def test_a_released_automatic_hold_is_an_override_until_the_default_worsens(feed: Feed) -> None:
    ledger = LedgerNews(feed, "C1")
    await ledger.invoice("INV-1", 300_000, date(2026, 1, 1))
    await ledger.sweep(date(2026, 2, 20))  # 20 days
    cash_only = (await holds(feed))["cash_only"]
    async with feed.runtime.unit_of_work("li.na") as uow:
        released = await handlers.release_hold(uow, ReleaseHold(cash_only.id, "pays on Friday"))
        await uow.commit()
    assert released.override and released.released_by == "li.na"
    assert (await feed.emitted("credit.hold.released"))[-1]["override"] is True

    await ledger.pay("PAY-1", 1_000, date(2026, 2, 21))  # news about the same default
    assert "cash_only" not in await holds(feed)
    await ledger.sweep(date(2026, 3, 5))  # 33 days: the default worsened
    assert {"cash_only", "reduced_batches"} <= set(await holds(feed))


async def test_an_override_lapses_when_the_default_clears(feed: Feed) -> None:
    ledger = LedgerNews(feed, "C1")
    await ledger.invoice("INV-1", 300_000, date(2026, 1, 1))
    await ledger.sweep(date(2026, 2, 20))
    async with feed.runtime.unit_of_work("li.na") as uow:
        await handlers.release_hold(uow, ReleaseHold((await holds(feed))["cash_only"].id, "ok"))
        await uow.commit()
    await ledger.pay("PAY-1", 300_000, date(2026, 2, 22))
    assert await holds(feed) == {}
    await ledger.invoice("INV-2", 100_000, date(2026, 3, 1))
    await ledger.sweep(date(2026, 4, 20))  # a new default, 20 days
    assert "cash_only" in await holds(feed)


async def test_holds_of_one_kind_from_two_causes_each_count_until_their_own_cause_ends(
        feed: Feed) -> None:
    ledger = LedgerNews(feed, "C1")
    await ledger.invoice("INV-1", 300_000, date(2026, 1, 1))
    await ledger.sweep(date(2026, 2, 20))  # 20 days: the ladder suspends every incentive
    async with feed.runtime.unit_of_work("li.na") as uow:  # and a person, year-end rebates
        await handlers.place_hold(uow, PlaceHold("C1", "suspend_incentives", "rebate dispute",
                                                 ("year_end_rebates",)))
        await uow.commit()
    lines = (OrderLine(50_000, incentive="promotions"), OrderLine(50_000, incentive="year_end_rebates"))
    async with feed.runtime.unit_of_work("erp") as uow:
        result = await handlers.check_credit(uow, CheckCredit("C1", 100_000, "CNY", date(2026, 2, 20),
                                                              lines=lines))
    assert sorted(result.decision.incentives_suspended) == sorted(
        ["promotions", "samples", "year_end_rebates", "bonuses"])
    await ledger.pay("PAY-1", 300_000, date(2026, 2, 21))  # the ladder's cause ends
    async with feed.runtime.unit_of_work("erp") as uow:
        result = await handlers.check_credit(uow, CheckCredit("C1", 100_000, "CNY", date(2026, 2, 21),
                                                              lines=lines))
    assert result.decision.incentives_suspended == ["year_end_rebates"]  # the person's stays


async def test_new_terms_bring_the_holds_in_line_at_once(feed: Feed) -> None:
    ledger = LedgerNews(feed, "C1")
    await ledger.invoice("INV-1", 100_000, date(2026, 1, 1))
    await ledger.sweep(date(2026, 2, 5))  # 5 days past due: net 30 asks for nothing yet

    async def terms(new: Terms) -> None:
        async with feed.runtime.unit_of_work("li.na") as uow:
            await handlers.update_customer(uow, UpdateCustomer("C1", {}, new))
            await uow.commit()

    await terms(Terms("deliver_two_settle_one"))
    assert set(await holds(feed)) == {"stop_shipments"}
    await terms(Terms("net_days", days=30))  # relaxed: the check must not block any more
    assert await holds(feed) == {}
    assert (await check(feed, 10_000)).decision.decision == "approve"


async def test_cash_only_from_the_ladder_and_from_collection_each_stay_for_their_own_cause(
        feed: Feed) -> None:
    ledger = LedgerNews(feed, "C1")
    await ledger.invoice("INV-1", 300_000, date(2026, 1, 1))
    await ledger.sweep(date(2026, 2, 20))  # 20 days: the ladder's cash only
    await feed.send(_visit())  # and the collection step's
    async with feed.runtime.unit_of_work(read_only=True) as uow:
        causes = sorted(h.cause for h in await handlers.active_holds(uow, "C1") if h.kind == "cash_only")
    assert causes == ["collection", "overdue"]
    await ledger.pay("PAY-1", 300_000, date(2026, 2, 21))  # the ladder's cause ends
    assert (await holds(feed))["cash_only"].cause == "collection"
    assert (await check(feed, 10_000)).decision.decision == "block"  # the step's stop too


async def test_a_broken_promise_escalates_at_once(feed: Feed) -> None:
    ledger = LedgerNews(feed, "C1")
    await ledger.invoice("INV-1", 300_000, date(2026, 1, 1))
    await ledger.sweep(date(2026, 2, 5))  # 5 days: no hold yet
    assert await holds(feed) == {}
    await feed.send(ev.PromiseBroken(customer_id="C1", case_id="K1", promise_id="PR-1",
                                     amount=300_000, currency="CNY", promised_on=date(2026, 2, 4),
                                     as_of=date(2026, 2, 5), paid=0))
    assert set(await holds(feed)) == {"cash_only", "suspend_incentives"}
    assert "a promise to pay was broken" in (await holds(feed))["cash_only"].reason
    await ledger.pay("PAY-1", 300_000, date(2026, 2, 6))
    assert await holds(feed) == {}


async def test_a_kept_promise_whose_payment_bounced_breaks_and_escalates(feed: Feed) -> None:
    ledger = LedgerNews(feed, "C1")
    await ledger.invoice("INV-1", 300_000, date(2026, 1, 1))
    await ledger.sweep(date(2026, 2, 5))
    promise = dict(customer_id="C1", case_id="K1", promise_id="PR-1", amount=300_000,
                   currency="CNY", promised_on=date(2026, 2, 10))
    await feed.send(ev.PromiseKept(**promise, kept_on=date(2026, 2, 8)))
    assert await holds(feed) == {}
    # The cheque that kept it bounced after the promised day: collection-plan breaks it.
    broken = ev.PromiseBroken(**promise, as_of=date(2026, 2, 12), paid=0)
    await feed.send(broken)
    assert "a promise to pay was broken" in (await holds(feed))["cash_only"].reason
    # A late copy of the keeping does not mend it.
    await feed.send(ev.PromiseKept(**promise, kept_on=date(2026, 2, 8)))
    assert "cash_only" in await holds(feed)


async def test_the_holds_a_collection_step_asks_for_stay_until_the_case_closes(feed: Feed) -> None:
    ledger = LedgerNews(feed, "C1")
    await ledger.invoice("INV-1", 300_000, date(2026, 1, 1))
    await ledger.sweep(date(2026, 2, 5))
    await feed.send(ev.CaseEscalated(customer_id="C1", case_id="K1", level=3, previous_level=2,
                                     receivable_class="dunning", step="supply pressure",
                                     days_past_due=5, as_of=date(2026, 2, 5),
                                     requested_holds=["reduced_batches", "withhold_key_products"]))
    placed = await holds(feed)
    assert set(placed) == {"reduced_batches", "withhold_key_products"}
    assert placed["reduced_batches"].cause == "collection"
    await ledger.pay("PAY-1", 300_000, date(2026, 2, 6))
    assert set(await holds(feed)) == {"reduced_batches", "withhold_key_products"}  # not theirs to lift
    await feed.send(ev.CaseClosed(customer_id="C1", case_id="K1", closed_on=date(2026, 2, 6),
                                  reason="paid"))
    assert await holds(feed) == {}


def _visit(level: int = 2, as_of: date = date(2026, 2, 20)) -> ev.CaseEscalated:
    return ev.CaseEscalated(customer_id="C1", case_id="K1", level=level, previous_level=level - 1,
                            receivable_class="dunning", step="visit", days_past_due=20,
                            as_of=as_of, requested_holds=["stop_shipments", "cash_only"])


def _agreement(kind: type, invoice_ids: list[str], **extra: Any) -> Any:
    common = dict(customer_id="C1", agreement_id="AG-1", invoice_ids=invoice_ids)
    if kind is ev.AgreementSigned:
        return ev.AgreementSigned(**common, currency="CNY", total=300_000,
                                  signed_on=date(2026, 2, 21), **extra)
    if kind is ev.AgreementBroken:
        return ev.AgreementBroken(**common, currency="CNY", missed_due_date=date(2026, 3, 1),
                                  missed_amount=150_000, as_of=date(2026, 3, 2))
    return ev.AgreementCompleted(**common, completed_on=date(2026, 3, 20))


async def test_a_kept_agreement_over_everything_overdue_lifts_the_collection_holds_until_it_breaks(
        feed: Feed) -> None:
    ledger = LedgerNews(feed, "C1")
    await ledger.invoice("INV-1", 300_000, date(2026, 1, 1))
    await ledger.sweep(date(2026, 2, 5))  # 5 days: the ladder asks nothing yet
    await feed.send(_visit())
    placed = await holds(feed)
    assert {k: h.cause for k, h in placed.items()} == {"stop_shipments": "collection",
                                                      "cash_only": "collection"}
    await feed.send(_agreement(ev.AgreementSigned, ["INV-1"]))
    assert await holds(feed) == {}
    assert (await check(feed, 100_000)).decision.decision == "approve"
    released = await feed.emitted("credit.hold.released")
    assert {r["hold_id"] for r in released} == {h.id for h in placed.values()}
    assert all("repayment agreement that is being kept" in r["reason"] for r in released)

    await feed.send(_agreement(ev.AgreementBroken, ["INV-1"]))
    back = await holds(feed)
    assert {k: (h.cause, h.reason, h.stage) for k, h in back.items()} == {
        "stop_shipments": ("collection", "collection step visit (level 2)", 2),
        "cash_only": ("collection", "collection step visit (level 2)", 2)}
    assert not {h.id for h in back.values()} & {h.id for h in placed.values()}  # new holds
    assert (await check(feed, 100_000)).decision.decision == "block"
    await feed.send(ev.CaseClosed(customer_id="C1", case_id="K1", closed_on=date(2026, 3, 5),
                                  reason="paid"))
    assert await holds(feed) == {}


async def test_collection_holds_stay_while_an_overdue_invoice_is_outside_the_agreement(
        feed: Feed) -> None:
    ledger = LedgerNews(feed, "C1")
    await ledger.invoice("INV-1", 300_000, date(2026, 1, 1))
    await ledger.invoice("INV-2", 100_000, date(2026, 1, 2))
    await ledger.sweep(date(2026, 2, 5))
    await feed.send(_visit())
    await feed.send(_agreement(ev.AgreementSigned, ["INV-1"]))
    assert set(await holds(feed)) == {"stop_shipments", "cash_only"}
    assert (await check(feed, 100_000)).decision.decision == "block"


async def test_a_completed_agreement_leaves_the_collection_holds_lifted_until_the_case_closes(
        feed: Feed) -> None:
    ledger = LedgerNews(feed, "C1")
    await ledger.invoice("INV-1", 300_000, date(2026, 1, 1))
    await ledger.sweep(date(2026, 2, 5))
    await feed.send(_visit())
    await feed.send(_agreement(ev.AgreementSigned, ["INV-1"]))
    # Completed heard before the payment that completed it, then the payment.
    await feed.send(_agreement(ev.AgreementCompleted, ["INV-1"]))
    assert await holds(feed) == {}
    await ledger.pay("PAY-1", 300_000, date(2026, 3, 20))
    assert await holds(feed) == {}
    # A later escalation of a new default asks again, and gets its holds.
    await ledger.invoice("INV-2", 100_000, date(2026, 4, 1))
    await ledger.sweep(date(2026, 5, 5))
    await feed.send(ev.CaseClosed(customer_id="C1", case_id="K1", closed_on=date(2026, 3, 20),
                                  reason="paid"))
    await feed.send(_visit(as_of=date(2026, 5, 5)))
    assert {"stop_shipments", "cash_only"} <= set(await holds(feed))


async def test_a_completed_agreement_whose_last_payment_bounced_breaks_and_the_holds_come_back(
        feed: Feed) -> None:
    ledger = LedgerNews(feed, "C1")
    await ledger.invoice("INV-1", 300_000, date(2026, 1, 1))
    await ledger.sweep(date(2026, 2, 5))
    await feed.send(_visit())
    await feed.send(_agreement(ev.AgreementSigned, ["INV-1"]))
    await feed.send(_agreement(ev.AgreementCompleted, ["INV-1"]))
    assert await holds(feed) == {}
    await feed.send(_agreement(ev.AgreementBroken, ["INV-1"]))
    assert set(await holds(feed)) == {"stop_shipments", "cash_only"}
    await feed.send(_agreement(ev.AgreementCompleted, ["INV-1"]))  # a late copy: still broken
    assert set(await holds(feed)) == {"stop_shipments", "cash_only"}


async def test_payment_behaviour_builds_a_history_and_moves_the_rating(feed: Feed) -> None:
    ledger = LedgerNews(feed, "C1")
    for n, issued in enumerate((date(2026, 1, 1), date(2026, 2, 1), date(2026, 3, 1)), 1):
        await ledger.invoice(f"INV-{n}", 200_000, issued)
        await ledger.pay(f"PAY-{n}", 200_000, issued.replace(day=25))  # within terms
    rated = await customer(feed)
    assert rated.has_payment_history
    assert rated.rating_class == "B"  # nothing on file, but paid on time
    assert not any(r.split()[1] == "timeliness:" for r in rated.rating_reasons)
    # 200,000 a month, class B: two months of purchases.
    assert rated.recommended_limit_amount == 400_000
    changes = await feed.emitted("credit.rating.changed")
    assert [c["class"] for c in changes] == ["C", "B"]
    assert changes[-1]["as_of"] == "2026-01-25"  # the first settlement within terms


async def test_repeated_partial_payments_are_detected_once(feed: Feed) -> None:
    ledger = LedgerNews(feed, "C1")
    await ledger.invoice("INV-1", 900_000, date(2026, 1, 1))
    for n in range(1, 5):
        await ledger.pay(f"PAY-{n}", 100_000, date(2026, 1, 5 * n))
    signals = [s for s in await feed.emitted("credit.signal.recorded") if s["kind"] == "partial_payments"]
    assert len(signals) == 1
    assert signals[0]["origin"] == "detected" and "PAY-1" in signals[0]["evidence"][0]


async def test_partial_payments_are_detected_whatever_order_their_news_arrives_in(
        feed: Feed) -> None:
    ledger = LedgerNews(feed, "C1")
    await ledger.invoice("INV-1", 900_000, date(2026, 1, 1))
    for n in range(1, 5):  # each position overtakes its payment (competing consumers)
        on = date(2026, 1, 5 * n)
        ledger.invoices["INV-1"].open -= 100_000
        await feed.send(ledger._position(on))
        await feed.send(ev.PaymentReceived(
            customer_id="C1", payment_id=f"PAY-{n}", amount=100_000, currency="CNY",
            received_on=on, allocations=[ev.Allocation(invoice_id="INV-1", amount=100_000)],
            unapplied=0))
    signals = [s for s in await feed.emitted("credit.signal.recorded") if s["kind"] == "partial_payments"]
    assert len(signals) == 1 and "PAY-1" in signals[0]["evidence"][0]


async def test_a_payment_that_settles_is_not_partial_before_its_settlement_is_heard(
        feed: Feed) -> None:
    ledger = LedgerNews(feed, "C1")
    await ledger.invoice("INV-1", 300_000, date(2026, 1, 1))
    await ledger.pay("PAY-1", 100_000, date(2026, 1, 5))
    await ledger.pay("PAY-2", 100_000, date(2026, 1, 10))
    # The last payment clears the invoice; its settlement and position come after it.
    await feed.send(ev.PaymentReceived(
        customer_id="C1", payment_id="PAY-3", amount=100_000, currency="CNY",
        received_on=date(2026, 1, 15), allocations=[ev.Allocation(invoice_id="INV-1", amount=100_000)],
        unapplied=0))
    await feed.send(ev.InvoiceSettled(customer_id="C1", invoice_id="INV-1", currency="CNY",
                                      settled_on=date(2026, 1, 15)))
    ledger.invoices["INV-1"].open = 0
    await feed.send(ledger._position(date(2026, 1, 15)))
    assert [s for s in await feed.emitted("credit.signal.recorded") if s["kind"] == "partial_payments"] == []


async def test_money_paid_before_its_invoice_is_not_a_partial_payment(feed: Feed) -> None:
    """Cash before delivery, each payment booked after its invoice: the ledger settles the
    invoice on its issue date (the allocation takes effect then), after the payment's date;
    paid in full, none is a partial payment."""
    ledger = LedgerNews(feed, "C1")
    for n in range(1, 5):
        issued = date(2026, 1, 1) + timedelta(days=10 * n)
        await ledger.invoice(f"INV-{n}", 100_000, issued)
        await feed.send(ev.PaymentReceived(
            customer_id="C1", payment_id=f"PAY-{n}", amount=100_000, currency="CNY",
            received_on=issued - timedelta(days=2),
            allocations=[ev.Allocation(invoice_id=f"INV-{n}", amount=100_000)], unapplied=0))
        await feed.send(ev.InvoiceSettled(customer_id="C1", invoice_id=f"INV-{n}", currency="CNY",
                                          settled_on=issued))
        ledger.invoices[f"INV-{n}"].open = 0
        await feed.send(ledger._position(issued))
    assert [s for s in await feed.emitted("credit.signal.recorded") if s["kind"] == "partial_payments"] == []


async def test_news_dated_before_a_detected_sign_does_not_resolve_it(feed: Feed) -> None:
    ledger = LedgerNews(feed, "C1")
    await ledger.invoice("INV-0", 50_000, date(2025, 12, 1))
    await ledger.invoice("INV-1", 900_000, date(2026, 1, 1))
    for n in range(1, 4):
        await feed.send(ev.PaymentReceived(
            customer_id="C1", payment_id=f"PAY-{n}", amount=100_000, currency="CNY",
            received_on=date(2026, 1, 5 * n), allocations=[ev.Allocation(invoice_id="INV-1", amount=100_000)],
            unapplied=0))
    (signal,) = [s for s in await feed.emitted("credit.signal.recorded") if s["kind"] == "partial_payments"]
    # A payment dated before them all is booked late: as of its day there was no such sign.
    await feed.send(ev.PaymentReceived(
        customer_id="C1", payment_id="PAY-0", amount=50_000, currency="CNY",
        received_on=date(2026, 1, 2), allocations=[ev.Allocation(invoice_id="INV-0", amount=50_000)],
        unapplied=0))
    async with feed.runtime.unit_of_work(read_only=True) as uow:
        assert (await uow.session.get(Signal, signal["signal_id"])).resolved_at is None


async def test_news_for_an_invoice_credit_has_not_heard_of_yet_is_kept(feed: Feed) -> None:
    await feed.send(ev.InvoiceSettled(customer_id="C1", invoice_id="INV-9", currency="CNY",
                                      settled_on=date(2026, 2, 10)))
    await feed.send(ev.InvoicePosted(customer_id="C1", invoice_id="INV-9", amount=50_000,
                                     currency="CNY", issue_date=date(2026, 1, 1),
                                     due_date=date(2026, 1, 31)))
    await feed.send(ev.PaymentMissed(customer_id="NOBODY", invoice_id="X", currency="CNY",
                                     open_amount=1, due_date=date(2026, 1, 1), as_of=date(2026, 2, 1),
                                     days_past_due=31, balance_version=1))  # not dead-lettered
    assert any("10 days beyond terms" in r for r in (await customer(feed)).rating_reasons)


async def run_review(feed: Feed, on: date) -> dict[str, Any]:
    return await handlers.run_reviews(feed.runtime, on)


async def test_a_customer_in_debt_gone_silent_is_a_problem_account(feed: Feed) -> None:
    ledger = LedgerNews(feed, "C1")
    await ledger.invoice("INV-1", 300_000, date(2026, 1, 1), days=365)  # not even overdue
    assert (await run_review(feed, date(2026, 6, 1)))["signals"] == 0
    found = await run_review(feed, date(2026, 7, 1))  # 181 days without an order or a payment
    assert found["signals"] == 1
    (signal,) = [s for s in await feed.emitted("credit.signal.recorded") if s["kind"] == "gone_silent"]
    assert signal["serious"] and signal["origin"] == "detected"
    assert signal["evidence"][0] == "balance 3,000.00 CNY"
    (request,) = await feed.emitted("credit.collection.requested")
    assert (request["receivable_class"], request["signal_kind"]) == ("dormant", "gone_silent")
    assert "stop_shipments" in await holds(feed)
    assert (await run_review(feed, date(2026, 7, 2)))["signals"] == 0  # once, not every day

    await ledger.pay("PAY-1", 10_000, date(2026, 7, 3))  # the customer speaks again
    assert "stop_shipments" not in await holds(feed)
    assert (await customer(feed)).rating_class != "E"


async def test_the_daily_review_ages_overdue_invoices_between_the_ledgers_thresholds(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RECOUP_CREDIT_LADDER", '[{"min_days": 45, "kinds": ["stop_shipments"], '
                                               '"reason": "45 days past due"}]')
    async with running_app(embedded_settings(tmp_path), ["credit"]) as app:
        feed = Feed(app.state.runtimes["credit"])
        await register_dealer(feed.runtime, limit=LIMIT)
        ledger = LedgerNews(feed, "C1")
        await ledger.invoice("INV-1", 300_000, date(2026, 1, 1))
        await ledger.sweep(date(2026, 3, 5))  # 33 days: the ledger's next news is at 60
        assert await holds(feed) == {}
        await run_review(feed, date(2026, 3, 17))  # 45 days
        assert set(await holds(feed)) == {"stop_shipments"}


async def test_the_limit_policy_can_apply_the_recommendation_at_the_annual_review(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RECOUP_CREDIT_LIMIT_POLICY", "annual_review")
    monkeypatch.setenv("RECOUP_CREDIT_HISTORY_MIN_SETTLED", "1")
    async with running_app(embedded_settings(tmp_path), ["credit"]) as app:
        feed = Feed(app.state.runtimes["credit"])
        await register_dealer(feed.runtime, limit=LIMIT)
        ledger = LedgerNews(feed, "C1")
        await ledger.invoice("INV-1", 120_000, date(2025, 12, 1))
        await ledger.pay("PAY-1", 120_000, date(2025, 12, 20))
        assert (await customer(feed)).credit_limit_amount == LIMIT  # advice only, until the review
        await run_review(feed, date(2026, 1, 2))
        rated = await customer(feed)
        # Class B: two months of 60,000.00 a month (120,000 bought over December and January).
        assert rated.credit_limit_amount == rated.recommended_limit_amount == 120_000
        (update,) = await feed.emitted("credit.customer.updated")
        assert update["changed"] == ["credit_limit"] and update["credit_limit"]["amount"] == 120_000
