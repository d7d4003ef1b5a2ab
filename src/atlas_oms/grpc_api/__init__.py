"""Atlas's gRPC API (issue 17 §1): the Protocol Buffers of ``proto/atlas/v1``, their generated
stubs in ``gen/`` (``python -m atlas_oms.grpc_api.regen`` makes them again) and a ``grpc.aio``
server on the node's event loop (:mod:`atlas_oms.grpc_api.server`), a thin adapter over the same
node, keys, authorization, rate limits, audit and metrics as REST (docs/notes/grpc.md)."""
