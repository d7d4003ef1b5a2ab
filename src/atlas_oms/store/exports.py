"""Exports of events as JSON Lines: one object per event, its class name in ``"type"``.

``jq 'select(.type == "OrderFilled")' events.jsonl`` finds every fill. Decimals are JSON strings,
so values stay exact. (One account's trail, in columns, is :mod:`atlas_oms.store.audit`.)
"""

from __future__ import annotations

import io
import os
from collections.abc import Callable, Iterable, Iterator
from itertools import islice
from typing import IO, TYPE_CHECKING

from atlas_oms.model.events import Event
from atlas_oms.store.codec import event_from_json, events_to_json_lines

if TYPE_CHECKING:
    from typing_extensions import TypeIs

__all__ = ["bytes_writer", "is_text_file", "read_jsonl", "write_jsonl"]

_BATCH = 4096

PathOrFile = str | os.PathLike[str] | IO[bytes] | IO[str]


def write_jsonl(events: Iterable[Event], path_or_file: PathOrFile) -> int:
    """Write ``events`` as JSON Lines to a path (replaced) or an open file; return the count."""
    if isinstance(path_or_file, str | os.PathLike):
        with open(path_or_file, "wb") as f:
            return _write(events, f)
    return _write(events, path_or_file)


def read_jsonl(path_or_file: PathOrFile) -> Iterator[Event]:
    """Yield the events of a JSON Lines file written by :func:`write_jsonl`."""
    if isinstance(path_or_file, str | os.PathLike):
        with open(path_or_file, "rb") as f:
            yield from _read(f)
    else:
        yield from _read(path_or_file)


def is_text_file(f: IO[bytes] | IO[str]) -> TypeIs[IO[str]]:
    """Whether ``f`` is a text file (it takes ``str``), not a binary one."""
    return isinstance(f, io.TextIOBase)


def bytes_writer(f: IO[bytes] | IO[str]) -> Callable[[bytes], object]:
    """``f.write`` for UTF-8 bytes: a text file gets them decoded first."""
    if is_text_file(f):
        write_text = f.write
        return lambda data: write_text(data.decode())
    return f.write


def _write(events: Iterable[Event], f: IO[bytes] | IO[str]) -> int:
    write = bytes_writer(f)
    iterator = iter(events)
    count = 0
    while batch := list(islice(iterator, _BATCH)):
        write(events_to_json_lines(batch))
        count += len(batch)
    return count


def _read(f: IO[bytes] | IO[str]) -> Iterator[Event]:
    for line in f:
        if line.strip():
            yield event_from_json(line)
