"""Encoding of events: msgpack for the journal, JSON for exports.

One reusable encoder and decoder per format lives at module level: msgspec encoders and decoders
are cheap to call but not free to build. ``Decimal`` values travel as strings (msgspec's default),
so they round-trip exactly, NaN and Infinity included: the engine journals rejected input verbatim.
"""

from __future__ import annotations

import typing
from collections.abc import Iterable, Sequence

import msgspec

from atlas_oms.model.events import Event, EventBase

__all__ = [
    "EVENT_TYPES",
    "decode_event",
    "decode_events",
    "encode_event",
    "encode_events",
    "event_from_json",
    "event_to_json",
    "events_from_json_lines",
    "events_to_json_lines",
]

#: The concrete classes of the ``Event`` union; anything else cannot be decoded back.
EVENT_TYPES: frozenset[type] = frozenset(typing.get_args(Event))

_msgpack_encoder = msgspec.msgpack.Encoder()
_event_decoder = msgspec.msgpack.Decoder(Event)
_events_decoder = msgspec.msgpack.Decoder(list[Event])
_json_encoder = msgspec.json.Encoder()
_json_decoder = msgspec.json.Decoder(Event)


def encode_event(event: Event) -> bytes:
    """Encode one event as msgpack (a map with its tag in ``"type"``)."""
    return _msgpack_encoder.encode(event)


def decode_event(data: bytes | memoryview) -> Event:
    """Decode one msgpack event."""
    return _event_decoder.decode(data)


def encode_events(events: Sequence[EventBase]) -> bytes:
    """Encode a list of events as one msgpack array (a journal chunk's payload)."""
    return _msgpack_encoder.encode(events if isinstance(events, list | tuple) else list(events))


def decode_events(data: bytes | memoryview) -> list[Event]:
    """Decode a msgpack array of events in one call (the fast path for replay)."""
    return _events_decoder.decode(data)


def event_to_json(event: Event) -> bytes:
    """Encode one event as a JSON object whose ``"type"`` is its class name."""
    return _json_encoder.encode(event)


def event_from_json(data: bytes | str) -> Event:
    """Decode one JSON event."""
    return _json_decoder.decode(data)


def events_to_json_lines(events: Iterable[Event]) -> bytes:
    """Encode events as newline-delimited JSON, one object per line (each line ends in ``\\n``)."""
    return _json_encoder.encode_lines(events if isinstance(events, list | tuple) else list(events))


def events_from_json_lines(data: bytes | str) -> list[Event]:
    """Decode newline-delimited JSON events; blank lines are skipped."""
    return _json_decoder.decode_lines(data)
