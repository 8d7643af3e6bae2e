"""Shared helpers of lola's Python tests."""

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

pytest_plugins = ["pytester"]

#: The repository (python/tests/ is two levels below it).
REPO = Path(__file__).resolve().parents[2]
FIXTURES = REPO / "fixtures"


def lola_binary() -> str:
    """The CLI to compare with: LOLA_BIN, else the repository's build, else PATH."""
    for candidate in (
        os.environ.get("LOLA_BIN"),
        REPO / "target" / "release" / "lola",
        REPO / "target" / "debug" / "lola",
        shutil.which("lola"),
    ):
        if candidate and Path(candidate).is_file() and os.access(candidate, os.X_OK):
            return str(candidate)
    pytest.fail("no lola binary: build it (cargo build) or set LOLA_BIN")


@pytest.fixture(scope="session")
def lola_cli() -> str:
    return lola_binary()


def run_pytest(args, cwd, timeout=300):
    """pytest in a subprocess (its own session: its own namespace and workers)."""
    env = dict(os.environ)
    env.pop("LOLA_PRIVATE_SESSION", None)
    env.pop("PYTEST_XDIST_WORKER", None)
    env.pop("PYTEST_XDIST_WORKER_COUNT", None)
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", *args],
        cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout,
    )
