"""`python -m simulators` serves, and exits cleanly on SIGTERM and SIGINT."""

from __future__ import annotations

import signal
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

REPO = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT])
def test_process_serves_and_stops_cleanly(signum: int) -> None:
    process = subprocess.Popen(
        [sys.executable, "-m", "simulators", "--host", "127.0.0.1", "--port", "0", "--log-level", "WARNING"],
        cwd=REPO,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout is not None
        line = process.stdout.readline()
        assert line.startswith("simulators listening on http://127.0.0.1:"), line
        base_url = line.split()[-1]
        assert httpx.get(f"{base_url}/_control/healthz", trust_env=False, timeout=2).json() == {"ok": True}
        process.send_signal(signum)
        assert process.wait(timeout=5) == 0
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
