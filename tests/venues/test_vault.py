"""Venue keys from Vault KV v2 through the real hvac client, against a fake Vault on 127.0.0.1
(:mod:`fake_vault`) that checks the token and answers Vault's JSON shapes."""

from __future__ import annotations

import logging
import secrets
from collections.abc import Iterator
from pathlib import Path

import pytest
from fake_vault import FakeVault

from atlas_oms.venues.accounts import parse_accounts
from atlas_oms.venues.credentials import CredentialsError, CredentialSource, KeyChange, KeyStore
from atlas_oms.venues.vault import VaultSource

TOKEN = "hvs.CAESIJbq0c7-token-under-test"
API_KEY = "vmPUZE6mv9SD5VNHk4HlWFsOr6aKE2zvsw0MuIgwCIPy6utIco14y7Ju91duEh8A"
SECRET = "NhqPtmdSJYdKjVHjA7PZj4Mge3R5YNiP1e3UZjInClVN65XAbvqqM6A7H5fATj0j"
API_KEY_2 = "Q8Hb3mLpx2TzR7vKc9WnY4sJd6FgA1eU0oIiBrNtMqZ5yXwVlCkEhGjP3aSfDo7u"
SECRET_2 = "p4Lm9QzWx2Rt7Yv3Kb8Nc1Jd5Hf6Gs0Ae4Ui9Oo2Ip7Ly3Tk8Rj1Wq6Ez5Xc0Vb"


@pytest.fixture
def vault() -> Iterator[FakeVault]:
    with FakeVault(TOKEN) as fake:
        yield fake


def test_reads_the_seed_002_path_with_the_token(vault: FakeVault) -> None:
    vault.put("exchanges/binance_spot_main", {"api_key": API_KEY, "api_secret": SECRET})
    source: CredentialSource = VaultSource(env={"VAULT_ADDR": vault.url, "VAULT_TOKEN": TOKEN})
    creds = source.get("binance_spot_main")
    assert creds.api_key.get_secret_value() == API_KEY
    assert creds.secret.get_secret_value() == SECRET
    assert creds.passphrase is None and creds.version == 1
    assert vault.requests[-1] == ("GET", "/v1/secret/data/exchanges/binance_spot_main", TOKEN)


def test_the_path_from_accounts_yaml_and_a_passphrase(vault: FakeVault) -> None:
    config = parse_accounts(
        "accounts:\n  binance:\n    main:\n      type: main\n      spot_enabled: true\n"
        "      api_key_vault_path: binance_main\naccount_routing:\n  default: main\n"
    )
    paths = {
        a.account_id: a.credentials.path for a in config.accounts if a.credentials.source == "vault"
    }
    vault.put(
        "exchanges/binance_main", {"api_key": API_KEY, "api_secret": SECRET, "passphrase": "pp"}
    )
    source = VaultSource(vault.url, TOKEN, paths=paths)
    creds = source.get("binance_spot_main")
    assert creds.passphrase is not None and creds.passphrase.get_secret_value() == "pp"


def test_a_new_version_is_used_by_the_next_get_and_poll_tells_subscribers(
    vault: FakeVault,
) -> None:
    vault.put("exchanges/binance_futures_trend", {"api_key": API_KEY, "api_secret": SECRET})
    source = VaultSource(vault.url, TOKEN)
    seen: list[KeyChange] = []
    source.on_rotate(seen.append)
    assert source.get("binance_futures_trend").version == 1
    assert source.poll() == [] and seen == []
    vault.put("exchanges/binance_futures_trend", {"api_key": API_KEY_2, "api_secret": SECRET_2})
    assert source.poll() == [KeyChange("binance_futures_trend", 2, "rotated")]
    assert seen == [KeyChange("binance_futures_trend", 2, "rotated")]
    creds = source.get("binance_futures_trend")
    assert (creds.version, creds.api_key.get_secret_value()) == (2, API_KEY_2)
    assert len(seen) == 1  # the get saw the version poll already announced
    assert ("GET", "/v1/secret/metadata/exchanges/binance_futures_trend", TOKEN) in vault.requests


def test_errors_are_typed_sentences_without_the_token(
    vault: FakeVault, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    vault.put("exchanges/a", {"api_key": API_KEY, "api_secret": SECRET})
    vault.put("exchanges/b", {"api_key": API_KEY})
    cases = {
        (VaultSource(vault.url, TOKEN), "missing"): "VAULT_NOT_FOUND",
        (VaultSource(vault.url, "hvs.wrong-token"), "a"): "VAULT_FORBIDDEN",
        (VaultSource(vault.url, TOKEN), "b"): "VAULT_FIELDS",
        (VaultSource("http://127.0.0.1:9", TOKEN, timeout_s=0.5), "a"): "VAULT_UNAVAILABLE",
    }
    for (source, account), reason in cases.items():
        with pytest.raises(CredentialsError) as info:
            source.get(account)
        assert info.value.reason == reason
        assert info.value.__cause__ is None and info.value.__suppress_context__
        for secret in (TOKEN, "hvs.wrong-token", API_KEY, SECRET):
            assert secret not in str(info.value)
            assert secret not in repr(source)
    assert TOKEN not in caplog.text and API_KEY not in caplog.text
    with pytest.raises(CredentialsError) as info:
        VaultSource(env={})
    assert "VAULT_ADDR" in str(info.value)


def test_the_keyring_takes_each_account_from_where_accounts_yaml_says(
    vault: FakeVault, tmp_path: Path
) -> None:
    config = parse_accounts(
        "accounts:\n  binance:\n    main:\n      type: main\n      spot_enabled: true\n"
        "      api_key_vault_path: binance_main\n    sub:\n      type: sub\n      parent: main\n"
        "      futures_enabled: true\naccount_routing:\n  default: main\n"
    )
    vault.put("exchanges/binance_main", {"api_key": API_KEY, "api_secret": SECRET})
    store = KeyStore(tmp_path / "venue-keys.json", secrets.token_bytes(32))
    store.set("binance_futures_sub", API_KEY_2, SECRET_2)
    keyring = config.keyring(store, VaultSource(vault.url, TOKEN, paths=config.vault_paths()))
    assert keyring.get("binance_spot_main").api_key.get_secret_value() == API_KEY
    assert keyring.get("binance_futures_sub").api_key.get_secret_value() == API_KEY_2
    seen: list[KeyChange] = []
    keyring.on_rotate(seen.append)
    store.rotate("binance_futures_sub", API_KEY, SECRET)
    store.set("not_in_accounts_yaml", API_KEY, SECRET)
    assert seen == [KeyChange("binance_futures_sub", 2, "rotated")]
    with pytest.raises(CredentialsError) as info:
        config.keyring(store, None)
    assert info.value.reason == "NO_KEY_SOURCE"
