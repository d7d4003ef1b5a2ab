"""The venue gateway: drives venue adapters (core/ports.py) for a node; see gateway.py."""

from atlas_oms.runtime.gateway.client_ids import decode, encode, node_tag, prefix_for
from atlas_oms.runtime.gateway.config import GatewayConfig
from atlas_oms.runtime.gateway.gateway import Gateway
from atlas_oms.runtime.gateway.session import SessionHealth, VenueSession
from atlas_oms.runtime.gateway.settings import (
    FuturesSettings,
    SettingOutcomeUnknown,
    VenueSettingRefused,
)

__all__ = [
    "FuturesSettings",
    "Gateway",
    "GatewayConfig",
    "SessionHealth",
    "SettingOutcomeUnknown",
    "VenueSession",
    "VenueSettingRefused",
    "decode",
    "encode",
    "node_tag",
    "prefix_for",
]
