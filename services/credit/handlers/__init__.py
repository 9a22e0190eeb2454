"""Commands and events in, domain calls; the caller's unit of work commits. One module
per area: dossier, rating, signals, holds, the check, reviews, and the events of the
ledger and of collection-plan and reconciliation."""

from services.credit.handlers.check import (
    cancel_reservation,
    check_credit,
    confirm_shipment,
    quick_check,
    reserving_check,
)
from services.credit.handlers.common import active_holds, balances, get_customer
from services.credit.handlers.dossier import (
    accept_recommended_limit,
    register_customer,
    update_customer,
)
from services.credit.handlers.holds import place_hold, release_hold
from services.credit.handlers.reviews import rate_customer, run_reviews
from services.credit.handlers.signals import record_signal, resolve_signal

__all__ = [
    "accept_recommended_limit", "active_holds", "balances", "cancel_reservation", "check_credit",
    "confirm_shipment", "get_customer", "place_hold", "quick_check", "rate_customer",
    "record_signal", "register_customer", "release_hold", "reserving_check", "resolve_signal",
    "run_reviews", "update_customer",
]
