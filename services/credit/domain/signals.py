"""Warning signs (DOMAIN.md "Warning signs to watch"): the kinds a person may report or
the service may detect, which of them are serious, and what a serious one asks of
collection-plan."""

from __future__ import annotations

from dataclasses import dataclass

# kind -> what it means, in the words a credit manager uses.
KINDS: dict[str, str] = {
    "purchase_drop": "sudden drop in purchases",
    "large_purchase_out_of_season": "large purchase out of season",
    "selling_below_price": "selling below price",
    "selling_outside_region": "selling outside the agreed region",
    "extension_requests": "repeated requests for extensions",
    "partial_payments": "repeated partial payments",
    "paying_late": "a customer who paid on time starting to pay late",
    "change_of_legal_representative": "change of legal representative",
    "seal_status_changed": "the sales agreement's company seal changed or was lost",
    "owners_splitting": "owners splitting up",
    "key_staff_leaving": "key staff leaving",
    "moving_premises": "moving premises",
    "shop_transferred": "the shop being transferred",
    "demolition_notice": "demolition notice",
    "closure": "closure",
    "bankruptcy": "bankruptcy",
    "unrelated_investment": "the owner investing in unrelated businesses",
    "gone_silent": "in debt and silent: no order and no payment for months",
}

# Serious signs stop shipments, knock the rating down to E and ask for collection at once.
DEFAULT_SERIOUS = frozenset({
    "bankruptcy", "closure", "shop_transferred", "demolition_notice", "owners_splitting",
    "gone_silent",
})

# The receivable class a serious sign calls for (the ladder in ARCHITECTURE.md); the rest
# leave the class to collection-plan.
COLLECTION_CLASS = {"bankruptcy": "bad_debt", "closure": "bad_debt", "gone_silent": "dormant"}

ORIGIN_REPORTED = "reported"
ORIGIN_DETECTED = "detected"


@dataclass(frozen=True)
class Finding:
    """A sign the data shows, with what it rests on (figures a person can check)."""

    kind: str
    evidence: tuple[str, ...]


def describe(kind: str) -> str:
    return KINDS.get(kind, kind.replace("_", " "))
