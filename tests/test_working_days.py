"""Working days for the triage deadlines: weekends and public holidays skipped, Bishkek dates."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

import config
from config import ConfigurationError
from register.services.working_days import (
    Holidays,
    add_working_days,
    deadline,
    is_working_day,
    working_days_left,
)


def test_the_default_holidays_are_the_fixed_kyrgyz_ones(app):
    holidays = Holidays.parse(app.config["PUBLIC_HOLIDAYS"])
    for day in (date(2026, 1, 1), date(2026, 3, 8), date(2026, 3, 21), date(2026, 8, 31)):
        assert day in holidays
    assert date(2026, 11, 7) in holidays and date(2026, 11, 8) in holidays
    assert date(2026, 11, 23) not in holidays
    assert is_working_day(date(2026, 11, 23), holidays)  # a Monday
    assert not is_working_day(date(2026, 11, 28), holidays)  # a Saturday
    assert not is_working_day(date(2027, 3, 8), holidays)  # a Monday, Women's Day


def test_working_days_skip_weekends_and_holidays():
    none = Holidays.parse([])
    # Monday + 3 = Thursday; Friday + 3 = Wednesday; Saturday + 3 = Wednesday.
    assert add_working_days(date(2026, 11, 23), 3, none) == date(2026, 11, 26)
    assert add_working_days(date(2026, 11, 27), 3, none) == date(2026, 12, 2)
    assert add_working_days(date(2026, 11, 28), 3, none) == date(2026, 12, 2)
    # Around Nooruz (Saturday 21 March 2026) and 8 March: a yearly and a one-off holiday.
    holidays = Holidays.parse(["03-09", "2026-03-10"])
    assert add_working_days(date(2026, 3, 6), 3, holidays) == date(2026, 3, 13)
    assert add_working_days(date(2027, 3, 5), 3, holidays) == date(2027, 3, 11)  # 10th works
    with pytest.raises(ValueError):
        add_working_days(date(2026, 3, 6), 0, holidays)


def test_a_deadline_ends_at_bishkek_midnight_of_the_last_working_day(app):
    with app.app_context():
        none = Holidays.parse([])
        # Friday 27 November 2026, 23:30 in Bishkek is 17:30 UTC: still Friday locally.
        friday_night = datetime(2026, 11, 27, 17, 30, tzinfo=UTC)
        assert deadline(friday_night, 3, none) == datetime(2026, 12, 2, 18, 0, tzinfo=UTC)
        # 18:30 UTC on Friday is already Saturday in Bishkek: the same three working days.
        saturday = datetime(2026, 11, 27, 18, 30, tzinfo=UTC)
        assert deadline(saturday, 3, none) == datetime(2026, 12, 2, 18, 0, tzinfo=UTC)
        # Thursday 26 November, 23:59 Bishkek = 17:59 UTC: Friday, Monday, Tuesday.
        thursday = datetime(2026, 11, 26, 17, 59, tzinfo=UTC)
        assert deadline(thursday, 3, none) == datetime(2026, 12, 1, 18, 0, tzinfo=UTC)


def test_working_days_left_counts_down_and_past_the_deadline(app):
    with app.app_context():
        none = Holidays.parse([])
        due = datetime(2026, 12, 2, 18, 0, tzinfo=UTC)  # end of Wednesday 2 December
        assert working_days_left(due, datetime(2026, 11, 27, 6, 0, tzinfo=UTC), none) == 3
        assert working_days_left(due, datetime(2026, 11, 30, 6, 0, tzinfo=UTC), none) == 2
        assert working_days_left(due, datetime(2026, 12, 2, 6, 0, tzinfo=UTC), none) == 0
        assert working_days_left(due, datetime(2026, 12, 2, 18, 1, tzinfo=UTC), none) == -1
        assert working_days_left(due, datetime(2026, 12, 7, 6, 0, tzinfo=UTC), none) == -3


def test_holidays_are_configurable_and_checked(make_app):
    app = make_app(PUBLIC_HOLIDAYS="12-31, 2026-12-30", BREACH_TRIAGE_WORKING_DAYS="5")
    assert app.config["PUBLIC_HOLIDAYS"] == ("12-31", "2026-12-30")
    assert app.config["BREACH_TRIAGE_WORKING_DAYS"] == 5
    with app.app_context():
        start = datetime(2026, 12, 28, 6, 0, tzinfo=UTC)  # Monday
        # Tue, (Wed 30 and Thu 31 holidays), Fri 1 Jan is not a holiday here, Mon 4, Tue 5.
        assert deadline(start, 4) == datetime(2027, 1, 5, 18, 0, tzinfo=UTC)
    for bad in ("13-01", "2026-02-30", "Nooruz", "1-1"):
        with pytest.raises(ConfigurationError, match="PUBLIC_HOLIDAYS"):
            config.TestingConfig({"PUBLIC_HOLIDAYS": bad})
