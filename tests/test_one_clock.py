"""One clock: business code in `src/` takes "now" from the clock it is given. ruff's
banned-api rule (TID251, configured in pyproject.toml) is the lint; these tests show that
the tree obeys it and that a direct wall-clock read added to a service is caught."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
SERVICE = REPO / "src" / "dropscope" / "services" / "board.py"


def ruff(*args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "ruff", "check", "--no-cache", "--select", "TID251", *args],
        cwd=REPO,
        input=stdin,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_src_reads_the_wall_clock_only_in_the_clock_module() -> None:
    result = ruff("src")
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.parametrize(
    ("imports", "call"),
    [
        ("from datetime import UTC, datetime", "datetime.now(UTC)"),
        ("from datetime import datetime", "datetime.utcnow()"),
        ("from datetime import date", "date.today()"),
        ("import datetime as dt", "dt.datetime.now()"),
        ("import time", "time.time()"),
        ("from time import time_ns", "time_ns()"),
    ],
)
def test_a_wall_clock_read_added_to_a_service_is_caught(imports: str, call: str) -> None:
    source = f"{imports}\n{SERVICE.read_text(encoding='utf-8')}\n\n_STAMP = {call}\n"
    result = ruff("--stdin-filename", str(SERVICE.relative_to(REPO)), "-", stdin=source)
    assert result.returncode == 1, result.stdout + result.stderr
    assert "TID251" in result.stdout
    assert "dropscope.clock" in result.stdout  # the message says where "now" comes from


def test_timers_for_durations_stay_allowed() -> None:
    source = "import time\n\nstarted = time.monotonic()\nspent = time.perf_counter()\n"
    result = ruff("--stdin-filename", str(SERVICE.relative_to(REPO)), "-", stdin=source)
    assert result.returncode == 0, result.stdout + result.stderr
