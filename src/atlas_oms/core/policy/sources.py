"""A parameter file's text, parsed: YAML or Java-style ``.properties``.

Both give :class:`Setting` rows (dotted name, raw text value, line); :func:`params_from_text`
applies them to the defaults, so a wrong name or value is refused naming the file, the line and
the key. Pure: the caller reads the file (``runtime/policy_params.py``).

- ``.properties``: ``name = value`` or ``name: value`` per line, the seed's notation
  (``odin.execution.repricing-interval-ms = 5000``); ``#`` and ``!`` start comments.
- YAML: a mapping, flat (``odin.execution.repricing-interval-ms: 5000``) or nested
  (``odin: {execution: {repricing-interval-ms: 5000}}``); nested keys are joined with dots. Scalars
  are read as their text (so ``15:45`` is a time, not YAML 1.1's sexagesimal 945, and ``0.001``
  never passes through a float); a tranche list may also be a YAML list.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import yaml

from atlas_oms.core.policy.params import ParamError, PolicyParams, canonical_name, coerce, spec_of

__all__ = ["Setting", "params_from_text", "parse_properties", "parse_yaml"]


@dataclass(frozen=True, slots=True)
class Setting:
    """One ``name = value`` of a file, at ``line`` (1-based)."""

    name: str
    value: str | list[str]
    line: int


def parse_properties(text: str, source: str) -> list[Setting]:
    """The settings of a ``.properties`` text; a line that is not ``name = value`` is refused."""
    settings = []
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if not line or line[0] in "#!":
            continue
        cut = min((i for i in (line.find("="), line.find(":")) if i >= 0), default=-1)
        name, value = line[:cut].strip(), line[cut + 1 :].strip()
        if cut < 0 or not name:
            raise ParamError(
                "INVALID_FILE", f"{line!r} is not `name = value`", source=source, line=number
            )
        settings.append(Setting(name, value, number))
    return settings


def parse_yaml(text: str, source: str) -> list[Setting]:
    """The settings of a YAML text (flat or nested mapping)."""
    try:
        root = yaml.compose(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + 1 if mark is not None else None
        raise ParamError("INVALID_FILE", f"not YAML: {exc}", source=source, line=line) from None
    if root is None:
        return []
    settings: list[Setting] = []
    _walk(root, "", source, settings)
    return settings


def _walk(node: yaml.Node, prefix: str, source: str, out: list[Setting]) -> None:
    line = node.start_mark.line + 1
    if not isinstance(node, yaml.MappingNode):
        raise ParamError(
            "INVALID_FILE",
            "a parameter file is a mapping of names to values",
            source=source,
            line=line,
        )
    for key, value in node.value:
        name = f"{prefix}{key.value}"
        key_line = key.start_mark.line + 1
        if isinstance(value, yaml.MappingNode):
            _walk(value, name + ".", source, out)
        elif isinstance(value, yaml.SequenceNode):
            items = [item.value for item in value.value if isinstance(item, yaml.ScalarNode)]
            if len(items) != len(value.value):
                raise ParamError(
                    "INVALID_FILE",
                    f"{name}: a list of plain values expected",
                    key=name,
                    source=source,
                    line=key_line,
                )
            out.append(Setting(name, items, key_line))
        else:
            out.append(Setting(name, str(value.value), key_line))


def params_from_text(
    text: str, source: str, *, yaml_format: bool, base: PolicyParams | None = None
) -> tuple[PolicyParams, dict[str, str]]:
    """The defaults (or ``base``) with a file's settings applied, and where each set parameter
    came from (canonical name -> ``file:line``). A name set twice is refused."""
    settings = parse_yaml(text, source) if yaml_format else parse_properties(text, source)
    return apply_settings(settings, source, base or PolicyParams())


def apply_settings(
    settings: Iterable[Setting], source: str, base: PolicyParams
) -> tuple[PolicyParams, dict[str, str]]:
    """``settings`` applied to ``base``, each checked where it stands in the file."""
    values: dict[str, object] = {}
    origin: dict[str, str] = {}
    for setting in settings:
        try:
            spec = spec_of(setting.name)
            if spec.name in values:
                raise ParamError(
                    "INVALID_FILE",
                    f"{spec.name} is set twice (first at {origin[spec.name]})",
                    key=spec.name,
                )
            values[spec.name] = coerce(spec, setting.value)
        except ParamError as exc:
            raise exc.at(source, setting.line) from None
        origin[spec.name] = f"{source}:{setting.line}"
    try:
        return base.with_overrides(values), origin
    except ParamError as exc:
        line = origin.get(canonical_name(exc.key or ""), "").rpartition(":")[2]
        raise exc.at(source, int(line) if line.isdigit() else None) from None
