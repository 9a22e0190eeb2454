from datetime import date

from services.collection_plan.domain.classes import ClassInputs, ClassPolicy, classify, is_dormant

POLICY = ClassPolicy(doubtful_days=90, bad_debt_days=180, dormant_days=180, doubtful_after_broken=2)


def test_classes_from_days_past_due() -> None:
    assert classify(ClassInputs(0), POLICY) == ("not_due", ())
    assert classify(ClassInputs(1), POLICY)[0] == "dunning"
    assert classify(ClassInputs(89), POLICY)[0] == "dunning"
    assert classify(ClassInputs(90), POLICY)[0] == "doubtful"
    assert classify(ClassInputs(180), POLICY) == ("bad_debt", ("180 days past due (bad debt from 180)",))


def test_thresholds_are_configurable() -> None:
    assert classify(ClassInputs(45), ClassPolicy(doubtful_days=45))[0] == "doubtful"


def test_signals_dormancy_and_history_raise_the_class() -> None:
    assert classify(ClassInputs(3, signal_class="bad_debt"), POLICY)[0] == "bad_debt"
    assert classify(ClassInputs(3, dormant=True), POLICY)[0] == "dormant"
    klass, reasons = classify(ClassInputs(10, broken_commitments=2), POLICY)
    assert klass == "doubtful" and reasons == ("2 broken promises or agreements",)
    assert classify(ClassInputs(10, broken_commitments=1), POLICY)[0] == "dunning"
    # The most severe rule wins.
    assert classify(ClassInputs(200, dormant=True), POLICY)[0] == "bad_debt"


def test_dormant_means_no_order_and_no_payment_for_the_period_with_a_balance() -> None:
    as_of = date(2026, 12, 31)
    old, recent = date(2026, 6, 1), date(2026, 12, 1)
    assert is_dormant(has_balance=True, last_order_on=old, last_payment_on=old, as_of=as_of,
                      dormant_days=180)
    assert not is_dormant(has_balance=True, last_order_on=old, last_payment_on=recent,
                          as_of=as_of, dormant_days=180)
    assert not is_dormant(has_balance=False, last_order_on=old, last_payment_on=None,
                          as_of=as_of, dormant_days=180)
    assert not is_dormant(has_balance=True, last_order_on=None, last_payment_on=None,
                          as_of=as_of, dormant_days=180)
