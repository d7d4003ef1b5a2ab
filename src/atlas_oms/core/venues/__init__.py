"""External venues in the core: what the engine does with what a venue says (order updates,
reconciliation snapshots, the venue account's status, commands whose outcome is unknown).

Pure and deterministic like the rest of the core: the gateway (``runtime/gateway/``) does the
I/O and sends :mod:`atlas_oms.model.venue` messages; the handlers here compare them with the
state and emit only what is missing.
"""
