from services.credit.domain.limits import Volume, applied_limit, recommend


def test_a_customer_without_payment_history_is_recommended_the_starting_limit() -> None:
    advice = recommend("B", "CNY", Volume(5_000_000, 2), has_history=False)
    assert (advice.amount, advice.reason) == (1_000_000, "starting limit: no payment history yet")
    assert recommend("B", "GBP", Volume(0, 1), has_history=False).amount is None


def test_with_history_months_of_purchases_by_class_rounded_down() -> None:
    volume = Volume(purchases=1_200_050, months=6)  # 200,008.33 a month
    assert recommend("A", "CNY", volume, has_history=True).amount == 600_000
    assert recommend("C", "CNY", volume, has_history=True).amount == 300_000
    assert recommend("E", "CNY", volume, has_history=True).amount == 0
    assert "1.5 months of average purchases" in recommend("C", "CNY", volume, has_history=True).reason


def test_the_check_applies_the_starting_limit_to_new_customers() -> None:
    new = applied_limit(5_000_000, "CNY", has_history=False, recommended=None, policy="advise")
    assert new.amount == 1_000_000 and "starting limit 10,000.00 CNY" in new.reasons[0]
    known = applied_limit(5_000_000, "CNY", has_history=True, recommended=200_000, policy="advise")
    assert (known.amount, known.reasons) == (5_000_000, ())


def test_policy_cap_never_grants_more_than_the_recommendation() -> None:
    capped = applied_limit(5_000_000, "CNY", has_history=True, recommended=200_000, policy="cap")
    assert capped.amount == 200_000 and "recommendation" in capped.reasons[0]
    assert applied_limit(100_000, "CNY", has_history=True, recommended=200_000,
                         policy="cap").amount == 100_000
