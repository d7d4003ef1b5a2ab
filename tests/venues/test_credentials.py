"""The encrypted venue key file: no key byte at rest, entries bound to their account, a wrong
master key or an unsafe key file refused in one sentence, rotation seen by a running store."""

from __future__ import annotations

import asyncio
import base64
import json
import logging
import os
import pickle
import secrets
import stat
from pathlib import Path

import pytest

from atlas_oms.venues.credentials import (
    MASTER_KEY_ENV,
    MASTER_KEY_FILE_ENV,
    Credentials,
    CredentialsError,
    KeyChange,
    KeyStore,
    master_key,
    new_master_key_file,
)

API_KEY = "vmPUZE6mv9SD5VNHk4HlWFsOr6aKE2zvsw0MuIgwCIPy6utIco14y7Ju91duEh8A"
SECRET = "NhqPtmdSJYdKjVHjA7PZj4Mge3R5YNiP1e3UZjInClVN65XAbvqqM6A7H5fATj0j"
API_KEY_2 = "Q8Hb3mLpx2TzR7vKc9WnY4sJd6FgA1eU0oIiBrNtMqZ5yXwVlCkEhGjP3aSfDo7u"
SECRET_2 = "p4Lm9QzWx2Rt7Yv3Kb8Nc1Jd5Hf6Gs0Ae4Ui9Oo2Ip7Ly3Tk8Rj1Wq6Ez5Xc0Vb"
ACCOUNT = "binance_spot_main"


@pytest.fixture
def key() -> bytes:
    return secrets.token_bytes(32)


@pytest.fixture
def store(tmp_path: Path, key: bytes) -> KeyStore:
    return KeyStore(tmp_path / "venue-keys.json", key)


def test_set_then_get_returns_the_key(store: KeyStore) -> None:
    assert store.set(ACCOUNT, API_KEY, SECRET, passphrase="pass-phrase-1") == 1
    creds = store.get(ACCOUNT)
    assert creds.api_key.get_secret_value() == API_KEY
    assert creds.secret.get_secret_value() == SECRET
    assert creds.passphrase is not None and creds.passphrase.get_secret_value() == "pass-phrase-1"
    assert (creds.account_id, creds.version) == (ACCOUNT, 1)


def test_the_file_holds_no_key_byte_and_is_owner_only(store: KeyStore) -> None:
    store.set(ACCOUNT, API_KEY, SECRET, passphrase="pass-phrase-1")
    store.rotate(ACCOUNT, API_KEY_2, SECRET_2)
    raw = store.path.read_bytes()
    for secret in (API_KEY, SECRET, API_KEY_2, SECRET_2, "pass-phrase-1"):
        assert secret.encode() not in raw
        assert base64.b64encode(secret.encode()) not in raw
        assert secret[:16].encode() not in raw
    assert stat.S_IMODE(store.path.stat().st_mode) == 0o600
    data = json.loads(raw)
    entry = data["entries"][ACCOUNT]
    assert len(base64.b64decode(entry["current"]["nonce"])) == 12  # 96-bit nonce
    assert entry["current"]["nonce"] != entry["previous"]["nonce"]


def test_each_entry_gets_its_own_nonce_even_for_the_same_key(store: KeyStore) -> None:
    store.set("a", API_KEY, SECRET)
    store.set("b", API_KEY, SECRET)
    entries = json.loads(store.path.read_text())["entries"]
    assert entries["a"]["current"]["nonce"] != entries["b"]["current"]["nonce"]
    assert entries["a"]["current"]["ciphertext"] != entries["b"]["current"]["ciphertext"]


def test_an_entry_moved_to_another_account_does_not_decrypt(store: KeyStore) -> None:
    store.set(ACCOUNT, API_KEY, SECRET)
    store.set("binance_spot_other", API_KEY_2, SECRET_2)
    data = json.loads(store.path.read_text())
    data["entries"]["binance_spot_other"] = data["entries"][ACCOUNT]  # the attacker's copy
    store.path.write_text(json.dumps(data))
    assert store.get(ACCOUNT).api_key.get_secret_value() == API_KEY
    with pytest.raises(CredentialsError) as info:
        store.get("binance_spot_other")
    assert info.value.reason == "CANNOT_DECRYPT"
    assert "belongs to another account" in str(info.value)


def test_a_wrong_master_key_is_a_typed_sentence_without_key_material(
    store: KeyStore, tmp_path: Path
) -> None:
    store.set(ACCOUNT, API_KEY, SECRET)
    wrong = KeyStore(store.path, secrets.token_bytes(32))
    with pytest.raises(CredentialsError) as info:
        wrong.get(ACCOUNT)
    error = info.value
    assert error.reason == "CANNOT_DECRYPT"
    assert str(error) == (
        f"cannot decrypt the API key of {ACCOUNT}: wrong master key or the entry belongs to "
        "another account"
    )
    assert error.__cause__ is None and error.__suppress_context__
    assert wrong.check() == {ACCOUNT: str(error)}


def test_master_key_from_the_environment(key: bytes) -> None:
    assert master_key(env={MASTER_KEY_ENV: base64.b64encode(key).decode()}) == key
    with pytest.raises(CredentialsError) as info:
        master_key(env={MASTER_KEY_ENV: "c2hvcnQ="})
    assert info.value.reason == "MASTER_KEY_INVALID"
    with pytest.raises(CredentialsError) as info:
        master_key(env={})
    assert info.value.reason == "NO_MASTER_KEY" and MASTER_KEY_ENV in str(info.value)


def test_master_key_file_owner_only_or_refused(tmp_path: Path) -> None:
    path = new_master_key_file(tmp_path / "master.key")
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    key = master_key(key_file=path, env={})
    assert len(key) == 32
    assert master_key(env={MASTER_KEY_FILE_ENV: str(path)}) == key
    for mode in (0o644, 0o640, 0o604, 0o660):
        os.chmod(path, mode)
        with pytest.raises(CredentialsError) as info:
            master_key(key_file=path, env={})
        assert info.value.reason == "MASTER_KEY_FILE_UNSAFE"
        assert str(info.value) == (
            f"master key file {path} is readable by others (mode {mode:04o}): run chmod 600 {path}"
        )
    os.chmod(path, 0o400)
    assert master_key(key_file=path, env={}) == key
    with pytest.raises(FileExistsError):
        new_master_key_file(path)


def test_credentials_never_show_their_secrets() -> None:
    creds = Credentials.of(ACCOUNT, API_KEY, SECRET, "pass-phrase-1", 3)
    for text in (repr(creds), str(creds), f"{creds}", repr([creds]), repr(creds.api_key)):
        for secret in (API_KEY, SECRET, "pass-phrase-1"):
            assert secret not in text
    assert "version=3" in repr(creds)
    with pytest.raises(TypeError):
        json.dumps(creds)
    with pytest.raises(TypeError):
        pickle.dumps(creds)


def test_list_shows_versions_times_and_a_fingerprint_never_the_key(tmp_path: Path) -> None:
    ticks = iter(range(1000, 2000, 100))
    store = KeyStore(tmp_path / "k.json", secrets.token_bytes(32), clock=lambda: next(ticks))
    store.set(ACCOUNT, API_KEY, SECRET)
    store.rotate(ACCOUNT, API_KEY_2, SECRET_2)
    [info] = store.list()
    assert (info.account_id, info.version, info.unconfirmed_previous) == (ACCOUNT, 2, 1)
    assert (info.created_ns, info.rotated_ns) == (1000, 1300)
    assert len(info.fingerprint) == 12 and info.fingerprint not in API_KEY_2
    for secret in (API_KEY, SECRET, API_KEY_2, SECRET_2):
        assert secret not in repr(info)


def test_rotation_keeps_the_previous_key_until_confirmed_or_rolled_back(store: KeyStore) -> None:
    store.set(ACCOUNT, API_KEY, SECRET)
    assert store.rotate(ACCOUNT, API_KEY_2, SECRET_2) == 2
    assert store.get(ACCOUNT).api_key.get_secret_value() == API_KEY_2
    assert store.rollback(ACCOUNT) == 1
    assert store.get(ACCOUNT).api_key.get_secret_value() == API_KEY
    assert store.rotate(ACCOUNT, API_KEY_2, SECRET_2) == 3  # never reuses a version number
    assert store.confirm(ACCOUNT) == 3
    assert store.list()[0].unconfirmed_previous is None
    with pytest.raises(CredentialsError) as info:
        store.rollback(ACCOUNT)
    assert info.value.reason == "NOTHING_TO_CONFIRM"
    assert API_KEY.encode() not in store.path.read_bytes()


def test_remove_and_unknown_accounts(store: KeyStore) -> None:
    store.set(ACCOUNT, API_KEY, SECRET)
    store.remove(ACCOUNT)
    with pytest.raises(CredentialsError) as info:
        store.get(ACCOUNT)
    assert info.value.reason == "NO_KEY"
    with pytest.raises(CredentialsError):
        store.rotate(ACCOUNT, API_KEY, SECRET)
    with pytest.raises(CredentialsError):
        store.remove(ACCOUNT)


def test_a_running_store_picks_up_a_rotation_by_another_process_and_tells_subscribers(
    tmp_path: Path, key: bytes
) -> None:
    path = tmp_path / "venue-keys.json"
    cli = KeyStore(path, key)  # what `atlas venues keys` uses
    cli.set(ACCOUNT, API_KEY, SECRET)
    running = KeyStore(path, key)  # the server's, opened before the rotation
    seen: list[KeyChange] = []
    running.on_rotate(seen.append)
    assert running.get(ACCOUNT).version == 1

    async def main() -> None:
        watcher = asyncio.create_task(running.watch(interval_s=0.01))
        cli.rotate(ACCOUNT, API_KEY_2, SECRET_2)
        for _ in range(200):
            if seen:
                break
            await asyncio.sleep(0.01)
        watcher.cancel()

    asyncio.run(main())
    assert seen == [KeyChange(ACCOUNT, 2, "rotated")]
    assert running.get(ACCOUNT).api_key.get_secret_value() == API_KEY_2
    cli.set("binance_futures_x", API_KEY, SECRET)
    cli.remove(ACCOUNT)
    assert running.refresh() == [
        KeyChange("binance_futures_x", 1, "set"),
        KeyChange(ACCOUNT, None, "removed"),
    ]
    assert len(seen) == 3


def test_keys_do_not_reach_logs_while_they_are_used(
    store: KeyStore, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    log = logging.getLogger("atlas.test")
    store.set(ACCOUNT, API_KEY, SECRET)
    creds = store.get(ACCOUNT)
    log.info("using %s", creds)
    log.info("credentials", extra={"creds": creds, "store": store})
    try:
        KeyStore(store.path, secrets.token_bytes(32)).get(ACCOUNT)
    except CredentialsError:
        log.exception("failed")
    text = caplog.text + "".join(repr(r.__dict__) for r in caplog.records)
    for secret in (API_KEY, SECRET):
        assert secret not in text


LISTEN_KEY = "pqia91ma19a5s61cv6a81va65sdf19v8a65a1a5s61cv6a81va65sdf19v8a65a1"


def test_the_service_log_redacts_venue_keys_secrets_signatures_and_listen_keys() -> None:
    from atlas_oms.service.logs import JsonFormatter

    formatter = JsonFormatter()
    lines = [
        ("GET /api/v3/account?timestamp=1&recvWindow=5000&signature=9f2c44d0e1", {}),
        (f"sending headers {{'X-MBX-APIKEY': '{API_KEY}'}}", {}),
        (f'answer {{"listenKey": "{LISTEN_KEY}"}}', {}),
        (f"PUT /fapi/v1/listenKey?listenKey={LISTEN_KEY}", {}),
        (f"connecting wss://fstream.binance.com/ws/{LISTEN_KEY}", {}),
        (f"ccxt config {{'apiKey': '{API_KEY}', 'secret': '{SECRET}'}}", {}),
        (f"a key in prose: {API_KEY} then {SECRET}", {}),
        ("vault", {"x_vault_token": "hvs.abc", "headers": {"X-Vault-Token": "hvs.abc"}}),
        ("okx", {"headers": {"OK-ACCESS-PASSPHRASE": "pp", "OK-ACCESS-SIGN": "sig=="}}),
        ("fields", {"api_secret": SECRET, "listenKey": LISTEN_KEY, "passphrase": "pp"}),
    ]
    for message, extra in lines:
        record = logging.LogRecord("atlas.venues", logging.INFO, __file__, 1, message, (), None)
        record.__dict__.update(extra)
        out = formatter.format(record)
        for secret in (API_KEY, SECRET, LISTEN_KEY, "9f2c44d0e1", "hvs.abc", "sig==", '"pp"'):
            assert secret not in out, out
        assert "***" in out
    # what must stay readable does
    record = logging.LogRecord(
        "atlas", logging.INFO, __file__, 1, "order at3x1042 BTCUSDT sha " + "a" * 64, (), None
    )
    assert "at3x1042 BTCUSDT sha " + "a" * 64 in formatter.format(record)
