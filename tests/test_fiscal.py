"""Tests for lib.fiscal: hand-worked fiscal calendars and business days checked on a calendar."""

from datetime import date, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from lib.fiscal import (
    Period,
    business_days,
    elapsed_business_share,
    elapsed_calendar_share,
    fiscal_month,
    fiscal_quarter,
    fiscal_year,
    month_from_label,
    next_quarter,
    previous_quarter,
    quarter_from_label,
    quarter_number,
    quarters_between,
    same_quarter_last_year,
    week_of_period,
    weeks_in_period,
)
from lib.settings import Settings

AS_OF = date(2026, 11, 15)
CALENDAR = Settings(as_of=AS_OF)
FEBRUARY_BY_END = Settings(as_of=AS_OF, fiscal_year_start_month=2)
FEBRUARY_BY_START = Settings(as_of=AS_OF, fiscal_year_start_month=2, fiscal_year_named_by_end=False)
JULY_BY_END = Settings(as_of=AS_OF, fiscal_year_start_month=7)
JULY_BY_START = Settings(as_of=AS_OF, fiscal_year_start_month=7, fiscal_year_named_by_end=False)
OCTOBER_BY_END = Settings(as_of=AS_OF, fiscal_year_start_month=10)
OCTOBER_BY_START = Settings(as_of=AS_OF, fiscal_year_start_month=10, fiscal_year_named_by_end=False)

Q4_2026 = Period(date(2026, 10, 1), date(2026, 12, 31), "Q4 FY2026", "quarter")
Q3_2026 = Period(date(2026, 7, 1), date(2026, 9, 30), "Q3 FY2026", "quarter")
NOVEMBER_2026 = Period(date(2026, 11, 1), date(2026, 11, 30), "Nov 2026", "month")
THANKSGIVING_2026 = date(2026, 11, 26)  # a Thursday
SATURDAY_2026_11_28 = date(2026, 11, 28)


# Fiscal years and their names


def test_january_start_fiscal_year_is_the_calendar_year_under_both_namings():
    by_start = Settings(as_of=AS_OF, fiscal_year_named_by_end=False)
    assert fiscal_year(date(2026, 1, 1), CALENDAR) == 2026
    assert fiscal_year(date(2026, 12, 31), CALENDAR) == 2026
    assert fiscal_year(date(2026, 12, 31), by_start) == 2026


def test_february_start_names_fiscal_year_by_its_end():
    assert fiscal_year(date(2026, 2, 1), FEBRUARY_BY_END) == 2027
    assert fiscal_year(date(2027, 1, 31), FEBRUARY_BY_END) == 2027
    assert fiscal_year(date(2026, 1, 31), FEBRUARY_BY_END) == 2026


def test_february_start_named_by_start_uses_the_year_it_begins():
    assert fiscal_year(date(2026, 2, 1), FEBRUARY_BY_START) == 2026
    assert fiscal_year(date(2027, 1, 31), FEBRUARY_BY_START) == 2026
    assert fiscal_year(date(2026, 1, 31), FEBRUARY_BY_START) == 2025


def test_july_start_fiscal_year_turns_over_on_the_first_of_july():
    assert fiscal_year(date(2026, 6, 30), JULY_BY_END) == 2026
    assert fiscal_year(date(2026, 7, 1), JULY_BY_END) == 2027
    assert fiscal_year(date(2026, 7, 1), JULY_BY_START) == 2026


def test_october_start_fiscal_year_turns_over_on_the_first_of_october():
    assert fiscal_year(date(2026, 9, 30), OCTOBER_BY_END) == 2026
    assert fiscal_year(date(2026, 10, 1), OCTOBER_BY_END) == 2027
    assert fiscal_year(date(2026, 10, 1), OCTOBER_BY_START) == 2026


# Fiscal quarters


def test_january_start_november_is_in_q4_of_the_calendar_year():
    assert fiscal_quarter(date(2026, 11, 15), CALENDAR) == Q4_2026
    assert quarter_number(date(2026, 11, 15), CALENDAR) == 4


def test_january_start_quarters_begin_in_january_april_july_october():
    starts = [fiscal_quarter(date(2026, month, 15), CALENDAR).start for month in (2, 5, 8, 11)]
    assert starts == [date(2026, 1, 1), date(2026, 4, 1), date(2026, 7, 1), date(2026, 10, 1)]


def test_february_start_q1_begins_on_the_first_day_of_the_fiscal_year():
    assert fiscal_quarter(date(2026, 2, 1), FEBRUARY_BY_END) == Period(
        date(2026, 2, 1), date(2026, 4, 30), "Q1 FY2027", "quarter"
    )
    assert fiscal_quarter(date(2026, 2, 1), FEBRUARY_BY_START).label == "Q1 FY2026"


def test_february_start_q4_runs_from_november_across_new_year_to_january():
    expected = Period(date(2026, 11, 1), date(2027, 1, 31), "Q4 FY2027", "quarter")
    assert fiscal_quarter(date(2027, 1, 31), FEBRUARY_BY_END) == expected
    assert fiscal_quarter(date(2026, 11, 1), FEBRUARY_BY_END) == expected
    assert quarter_number(date(2027, 1, 31), FEBRUARY_BY_END) == 4


def test_july_start_september_is_q1_and_june_is_q4():
    assert fiscal_quarter(date(2026, 9, 30), JULY_BY_END) == Period(
        date(2026, 7, 1), date(2026, 9, 30), "Q1 FY2027", "quarter"
    )
    assert fiscal_quarter(date(2026, 6, 30), JULY_BY_END) == Period(
        date(2026, 4, 1), date(2026, 6, 30), "Q4 FY2026", "quarter"
    )
    assert fiscal_quarter(date(2026, 6, 30), JULY_BY_START).label == "Q4 FY2025"


def test_october_start_november_is_q1():
    assert fiscal_quarter(date(2026, 11, 15), OCTOBER_BY_END) == Period(
        date(2026, 10, 1), date(2026, 12, 31), "Q1 FY2027", "quarter"
    )
    assert fiscal_quarter(date(2026, 11, 15), OCTOBER_BY_START).label == "Q1 FY2026"
    assert quarter_number(date(2026, 9, 30), OCTOBER_BY_END) == 4


def test_fiscal_month_is_the_calendar_month_labelled_with_its_short_name():
    assert fiscal_month(date(2026, 11, 15)) == NOVEMBER_2026
    assert fiscal_month(date(2028, 2, 10)) == Period(
        date(2028, 2, 1), date(2028, 2, 29), "Feb 2028", "month"
    )


# Moving between quarters


def test_previous_quarter_of_q1_is_q4_of_the_year_before():
    q1 = fiscal_quarter(date(2026, 1, 1), CALENDAR)
    assert previous_quarter(q1, CALENDAR) == Period(
        date(2025, 10, 1), date(2025, 12, 31), "Q4 FY2025", "quarter"
    )


def test_next_quarter_of_q4_is_q1_of_the_next_year():
    assert next_quarter(Q4_2026, CALENDAR) == Period(
        date(2027, 1, 1), date(2027, 3, 31), "Q1 FY2027", "quarter"
    )


def test_next_quarter_crosses_a_february_fiscal_year_end():
    q4 = fiscal_quarter(date(2026, 12, 1), FEBRUARY_BY_END)
    assert next_quarter(q4, FEBRUARY_BY_END) == Period(
        date(2027, 2, 1), date(2027, 4, 30), "Q1 FY2028", "quarter"
    )


def test_previous_quarter_of_a_month_is_the_quarter_before_the_months_quarter():
    assert previous_quarter(NOVEMBER_2026, CALENDAR) == Q3_2026


def test_same_quarter_last_year_keeps_the_quarter_number():
    assert same_quarter_last_year(Q3_2026, CALENDAR) == Period(
        date(2025, 7, 1), date(2025, 9, 30), "Q3 FY2025", "quarter"
    )
    q4 = fiscal_quarter(date(2027, 1, 15), FEBRUARY_BY_END)
    assert same_quarter_last_year(q4, FEBRUARY_BY_END) == Period(
        date(2025, 11, 1), date(2026, 1, 31), "Q4 FY2026", "quarter"
    )


def test_quarters_between_lists_every_quarter_touching_the_span_in_order():
    labels = [q.label for q in quarters_between(date(2026, 3, 31), date(2026, 10, 1), CALENDAR)]
    assert labels == ["Q1 FY2026", "Q2 FY2026", "Q3 FY2026", "Q4 FY2026"]


def test_quarters_between_one_day_is_its_quarter_and_a_reversed_span_is_empty():
    assert quarters_between(AS_OF, AS_OF, CALENDAR) == [Q4_2026]
    assert quarters_between(date(2026, 12, 1), date(2026, 1, 1), CALENDAR) == []


# Reading quarter and month labels


@pytest.mark.parametrize(
    "text",
    [
        "2026-Q3",
        "2026 Q3",
        "Q3 2026",
        "Q3 FY2026",
        "FY2026 Q3",
        "FY26 Q3",
        "Q3-2026",
        "q3 fy26",
        "  fy2026-q3 ",
        "2026Q3",
    ],
)
def test_quarter_label_is_read_in_every_accepted_spelling(text):
    assert quarter_from_label(text, CALENDAR) == Q3_2026


@pytest.mark.parametrize(
    "text", ["Q5 2026", "Q0 2026", "hello", "", "2026", "Q3", "26 Q3", "Q3 FY2026x", "2026-10"]
)
def test_text_that_is_not_a_quarter_reads_as_none(text):
    assert quarter_from_label(text, CALENDAR) is None


def test_quarter_label_year_is_the_fiscal_year_name_under_the_settings():
    february_to_april_2026 = (date(2026, 2, 1), date(2026, 4, 30))
    by_end = quarter_from_label("Q1 FY2027", FEBRUARY_BY_END)
    by_start = quarter_from_label("Q1 FY2026", FEBRUARY_BY_START)
    assert (by_end.start, by_end.end, by_end.label) == (*february_to_april_2026, "Q1 FY2027")
    assert (by_start.start, by_start.end, by_start.label) == (*february_to_april_2026, "Q1 FY2026")
    assert quarter_from_label("2027-Q1", OCTOBER_BY_END).start == date(2026, 10, 1)


@pytest.mark.parametrize("start_month", range(1, 13))
@pytest.mark.parametrize("named_by_end", [True, False])
def test_every_quarter_label_reads_back_as_its_quarter(start_month, named_by_end):
    settings = Settings(
        as_of=AS_OF, fiscal_year_start_month=start_month, fiscal_year_named_by_end=named_by_end
    )
    for quarter in quarters_between(date(2025, 1, 1), date(2027, 12, 31), settings):
        assert quarter_from_label(quarter.label, settings) == quarter


@pytest.mark.parametrize(
    "text", ["2026-10", "2026/10", "Oct 2026", "October 2026", "10/2026", "oct 2026", "OCT-2026"]
)
def test_month_label_is_read_in_every_accepted_spelling(text):
    assert month_from_label(text) == Period(
        date(2026, 10, 1), date(2026, 10, 31), "Oct 2026", "month"
    )


@pytest.mark.parametrize("text", ["2026-13", "13/2026", "Octember 2026", "Oc 2026", "hello", ""])
def test_text_that_is_not_a_month_reads_as_none(text):
    assert month_from_label(text) is None


# Business days


def test_november_2026_has_21_business_days():
    assert business_days(date(2026, 11, 1), date(2026, 11, 30)) == 21


def test_business_days_count_both_ends_and_skip_the_weekend():
    friday, saturday, sunday, monday = (date(2026, 11, d) for d in (6, 7, 8, 9))
    assert business_days(friday, monday) == 2
    assert business_days(saturday, sunday) == 0
    assert business_days(monday, monday) == 1


def test_q4_2026_has_66_business_days():
    # October 22, November 21, December 23.
    assert business_days(Q4_2026.start, Q4_2026.end) == 66


def test_a_weekday_holiday_is_taken_off_and_a_saturday_holiday_is_not():
    holidays = (THANKSGIVING_2026, SATURDAY_2026_11_28)
    assert business_days(date(2026, 11, 1), date(2026, 11, 30), holidays) == 20


def test_holidays_outside_the_span_or_listed_twice_count_once_or_not_at_all():
    holidays = (THANKSGIVING_2026, THANKSGIVING_2026, date(2026, 12, 1))
    assert business_days(date(2026, 11, 1), date(2026, 11, 30), holidays) == 20


def test_end_before_start_has_no_business_days():
    assert business_days(date(2026, 11, 30), date(2026, 11, 1)) == 0


@given(
    first=st.dates(date(2020, 1, 1), date(2030, 12, 31)),
    last=st.dates(date(2020, 1, 1), date(2030, 12, 31)),
    holidays=st.lists(st.dates(date(2020, 1, 1), date(2030, 12, 31)), max_size=20),
)
def test_business_days_equal_a_day_by_day_count(first, last, holidays):
    counted = 0
    day = first
    while day <= last:
        if day.weekday() < 5 and day not in holidays:
            counted += 1
        day += timedelta(days=1)
    assert business_days(first, last, tuple(holidays)) == counted


# Elapsed shares


def test_elapsed_business_share_is_zero_before_the_period_and_one_after():
    assert elapsed_business_share(NOVEMBER_2026, date(2026, 10, 31)) == 0.0
    assert elapsed_business_share(NOVEMBER_2026, date(2026, 11, 30)) == 1.0
    assert elapsed_business_share(NOVEMBER_2026, date(2027, 1, 1)) == 1.0


def test_elapsed_business_share_counts_business_days_through_as_of():
    # Friday 13 November is the 10th business day of November's 21, or of 20 with Thanksgiving.
    assert elapsed_business_share(NOVEMBER_2026, date(2026, 11, 13)) == 10 / 21
    assert elapsed_business_share(NOVEMBER_2026, date(2026, 11, 13), (THANKSGIVING_2026,)) == 0.5
    # The weekend after adds nothing.
    assert elapsed_business_share(NOVEMBER_2026, date(2026, 11, 15)) == 10 / 21
    assert elapsed_business_share(Q4_2026, date(2026, 11, 30)) == 43 / 66


def test_elapsed_calendar_share_counts_days_through_as_of():
    assert elapsed_calendar_share(NOVEMBER_2026, date(2026, 10, 31)) == 0.0
    assert elapsed_calendar_share(NOVEMBER_2026, date(2026, 11, 1)) == 1 / 30
    assert elapsed_calendar_share(NOVEMBER_2026, date(2026, 11, 15)) == 0.5
    assert elapsed_calendar_share(NOVEMBER_2026, date(2026, 12, 5)) == 1.0


# Weeks


def test_first_day_is_week_1_and_eighth_day_is_week_2():
    assert week_of_period(date(2026, 10, 1), Q4_2026) == 1
    assert week_of_period(date(2026, 10, 7), Q4_2026) == 1
    assert week_of_period(date(2026, 10, 8), Q4_2026) == 2


def test_last_day_of_a_92_day_quarter_is_week_13():
    assert weeks_in_period(Q4_2026) == 13
    assert week_of_period(date(2026, 12, 31), Q4_2026) == 13


def test_every_quarter_has_13_weeks_and_a_month_has_4():
    q1_2026 = fiscal_quarter(date(2026, 1, 1), CALENDAR)  # 90 days
    q2_2026 = fiscal_quarter(date(2026, 4, 1), CALENDAR)  # 91 days
    assert [weeks_in_period(q) for q in (q1_2026, q2_2026, Q3_2026, Q4_2026)] == [13, 13, 13, 13]
    assert week_of_period(q1_2026.end, q1_2026) == 13
    assert weeks_in_period(NOVEMBER_2026) == 4
    assert weeks_in_period(fiscal_month(date(2026, 2, 1))) == 4


def test_week_of_period_clamps_days_outside_the_period():
    assert week_of_period(date(2026, 9, 1), Q4_2026) == 1
    assert week_of_period(date(2027, 3, 1), Q4_2026) == 13


def test_holidays_are_read_one_per_line_and_junk_is_reported():
    from lib.fiscal import parse_holidays

    days, unreadable = parse_holidays("2026-12-25\n 2026-11-26 , Boxing Day\n\n2026-12-25")
    assert days == (date(2026, 11, 26), date(2026, 12, 25))
    assert unreadable == ("Boxing Day",)
