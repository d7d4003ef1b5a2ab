"""OKX v5 (spot and linear SWAP) behind Atlas's venue ports, over ccxt 4.5.90."""

from atlas_oms.venues.okx.adapter import OkxAdapter

__all__ = ["OkxAdapter"]
