from __future__ import annotations

import pytest

from services.credit.domain.terms import EarlyPaymentDiscount, Terms, check_terms
from shared.errors import Invalid


def test_an_early_payment_discount_cannot_outlast_the_due_date() -> None:
    assert check_terms(Terms("net_days", days=30, early_payment_discount=EarlyPaymentDiscount(2, 10)))
    assert check_terms(Terms("net_days", days=30, early_payment_discount=EarlyPaymentDiscount(2, 30)))
    with pytest.raises(Invalid) as refused:
        check_terms(Terms("net_days", days=30, early_payment_discount=EarlyPaymentDiscount(2, 40)))
    assert refused.value.field == "terms.early_payment_discount.within_days"
