"""A killed sweep resumes from its finished points and gives the same bytes as one that was
never interrupted; the workers of a parallel sweep die with it."""

import json
import os
import shutil
import signal
import subprocess
import sys
from pathlib import Path

from child_processes import alive, children, wait_for
from sim_helpers import array, volume
from sweep_cases import files_of

from flashsim.bundled import root
from flashsim.main import main
from flashsim.sim.sweep_points import SUMMARY, points_folder

SCENARIO = str(root() / "oltp_nightly_backup.toml")
ARGS = [
    "--param", "flashcopy.nightly.copy_rate=30,50,70,90",
    "--set", "run.duration_s=12", "--set", "run.plots=false", "--set", "run.records=false",
]  # fmt: skip


def sweep_command(out: Path, jobs: int = 1) -> list[str]:
    return [sys.executable, "-m", "flashsim", "sweep", SCENARIO, *ARGS, "--out", str(out),
            "--jobs", str(jobs)]  # fmt: skip


def committed(kept: Path) -> list[Path]:
    """The finished points (a point still being written is a hidden temporary folder)."""
    return [p for p in kept.glob(f"*/{SUMMARY}") if not p.parent.name.startswith(".")]


def test_a_killed_sweep_resumes_from_its_finished_points(tmp_path, capsys):
    out = tmp_path / "resumed"
    kept = points_folder(out)
    process = subprocess.Popen(sweep_command(out), stderr=subprocess.DEVNULL)
    try:
        wait_for(lambda: kept.is_dir() and bool(committed(kept)))
    finally:
        process.send_signal(signal.SIGKILL)
        process.wait()
    finished_before = len(committed(kept))
    assert 1 <= finished_before < 4 and not out.exists()

    assert main(["sweep", SCENARIO, *ARGS, "--out", str(out), "--jobs", "1"]) == 0
    assert f"{finished_before} runs finished by an interrupted sweep are reused" in (
        capsys.readouterr().err
    )
    assert not kept.exists()  # the sweep is complete: nothing is left to resume

    whole = tmp_path / "whole"
    assert main(["sweep", SCENARIO, *ARGS, "--out", str(whole), "--quiet", "--jobs", "1"]) == 0
    assert files_of(out) == files_of(whole)  # resumed or not, the same bytes


def test_the_workers_of_a_killed_parallel_sweep_die_with_it(tmp_path):
    process = subprocess.Popen(sweep_command(tmp_path / "out", jobs=2), stderr=subprocess.DEVNULL)
    try:
        wait_for(lambda: len(children(process.pid)) >= 2)
        workers = children(process.pid)
    finally:
        process.send_signal(signal.SIGKILL)
        process.wait()
    wait_for(lambda: not any(alive(pid) for pid in workers), seconds=10)
    assert os.getpid() not in workers


def test_a_sweep_killed_on_its_local_cluster_resumes_in_process(tmp_path, capsys):
    from sweep_cases import write_theory

    path = write_theory(tmp_path)
    args = ["--param", "flashcopy.fc.copy_rate_mib_s=0.5,1,2,4", "--replicates", "2",
            "--set", "run.duration_s=6"]  # fmt: skip
    out = tmp_path / "resumed"
    kept = points_folder(out)
    command = [sys.executable, "-m", "flashsim", "sweep", str(path), *args, "--out", str(out),
               "--jobs", "2"]  # fmt: skip
    process = subprocess.Popen(command, stderr=subprocess.DEVNULL)
    try:
        wait_for(lambda: kept.is_dir() and bool(committed(kept)))
        workers = children(process.pid)
    finally:
        process.send_signal(signal.SIGKILL)
        process.wait()
    wait_for(lambda: not any(alive(pid) for pid in workers), seconds=10)
    finished_before = len(committed(kept))
    assert 1 <= finished_before < 8 and not out.exists()

    assert main(["sweep", str(path), *args, "--out", str(out), "--jobs", "1"]) == 0
    assert f"{finished_before} runs finished by an interrupted sweep are reused" in (
        capsys.readouterr().err
    )
    whole = tmp_path / "whole"
    assert main(["sweep", str(path), *args, "--out", str(whole), "--jobs", "1", "--quiet"]) == 0
    assert files_of(out) == files_of(whole)  # killed on a cluster, resumed in process: same bytes


TRACE_SCENARIO = (
    "[run]\nduration_s = 2\nplots = false\nrecords = false\n" + array("a0", lat=1)
    + volume("vol", 1) + '[[workload]]\nname = "replay"\nvolume = "vol"\ntrace = "t.csv"\n'
    'format = "msr"\n'
)  # fmt: skip
# SNIA MSR Cambridge lines (100 ns timestamps): writes of 4 KiB at 0, 0.5 s and 1 s
MSR = "128166372000000000,hm,0,Write,0,4096,100\n" \
    "128166372005000000,hm,0,Write,65536,4096,100\n" \
    "128166372010000000,hm,0,Write,131072,4096,100\n"  # fmt: skip


def test_a_point_whose_trace_file_changed_is_run_again_not_resumed(tmp_path, capsys):
    """The scenario's bytes are the same; the trace it reads is not: a kept point of the old
    trace must not be taken for the new one."""
    scenario = tmp_path / "s.toml"
    scenario.write_text(TRACE_SCENARIO)
    (tmp_path / "t.csv").write_text(MSR)
    args = ["sweep", str(scenario), "--param", "run.window_s=0.5,1", "--jobs", "1"]
    out, kept = tmp_path / "out", points_folder(tmp_path / "out")
    assert main([*args, "--out", str(out), "--quiet"]) == 0
    # a killed sweep of the same points: its finished points kept, as if it had stopped
    first = json.loads((out / "runs" / "000" / "summary.json").read_text())
    assert (first["workloads"][0]["ios"], first["workloads"][0]["reads"]) == (3, 0)
    shutil.copytree(out / "runs" / "000", kept / "stale")
    from flashsim.sim.scenario import load
    from flashsim.sim.sweep import run_seed
    from flashsim.sim.sweep_points import inputs_digest, point_key

    def key_of(point: int) -> str:
        overrides = [f"run.window_s={('0.5', '1')[point]}"]
        loaded = load(scenario, [], None, params=overrides)
        seed = run_seed(loaded.run.seed, point, 0)
        return point_key(str(scenario), overrides, seed, inputs_digest(loaded))

    old_key = key_of(0)
    (kept / "stale").rename(kept / old_key)
    (tmp_path / "t.csv").write_text(MSR.replace("Write,131072", "Read,131072"))
    assert key_of(0) != old_key  # the trace's records are part of the key
    assert main([*args, "--out", str(out), "--force"]) == 0
    assert "reused" not in capsys.readouterr().err
    again = json.loads((out / "runs" / "000" / "summary.json").read_text())
    (replay,) = again["workloads"]
    assert (replay["ios"], replay["reads"]) == (3, 1), replay
