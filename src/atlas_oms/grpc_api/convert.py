"""Between protobuf messages and the JSON-shaped dicts REST reads and writes.

Answers: a view as ``service.numbers.builtins`` makes it (every decimal an exact string at its
places, enums by value) fills the message field by field, by name. Requests: the fields a client
set become the dict REST's pydantic body would have parsed, and go through the same model
(``service/schemas.py``), so a gRPC order is validated exactly as a REST one.

An enum's value ``SIDE_BUY`` is model/enums.py's ``BUY``: the prefix is the enum's zero value's
name without ``UNSPECIFIED``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, TypeVar

from google.protobuf.descriptor import EnumDescriptor, FieldDescriptor
from google.protobuf.message import Message

M = TypeVar("M", bound=Message)

#: Fields whose values name the built-in exchange's trades (masked for a trader key).
TRADE_ID_FIELDS = frozenset({"trade_id", "exec_id"})


def _prefix(enum: EnumDescriptor) -> str:
    return enum.values[0].name.removesuffix("UNSPECIFIED")


def enum_number(enum: EnumDescriptor, value: str) -> int:
    """The number of model value ``value`` (``"BUY"``) in ``enum`` (0 when it has none)."""
    found = enum.values_by_name.get(_prefix(enum) + value)
    return found.number if found is not None else 0


def enum_value(enum: EnumDescriptor, number: int) -> str | None:
    """The model's value of ``number`` (None for the zero value: not given)."""
    if number == 0:
        return None
    return enum.values_by_number[number].name.removeprefix(_prefix(enum))


def _scalar(field: FieldDescriptor, value: Any, mask: Callable[[str], str] | None) -> Any:
    if field.enum_type is not None:
        return enum_number(field.enum_type, str(value))
    if field.type == FieldDescriptor.TYPE_STRING:
        text = value if isinstance(value, str) else str(value)
        if mask is not None and field.name in TRADE_ID_FIELDS:
            text = mask(text)
        return text
    return value


def fill(message: M, data: Mapping[str, Any], mask: Callable[[str], str] | None = None) -> M:
    """Set each field of ``message`` from ``data[name]`` (None and unknown names left out)."""
    for field in message.DESCRIPTOR.fields:
        value = data.get(field.name)
        if value is None:
            continue
        name = field.name
        if field.message_type is not None and field.message_type.GetOptions().map_entry:
            target = getattr(message, name)
            for k, v in value.items():
                if v is not None:
                    target[str(k)] = v if isinstance(v, str) else str(v)
        elif field.message_type is not None:
            if field.is_repeated:
                for item in value:
                    fill(getattr(message, name).add(), item, mask)
            else:
                fill(getattr(message, name), value, mask)
        elif field.is_repeated:
            getattr(message, name).extend(_scalar(field, v, mask) for v in value)
        else:
            setattr(message, name, _scalar(field, value, mask))
    return message


def to_dict(message: Message) -> dict[str, Any]:
    """The fields a client set (optional ones by presence, others when not their default),
    enums as the model's values, repeated and nested messages as lists and dicts."""
    out: dict[str, Any] = {}
    for field, value in message.ListFields():
        if field.message_type is not None:
            if field.is_repeated:
                out[field.name] = [to_dict(v) for v in value]
            else:
                out[field.name] = to_dict(value)
        elif field.enum_type is not None:
            if field.is_repeated:
                out[field.name] = [enum_value(field.enum_type, v) for v in value]
            else:
                named = enum_value(field.enum_type, value)
                if named is not None:
                    out[field.name] = named
        else:
            out[field.name] = list(value) if field.is_repeated else value
    return out


__all__ = ["enum_number", "enum_value", "fill", "to_dict"]
