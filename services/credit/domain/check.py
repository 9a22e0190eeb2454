"""The credit check: may this order ship on credit? Every exposure-creating path asks
this one function."""

from __future__ import annotations

from dataclasses import dataclass, field

from shared.errors import Invalid


@dataclass(frozen=True)
class OrderLine:
    amount: int
    key_product: bool = False
    sku: str | None = None
    debt_free_only: bool = False  # new high-margin products, promotions


@dataclass(frozen=True)
class CheckRequest:
    amount: int
    currency: str
    terms_mode: str
    limit_amount: int
    limit_currency: str
    exposure: int  # open receivables in the limit's currency
    active_holds: dict[str, str]  # kind -> reason
    lines: tuple[OrderLine, ...] = ()
    reduced_batch_percent: int = 25


@dataclass
class Decision:
    decision: str  # approve | cash_only | reduce | block
    reasons: list[str] = field(default_factory=list)
    max_amount: int | None = None


def decide(req: CheckRequest) -> Decision:
    if req.currency != req.limit_currency:
        raise Invalid(f"the customer's credit limit is in {req.limit_currency}; nothing converts "
                      "currencies silently", field="currency")
    holds = req.active_holds
    notes = [f"incentives suspended: {holds['suspend_incentives']}"] if "suspend_incentives" in holds else []

    if "stop_shipments" in holds:
        return Decision("block", [f"shipments stopped: {holds['stop_shipments']}", *notes])
    if req.terms_mode == "deliver_two_settle_one" and req.exposure > 0:
        return Decision("block", ["deliver two, settle one: the previous shipment is not paid yet", *notes])
    if req.terms_mode == "cash":
        return Decision("cash_only", ["settlement terms are cash", *notes])
    if "cash_only" in holds:
        return Decision("cash_only", [f"cash only: {holds['cash_only']}", *notes])

    available = req.limit_amount - req.exposure
    allowed = req.amount
    reasons: list[str] = []
    for hold, withheld, what in (
        ("withhold_key_products", lambda line: line.key_product, "key products withheld"),
        ("debt_free_only", lambda line: line.debt_free_only, "reserved for debt-free customers"),
    ):
        if hold in holds and any(withheld(line) for line in req.lines):
            allowed = min(allowed, req.amount - sum(ln.amount for ln in req.lines if withheld(ln)))
            reasons.append(f"{what}: {holds[hold]}")
    if "reduced_batches" in holds:
        cap = req.limit_amount * req.reduced_batch_percent // 100
        if allowed > cap:
            allowed = cap
            reasons.append(f"smaller batches: at most {cap} per order ({holds['reduced_batches']})")
    if allowed > available:
        allowed = available
        reasons.append(f"credit limit {req.limit_amount}, exposure {req.exposure}, "
                       f"available {max(available, 0)}")
    if allowed <= 0:
        return Decision("cash_only", [*reasons, "no credit available for this order", *notes])
    if allowed < req.amount:
        return Decision("reduce", [*reasons, *notes], max_amount=allowed)
    return Decision("approve", ["within credit limit", *notes])
