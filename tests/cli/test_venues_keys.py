"""``atlas venues keys ...`` and ``atlas venues accounts FILE``: keys go in from the environment or
standard input (never argv), come out as versions and fingerprints only, and every refusal is one
sentence with its exit code."""

from __future__ import annotations

import base64
import io
import json
import os
import secrets
import subprocess
import sys
from pathlib import Path

import pytest

from atlas_oms.venues.credentials import KeyStore

from .helpers import run_main

API_KEY = "vmPUZE6mv9SD5VNHk4HlWFsOr6aKE2zvsw0MuIgwCIPy6utIco14y7Ju91duEh8A"
SECRET = "NhqPtmdSJYdKjVHjA7PZj4Mge3R5YNiP1e3UZjInClVN65XAbvqqM6A7H5fATj0j"
API_KEY_2 = "Q8Hb3mLpx2TzR7vKc9WnY4sJd6FgA1eU0oIiBrNtMqZ5yXwVlCkEhGjP3aSfDo7u"
SECRET_2 = "p4Lm9QzWx2Rt7Yv3Kb8Nc1Jd5Hf6Gs0Ae4Ui9Oo2Ip7Ly3Tk8Rj1Wq6Ez5Xc0Vb"
ACCOUNT = "binance_spot_main"
SEED = Path(__file__).resolve().parents[2] / "examples" / "accounts.yaml"
ALL_SECRETS = (API_KEY, SECRET, API_KEY_2, SECRET_2)


@pytest.fixture
def master(monkeypatch: pytest.MonkeyPatch) -> bytes:
    key = secrets.token_bytes(32)
    monkeypatch.setenv("ATLAS_MASTER_KEY", base64.b64encode(key).decode())
    monkeypatch.delenv("ATLAS_MASTER_KEY_FILE", raising=False)
    return key


def keys(
    capsys: pytest.CaptureFixture[str], data: Path, *args: str, stdin: str | None = None
) -> tuple[int, str, str]:
    old = sys.stdin
    if stdin is not None:
        sys.stdin = io.StringIO(stdin)
    try:
        code, out, err = run_main(["venues", "keys", *args, "--data-dir", str(data)], capsys)
    finally:
        sys.stdin = old
    for secret in ALL_SECRETS:
        assert secret not in out and secret not in err
    return code, out, err


def test_set_from_stdin_rotate_from_env_list_and_check(
    tmp_path: Path,
    master: bytes,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    code, out, _ = keys(capsys, tmp_path, "set", ACCOUNT, stdin=f"{API_KEY}\n{SECRET}\n")
    assert code == 0 and out.startswith(f"stored the API key of {ACCOUNT}: version 1, fingerprint")
    monkeypatch.setenv("NEW_KEY", API_KEY_2)
    monkeypatch.setenv("NEW_SECRET", SECRET_2)
    code, out, _ = keys(capsys, tmp_path, "rotate", ACCOUNT, "--from-env", "NEW_KEY", "NEW_SECRET")
    assert code == 0 and "version 2" in out and "version 1 is kept until" in out
    code, out, _ = keys(capsys, tmp_path, "list")
    assert code == 0 and ACCOUNT in out and "fingerprint" in out
    code, out, _ = keys(capsys, tmp_path, "list", "--json")
    [row] = json.loads(out)
    assert (row["account_id"], row["version"], row["unconfirmed_previous"]) == (ACCOUNT, 2, 1)
    code, out, _ = keys(capsys, tmp_path, "check")
    assert (code, out) == (0, f"{ACCOUNT}: ok\n")
    code, out, _ = keys(capsys, tmp_path, "confirm", ACCOUNT)
    assert code == 0 and "confirmed version 2" in out
    store = KeyStore(tmp_path / "venue-keys.json", master)
    assert store.get(ACCOUNT).api_key.get_secret_value() == API_KEY_2
    raw = (tmp_path / "venue-keys.json").read_bytes()
    assert not any(s.encode() in raw for s in ALL_SECRETS)
    code, out, _ = keys(capsys, tmp_path, "remove", ACCOUNT)
    assert code == 0 and keys(capsys, tmp_path, "list")[1] == "no venue API keys\n"


def test_a_secret_is_never_taken_from_the_command_line(
    tmp_path: Path, master: bytes, capsys: pytest.CaptureFixture[str]
) -> None:
    code, _, err = keys(capsys, tmp_path, "set", ACCOUNT, API_KEY, SECRET)
    assert (code, err) == (
        2,
        "atlas venues keys set: an API key or secret is never taken as an argument (it would "
        "stay in the shell's history and in ps): use --from-env VAR_KEY VAR_SECRET or standard "
        "input\n",
    )
    assert not (tmp_path / "venue-keys.json").exists()


def test_refusals_are_one_sentence_with_an_exit_code(
    tmp_path: Path,
    master: bytes,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    code, _, err = keys(capsys, tmp_path, "set", ACCOUNT, "--from-env", "NOPE_K", "NOPE_S")
    assert (code, err) == (
        2,
        "atlas venues keys set: environment variable NOPE_K is not set or empty\n",
    )
    code, _, err = keys(capsys, tmp_path, "set", ACCOUNT, stdin="only-a-key\n")
    assert code == 2 and "an API key and its secret are needed" in err
    code, _, err = keys(capsys, tmp_path, "rotate", ACCOUNT, stdin=f"{API_KEY}\n{SECRET}\n")
    assert (code, err) == (
        2,
        f"atlas venues keys rotate: no API key for account {ACCOUNT} to rotate\n",
    )
    code, _, err = keys(capsys, tmp_path, "confirm", ACCOUNT)
    assert code == 2 and "no rotation to confirm" in err
    assert keys(capsys, tmp_path, "set", ACCOUNT, stdin=f"{API_KEY}\n{SECRET}\n")[0] == 0
    monkeypatch.setenv("ATLAS_MASTER_KEY", base64.b64encode(secrets.token_bytes(32)).decode())
    code, out, _ = keys(capsys, tmp_path, "check")
    assert code == 1
    assert out == (
        f"{ACCOUNT}: cannot decrypt the API key of {ACCOUNT}: wrong master key or the entry "
        "belongs to another account\n"
    )
    monkeypatch.delenv("ATLAS_MASTER_KEY")
    code, _, err = keys(capsys, tmp_path, "list")
    assert code == 1 and err.startswith(
        "atlas venues keys list: no master key: set ATLAS_MASTER_KEY"
    )


def test_a_world_readable_master_key_file_is_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("ATLAS_MASTER_KEY", raising=False)
    path = tmp_path / "master.key"
    code, out, _ = run_main(["venues", "keys", "new-master-key", str(path)], capsys)
    assert code == 0 and "mode 0600" in out
    os.chmod(path, 0o644)
    code, _, err = keys(capsys, tmp_path, "list", "--master-key-file", str(path))
    assert code == 1
    assert err == (
        f"atlas venues keys list: master key file {path} is readable by others (mode 0644): "
        f"run chmod 600 {path}\n"
    )
    os.chmod(path, 0o600)
    assert keys(capsys, tmp_path, "list", "--master-key-file", str(path))[0] == 0


def test_accounts_prints_the_resolved_accounts_and_routing(
    capsys: pytest.CaptureFixture[str],
) -> None:
    code, out, _ = run_main(["venues", "accounts", str(SEED)], capsys)
    assert code == 0
    assert "binance_futures_sub_futures_trend  binance_main" in out
    assert "vault:exchanges/binance_sub_futures_trend" in out
    routing = out.split("routing", 1)[1]
    assert (
        "trend_following  - (MARKET_DISABLED)             binance_futures_sub_futures_trend"
        in routing
    )
    code, out, _ = run_main(["venues", "accounts", str(SEED), "--json"], capsys)
    data = json.loads(out)
    assert data["routing"]["arbitrage"]["spot"] == "binance_spot_sub_spot_arb"
    assert data["umbrellas"] == ["binance_main"]


def test_accounts_refuses_an_invalid_file_naming_line_and_key(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bad = tmp_path / "accounts.yaml"
    bad.write_text(SEED.read_text().replace("default: main", "default: nobody"))
    code, out, err = run_main(["venues", "accounts", str(bad)], capsys)
    assert code == 2 and out == ""
    assert err.startswith(f"atlas venues accounts: {bad}:")
    assert "account_routing.default: no account 'nobody'" in err


def test_check_with_accounts_reads_vault_and_file_keys(
    tmp_path: Path,
    master: bytes,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.syspath_prepend(str(Path(__file__).resolve().parents[1] / "venues"))
    from fake_vault import FakeVault  # tests/venues: the fake Vault KV v2 server

    with FakeVault("hvs.tok") as vault:
        vault.put("exchanges/binance_main", {"api_key": API_KEY, "api_secret": SECRET})
        monkeypatch.setenv("VAULT_ADDR", vault.url)
        monkeypatch.setenv("VAULT_TOKEN", "hvs.tok")
        conf = tmp_path / "accounts.yaml"
        conf.write_text(
            "accounts:\n  binance:\n    main:\n      type: main\n      spot_enabled: true\n"
            "      api_key_vault_path: binance_main\n    sub:\n      type: sub\n      parent: main\n"
            "      futures_enabled: true\naccount_routing:\n  default: main\n"
        )
        keys(capsys, tmp_path, "set", "binance_futures_sub", stdin=f"{API_KEY_2}\n{SECRET_2}\n")
        code, out, _ = keys(capsys, tmp_path, "check", "--accounts", str(conf))
    assert code == 0
    assert out == "binance_spot_main: ok\nbinance_futures_sub: ok\n"


def test_set_through_the_real_command_with_piped_stdin(tmp_path: Path) -> None:
    env = {
        **os.environ,
        "ATLAS_MASTER_KEY": base64.b64encode(secrets.token_bytes(32)).decode(),
        "ATLAS_DATA_DIR": str(tmp_path),
    }
    done = subprocess.run(
        [sys.executable, "-m", "atlas_oms.cli", "venues", "keys", "set", ACCOUNT],
        input=f"{API_KEY}\n{SECRET}\n",
        capture_output=True,
        text=True,
        env=env,
        timeout=30,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert API_KEY not in done.stdout + done.stderr and SECRET not in done.stdout + done.stderr
    assert (tmp_path / "venue-keys.json").exists()
