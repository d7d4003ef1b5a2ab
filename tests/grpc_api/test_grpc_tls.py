"""TLS (what is negotiated) and mTLS (a client certificate's common name is the key id it
calls as) on the gRPC port."""

from __future__ import annotations

import socket
import ssl
from pathlib import Path

import grpc
import pytest
import trustme
from grpc_kit import grpc_env

from atlas_oms.grpc_api.gen.atlas.v1 import orders_pb2 as pb
from atlas_oms.grpc_api.gen.atlas.v1 import portfolio_pb2 as pf


def server_files(tmp_path: Path, ca: trustme.CA) -> dict[str, Path]:
    cert = ca.issue_cert("localhost", "127.0.0.1")
    files = {"grpc_tls_cert": tmp_path / "server.pem", "grpc_tls_key": tmp_path / "server.key"}
    cert.cert_chain_pems[0].write_to_path(str(files["grpc_tls_cert"]))
    for extra in cert.cert_chain_pems[1:]:
        extra.write_to_path(str(files["grpc_tls_cert"]), append=True)
    cert.private_key_pem.write_to_path(str(files["grpc_tls_key"]))
    return files


def handshake(target: str, ca: trustme.CA, maximum: ssl.TLSVersion | None = None) -> str | None:
    """The TLS version a plain TLS client negotiates with the gRPC port (ALPN h2)."""
    host, port = target.rsplit(":", 1)
    context = ssl.create_default_context()
    ca.configure_trust(context)
    context.set_alpn_protocols(["h2"])
    if maximum is not None:
        context.maximum_version = maximum
    with (
        socket.create_connection((host, int(port)), timeout=10) as raw,
        context.wrap_socket(raw, server_hostname="localhost") as tls,
    ):
        return tls.version()


def test_tls_negotiates_tls_1_3_and_serves_calls(tmp_path: Path) -> None:
    ca = trustme.CA()
    creds = grpc.ssl_channel_credentials(root_certificates=ca.cert_pem.bytes())
    with grpc_env(tmp_path, secure=creds, **server_files(tmp_path, ca)) as env:
        listed = env.stubs.accounts.List(pf.ListAccountsRequest(), metadata=env.md("alice"))
        assert [a.account_id for a in listed.accounts] == ["alice", "alice-sub"]
        assert handshake(env.target, ca) == "TLSv1.3"
        # grpcio cannot pin the minimum version: BoringSSL's floor (TLS 1.2) still completes a
        # handshake with a client that offers nothing newer (pinned here so a change is
        # noticed); the calls on such a connection are refused (test below).
        assert handshake(env.target, ca, ssl.TLSVersion.TLSv1_2) == "TLSv1.2"
        # plaintext is refused on a TLS port
        with grpc.insecure_channel(env.target) as plain:
            with pytest.raises(grpc.RpcError) as caught:
                pf_stub = type(env.stubs.accounts)(plain)
                pf_stub.List(pf.ListAccountsRequest(), metadata=env.md("alice"), timeout=5)
            assert caught.value.code() == grpc.StatusCode.UNAVAILABLE  # type: ignore[attr-defined]


class FakeContext:
    def __init__(self, auth: dict[str, list[bytes]], metadata: tuple[tuple[str, str], ...]) -> None:
        self.auth, self.metadata = auth, metadata

    def auth_context(self) -> dict[str, list[bytes]]:
        return self.auth

    def invocation_metadata(self) -> tuple[tuple[str, str], ...]:
        return self.metadata


def test_a_call_over_less_than_tls_1_3_is_refused(tmp_path: Path) -> None:
    from atlas_oms import Node
    from atlas_oms.grpc_api.calls import Calls
    from atlas_oms.service.app import Problem, Service
    from atlas_oms.service.keys import KeyStore
    from atlas_oms.service.settings import ServiceSettings

    keys = KeyStore()
    token = keys.issue(("risk",)).token
    node = Node.in_memory()
    try:
        calls = Calls(Service(node, keys, ServiceSettings(data_dir=tmp_path)), tls=True)
        md = (("x-api-key", token),)
        ok = FakeContext({"ssl_tls_version": [b"TLSv1.3"]}, md)
        assert calls.authenticate(ok).key_id == token.split(".")[0]  # type: ignore[arg-type]
        old = FakeContext({"ssl_tls_version": [b"TLSv1.2"]}, md)
        with pytest.raises(Problem) as caught:
            calls.authenticate(old)  # type: ignore[arg-type]
        assert (caught.value.status, caught.value.reason) == (401, "TLS_1_3_REQUIRED")
    finally:
        node.close()


def test_mtls_maps_the_certificate_common_name_to_a_key(tmp_path: Path) -> None:
    ca = trustme.CA()
    client_ca = trustme.CA()
    ca_file = tmp_path / "clients-ca.pem"
    client_ca.cert_pem.write_to_path(str(ca_file))
    files = server_files(tmp_path, ca)

    def channel_creds(common_name: str) -> grpc.ChannelCredentials:
        cert = client_ca.issue_cert("client.atlas.test", common_name=common_name)
        return grpc.ssl_channel_credentials(
            root_certificates=ca.cert_pem.bytes(),
            private_key=cert.private_key_pem.bytes(),
            certificate_chain=b"".join(p.bytes() for p in cert.cert_chain_pems),
        )

    # the environment's keys are made inside grpc_env: issue the client cert for bob's signed
    # key once its id is known, through a first environment's key file.
    with grpc_env(
        tmp_path,
        secure=channel_creds("nobody"),
        grpc_client_ca=ca_file,
        **files,
    ) as env:
        signed_id = env.tokens["signed"].split(".")[0]
        bob_id = env.tokens["bob"].split(".")[0]
        ref = pb.ListOrdersRequest(account_id="bob")
        # a certificate naming no key: UNAUTHENTICATED
        with pytest.raises(grpc.RpcError) as caught:
            env.stubs.orders.ListOrders(ref)
        assert caught.value.code() == grpc.StatusCode.UNAUTHENTICATED  # type: ignore[attr-defined]
        for common_name, token, expect in (
            (signed_id, None, "ok"),  # a key that must sign: the certificate stands for it
            (bob_id, env.tokens["bob"], "ok"),  # the same key by token and certificate
            (bob_id, env.tokens["alice"], grpc.StatusCode.UNAUTHENTICATED),  # they differ
        ):
            with grpc.secure_channel(
                env.target,
                channel_creds(common_name),
                options=(("grpc.ssl_target_name_override", "localhost"),),
            ) as channel:
                stub = type(env.stubs.orders)(channel)
                metadata = (("x-api-key", token),) if token else ()
                try:
                    stub.ListOrders(ref, metadata=metadata, timeout=10)
                    got: object = "ok"
                except grpc.RpcError as err:
                    got = err.code()  # type: ignore[attr-defined]
                assert got == expect, (common_name, token)
        # no client certificate at all: the handshake fails
        with grpc.secure_channel(
            env.target,
            grpc.ssl_channel_credentials(root_certificates=ca.cert_pem.bytes()),
            options=(("grpc.ssl_target_name_override", "localhost"),),
        ) as channel:
            with pytest.raises(grpc.RpcError) as caught:
                type(env.stubs.orders)(channel).ListOrders(ref, metadata=env.md("bob"), timeout=10)
            assert caught.value.code() == grpc.StatusCode.UNAVAILABLE  # type: ignore[attr-defined]
