"""Revenue metrics, defined once: the worked example of domain/revenue.py and the edge rules."""

from __future__ import annotations

from datetime import date

import pytest

from revteam.domain.revenue import (
    NO_TEAM,
    DealTable,
    TargetRow,
    against_targets,
    find_target,
    month_span,
    new_customers,
    quarter_span,
    revenue_by_month,
    sales_cycle,
    spans,
    win_rate,
    won_revenue,
)
from revteam.errors import InvalidInput

MARCH = (date(2026, 3, 1), date(2026, 3, 31))


def example() -> DealTable:
    """A won 10 Feb and 3 Mar, B won 20 Mar, C lost 10 Mar, D open; B belongs to EMEA, the rest to Americas."""
    return DealTable.build(
        amount=[10_000, 5_000, 8_000, 20_000, 30_000],
        outcome=["won", "won", "won", "lost", "open"],
        created_on=["2026-01-05", "2026-02-01", "2026-02-20", "2026-02-01", "2026-03-01"],
        closed_on=["2026-02-10", "2026-03-03", "2026-03-20", "2026-03-10", None],
        account=[1, 1, 2, 3, 4],
        team=["Americas", "Americas", "EMEA", "Americas", None],
    )


def test_the_worked_example():
    d = example()
    assert won_revenue(d, *MARCH) == 13_000
    assert win_rate(d, *MARCH) == pytest.approx(2 / 3)
    assert new_customers(d, *MARCH) == 1  # B; A first won in February
    c = sales_cycle(d, *MARCH)
    assert (c.deals, c.median, c.p75, c.p90) == (2, 29, 29.5, 29.8)  # 30 and 28 days, linear interpolation
    assert revenue_by_month(d, date(2026, 1, 15), date(2026, 3, 2)) == [
        (date(2026, 1, 1), 0), (date(2026, 2, 1), 10_000), (date(2026, 3, 1), 13_000)]


def test_by_team_and_the_team_of_a_new_customer():
    d = example()
    assert won_revenue(d, *MARCH, team="Americas") == 5_000 and won_revenue(d, *MARCH, team="EMEA") == 8_000
    assert new_customers(d, date(2026, 1, 1), date(2026, 3, 31), team="Americas") == 1  # A, by its first win
    assert new_customers(d, date(2026, 1, 1), date(2026, 3, 31), team="EMEA") == 1
    assert set(d.team) == {"Americas", "EMEA", NO_TEAM}
    assert win_rate(d, date(2026, 1, 1), date(2026, 1, 31)) is None  # nothing closed
    assert sales_cycle(d, date(2026, 1, 1), date(2026, 1, 31)).median is None


def test_periods():
    assert month_span(date(2028, 2, 10)) == (date(2028, 2, 1), date(2028, 2, 29))
    assert quarter_span(date(2026, 11, 25)) == (date(2026, 10, 1), date(2026, 12, 31))
    assert spans("quarter", date(2026, 2, 1), date(2026, 4, 1)) == [(date(2026, 1, 1), date(2026, 3, 31)),
                                                                    (date(2026, 4, 1), date(2026, 6, 30))]
    with pytest.raises(InvalidInput, match="month, quarter"):
        spans("year", date(2026, 1, 1), date(2026, 2, 1))


def test_targets_exact_or_the_sum_of_the_months_of_a_quarter():
    rows = [TargetRow("won_revenue", *month_span(date(2026, m, 1)), None, 1_000 * m) for m in (1, 2, 3)]
    rows += [TargetRow("won_revenue", *quarter_span(date(2026, 4, 1)), None, 50_000),
             TargetRow("won_revenue", *month_span(date(2026, 4, 1)), None, 9_000)]
    assert find_target(rows, "won_revenue", *quarter_span(date(2026, 1, 1)), None) == (6_000, "sum of months")
    assert find_target(rows, "won_revenue", *quarter_span(date(2026, 4, 1)), None) == (50_000, "set")
    assert find_target(rows, "won_revenue", *quarter_span(date(2026, 7, 1)), None) == (None, None)
    assert find_target(rows, "won_revenue", *month_span(date(2026, 1, 1)), "EMEA") == (None, None)
    q1 = against_targets(example(), rows, metric="won_revenue", period="quarter", first=date(2026, 1, 1),
                         last=date(2026, 3, 31))[0]
    assert (q1.actual, q1.target, q1.attainment, q1.gap) == (23_000, 6_000, pytest.approx(23 / 6), 0)
    with pytest.raises(InvalidInput, match="Unknown metric"):
        against_targets(example(), rows, metric="mqls", period="month", first=date(2026, 1, 1), last=date(2026, 1, 1))


def test_undated_closed_deals_are_counted_apart_and_bad_tables_refused():
    d = DealTable.build(amount=[1, 2], outcome=["won", "open"], created_on=["2026-01-01", "2026-01-02"],
                        closed_on=[None, "2026-01-05"])
    assert d.undated == 1 and won_revenue(d, date(2026, 1, 1), date(2026, 12, 31)) == 0
    assert str(d.closed_on[1]) == "NaT"  # an open deal has no close date, whatever the source said
    with pytest.raises(InvalidInput, match="created date"):
        DealTable.build(amount=[1], outcome=["open"], created_on=[None], closed_on=[None])
