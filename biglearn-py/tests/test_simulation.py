"""The class simulator from Python gives the command line's table."""

import subprocess

import pytest

import biglearn
from conftest import ROOT


def test_same_table_as_the_cli(tmp_path):
    built = subprocess.run(["cargo", "build", "--release", "--example", "simulate"], cwd=ROOT,
                           capture_output=True, text=True)
    assert built.returncode == 0, built.stderr[-3000:]
    cli = subprocess.run([str(ROOT / "target/release/examples/simulate"), "--students", "40",
                          "--weeks", "3", "--seed", "7"], capture_output=True, text=True, check=True)
    # The header and one row per week; the summary lines after the table
    # hold wall times and the engine's counters.
    lines = cli.stdout.strip().splitlines()[: 1 + 3]
    simulation = biglearn.Simulation(students=40, weeks=3, seed=7)
    rows = list(simulation)
    assert simulation.text().splitlines() == lines
    table = simulation.table()
    assert list(table.index) == [1, 2, 3]
    assert table["sparfa_pairs"].iloc[-1] == rows[-1]["sparfa_pairs"] > 0
    on_sqlite = biglearn.Simulation(students=40, weeks=3, seed=7, database=tmp_path / "s.sqlite3")
    list(on_sqlite)
    assert on_sqlite.text() == simulation.text()


def test_policies_and_errors():
    none = biglearn.simulate(students=15, weeks=2, seed=3, policy="none")
    assert (none["pes_per_assignment"] == 0).all()
    local = biglearn.simulate(students=15, weeks=2, seed=3, policy="local_query")
    assert local["pes_per_assignment"].sum() > 0
    with pytest.raises(biglearn.ValidationError, match="unknown policy 'greedy'"):
        biglearn.Simulation(policy="greedy")
    with pytest.raises(biglearn.ValidationError, match="students"):
        biglearn.Simulation(students=-1)
    finished = biglearn.Simulation(students=5, weeks=1, seed=1)
    finished.advance_week()
    with pytest.raises(biglearn.SimulationError, match="finished"):
        finished.advance_week()
