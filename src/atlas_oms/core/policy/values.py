"""The value types of the execution-policy parameters and how text becomes them.

A parameter's :data:`Kind` says how a value is checked: ``ms`` and ``count`` are ``int`` (at least
the parameter's minimum), ``fraction`` a Decimal in [0, 1] (``"0.1%"`` is also accepted and is
0.001), ``ratio`` and ``decimal`` a Decimal > 0, ``time`` a :class:`TimeOfDay` ``HH:MM``, ``zone``
an IANA time zone name, ``tranches`` a tuple of :class:`Tranche` (``0.40@1R,0.40@2R,0.20@RUNNER``).
A wrong value raises ``ValueError`` with a sentence; :func:`~atlas_oms.core.policy.params.coerce`
turns it into a refusal naming the key.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Literal

__all__ = [
    "CONVERT",
    "Kind",
    "SessionDay",
    "TimeOfDay",
    "Tranche",
    "format_value",
    "parse_tranches",
]

Kind = Literal[
    "ms", "count", "fraction", "ratio", "decimal", "time", "zone", "tranches", "calendar"
]


def _decimal(value: object) -> Decimal:
    if isinstance(value, bool):
        raise ValueError(f"{value!r} is not a number")
    if isinstance(value, Decimal):
        return value
    if isinstance(value, int | float):
        return Decimal(str(value))
    if isinstance(value, str):
        text = value.strip()
        try:
            if text.endswith("%"):
                return Decimal(text[:-1].strip()) / 100
            return Decimal(text)
        except InvalidOperation:
            raise ValueError(f"{value!r} is not a number") from None
    raise ValueError(f"{value!r} is not a number")


def _fraction(value: object) -> Decimal:
    number = _decimal(value)
    if not number.is_finite() or not Decimal(0) <= number <= Decimal(1):
        raise ValueError(f"{value!r} is not a fraction in [0, 1] (0.001 = 0.1%)")
    return number


@dataclass(frozen=True, slots=True)
class TimeOfDay:
    """A wall-clock time ``HH:MM`` (in the policy's time zone)."""

    hour: int
    minute: int

    def __post_init__(self) -> None:
        if not (0 <= self.hour <= 23 and 0 <= self.minute <= 59):
            raise ValueError(f"{self.hour:02d}:{self.minute:02d} is not a time of day")

    @property
    def minutes(self) -> int:
        """Minutes since midnight."""
        return self.hour * 60 + self.minute

    def __str__(self) -> str:
        return f"{self.hour:02d}:{self.minute:02d}"


@dataclass(frozen=True, slots=True)
class Tranche:
    """One tranche of a profile (§6.1): its ``share`` of the position and its target: an
    R-multiple (``"2R"``), the intent's key level (``"KEY"``) or the trailed runner (``"RUNNER"``)."""

    share: Decimal
    target: str

    @property
    def r_multiple(self) -> Decimal | None:
        """The target's R-multiple, or None for KEY and RUNNER."""
        return (
            Decimal(self.target[:-1])
            if self.target.endswith("R") and self.target != "RUNNER"
            else None
        )

    def __str__(self) -> str:
        return f"{self.share}@{self.target}"


@dataclass(frozen=True, slots=True)
class SessionDay:
    """One exchange-calendar exception (seed 001 §11 "exchange calendar aware"): on ``day``
    (``YYYY-MM-DD``, local date) the regular session closes at ``close`` (an early close), or
    there is no session (``close`` None, a holiday). Written ``2026-11-27=13:00`` or
    ``2026-12-25=CLOSED``."""

    day: str
    close: TimeOfDay | None

    def __str__(self) -> str:
        return f"{self.day}={self.close if self.close is not None else 'CLOSED'}"


def _session_day(text: str) -> SessionDay:
    day, sep, close = text.strip().partition("=")
    day = day.strip()
    if not sep or not re.fullmatch(r"\d{4}-\d{2}-\d{2}", day):
        raise ValueError(f"{text.strip()!r} is not YYYY-MM-DD=HH:MM or YYYY-MM-DD=CLOSED")
    close = close.strip()
    return SessionDay(day, None if close.upper() == "CLOSED" else _time(close))


def _calendar(value: object) -> tuple[SessionDay, ...]:
    if isinstance(value, str):
        items: list[object] = [part for part in value.split(",") if part.strip()]
    elif isinstance(value, list | tuple):
        items = list(value)
    else:
        raise ValueError(f"{value!r} is not a calendar (e.g. 2026-11-27=13:00,2026-12-25=CLOSED)")
    days = tuple(i if isinstance(i, SessionDay) else _session_day(str(i)) for i in items)
    return tuple(sorted(days, key=lambda d: d.day))


def parse_tranches(text: str) -> tuple[Tranche, ...]:
    return tuple(_tranche(part) for part in text.split(","))


def _tranche(text: str) -> Tranche:
    share, sep, target = text.strip().partition("@")
    target = target.strip().upper()
    if not sep or not (target in ("KEY", "RUNNER") or re.fullmatch(r"\d+(\.\d+)?R", target)):
        raise ValueError(f"{text.strip()!r} is not SHARE@TARGET (TARGET: <n>R, KEY or RUNNER)")
    return Tranche(_fraction(share), target)


def _positive(value: object) -> Decimal:
    number = _decimal(value)
    if not number.is_finite() or number <= 0:
        raise ValueError(f"{value!r} is not a number > 0")
    return number


def _integer(value: object, minimum: int) -> int:
    if isinstance(value, bool):
        raise ValueError(f"{value!r} is not a whole number")
    if isinstance(value, int):
        number = value
    elif isinstance(value, str) and re.fullmatch(r"\s*[+-]?\d[\d_]*\s*", value):
        number = int(value)
    else:
        raise ValueError(f"{value!r} is not a whole number")
    if number < minimum:
        raise ValueError(f"{value!r} is below the minimum {minimum}")
    return number


def _time(value: object) -> TimeOfDay:
    if isinstance(value, TimeOfDay):
        return value
    match = re.fullmatch(r"\s*(\d{1,2}):(\d{2})\s*", value) if isinstance(value, str) else None
    if match is None:
        raise ValueError(f"{value!r} is not a time of day HH:MM")
    return TimeOfDay(int(match[1]), int(match[2]))


def _zone(value: object) -> str:
    if not isinstance(value, str) or not re.fullmatch(
        r"[A-Za-z][A-Za-z0-9_+\-]*(/[A-Za-z0-9_+\-]+)*", value.strip()
    ):
        raise ValueError(f"{value!r} is not a time zone name (e.g. America/New_York)")
    return value.strip()


def _tranche_list(value: object) -> tuple[Tranche, ...]:
    if isinstance(value, str):
        tranches = parse_tranches(value)
    elif isinstance(value, list | tuple):
        tranches = tuple(
            item if isinstance(item, Tranche) else _tranche(str(item)) for item in value
        )
    else:
        raise ValueError(f"{value!r} is not a tranche list (e.g. 0.40@1R,0.40@2R,0.20@RUNNER)")
    if not tranches or sum((t.share for t in tranches), Decimal(0)) != 1:
        raise ValueError(f"the shares of {value!r} do not add up to 1")
    if any(t.share <= 0 for t in tranches):
        raise ValueError(f"every share of {value!r} must be > 0")
    if tranches[-1].target != "RUNNER" or any(t.target == "RUNNER" for t in tranches[:-1]):
        raise ValueError(f"the last tranche of {value!r}, and only it, must be the RUNNER")
    return tranches


CONVERT: dict[Kind, Callable[[object, int], object]] = {
    "ms": _integer,
    "count": _integer,
    "fraction": lambda v, _m: _fraction(v),
    "ratio": lambda v, _m: _positive(v),
    "decimal": lambda v, _m: _positive(v),
    "time": lambda v, _m: _time(v),
    "zone": lambda v, _m: _zone(v),
    "tranches": lambda v, _m: _tranche_list(v),
    "calendar": lambda v, _m: _calendar(v),
}


def format_value(value: object) -> str:
    """A value as a parameter file writes it."""
    if isinstance(value, tuple):
        return ",".join(str(item) for item in value)
    return str(value)
