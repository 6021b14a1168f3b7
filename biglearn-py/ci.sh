#!/usr/bin/env bash
# CI of the Python package: lints the binding, builds the abi3 wheel with
# maturin in a fresh virtual environment, installs it, runs the pytest suite
# (which compares with the Rust command lines) and executes the notebook.
# Any failure fails the script (pytest's "no tests collected", exit 5, too).
set -euo pipefail
cd "$(dirname "$0")"
PY_DIR="$(pwd)"
# Share the root workspace's target folder: the core and the store are
# already compiled there by the root build and lint steps.
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$(cd .. && pwd)/target}"
PYTHON="${PYTHON:-python3}"
WORK="$(mktemp -d)"
trap 'rm -rf "$WORK"' EXIT

step() { printf '\n=== biglearn-py: %s ===\n' "$*"; }

step "virtual environment"
"$PYTHON" -m venv "$WORK/venv"
# shellcheck disable=SC1091
source "$WORK/venv/bin/activate"
python -m pip install -q --upgrade pip
python -m pip install -q maturin pytest numpy pandas matplotlib nbclient nbformat ipykernel tqdm

step "format and clippy (own workspace)"
# Not --locked: biglearn-py/Cargo.lock pins the versions, but a dependency
# that biglearn-core or biglearn-store gains later must be added to it
# rather than fail the build.
cargo fmt --manifest-path Cargo.toml -- --check
cargo clippy --manifest-path Cargo.toml -- -D warnings

step "wheel"
# The wheel links the system libpq (the store's PostgreSQL backend), so it
# is tagged for this Linux rather than manylinux.
maturin build --release --compatibility linux --auditwheel skip --out "$WORK/wheels"
python -m pip install -q "$WORK"/wheels/biglearn-*.whl
python -c "import biglearn, sys; print('biglearn', biglearn.__version__, 'on Python', sys.version.split()[0])"

step "pytest"
# From outside the source tree, so the installed wheel is what is tested.
export BIGLEARN_REQUIRE_DATA="${CI:+1}"
set +e
(cd "$WORK" && python -m pytest -q -p no:cacheprovider "$PY_DIR/tests" --rootdir "$PY_DIR")
status=$?
set -e
if [ "$status" -ne 0 ]; then
  echo "pytest failed with exit code $status (5 = no tests collected)"
  exit "$status"
fi

step "notebook"
python -m ipykernel install --user --name biglearn-ci >/dev/null
python - "$PY_DIR/examples/sparfa_tour.ipynb" <<'PY'
import sys, nbformat
from nbclient import NotebookClient
path = sys.argv[1]
notebook = nbformat.read(path, as_version=4)
NotebookClient(notebook, timeout=600, kernel_name="biglearn-ci",
               resources={"metadata": {"path": str(__import__("pathlib").Path(path).parent)}}).execute()
print(f"executed {path}: {len(notebook.cells)} cells")
PY
