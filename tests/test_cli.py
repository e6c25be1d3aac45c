"""The CLI's contract: usage and user errors are one message and a non-zero exit, never a traceback."""

from __future__ import annotations

import subprocess
import sys


def _embedtune(*args: str, cwd=None) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-c", "from embedtune.cli import main; main()", *args],
        capture_output=True, text=True, cwd=cwd, timeout=300,
    )


def test_unknown_option_is_a_usage_error_not_a_traceback():
    result = _embedtune("split", "--no-such-option")
    assert result.returncode == 2
    assert "No such option" in result.stderr and "Traceback" not in result.stderr


def test_user_error_is_one_line(tmp_path):
    result = _embedtune("split", "--workspace", str(tmp_path / "empty"))
    assert result.returncode == 2 and "Traceback" not in result.stderr
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("error:") and "embedtune ingest" in lines[0]
