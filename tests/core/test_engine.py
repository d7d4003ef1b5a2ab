"""The engine dispatches every message to one handler function of its domain, and nothing else
reaches the fold."""

from __future__ import annotations

import typing
from types import ModuleType

import pytest

from atlas_oms.core.engine import HANDLERS, Engine
from atlas_oms.model import commands as c
from atlas_oms.model import reports as rep


def _concrete(base: type, module: ModuleType) -> set[type]:
    return {
        cls
        for cls in vars(module).values()
        if isinstance(cls, type)
        and issubclass(cls, base)
        and cls.__module__ == module.__name__
        and not cls.__subclasses__()
    }


def test_every_command_and_venue_report_has_a_handler() -> None:
    assert _concrete(c.Command, c) == set(HANDLERS) - set(typing.get_args(rep.ReportMsg))
    assert set(typing.get_args(rep.ReportMsg)) <= set(HANDLERS)


def test_handlers_are_plain_functions_of_a_context_and_a_message() -> None:
    for message, handler in HANDLERS.items():
        assert callable(handler) and not isinstance(handler, type), message
        assert list(typing.get_type_hints(handler)) == ["ctx", "c", "return"] or list(
            typing.get_type_hints(handler)
        ) == ["ctx", "r", "return"], (message, handler)


def test_a_message_nobody_handles_is_a_bug_not_an_event() -> None:
    with pytest.raises(TypeError, match="does not handle"):
        Engine().handle(object())
