"""The credit check: may this order ship on credit? Every path that creates exposure asks
this one function (the check endpoint, and through it every reservation)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

from services.credit.domain.money import show
from shared.errors import Invalid


@dataclass(frozen=True)
class OrderLine:
    amount: int
    key_product: bool = False  # flagged by the caller; product_class may say so too
    sku: str | None = None
    debt_free_only: bool = False  # new high-margin products, promotions
    product_class: str | None = None
    incentive: str | None = None  # the line is an incentive: promotions, samples, ...


@dataclass(frozen=True)
class ActiveHold:
    reason: str
    incentives: tuple[str, ...] = ()  # suspend_incentives: which are off


def in_force(holds: Iterable[tuple[str, str, Sequence[str]]]) -> dict[str, ActiveHold]:
    """The active holds (kind, reason, incentives) per kind: holds of one kind from several
    causes all count, each with its reason, and suspended incentives add up (one cause's
    narrower hold never masks another's wider one)."""
    merged: dict[str, tuple[list[str], list[str]]] = {}
    for kind, reason, incentives in holds:
        reasons, off = merged.setdefault(kind, ([], []))
        reasons.extend([reason] if reason not in reasons else [])
        off.extend(i for i in incentives if i not in off)
    return {kind: ActiveHold("; ".join(reasons), tuple(off)) for kind, (reasons, off) in merged.items()}


@dataclass(frozen=True)
class LinePolicy:
    key_product_classes: frozenset[str] = frozenset()
    debt_free_only_classes: frozenset[str] = frozenset()


@dataclass(frozen=True)
class CheckRequest:
    amount: int
    currency: str
    terms_mode: str
    limit_amount: int  # the limit the check applies (see limits.applied_limit)
    limit_currency: str
    receivables: int  # open receivables in the limit's currency (never below 0)
    reserved: int = 0  # approved orders not shipped or not yet invoiced (other orders)
    active_holds: Mapping[str, ActiveHold] = field(default_factory=dict)
    lines: tuple[OrderLine, ...] = ()
    batch_cap: int | None = None  # under reduced_batches: the largest order
    batch_basis: str = ""  # how the cap was found
    owes_overdue: bool = False  # anything overdue (in any currency)
    other_currencies: int = 0  # currencies other than the limit's with money owed
    rating_class: str = "C"
    cash_only_classes: frozenset[str] = frozenset({"E"})
    limit_reasons: tuple[str, ...] = ()
    line_policy: LinePolicy = LinePolicy()
    incentives: frozenset[str] | None = None  # the incentives known; None: any

    @property
    def exposure(self) -> int:
        return self.receivables + self.reserved


@dataclass
class Decision:
    decision: str  # approve | cash_only | reduce | block
    reasons: list[str] = field(default_factory=list)
    max_amount: int | None = None
    incentives_suspended: list[str] = field(default_factory=list)
    refused_lines: list[tuple[int, str]] = field(default_factory=list)  # (line index, why)


def _check_shape(req: CheckRequest) -> None:
    if req.currency != req.limit_currency:
        raise Invalid(f"the customer's credit limit is in {req.limit_currency}; nothing converts "
                      "currencies silently", field="currency")
    for index, line in enumerate(req.lines):
        # A misspelt incentive would never be refused under a suspension.
        if req.incentives is not None and line.incentive and line.incentive not in req.incentives:
            raise Invalid(f"unknown incentive {line.incentive!r}; known: {', '.join(sorted(req.incentives))}",
                          field=f"lines.{index}.incentive")
    if req.lines and sum(line.amount for line in req.lines) != req.amount:
        raise Invalid(f"the lines add up to {sum(line.amount for line in req.lines)}, "
                      f"not the order's amount {req.amount}", field="lines")


def _refused_line(req: CheckRequest, line: OrderLine, suspended: set[str]) -> str | None:
    holds, policy = req.active_holds, req.line_policy
    if "withhold_key_products" in holds and (
            line.key_product or line.product_class in policy.key_product_classes):
        return f"key products withheld: {holds['withhold_key_products'].reason}"
    if line.debt_free_only or line.product_class in policy.debt_free_only_classes:
        if "debt_free_only" in holds:
            return f"reserved for debt-free customers: {holds['debt_free_only'].reason}"
        if req.owes_overdue:
            return "reserved for customers owing nothing overdue"
    if line.incentive and line.incentive in suspended:
        return (f"incentive {line.incentive.replace('_', ' ')} suspended: "
                f"{holds['suspend_incentives'].reason}")
    return None


def decide(req: CheckRequest) -> Decision:
    _check_shape(req)
    holds = req.active_holds
    suspended: list[str] = []
    notes: list[str] = []
    if "suspend_incentives" in holds:
        suspended = list(holds["suspend_incentives"].incentives)
        notes.append(f"incentives suspended ({', '.join(suspended)}): "
                     f"{holds['suspend_incentives'].reason}")

    if req.other_currencies:
        # Said, not counted: nothing converts currencies silently.
        notes.append(f"also owes in {req.other_currencies} other "
                     f"{'currency' if req.other_currencies == 1 else 'currencies'}, not counted "
                     f"against the limit in {req.limit_currency}")

    def answer(decision: str, reasons: list[str], max_amount: int | None = None,
               refused: list[tuple[int, str]] | None = None) -> Decision:
        return Decision(decision, [*reasons, *notes], max_amount, suspended, refused or [])

    if "stop_shipments" in holds:
        return answer("block", [f"shipments stopped: {holds['stop_shipments'].reason}"])
    if req.terms_mode == "deliver_two_settle_one" and req.exposure > 0:
        return answer("block", ["deliver two, settle one: an earlier shipment is not paid yet"])
    if req.terms_mode == "cash":
        return answer("cash_only", ["settlement terms are cash"])
    if "cash_only" in holds:
        return answer("cash_only", [f"cash only: {holds['cash_only'].reason}"])
    if req.rating_class in req.cash_only_classes:
        return answer("cash_only", [f"rating class {req.rating_class}: new orders on cash only"])

    reasons: list[str] = []
    refused: list[tuple[int, str]] = []
    for index, line in enumerate(req.lines):
        why = _refused_line(req, line, set(suspended))
        if why is not None:
            refused.append((index, why))
            if why not in reasons:
                reasons.append(why)
    allowed = req.amount - sum(req.lines[i].amount for i, _ in refused)
    if "reduced_batches" in holds and req.batch_cap is not None and allowed > req.batch_cap:
        allowed = req.batch_cap
        reasons.append(f"smaller batches: at most {show(req.batch_cap, req.currency)} per order, "
                       f"{req.batch_basis} ({holds['reduced_batches'].reason})")
    available = req.limit_amount - req.exposure
    if allowed > available:
        allowed = available
        reasons.append(
            f"credit limit {show(req.limit_amount, req.currency)}, exposure "
            f"{show(req.exposure, req.currency)} (receivables {show(req.receivables, req.currency)}"
            f" + approved orders {show(req.reserved, req.currency)}), available "
            f"{show(max(available, 0), req.currency)}")
        reasons.extend(req.limit_reasons)
    if allowed <= 0:
        return answer("cash_only", [*reasons, "no credit available for this order"], None, refused)
    if allowed < req.amount:
        return answer("reduce", reasons, allowed, refused)
    return answer("approve", ["within credit limit"], None, refused)


def granted(decision: Decision, amount: int) -> int:
    """What an answer lets ship on credit: what a reservation of the order holds."""
    if decision.decision == "approve":
        return amount
    if decision.decision == "reduce":
        return decision.max_amount or 0
    return 0


def reduced_batch_cap(average_order: int | None, limit_amount: int, currency: str, *,
                      average_percent: int, limit_percent: int) -> tuple[int, str]:
    """The largest order under `reduced_batches`: a share of the customer's average order,
    or of the credit limit while there is no order history."""
    if average_order:
        return (average_order * average_percent // 100,
                f"{average_percent}% of the average order {show(average_order, currency)}")
    return (limit_amount * limit_percent // 100,
            f"{limit_percent}% of the credit limit (no order history yet)")
