from services.credit.domain.rating import (
    DEFAULT_WEIGHTS,
    Behaviour,
    RatingInputs,
    rate,
)

GOOD_DOSSIER = dict(
    assessments={"financial_status": "strong", "market_network": "strong",
                 "sales_ability": "sound", "organisation": "strong"},
    sales_agreement="sealed", has_legal_representative=True,
)


def test_a_new_customer_with_nothing_on_file_is_average_and_told_why() -> None:
    rating = rate(RatingInputs())
    assert (rating.rating_class, rating.score) == ("C", 62)
    assert rating.reasons[0] == "-8 sales_agreement: no signed sales agreement on file"
    lost = [int(r.split()[0]) for r in rating.reasons]
    assert lost == sorted(lost)  # -8 before -6 ...: highest impact first
    assert any("no payment history yet" in r for r in rating.reasons)


def test_a_full_dossier_and_punctual_payments_rate_a() -> None:
    rating = rate(RatingInputs(**GOOD_DOSSIER, behaviour=Behaviour(settled_days_late=(0, -2, 1))))
    assert rating.rating_class == "A" and rating.score >= 95


def test_late_payment_current_default_and_broken_promises_cost_points() -> None:
    punctual = rate(RatingInputs(**GOOD_DOSSIER, behaviour=Behaviour(settled_days_late=(0, 0))))
    late = rate(RatingInputs(**GOOD_DOSSIER, behaviour=Behaviour(settled_days_late=(40, 20))))
    worse = rate(RatingInputs(**GOOD_DOSSIER, behaviour=Behaviour(
        settled_days_late=(40, 20), worst_days_past_due=65, broken_promises=2, partial_payments=3)))
    assert punctual.score > late.score > worse.score
    assert worse.reasons[0].startswith("-15 current_default: 65 days past due now")
    assert "2 invoices settled, on average 30 days beyond terms (worst 40)" in late.reasons[0]


def test_a_write_off_zeroes_timeliness() -> None:
    factors = {f.name: f for f in rate(RatingInputs(behaviour=Behaviour(
        settled_days_late=(0,), written_off=1))).factors}
    assert factors["timeliness"].points == 0
    assert factors["timeliness"].reason == "1 invoice written off"


def test_a_serious_signal_knocks_the_class_down_to_e_whatever_the_score() -> None:
    rating = rate(RatingInputs(**GOOD_DOSSIER, serious_signals=("bankruptcy",)))
    assert rating.rating_class == "E" and rating.score > 40
    assert rating.reasons[0] == "class E: serious warning sign (bankruptcy)"


def test_ordinary_signals_cost_a_share_each() -> None:
    one = {f.name: f for f in rate(RatingInputs(signals=("moving_premises",))).factors}["signals"]
    three = {f.name: f for f in rate(RatingInputs(
        signals=("moving_premises", "key_staff_leaving", "selling_below_price"))).factors}["signals"]
    assert (one.points, three.points) == (5, 0)


def test_weights_and_floors_are_configurable() -> None:
    inputs = RatingInputs(**GOOD_DOSSIER, behaviour=Behaviour(worst_days_past_due=70))
    default = rate(inputs)
    ignoring_default = rate(inputs, {**DEFAULT_WEIGHTS, "current_default": 0})
    assert ignoring_default.score > default.score
    assert not any("current_default" in r for r in ignoring_default.reasons)
    strict = rate(inputs, floors={"A": 99, "B": 98, "C": 97, "D": 96})
    assert strict.rating_class == "E"


def test_every_factor_is_kept_with_its_points_for_the_history() -> None:
    factors = rate(RatingInputs()).factors
    assert [f.name for f in factors] == list(DEFAULT_WEIGHTS)
    assert sum(f.weight for f in factors) == 100
