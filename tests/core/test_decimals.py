"""How a number reads in a refusal's sentence."""

from __future__ import annotations

from decimal import Decimal

from atlas_oms.core.decimals import plain


def test_plain_never_raises_and_never_writes_an_exponent() -> None:
    # A request may carry 1E+999999: normalizing it in the default context raised Overflow (a
    # 500 found by the REST fuzzing, half-way through a handler).
    assert plain(Decimal("1E+999999")) == "an absurdly large number"
    assert plain(Decimal("-1E+999999")) == "an absurdly large negative number"
    assert plain(Decimal("1E-999999")) == "an absurdly small number"
    assert plain(Decimal("123.4500")) == "123.45"
    assert plain(Decimal("1E+3")) == "1000"
    assert plain(Decimal("0E+5")) == "0"
    assert plain(Decimal("0.000000001")) == "0.000000001"


def test_is_amount_refuses_a_huge_exponent_without_raising() -> None:
    from atlas_oms.core.decimals import is_amount

    assert not is_amount(Decimal("1E+1000000"))  # abs() of it overflowed in the default context
    assert not is_amount(Decimal("-1E+1000000"))
    assert is_amount(Decimal("1E-1000000")) and is_amount(Decimal("-5"))
