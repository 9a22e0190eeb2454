from shared.kpi import Period, collection_effectiveness, count_back_dso


def test_count_back_walks_the_months_from_the_newest() -> None:
    periods = [Period(15, 30_000), Period(31, 62_000), Period(30, 60_000)]
    assert count_back_dso(30_000, periods) == 15.0  # all from this month's sales
    assert count_back_dso(61_000, periods) == 30.5  # this month, then half of the last
    assert count_back_dso(0, periods) == 0.0
    assert count_back_dso(10**9, periods) is None  # older than every period looked at


def test_cei_is_the_share_of_what_could_be_collected_that_was() -> None:
    assert collection_effectiveness(100, 200, 100, 100) == 100.0
    assert collection_effectiveness(100, 200, 200, 50) == 40.0
    assert collection_effectiveness(0, 0, 0, 0) is None
