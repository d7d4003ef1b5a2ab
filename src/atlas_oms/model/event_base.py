"""The base of every event: ``seq`` (gap-free, global within one engine) and ``ts_event``
(integer ns). The events themselves and their union are in :mod:`atlas_oms.model.events`."""

from __future__ import annotations

import msgspec


class EventBase(msgspec.Struct, frozen=True, kw_only=True, gc=False, tag=True, omit_defaults=True):
    seq: int
    ts_event: int
