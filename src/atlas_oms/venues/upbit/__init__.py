"""Upbit (KRW spot markets): the adapter over ccxt 4.5.90 ``upbit`` and its private stream."""

from atlas_oms.venues.upbit.adapter import UpbitAdapter

__all__ = ["UpbitAdapter"]
