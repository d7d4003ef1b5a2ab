"""Seed 001's execution-policy parameters from a file: :func:`load_params`.

The parsing is the core's (:mod:`atlas_oms.core.policy.sources`, pure); this module reads the file.
A ``.yaml``/``.yml`` file is YAML, anything else Java-style ``.properties`` (the seed's notation
``odin.execution.repricing-interval-ms = 5000``). Errors are :class:`ParamError` naming the file,
the line and the key. The front ends import the parameter types from here.
"""

from __future__ import annotations

from pathlib import Path

from atlas_oms.core.policy.params import (
    PARAMETERS,
    ParamError,
    ParamSpec,
    PolicyParams,
    format_value,
)
from atlas_oms.core.policy.sources import params_from_text

__all__ = [
    "PARAMETERS",
    "ParamError",
    "ParamSpec",
    "PolicyParams",
    "format_value",
    "load_params",
    "load_params_with_sources",
]


def load_params_with_sources(path: str | Path) -> tuple[PolicyParams, dict[str, str]]:
    """The parameters of the file at ``path`` over the defaults, and where each set one came
    from (canonical name -> ``file:line``)."""
    file = Path(path)
    try:
        text = file.read_text(encoding="utf-8")
    except OSError as exc:
        raise ParamError(
            "INVALID_FILE", f"cannot read it: {exc.strerror}", source=str(file)
        ) from None
    except UnicodeDecodeError:
        raise ParamError("INVALID_FILE", "not UTF-8 text", source=str(file)) from None
    return params_from_text(text, str(file), yaml_format=file.suffix.lower() in (".yaml", ".yml"))


def load_params(path: str | Path) -> PolicyParams:
    """The parameters of the file at ``path`` (YAML or ``.properties``) over the defaults."""
    return load_params_with_sources(path)[0]
