"""Trading sessions by schedule, computed from the timestamp alone (no clock, no I/O).

``XNYS`` is the US equities day in New York time: pre-market 04:00-09:30, regular 09:30-16:00,
post-market 16:00-20:00, Monday to Friday; US daylight saving time by its rule since 2007 (second
Sunday of March to first Sunday of November, at 02:00 local). Exchange holidays and early closes
are not in the schedule: an operator (or the runtime, from a calendar) sets them with
``SetMarketStatus``.
"""

from __future__ import annotations

from atlas_oms.model.risk import MarketStatus

SECOND_NS = 1_000_000_000
_EST = -5 * 3600
_EDT = -4 * 3600
_cache: dict[tuple[str, int], MarketStatus] = {}


def civil_from_days(days: int) -> tuple[int, int, int]:
    """(year, month, day) of a day count since 1970-01-01 (Howard Hinnant's algorithm)."""
    z = days + 719468
    era = (z if z >= 0 else z - 146096) // 146097
    doe = z - era * 146097
    yoe = (doe - doe // 1460 + doe // 36524 - doe // 146096) // 365
    y = yoe + era * 400
    doy = doe - (365 * yoe + yoe // 4 - yoe // 100)
    mp = (5 * doy + 2) // 153
    d = doy - (153 * mp + 2) // 5 + 1
    m = mp + 3 if mp < 10 else mp - 9
    return (y + 1 if m <= 2 else y), m, d


def days_from_civil(y: int, m: int, d: int) -> int:
    y -= m <= 2
    era = (y if y >= 0 else y - 399) // 400
    yoe = y - era * 400
    doy = (153 * (m + (-3 if m > 2 else 9)) + 2) // 5 + d - 1
    doe = yoe * 365 + yoe // 4 - yoe // 100 + doy
    return era * 146097 + doe - 719468


def iso_utc(ts: int) -> str:
    """``ts`` (ns since the epoch) as ``YYYY-MM-DD HH:MM:SS UTC``, for sentences people read."""
    seconds = ts // SECOND_NS
    y, m, d = civil_from_days(seconds // 86400)
    rest = seconds % 86400
    return f"{y:04d}-{m:02d}-{d:02d} {rest // 3600:02d}:{rest % 3600 // 60:02d}:{rest % 60:02d} UTC"


def _nth_sunday(year: int, month: int, n: int) -> int:
    """Day number of the n-th Sunday of a month."""
    first = days_from_civil(year, month, 1)
    weekday = (first + 3) % 7  # 0 = Monday; 1970-01-01 was a Thursday
    return first + (6 - weekday) % 7 + 7 * (n - 1)


def new_york_offset(utc_s: int) -> int:
    """UTC offset of New York, in seconds, at a UTC instant."""
    year = civil_from_days(utc_s // 86400)[0]
    start = _nth_sunday(year, 3, 2) * 86400 + 2 * 3600 - _EST  # 02:00 EST
    end = _nth_sunday(year, 11, 1) * 86400 + 2 * 3600 - _EDT  # 02:00 EDT
    return _EDT if start <= utc_s < end else _EST


def scheduled_status(session: str, ts: int) -> MarketStatus:
    """The session an instrument following ``session`` is in at ``ts`` (ns since the epoch)."""
    minute = ts // (60 * SECOND_NS)
    key = (session, minute)
    status = _cache.get(key)
    if status is None:
        if session != "XNYS":
            raise ValueError(f"unknown session schedule {session!r}")
        utc_s = minute * 60
        local = utc_s + new_york_offset(utc_s)
        weekday = (local // 86400 + 3) % 7  # 0 = Monday
        mins = (local % 86400) // 60
        if weekday >= 5 or mins < 4 * 60 or mins >= 20 * 60:
            status = MarketStatus.CLOSED
        elif mins < 9 * 60 + 30:
            status = MarketStatus.PRE_MARKET
        elif mins < 16 * 60:
            status = MarketStatus.OPEN
        else:
            status = MarketStatus.POST_MARKET
        if len(_cache) > 4096:
            _cache.clear()
        _cache[key] = status
    return status
