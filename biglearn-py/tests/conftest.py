"""Shared fixtures: the repository root, the Rust command line, and the
real data sets (found through BIGLEARN_DATA_DIR, never copied: GPL)."""

import json
import os
import pathlib
import subprocess

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[2]


def _data_dir():
    path = os.environ.get("BIGLEARN_DATA_DIR")
    if path and (pathlib.Path(path) / "lsat7.csv").exists():
        return pathlib.Path(path)
    if os.environ.get("BIGLEARN_REQUIRE_DATA") == "1":
        raise RuntimeError("BIGLEARN_REQUIRE_DATA=1 but BIGLEARN_DATA_DIR has no lsat7.csv")
    return None


@pytest.fixture(scope="session")
def data_dir():
    path = _data_dir()
    if path is None:
        pytest.skip("real data: set BIGLEARN_DATA_DIR to the folder holding lsat7.csv")
    return path


@pytest.fixture(scope="session")
def sparfa_cli():
    """Runs the `sparfa` example (built once) and returns its last stdout line as JSON."""
    built = subprocess.run(
        ["cargo", "build", "--release", "--example", "sparfa"],
        cwd=ROOT, capture_output=True, text=True,
    )
    assert built.returncode == 0, built.stderr[-3000:]
    binary = ROOT / "target" / "release" / "examples" / "sparfa"

    def run(*args):
        done = subprocess.run([str(binary), *map(str, args)], capture_output=True, text=True)
        assert done.returncode == 0, done.stderr[-3000:]
        return json.loads(done.stdout.strip().splitlines()[-1]) if done.stdout.strip() else None

    return run
