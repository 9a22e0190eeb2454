from datetime import date

from services.collection_plan.domain.interest import (
    InterestPolicy,
    accrual_days,
    ended_periods,
    interest,
    month_of,
)
from services.collection_plan.domain.metrics import metrics
from services.collection_plan.domain.provision import observation_dates, provision_matrix
from services.collection_plan.domain.receivables import InvoiceHistory, Reduction

D = date.fromisoformat
YEAR = InterestPolicy(rate_basis_points=3_650, per="year")  # 100 a day on 100,000


def test_periods_are_calendar_months_that_ended_before_the_date() -> None:
    assert [p.label for p in ended_periods(D("2026-01-20"), D("2026-03-31"))] == ["2026-01", "2026-02"]
    assert [p.label for p in ended_periods(D("2026-01-20"), D("2026-04-01"))] == [
        "2026-01", "2026-02", "2026-03"]
    assert list(ended_periods(D("2026-03-01"), D("2026-03-31"))) == []


def test_interest_runs_after_the_notice_on_what_is_open_each_day() -> None:
    june = month_of(D("2026-06-01"))
    days = accrual_days(june, D("2026-06-20"), [])
    assert (days[0], days[-1], len(days)) == (D("2026-06-21"), D("2026-06-30"), 10)
    assert interest(100_000, [], days, YEAR) == 1_000
    # Half paid on the 25th: 4 days on 100,000, then 6 on 50,000.
    assert interest(100_000, [(D("2026-06-25"), 50_000)], days, YEAR) == 700
    assert interest(100_000, [(D("2026-06-01"), 100_000)], days, YEAR) == 0


def test_paused_days_earn_nothing() -> None:
    june = month_of(D("2026-06-01"))
    days = accrual_days(june, D("2026-06-20"), [(D("2026-06-23"), D("2026-06-28")), (D("2026-06-30"), None)])
    assert [d.day for d in days] == [21, 22, 28, 29]


def test_a_monthly_rate_is_spread_over_the_months_days_and_rounded_down() -> None:
    per_month = InterestPolicy(rate_basis_points=300, per="month")  # 3 % a month
    june = accrual_days(month_of(D("2026-06-01")), D("2026-05-31"), [])
    assert interest(100_000, [], june, per_month) == 3_000
    assert interest(100_000, [], june[:1], per_month) == 100
    assert interest(333, [], june[:1], per_month) == 0  # 0.333 rounds down
    assert interest(100_000, [], june, InterestPolicy(rate_basis_points=0)) == 0


def history(invoice_id: str, amount: int, issued: str, due: str, *reductions: tuple[str, int, str],
            currency: str = "CNY", salesperson: str = "li.na") -> InvoiceHistory:
    return InvoiceHistory(invoice_id, "C", currency, amount, D(issued), D(due), salesperson,
                          reductions=[Reduction(D(on), a, k) for on, a, k in reductions])


def test_kpis_of_a_small_book() -> None:
    book = [history("I1", 100_000, "2026-01-01", "2026-01-31", ("2026-02-15", 100_000, "payment")),
            history("I2", 200_000, "2026-02-10", "2026-03-12")]
    (m,) = metrics(book, D("2026-03-31"), months=3)
    assert (m.receivables, m.overdue, m.within_terms_percent) == (200_000, 200_000, 0.0)
    # March to date sold nothing (31 days), February sold 200,000: all of it.
    assert (m.dso, m.best_possible_dso, m.average_days_delinquent) == (59.0, 0.0, 59.0)
    # (0 + 300,000 - 200,000) / (0 + 300,000 - 0)
    assert m.cei == 33.3
    assert (m.sales, m.recovered) == (300_000, 100_000)


def test_the_provision_matrix_comes_from_the_companys_own_history() -> None:
    book = [
        history("A", 100_000, "2025-01-01", "2025-01-31", ("2025-09-01", 100_000, "write_off")),
        history("C", 50_000, "2025-05-31", "2025-06-30"),  # never paid
        history("D", 100_000, "2025-05-31", "2025-06-30", ("2025-08-15", 100_000, "payment")),
        history("E", 30_000, "2026-01-01", "2026-01-31"),  # not due yet today
        history("U", 10_000, "2025-05-31", "2025-06-30", currency="USD"),
    ]
    as_of = D("2026-01-15")
    assert observation_dates(as_of, 2, 6) == (D("2025-06-30"), D("2025-07-31"))
    cny, usd = provision_matrix(book, as_of, months=2, horizon_months=6)
    rows = {b.bucket: b for b in cny.buckets}
    # On 30 June C and D were current: of 150,000, C's 50,000 was never paid.
    assert (rows["current"].observed, rows["current"].lost, rows["current"].loss_rate_bp) == (
        150_000, 50_000, 3_333)
    assert (rows["31-60"].observed, rows["31-60"].lost) == (150_000, 50_000)
    assert rows["181-365"].loss_rate_bp == 10_000  # A, written off
    # Today: E (30,000) is current, C (50,000) is 199 days past due.
    assert (rows["current"].open_now, rows["current"].expected_loss) == (30_000, 10_000)
    assert (rows["181-365"].open_now, rows["181-365"].expected_loss) == (50_000, 50_000)
    assert cny.expected_loss == 60_000
    assert rows["1-30"].loss_rate_bp is None and rows["1-30"].expected_loss == 0  # no history
    # USD has its own history: never converted, never pooled with CNY.
    usd_rows = {b.bucket: b for b in usd.buckets}
    assert (usd_rows["current"].observed, usd_rows["current"].lost) == (10_000, 10_000)
    assert usd_rows["181-365"].loss_rate_bp is None and usd.expected_loss == 0


def test_the_bad_debt_ratio_is_what_was_written_off_of_the_windows_sales() -> None:
    book = [history("I1", 100_000, "2026-01-01", "2026-01-31", ("2026-03-10", 60_000, "write_off"),
                    ("2026-02-20", 40_000, "payment")),
            history("I2", 300_000, "2026-02-10", "2026-03-12"),
            history("OLD", 50_000, "2025-06-01", "2025-07-01", ("2025-12-20", 50_000, "write_off"))]
    (m,) = metrics(book, D("2026-03-31"), months=3)
    # Of 400,000 sold since January, 60,000 was written off in the window (the 50,000 of
    # December is before it).
    assert (m.written_off, m.bad_debt_percent) == (60_000, 15.0)
    (quiet,) = metrics(book, D("2025-05-31"), months=1)
    assert (quiet.written_off, quiet.bad_debt_percent) == (0, None)  # nothing sold
