"""A frozen clock for the breach and complaint services: the 72-hour clock and triage deadlines.

The services read the time through their module's `utcnow`; `FrozenClock` replaces it in each of
them (and in the triage helpers), so a test says exactly what time it is, in UTC, and moves it.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

MODULES = (
    "register.services.breaches",
    "register.services.complaints",
    "register.services.triage",
    "register.services.reminders",
)
BISHKEK = ZoneInfo("Asia/Bishkek")


def bishkek(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    """A moment given in Bishkek time, as the UTC datetime the database stores."""
    return datetime(year, month, day, hour, minute, tzinfo=BISHKEK).astimezone(UTC)


class FrozenClock:
    """The current time of the services, set and moved by the test."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch, at: datetime) -> None:
        self.now = at
        for module in MODULES:
            monkeypatch.setattr(f"{module}.utcnow", lambda: self.now)

    def set(self, at: datetime) -> None:
        """Move the clock to `at`."""
        self.now = at

    def advance(self, delta: timedelta) -> None:
        """Move the clock on by `delta`."""
        self.now += delta
