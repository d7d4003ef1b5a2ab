"""``atlas serve`` with ``policy_params_file`` (ATLAS_POLICY_PARAMS_FILE; issue 13 §2
"Parameters (§16) ... loadable from a file"): at start the file's parameters are put in force
through the journal (actor ``config``) when they differ from the journal's; a wrong file stops
the start with exit code 78 and one sentence."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from fastapi.testclient import TestClient

from atlas_oms import Node
from atlas_oms.model import events as ev
from atlas_oms.service.server import build_app
from atlas_oms.service.settings import ServiceSettings


def _start(tmp_path: Path, policy: Path) -> list[ev.EventBase]:
    """Start and stop the service on ``tmp_path``; the journal's PolicyParamsSet events."""
    settings = ServiceSettings(data_dir=tmp_path, market_maker=False, policy_params_file=policy)
    with TestClient(build_app(settings)):
        pass
    node = Node.open(str(settings.journal_path))
    try:
        return [e for e in node.events() if isinstance(e, ev.PolicyParamsSet)]
    finally:
        node.close()


def test_the_files_parameters_are_put_in_force_once_by_the_config_actor(tmp_path: Path) -> None:
    policy = tmp_path / "policy.properties"
    policy.write_text("odin.execution.repricing-interval-ms = 2000\n")
    (first,) = _start(tmp_path, policy)
    assert first.actor == "config"
    assert first.overrides == (("odin.execution.repricing-interval-ms", "2000"),)
    assert len(_start(tmp_path, policy)) == 1  # the same file again: nothing to do
    policy.write_text("odin.execution.repricing-interval-ms = 3000\n")
    assert _start(tmp_path, policy)[-1].overrides == (
        ("odin.execution.repricing-interval-ms", "3000"),
    )


def test_a_wrong_policy_file_stops_the_start_with_78_and_one_sentence(tmp_path: Path) -> None:
    policy = tmp_path / "policy.properties"
    policy.write_text("odin.execution.no-such-knob = 1\n")
    run = subprocess.run(
        [sys.executable, "-m", "atlas_oms.cli", "serve", "--data-dir", str(tmp_path / "d")],
        env={**os.environ, "ATLAS_POLICY_PARAMS_FILE": str(policy), "ATLAS_PORT": "1"},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert run.returncode == 78, run.stderr[-2000:]
    last = run.stderr.strip().splitlines()[-1]
    assert last.startswith("atlas serve: ") and "no-such-knob" in last
    assert "Traceback" not in run.stderr
