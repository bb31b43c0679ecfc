"""`flashsim sweep` on Dask: the same seed gives the same bytes in process, on a LocalCluster
of two worker processes and on a scheduler the test starts itself; every run is seeded from
its own spawned SeedSequence and reruns alone; replicates give Student-t intervals; Ctrl-C
leaves no process behind."""

from __future__ import annotations

import csv
import json
import math
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pyarrow.parquet as pq
import pytest
from child_processes import alive, children, wait_for
from fuzzing import fuzz_examples
from hypothesis import given, settings
from hypothesis import strategies as st
from sweep_cases import NOISY, files_of, write_theory

from flashsim.main import main
from flashsim.sim.sweep import run_seed

RATES = "flashcopy.fc.copy_rate_mib_s=1,2"


def rows_of(path: Path) -> list[dict[str, str]]:
    return list(csv.DictReader(path.read_text().splitlines()))


def test_a_runs_seed_is_its_spawned_child_of_the_points_seed() -> None:
    points, replicates = 3, 4
    root = np.random.SeedSequence(7)
    for i, child in enumerate(root.spawn(points)):
        for r, grandchild in enumerate(child.spawn(replicates)):
            assert run_seed(7, i, r) == int(grandchild.generate_state(1, np.uint32)[0])
    seeds = {run_seed(7, i, r) for i in range(points) for r in range(replicates)}
    assert len(seeds) == points * replicates  # independent streams, no seed repeated


@pytest.fixture(scope="module")
def scheduler(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A Dask scheduler and one worker on loopback, started with the `dask` command line."""
    folder = tmp_path_factory.mktemp("dask")
    info = folder / "scheduler.json"
    dask = [sys.executable, "-m", "dask"]
    common = {"cwd": folder, "stdout": subprocess.DEVNULL, "stderr": subprocess.DEVNULL}
    procs = [subprocess.Popen([*dask, "scheduler", "--host", "127.0.0.1", "--port", "0",
                               "--no-dashboard", "--scheduler-file", str(info)], **common)]  # fmt: skip
    try:
        deadline = time.monotonic() + 60
        while not info.exists() or not info.read_text().strip():
            assert time.monotonic() < deadline, "the scheduler did not start"
            time.sleep(0.1)
        address = json.loads(info.read_text())["address"]
        procs.append(subprocess.Popen([*dask, "worker", address, "--nworkers", "1",
                                       "--nthreads", "1", "--no-dashboard", "--host",
                                       "127.0.0.1"], **common))  # fmt: skip
        yield address
    finally:
        for p in reversed(procs):
            p.terminate()
        for p in procs:
            try:
                p.wait(timeout=20)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait()


def test_the_same_seed_gives_the_same_bytes_on_every_executor(
    tmp_path: Path, scheduler: str
) -> None:
    path = write_theory(tmp_path)
    args = ["sweep", str(path), "--param", RATES, "--replicates", "2", *NOISY, "--quiet"]
    outs = {"in-process": ["--jobs", "1"], "local-cluster": ["--jobs", "2"],
            "scheduler": ["--scheduler", scheduler]}  # fmt: skip
    for name, how in outs.items():
        assert main([*args, *how, "--out", str(tmp_path / name)]) == 0, name
    reference = files_of(tmp_path / "in-process")
    assert sorted(n for n in reference if n.count("/") == 2 and n.endswith("summary.json")) == [
        "runs/000-0/summary.json", "runs/000-1/summary.json",
        "runs/001-0/summary.json", "runs/001-1/summary.json",
    ]  # fmt: skip
    for name in ("local-cluster", "scheduler"):
        assert files_of(tmp_path / name) == reference, name
    rows = rows_of(tmp_path / "in-process" / "sweep.csv")
    assert [(r["run"], r["point"], r["replicate"], r["seed_spawn_key"]) for r in rows] == [
        ("000-0", "0", "0", "0,0"), ("000-1", "0", "1", "0,1"),
        ("001-0", "1", "0", "1,0"), ("001-1", "1", "1", "1,1"),
    ]  # fmt: skip
    assert {r["seed_entropy"] for r in rows} == {"3"}  # the scenario's run.seed
    assert len({r["run_seed"] for r in rows}) == 4
    # the replicates differ (exponential service times), so the seeds reach the runs
    assert rows[0]["db.latency_ms_max"] != rows[1]["db.latency_ms_max"]
    table = pq.read_table(tmp_path / "in-process" / "sweep.parquet")
    assert table.column_names == list(rows[0])
    assert table.num_rows == 4
    assert table.column("run_seed").to_pylist() == [int(r["run_seed"]) for r in rows]
    assert table.column("db.copy_window_latency_ms_p99").to_pylist() == [
        float(r["db.copy_window_latency_ms_p99"]) for r in rows
    ]


def test_a_run_of_the_sweep_reruns_alone_with_its_recorded_seed(tmp_path: Path) -> None:
    path = write_theory(tmp_path)
    sweep = tmp_path / "sweep"
    args = ["sweep", str(path), "--param", RATES, "--replicates", "2", *NOISY]
    assert main([*args, "--jobs", "1", "--quiet", "--out", str(sweep)]) == 0
    row = rows_of(sweep / "sweep.csv")[3]
    alone = tmp_path / "alone"
    assert main(["run", str(path), *NOISY, "--set", f"flashcopy.fc.copy_rate_mib_s={2}",
                 "--seed", row["run_seed"], "--out", str(alone), "--quiet"]) == 0  # fmt: skip
    assert files_of(alone) == files_of(sweep / "runs" / row["run"])


def test_replicates_give_student_t_intervals(tmp_path: Path) -> None:
    path = write_theory(tmp_path)
    out = tmp_path / "ci"
    args = ["sweep", str(path), "--param", "flashcopy.fc.copy_rate_mib_s=2", *NOISY]
    assert main([*args, "--replicates", "3", "--jobs", "1", "--quiet", "--out", str(out)]) == 0
    values = [float(r["db.latency_ms_p99"]) for r in rows_of(out / "sweep.csv")]
    (ci,) = [r for r in rows_of(out / "sweep_ci.csv") if r["metric"] == "db.latency_ms_p99"]
    # by hand: n = 3, mean, s with n - 1; t(0.975, 2 df) = 0.95 / sqrt(2 * 0.975 * 0.025)
    mean = sum(values) / 3
    s = math.sqrt(sum((v - mean) ** 2 for v in values) / 2)
    half = 0.95 / math.sqrt(2 * 0.975 * 0.025) * s / math.sqrt(3)
    assert s > 0
    assert int(ci["n"]) == 3
    assert float(ci["mean"]) == pytest.approx(mean, rel=1e-12)
    assert float(ci["std"]) == pytest.approx(s, rel=1e-12)
    assert float(ci["ci95_low"]) == pytest.approx(mean - half, rel=1e-9)
    assert float(ci["ci95_high"]) == pytest.approx(mean + half, rel=1e-9)


def test_sweep_bad_options_exit_2_naming_them(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("flashsim.sim.sweep_exec.CONNECT_TIMEOUT", "1s")
    path = write_theory(tmp_path)
    base = ["sweep", str(path), "--param", RATES, "--out", str(tmp_path / "o")]
    cases = {
        "--replicates: must be at least 1, got 0": ["--replicates", "0"],
        "--jobs: must be 1..64, got 0": ["--jobs", "0"],
        "--jobs: must be 1..64, got 100000": ["--jobs", "100000"],
        # the grid's size is checked before any run's scenario is read: bounded time
        "the sweep asks for 200,000,000,000 runs (grid 2, 100,000,000,000 replicates each), "
        "over the limit of 10,000": ["--replicates", "100000000000"],
        "the sweep asks for 20,000 runs (grid 2 x 100 x 100, 1 replicates each)": [
            "--param", "run.seed=" + ",".join(map(str, range(100))),
            "--param", "run.window_s=" + ",".join(map(str, range(1, 101))),
        ],
        "--scheduler tcp://127.0.0.1:1: cannot reach the Dask scheduler": [
            "--scheduler", "tcp://127.0.0.1:1"
        ],
    }  # fmt: skip
    for message, extra in cases.items():
        assert main([*base, *extra]) == 2
        assert message in capsys.readouterr().err
        assert not (tmp_path / "o").exists()
    with pytest.raises(SystemExit) as exit_:
        main([*base, "--jobs", "2", "--scheduler", "tcp://127.0.0.1:1"])
    assert exit_.value.code == 2
    assert "not allowed with argument" in capsys.readouterr().err


@pytest.mark.fuzz
@settings(max_examples=fuzz_examples(8), deadline=None)
@given(st.one_of(st.text(max_size=30), st.builds("tcp://{}:{}".format, st.text(max_size=10),
                                                 st.integers(-5, 70000))))  # fmt: skip
def test_a_bad_scheduler_address_is_a_scenario_error(address: str) -> None:
    from flashsim.sim import sweep_exec
    from flashsim.sim.scenario import ScenarioError

    old, sweep_exec.CONNECT_TIMEOUT = sweep_exec.CONNECT_TIMEOUT, "0.2s"
    try:
        with (
            pytest.raises(ScenarioError, match=r"^--scheduler "),
            sweep_exec.executor(None, address),
        ):
            pass
    finally:
        sweep_exec.CONNECT_TIMEOUT = old


def test_a_peer_that_is_not_a_scheduler_is_a_scenario_error() -> None:
    """A server that answers with bytes of another protocol (here, a length prefix of about
    2**64): distributed reads it as a message length and fails to allocate it."""
    import socket
    import threading

    from flashsim.sim import sweep_exec
    from flashsim.sim.scenario import ScenarioError

    server = socket.create_server(("127.0.0.1", 0))
    port = server.getsockname()[1]

    def answer() -> None:
        connection, _ = server.accept()
        with connection:
            connection.sendall(b"\xff" * 64)
            connection.recv(1 << 16)

    threading.Thread(target=answer, daemon=True).start()
    old, sweep_exec.CONNECT_TIMEOUT = sweep_exec.CONNECT_TIMEOUT, "2s"
    try:
        with (
            pytest.raises(ScenarioError, match=r"^--scheduler tcp://127\.0\.0\.1:\d+: cannot "),
            sweep_exec.executor(None, f"tcp://127.0.0.1:{port}"),
        ):
            pass
    finally:
        sweep_exec.CONNECT_TIMEOUT = old
        server.close()


def test_the_sweep_draws_its_progress_line_on_stderr(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from flashsim.sim.sweep import parse_param, run_sweep

    path = write_theory(tmp_path)
    run_sweep(str(path), [parse_param(RATES)], tmp_path / "o", base=NOISY[1::2], progress=True)
    err = capsys.readouterr().err
    assert "flashsim sweep" in err
    assert "2/2" in err


def test_ctrl_c_shuts_the_local_cluster_down_and_keeps_the_old_output(tmp_path: Path) -> None:
    path = write_theory(tmp_path)
    out = tmp_path / "o"
    command = [sys.executable, "-m", "flashsim", "sweep", str(path), "--param",
               "flashcopy.fc.copy_rate_mib_s=0.25,0.5,1,2", "--set", "run.duration_s=600",
               "--jobs", "2", "--out", str(out)]  # fmt: skip
    # its own session, so that Ctrl-C (SIGINT to the foreground group) reaches it all
    process = subprocess.Popen(command, stderr=subprocess.PIPE, start_new_session=True)
    try:
        wait_for(lambda: len(children(process.pid)) >= 2, what="the workers did not start")
        time.sleep(1.0)  # the workers are running their tasks
        workers = children(process.pid)
        os.killpg(process.pid, signal.SIGINT)
        _, err = process.communicate(timeout=60)
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
    assert process.returncode == 130, err.decode()
    assert err.decode().endswith("flashsim: interrupted\n")
    wait_for(lambda: not any(alive(p) for p in workers), 10, "a worker outlived the sweep")
    assert not out.exists()
