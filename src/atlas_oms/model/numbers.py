"""Exact numbers from people: the one place where a user's number becomes a ``Decimal``.

Every front end (the library, the REST API, the command line) takes numbers through these
functions, so a float, a boolean, NaN or a word is refused the same way everywhere.
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import overload

Number = Decimal | int | str | float


class NotANumber(ValueError):
    """The value is not an exact, finite number; the message says why, for a person."""


def parse_decimal(value: object, *, allow_float: bool = False) -> Decimal:
    """``value`` as an exact, finite ``Decimal``, or :class:`NotANumber`.

    Decimals, integers and decimal strings are taken exactly. A float is refused unless
    ``allow_float`` (then it is taken by its shortest repr: 0.1 -> Decimal('0.1')); a boolean is
    never a number.
    """
    if isinstance(value, Decimal):
        out = value
    elif isinstance(value, bool):
        raise NotANumber("a boolean is not a number here")
    elif isinstance(value, int):
        out = Decimal(value)
    elif isinstance(value, str):
        try:
            out = Decimal(value.strip())
        except InvalidOperation:
            raise NotANumber(f"{value!r} is not a decimal number") from None
    elif isinstance(value, float):
        if not allow_float:
            raise NotANumber('send decimals as strings ("0.1") or integers, never floats')
        out = Decimal(repr(value))
    else:
        raise NotANumber(f"expected a decimal number, got {type(value).__name__}")
    if not out.is_finite():
        raise NotANumber(f"{value!r} is not a finite number")
    return out


@overload
def to_decimal(value: Number) -> Decimal: ...


@overload
def to_decimal(value: None) -> None: ...


@overload
def to_decimal(value: Number | None) -> Decimal | None: ...


def to_decimal(value: Number | None) -> Decimal | None:
    """The library's reading of a user's number: None stays None, a float goes through its
    shortest repr; NaN and infinities pass through unchanged so that the engine refuses them with
    its own reason code (and journals the refusal). A boolean or another type is a TypeError."""
    if value is None or isinstance(value, Decimal):
        return value
    if isinstance(value, bool):
        raise TypeError("a boolean is not a number here")
    if isinstance(value, (int, str)):
        return Decimal(value)
    if isinstance(value, float):
        return Decimal(repr(value))
    raise TypeError(f"expected a Decimal, int, str or float, got {type(value).__name__}")
