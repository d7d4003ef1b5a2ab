"""The runtime's error for a refused command or query."""

from __future__ import annotations


class CommandRefused(Exception):
    """A cancel, modify or other command was refused; nothing changed. ``reason`` is the code."""

    def __init__(self, reason: str, message: str) -> None:
        super().__init__(f"{reason}: {message}")
        self.reason = reason
        self.message = message
