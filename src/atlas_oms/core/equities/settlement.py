"""US-equities dates: the trade date, T+1 settlement, and whether an instant is intraday."""

from __future__ import annotations

from atlas_oms.core.sessions import SECOND_NS, civil_from_days, new_york_offset, scheduled_status
from atlas_oms.model.risk import MarketStatus

#: Business days from trade date to settlement (SEC Rule 15c6-1, T+1 since 2024-05-28).
SETTLEMENT_DAYS = 1
#: The schedule "intraday" is read from: the regular session of the New York Stock Exchange.
INTRADAY_SESSION = "XNYS"
_DAY_S = 86_400


def trade_day(ts: int) -> int:
    """The New York calendar day (days since 1970-01-01) of an instant in ns: the trade date."""
    utc_s = ts // SECOND_NS
    return (utc_s + new_york_offset(utc_s)) // _DAY_S


def settlement_ts(ts: int, days: int = SETTLEMENT_DAYS) -> int:
    """When a trade made at ``ts`` settles: 00:00 New York time on the ``days``-th weekday after
    its trade date (so a Friday sale settles on Monday). Exchange holidays are not modelled: a
    sale the day before one settles a day early."""
    day = trade_day(ts)
    left = days
    while left:
        day += 1
        if (day + 3) % 7 < 5:  # 0 = Monday; 1970-01-01 was a Thursday
            left -= 1
    # A weekday never holds a daylight-saving change (they happen on Sundays): noon's offset
    # is midnight's.
    return (day * _DAY_S - new_york_offset(day * _DAY_S + 12 * 3600)) * SECOND_NS


def trade_date_text(ts: int) -> str:
    y, m, d = civil_from_days(trade_day(ts))
    return f"{y:04d}-{m:02d}-{d:02d}"


def is_intraday(ts: int) -> bool:
    """Whether ``ts`` is in the regular session (09:30-16:00 New York, Monday to Friday)."""
    return scheduled_status(INTRADAY_SESSION, ts) is MarketStatus.OPEN
