"""US-market calendars (MD-2) as data in the core: holidays and early closes of a session.

The runtime computes them (``runtime/calendars.py``, from the ``holidays`` package's NYSE
calendar plus the NYSE early-close rules) and hands them over in ``SetSessionCalendar``; the
``SessionCalendarSet`` event journals them, so a replay decides exactly as the live engine did.
Without a calendar nothing changes: the weekly schedule of :mod:`atlas_oms.core.sessions` applies
and DAY orders end at the instrument's ``day_close_utc_min``.

With one, for an instrument following the session:

* a holiday is CLOSED all day (no pre-market, no after-hours);
* an early close ends the regular session at its close (13:00) and the after-hours session four
  hours later (17:00), as NYSE Arca does;
* a DAY order ends at the real close of its session day (:func:`day_order_expiry`);
* T+1 settlement skips holidays as well as weekends (:func:`closed_days`).

:class:`UsMarketBook` is also where the pattern-day-trader counts live (``day_trades.py``).
"""

from __future__ import annotations

import re
from decimal import Decimal
from typing import TYPE_CHECKING

import msgspec

from atlas_oms.core.sessions import (
    SECOND_NS,
    civil_from_days,
    days_from_civil,
    new_york_offset,
    scheduled_status,
)
from atlas_oms.model import events as ev
from atlas_oms.model.risk import MarketStatus

if TYPE_CHECKING:
    from atlas_oms.core.state.state import State

REGULAR_CLOSE_MIN = 16 * 60
#: After-hours runs four hours past the regular close (20:00; 17:00 after a 13:00 close).
AFTER_HOURS_MIN = 4 * 60
_DAY_S = 86_400
_CLOSED = MarketStatus.CLOSED
_OPEN = MarketStatus.OPEN
_POST = MarketStatus.POST_MARKET
#: Stored close minute of a holiday.
HOLIDAY = -1
DATE = re.compile(r"\d{4}-\d{2}-\d{2}")


class UsMarketBook(msgspec.Struct, gc=False):
    """US-market state (folded, snapshotted, hashed when not empty).

    ``calendars``: session -> {day number (days since 1970-01-01): close minute, or -1 for a
    holiday}. ``day_trades``: account -> trade days of its day trades (one entry per day trade,
    the last ten business days kept). ``legs``: account -> {symbol: (trade day, 1 opened today /
    2 closed since)}. ``close_equity``: account -> (trade day, equity at its regular close).
    ``actions``: ids of corporate actions applied. ``queued``: order id -> when it is released
    (orders accepted outside their session, ``session_queue.py``).
    """

    calendars: dict[str, dict[int, int]] = msgspec.field(default_factory=dict)
    day_trades: dict[str, list[int]] = msgspec.field(default_factory=dict)
    legs: dict[str, dict[str, tuple[int, int]]] = msgspec.field(default_factory=dict)
    close_equity: dict[str, tuple[int, Decimal]] = msgspec.field(default_factory=dict)
    actions: list[str] = msgspec.field(default_factory=list)
    queued: dict[int, int] = msgspec.field(default_factory=dict)
    #: symbol -> (id, share factor) of the splits and bonus issues applied to it, oldest first:
    #: a reconciliation that finds the broker's share count off by such a factor names it
    #: (``share_recon.py``). Not hashed: the ids are (``actions``), and the rest is the
    #: journaled events'.
    share_actions: dict[str, list[tuple[str, Decimal]]] = msgspec.field(default_factory=dict)

    def __bool__(self) -> bool:
        return bool(
            self.calendars
            or self.day_trades
            or self.legs
            or self.close_equity
            or self.actions
            or self.queued
        )

    def canonical(self) -> list[object] | None:
        """What the state's digest covers: calendars, close equity, corporate actions. The
        day-trade counts are left out: they follow from the fills (hashed already) in journal
        order, and leaving them out keeps the digests of journals recorded before them."""
        if not (self.calendars or self.close_equity or self.actions or self.queued):
            return None
        out: list[object] = [
            sorted((s, sorted(days.items())) for s, days in self.calendars.items()),
            sorted(self.close_equity.items()),
            list(self.actions),
        ]
        if self.queued:  # appended only when used: older digests stay as they were
            out.append(sorted(self.queued.items()))
        return out


def day_number(text: str) -> int:
    y, m, d = (int(x) for x in text.split("-"))
    return days_from_civil(y, m, d)


def day_text(day: int) -> str:
    y, m, d = civil_from_days(day)
    return f"{y:04d}-{m:02d}-{d:02d}"


def local_day_minute(ts: int) -> tuple[int, int]:
    """(New York day number, minute of that day) of an instant in ns."""
    utc_s = ts // SECOND_NS
    local = utc_s + new_york_offset(utc_s)
    return local // _DAY_S, (local % _DAY_S) // 60


def local_ts(day: int, minute: int) -> int:
    """The instant (ns) of ``minute`` after midnight, New York time, on ``day``."""
    guess = day * _DAY_S + minute * 60
    return (guess - new_york_offset(guess + 5 * 3600)) * SECOND_NS


def is_weekday(day: int) -> bool:
    return (day + 3) % 7 < 5  # 0 = Monday; 1970-01-01 was a Thursday


def close_minute(book: UsMarketBook | None, session: str, day: int) -> int | None:
    """The regular close of ``day`` (minutes after local midnight); None when it has no session."""
    if not is_weekday(day):
        return None
    days = book.calendars.get(session) if book is not None else None
    close = days.get(day, REGULAR_CLOSE_MIN) if days else REGULAR_CLOSE_MIN
    return None if close == HOLIDAY else close


def closed_days(book: UsMarketBook | None, session: str) -> set[int] | dict[int, int]:
    """The holidays of ``session`` (a container of day numbers; empty without a calendar)."""
    days = book.calendars.get(session) if book is not None else None
    if not days:
        return set()
    return {d for d, c in days.items() if c == HOLIDAY}


def session_status(book: UsMarketBook | None, session: str, ts: int) -> MarketStatus:
    """The session ``ts`` falls in: the weekly schedule, corrected by the calendar."""
    status = scheduled_status(session, ts)
    days = book.calendars.get(session) if book is not None else None
    if not days or status is _CLOSED:
        return status
    day, minute = local_day_minute(ts)
    close = days.get(day)
    if close is None:
        return status
    if close == HOLIDAY:
        return _CLOSED
    if status is _OPEN and minute >= close:
        return _POST
    if status is _POST and minute >= close + AFTER_HOURS_MIN:
        return _CLOSED
    return status


def has_calendar(book: UsMarketBook | None, session: str) -> bool:
    return book is not None and session in book.calendars


def day_order_expiry(book: UsMarketBook | None, session: str, ts: int, extended: bool) -> int:
    """When a DAY order placed at ``ts`` ends: the regular close of its session day (13:00 on an
    early close); an extended-hours order placed after that close, the end of after-hours; one
    placed when there is no session left that day, the next session day's close."""
    day, minute = local_day_minute(ts)
    close = close_minute(book, session, day)
    if close is not None:
        if minute < close:
            return local_ts(day, close)
        if extended and minute < close + AFTER_HOURS_MIN:
            return local_ts(day, close + AFTER_HOURS_MIN)
    for _ in range(30):
        day += 1
        close = close_minute(book, session, day)
        if close is not None:
            return local_ts(day, close)
    raise ValueError(f"no session of {session} within 30 days")  # pragma: no cover


def business_days_back(book: UsMarketBook | None, session: str, day: int, count: int) -> int:
    """The first day of the window of ``count`` session days ending with ``day``."""
    first = day
    left = count - 1
    while left > 0:
        first -= 1
        if close_minute(book, session, first) is not None:
            left -= 1
    return first


# ------------------------------------------------------------------------------ handler, fold
def apply_session_calendar_set(state: State, e: ev.SessionCalendarSet) -> None:
    days = state.equities.us.calendars.setdefault(e.session, {})
    first, last = day_number(e.first_day), day_number(e.last_day)
    for d in [d for d in days if first <= d <= last]:
        del days[d]
    for day, close, _ in e.exceptions:
        days[day_number(day)] = HOLIDAY if close is None else close
