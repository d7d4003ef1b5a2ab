"""JSON Lines exports: one object per event with its class in "type", exact values."""

from __future__ import annotations

import io
import json
from pathlib import Path

from store_events import build_steps, flat

from atlas_oms.store import read_jsonl, write_jsonl

EVENTS = flat(build_steps([3, 4, 5]))


def test_each_line_is_one_event_with_its_type(tmp_path: Path) -> None:
    path = tmp_path / "events.jsonl"
    assert write_jsonl(iter(EVENTS), path) == len(EVENTS)
    lines = path.read_text().splitlines()
    assert [json.loads(line)["type"] for line in lines] == [type(e).__name__ for e in EVENTS]
    assert [json.loads(line)["seq"] for line in lines] == [e.seq for e in EVENTS]


def test_an_export_reads_back_as_equal_events(tmp_path: Path) -> None:
    path = tmp_path / "events.jsonl"
    write_jsonl(EVENTS, str(path))
    assert list(read_jsonl(path)) == EVENTS


def test_exports_go_to_open_binary_and_text_files_alike() -> None:
    binary, text = io.BytesIO(), io.StringIO()
    write_jsonl(EVENTS, binary)
    write_jsonl(EVENTS, text)
    assert binary.getvalue().decode() == text.getvalue()
    assert list(read_jsonl(io.StringIO(text.getvalue()))) == EVENTS


def test_prices_stay_exact_strings_in_the_export() -> None:
    out = io.StringIO()
    write_jsonl(EVENTS, out)
    fills = [json.loads(line) for line in out.getvalue().splitlines()]
    assert {fill["fee"] for fill in fills if fill["type"] == "OrderFilled"} == {"0.0320617"}


def test_no_events_make_an_empty_file(tmp_path: Path) -> None:
    path = tmp_path / "none.jsonl"
    assert write_jsonl([], path) == 0
    assert path.read_bytes() == b""
