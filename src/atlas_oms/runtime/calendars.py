"""US exchange calendars (MD-2), computed outside the pure core and handed to it as data.

Source: the ``holidays`` package (pandas-free; pure Python, one dependency, python-dateutil),
``holidays.financial_holidays("NYSE")``: the NYSE's full-day closures, including observed days
and one-off closures. Early closes are not in it; they follow the NYSE's published rules
(https://www.nyse.com/markets/hours-calendars), 13:00 New York time:

* the day before Independence Day, when July 3 is a Monday to Thursday trading day;
* the day after Thanksgiving (the fourth Friday of November);
* Christmas Eve, when December 24 is a Monday to Friday trading day (not when Christmas is
  observed on it).

Session times are fixed (pre-market 04:00-09:30, regular 09:30-16:00, after-hours 16:00-20:00;
after an early close, after-hours ends at 17:00) and live in the core
(``core/sessions.py``, ``core/equities/calendar.py``).

Why not ``exchange_calendars``: it pulls pandas, numpy, pyluach, korean_lunar_calendar and toolz
(~164 MB installed, ~0.8 s to import and build XNYS) into the OMS's runtime dependencies for a
table of ~12 days a year; ``holidays`` is 14 MB, imports and builds a year in ~0.13 s, and its
2026 NYSE holidays and the early-close rules above agree with exchange_calendars 4.13.2 for
2020-2030 (checked when this module was written; the 2026 days are pinned by
``tests/runtime/test_calendars.py``).
"""

from __future__ import annotations

import datetime as dt

from atlas_oms.model.commands import SessionException, SetSessionCalendar

#: 13:00 New York time, in minutes after midnight.
EARLY_CLOSE_MIN = 13 * 60


def nyse_exceptions(first: dt.date, last: dt.date) -> list[SessionException]:
    """The NYSE's holidays and early closes from ``first`` to ``last`` (inclusive), by day."""
    import holidays  # a runtime dependency; imported here so the core never sees it

    years = range(first.year, last.year + 1)
    closed = holidays.financial_holidays("NYSE", years=years)
    out: dict[dt.date, SessionException] = {}
    for day, name in closed.items():
        if first <= day <= last:
            out[day] = SessionException(day=day.isoformat(), close_min=None, name=str(name))

    def trading(day: dt.date) -> bool:
        return day.weekday() < 5 and day not in closed

    for year in years:
        nov1 = dt.date(year, 11, 1)
        thanksgiving = nov1 + dt.timedelta(days=(3 - nov1.weekday()) % 7 + 21)
        candidates = [
            (dt.date(year, 7, 3), "Day before Independence Day", 4),
            (thanksgiving + dt.timedelta(days=1), "Day after Thanksgiving", 5),
            (dt.date(year, 12, 24), "Christmas Eve", 5),
        ]
        for day, name, last_weekday in candidates:
            if first <= day <= last and day.weekday() < last_weekday and trading(day):
                out[day] = SessionException(
                    day=day.isoformat(), close_min=EARLY_CLOSE_MIN, name=name
                )
    return [out[d] for d in sorted(out)]


def nyse_calendar_command(
    first: dt.date, last: dt.date, *, ts: int = 0, actor: str = "calendar"
) -> SetSessionCalendar:
    """The ``SetSessionCalendar`` that hands the NYSE calendar of these days to the core."""
    return SetSessionCalendar(
        ts=ts,
        actor=actor,
        reason="NYSE holidays (holidays package) and early closes",
        session="XNYS",
        first_day=first.isoformat(),
        last_day=last.isoformat(),
        exceptions=tuple(nyse_exceptions(first, last)),
    )
