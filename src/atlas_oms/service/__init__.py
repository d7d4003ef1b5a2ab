"""``atlas serve``: the engine behind a REST + WebSocket API with per-account keys (issue 5)."""
