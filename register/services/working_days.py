"""Working days in the agency's time zone: the deadlines of breach and complaint triage.

A working day is a weekday that is not a public holiday (PUBLIC_HOLIDAYS: `MM-DD` every year,
or `YYYY-MM-DD` once). A deadline of N working days from a moment ends at the end of the Nth
working day after the moment's local date (Asia/Bishkek by default): filed on a Friday, three
working days end on Wednesday night. Deadlines are stored in UTC.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from flask import current_app

from register.i18n import agency_timezone

SATURDAY = 5


@dataclass(frozen=True)
class Holidays:
    """Public holidays: some every year (month, day), some on one date."""

    yearly: frozenset[tuple[int, int]]
    dated: frozenset[date]

    @classmethod
    def parse(cls, entries: Iterable[str]) -> Holidays:
        """Read `MM-DD` and `YYYY-MM-DD` entries (already checked by the configuration)."""
        yearly: set[tuple[int, int]] = set()
        dated: set[date] = set()
        for entry in entries:
            parts = [int(part) for part in entry.split("-")]
            if len(parts) == 2:
                yearly.add((parts[0], parts[1]))
            else:
                dated.add(date(parts[0], parts[1], parts[2]))
        return cls(frozenset(yearly), frozenset(dated))

    def __contains__(self, day: object) -> bool:
        return isinstance(day, date) and ((day.month, day.day) in self.yearly or day in self.dated)


def configured_holidays() -> Holidays:
    """The holidays of the app's configuration."""
    return Holidays.parse(current_app.config["PUBLIC_HOLIDAYS"])


def is_working_day(day: date, holidays: Holidays) -> bool:
    """Monday to Friday, and not a public holiday."""
    return day.weekday() < SATURDAY and day not in holidays


def add_working_days(start: date, days: int, holidays: Holidays) -> date:
    """The `days`-th working day after `start` (`start` itself never counts)."""
    if days < 1:
        raise ValueError("a deadline counts at least one working day")
    current, counted = start, 0
    while counted < days:
        current += timedelta(days=1)
        if is_working_day(current, holidays):
            counted += 1
    return current


def deadline(moment: datetime, days: int, holidays: Holidays | None = None) -> datetime:
    """The end (local midnight, in UTC) of the `days`-th working day after `moment`'s date."""
    zone = agency_timezone()
    local_day = moment.astimezone(zone).date()
    last = add_working_days(local_day, days, holidays or configured_holidays())
    return datetime.combine(last + timedelta(days=1), time(0, 0), tzinfo=zone).astimezone(UTC)


def last_day(due_at: datetime) -> date:
    """The local date of a deadline's last day (a deadline is the midnight that ends it)."""
    return (due_at.astimezone(agency_timezone()) - timedelta(microseconds=1)).date()


def working_days_left(due_at: datetime, now: datetime, holidays: Holidays | None = None) -> int:
    """Whole working days from `now`'s local date to the deadline's last day (0: due today).

    Negative once the deadline has passed: the working days since it, at least 1.
    """
    zone = agency_timezone()
    holidays = holidays or configured_holidays()
    today = now.astimezone(zone).date()
    final = last_day(due_at)
    if now < due_at:
        return sum(
            1
            for offset in range(1, (final - today).days + 1)
            if is_working_day(today + timedelta(days=offset), holidays)
        )
    late = sum(
        1
        for offset in range(1, (today - final).days + 1)
        if is_working_day(final + timedelta(days=offset), holidays)
    )
    return -max(1, late)
