"""The event codec: exact Decimals, every event class round-trips through msgpack and JSON."""

from __future__ import annotations

from decimal import Decimal

import msgspec
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.strategies import SearchStrategy

from atlas_oms.model.events import BalanceAdjusted, Event
from atlas_oms.model.instrument import Instrument
from atlas_oms.store.codec import (
    EVENT_TYPES,
    decode_event,
    decode_events,
    encode_event,
    encode_events,
    event_from_json,
    event_to_json,
    events_from_json_lines,
    events_to_json_lines,
)

EXACT = ["0.1", "1E-18", "12345678901234567890.123456789", "-0", "0E-8", "100.000", "-7.50"]
SPECIAL = ["NaN", "-NaN", "sNaN", "Infinity", "-Infinity"]


def balance(amount: Decimal) -> BalanceAdjusted:
    return BalanceAdjusted(
        seq=1, ts_event=0, account_id="a", asset="USDT", amount=amount, reason="r"
    )


@pytest.mark.parametrize("text", EXACT + SPECIAL)
def test_decimals_round_trip_with_the_same_digits_exponent_and_sign(text: str) -> None:
    event = balance(Decimal(text))
    for decoded in (decode_event(encode_event(event)), event_from_json(event_to_json(event))):
        assert isinstance(decoded, BalanceAdjusted)
        assert str(decoded.amount) == text if text != "-0" else str(decoded.amount) == "-0"
        assert decoded.amount.as_tuple() == Decimal(text).as_tuple()


def test_decimals_are_json_strings_never_floats() -> None:
    assert b'"amount":"0.1"' in event_to_json(balance(Decimal("0.1")))


def _strategy(info: msgspec.inspect.Type) -> SearchStrategy[object]:
    """Build a strategy for a msgspec type, with ints that fit msgpack's 64 bits."""
    match info:
        case msgspec.inspect.IntType():
            return st.integers(-(2**63), 2**63 - 1)
        case msgspec.inspect.StrType():
            return st.text(max_size=12)
        case msgspec.inspect.BoolType():
            return st.booleans()
        case msgspec.inspect.NoneType():
            return st.none()
        case msgspec.inspect.DecimalType():
            return st.decimals(allow_nan=True, allow_infinity=True)
        case msgspec.inspect.EnumType():
            return st.sampled_from(list(info.cls))
        case msgspec.inspect.UnionType():
            return st.one_of([_strategy(member) for member in info.types])
        case msgspec.inspect.ListType():
            return st.lists(_strategy(info.item_type), max_size=3)
        case msgspec.inspect.VarTupleType():
            return st.lists(_strategy(info.item_type), max_size=3).map(tuple)
        case msgspec.inspect.TupleType():
            return st.tuples(*[_strategy(t) for t in info.item_types])
        case msgspec.inspect.StructType() if info.cls is Instrument:
            return st.sampled_from(
                [
                    Instrument.spot("BTC/USDT", tick_size="0.01", lot_size="0.00001"),
                    Instrument.perpetual("ETH/USDT:USDT", tick_size="0.01", lot_size="0.001"),
                ]
            )
        case msgspec.inspect.StructType():
            fields = {field.name: _strategy(field.type) for field in info.fields}
            return st.builds(info.cls, **fields)
    raise NotImplementedError(f"no strategy for {info!r}")


ANY_EVENT = st.one_of(
    [_strategy(msgspec.inspect.type_info(cls)) for cls in sorted(EVENT_TYPES, key=str)]
)


@given(ANY_EVENT)
def test_any_event_round_trips_through_msgpack_and_json(event: Event) -> None:
    # Equality of the re-encoding, not of the events: Decimal('NaN') != Decimal('NaN').
    packed = encode_event(event)
    assert type(decode_event(packed)) is type(event)
    assert encode_event(decode_event(packed)) == packed
    text = event_to_json(event)
    assert encode_event(event_from_json(text)) == packed


@given(st.lists(ANY_EVENT, max_size=8))
def test_a_list_of_events_round_trips_as_one_chunk(events: list[Event]) -> None:
    packed = encode_events(events)
    assert encode_events(decode_events(packed)) == packed
    lines = events_to_json_lines(events)
    assert lines.count(b"\n") == len(events)
    assert encode_events(events_from_json_lines(lines)) == packed


def test_every_event_is_tagged_with_its_class_name_in_type() -> None:
    assert msgspec.json.decode(event_to_json(balance(Decimal(1))))["type"] == "BalanceAdjusted"
