"""Atlas as a Binance-compatible venue (issue 17 §3): Binance's spot (and USDⓈ-M) REST,
WebSocket API and stream dialect in front of the Atlas node, so that ccxt-based bots trade on
Atlas. The server and its route table: :mod:`atlas_oms.binance_api.server`."""
