"""The NYSE calendar the runtime hands to the core (MD-2): holidays from the ``holidays``
package, early closes by the NYSE's rules. The 2026 days are pinned here, from the NYSE's
published 2026 calendar (they agree with exchange_calendars 4.13.2 as well)."""

from __future__ import annotations

import datetime as dt

from atlas_oms import Engine
from atlas_oms.model import events as ev
from atlas_oms.runtime.calendars import nyse_calendar_command, nyse_exceptions

HOLIDAYS_2026 = {
    "2026-01-01",  # New Year's Day
    "2026-01-19",  # Martin Luther King Jr. Day
    "2026-02-16",  # Washington's Birthday
    "2026-04-03",  # Good Friday
    "2026-05-25",  # Memorial Day
    "2026-06-19",  # Juneteenth
    "2026-07-03",  # Independence Day, observed (July 4 is a Saturday)
    "2026-09-07",  # Labor Day
    "2026-11-26",  # Thanksgiving
    "2026-12-25",  # Christmas
}
EARLY_CLOSES_2026 = {"2026-11-27": 780, "2026-12-24": 780}


def test_the_2026_nyse_holidays_and_early_closes_come_from_the_library_and_the_rules() -> None:
    days = nyse_exceptions(dt.date(2026, 1, 1), dt.date(2026, 12, 31))
    assert {d.day for d in days if d.close_min is None} == HOLIDAYS_2026
    assert {d.day: d.close_min for d in days if d.close_min is not None} == EARLY_CLOSES_2026
    # July 4 2026 is a Saturday: the holiday is observed on Friday July 3, and Thursday July 2
    # closes at 16:00 as usual (no early close).
    assert "2026-07-02" not in {d.day for d in days}


def test_early_close_rules_in_other_years() -> None:
    days = {d.day: d.close_min for d in nyse_exceptions(dt.date(2024, 1, 1), dt.date(2027, 12, 31))}
    assert days["2024-07-03"] == 780  # a Wednesday
    assert days["2025-07-03"] == 780  # a Thursday
    assert days["2024-12-24"] == 780 and days["2025-12-24"] == 780
    assert days["2027-12-24"] is None  # Christmas 2027 (a Saturday) is observed on Friday 24th
    assert days["2025-01-09"] is None  # the national day of mourning for President Carter


def test_the_calendar_command_is_journaled_so_a_replay_sees_the_same_days() -> None:
    engine = Engine()
    out = engine.handle(nyse_calendar_command(dt.date(2026, 1, 1), dt.date(2026, 12, 31), ts=1))
    (event,) = out
    assert isinstance(event, ev.SessionCalendarSet)
    assert event.first_day == "2026-01-01" and event.last_day == "2026-12-31"
    assert len(event.exceptions) == 12
    fresh = Engine()
    fresh.apply_all(out)
    assert fresh.state.equities.us == engine.state.equities.us
    assert fresh.digest() == engine.digest()
