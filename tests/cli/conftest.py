"""Shared fixtures of the command-line tests: the demo's journal (played once per session), a
fixed clock, and a running server for the client commands."""

from __future__ import annotations

import contextlib
import io
import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from atlas_oms.cli import main
from atlas_oms.service.server import BackgroundServer, build_app
from atlas_oms.service.settings import ServiceSettings

from .helpers import Live


@pytest.fixture(scope="session")
def demo_run(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    """Run the demo once for the session; return its journal path and its output."""
    path = tmp_path_factory.mktemp("demo") / "sub" / "demo.db"
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        code = main(["demo", "--journal", str(path)])
    assert code == 0
    return path, out.getvalue()


@pytest.fixture
def live(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> Iterator[Live]:
    """``atlas serve``'s app on a free 127.0.0.1 port (uvicorn in a thread, a temp data dir, no
    market maker: the book holds what the tests put there)."""
    for name in ("ATLAS_URL", "ATLAS_KEY", "ATLAS_ACCOUNT"):
        monkeypatch.delenv(name, raising=False)
    settings = ServiceSettings(data_dir=tmp_path, market_maker=False, rate_limit_per_s=10_000)
    with BackgroundServer(build_app(settings)) as server:
        lines = (tmp_path / "first-keys.txt").read_text().splitlines()
        roles = {json.loads(x)["roles"][0]: json.loads(x)["token"] for x in lines}
        tokens = {"admin": roles["admin"], "risk": roles["risk"], "trader": roles["trader"]}
        capsys.readouterr()  # the start-up log
        yield Live(server.url, tokens, capsys)
