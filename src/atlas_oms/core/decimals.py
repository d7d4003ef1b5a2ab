"""Exact-number helpers shared by every domain of the core: rounding onto a tick or onto the
money quantum, the sanity bound, and how a number reads in a sentence."""

from __future__ import annotations

from decimal import MAX_EMAX, MIN_EMIN, ROUND_CEILING, ROUND_FLOOR, Context, Decimal

ZERO = Decimal(0)
ONE = Decimal(1)
HUNDRED = Decimal(100)
#: No price, quantity or amount may reach this magnitude, whatever an instrument allows.
ABSURD = Decimal("1e18")
#: Margin is kept to this many places: a division by leverage would otherwise repeat to 28
#: digits, and adding and removing such amounts in ``locked`` would leave dust behind.
MONEY_QUANTUM = Decimal("1e-12")


def round_money(value: Decimal, rounding: str = ROUND_CEILING) -> Decimal:
    """Round ``value`` onto :data:`MONEY_QUANTUM` if it is finer; coarser values stay as they are."""
    exponent = value.as_tuple().exponent
    if isinstance(exponent, int) and exponent < -12:
        return value.quantize(MONEY_QUANTUM, rounding=rounding)
    return value


def round_to_tick(price: Decimal, tick: Decimal, up: bool) -> Decimal:
    """Round a price onto the tick grid, up or down."""
    steps = (price / tick).to_integral_value(rounding=ROUND_CEILING if up else ROUND_FLOOR)
    return steps * tick


def plain(value: Decimal) -> str:
    """A number for a human sentence: no exponent, no trailing zeros. Never raises: a value
    beyond any sane magnitude (bad input being refused) reads as words, not a million digits."""
    if not value.is_finite():
        return str(value)
    if value and value.adjusted() > 36:
        return "an absurdly large number" if value > 0 else "an absurdly large negative number"
    if value and value.adjusted() < -36:
        return "an absurdly small number"
    return format(value.normalize(_WIDE), "f")


#: Wide enough to normalize any value :func:`plain` shows (the default context's exponent
#: limits would raise ``Overflow`` on values a request can carry).
_WIDE = Context(prec=80, Emax=MAX_EMAX, Emin=MIN_EMIN)


def is_amount(value: object) -> bool:
    """Whether ``value`` is a finite Decimal of sane magnitude (any sign, zero included)."""
    # copy_abs(), not abs(): abs() rounds in the context and overflows on 1E+1000000.
    return isinstance(value, Decimal) and value.is_finite() and value.copy_abs() < ABSURD
