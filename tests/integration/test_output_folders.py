"""`flashsim run --out` and `flashsim sweep --out` (issue 11, "outputs are safe"): a folder
that is not a flashsim output is never replaced without --force, `--out .` is a clean error,
folders follow the umask, and a run that dies while writing leaves the old output whole and
its temporary folder is removed by the next run."""

from __future__ import annotations

import json
import os
import signal
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from flashsim.main import main

SCENARIO = """
[run]
duration_s = 1
seed = 1
records = false
plots = false

[[array]]
name = "a0"
read_latency_ms = 0.5
write_latency_ms = 0.5
bandwidth_mib_s = 500
parallelism = 4

[[volume]]
name = "v"
size_mib = 1
array = "a0"

[[workload]]
name = "w"
volume = "v"
rw = "randwrite"
bs = "64k"
rate_iops = 50
"""

OUTPUTS = [".flashsim-output", "scenario.json", "summary.json", "windows.csv"]


@pytest.fixture
def scenario(tmp_path: Path) -> Path:
    path = tmp_path / "tiny.toml"
    path.write_text(SCENARIO, encoding="utf-8")
    return path


def run(scenario: Path, out: Path | str, *more: str) -> int:
    return main(["run", str(scenario), "--out", str(out), "--quiet", *more])


def names(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir())


def test_run_refuses_a_folder_of_other_files_and_keeps_them(
    tmp_path: Path, scenario: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    thesis = tmp_path / "u" / "thesis.tex"
    thesis.parent.mkdir()
    thesis.write_text("x\n")
    assert run(scenario, thesis.parent) == 2
    err = capsys.readouterr().err
    assert f"{thesis.parent}: is not empty and is not a flashsim output" in err
    assert "--force" in err and err.count("\n") == 1
    assert thesis.read_text() == "x\n"
    assert names(tmp_path) == ["tiny.toml", "u"]  # no temporary folder either


def test_run_with_force_replaces_a_folder_of_other_files(tmp_path: Path, scenario: Path) -> None:
    out = tmp_path / "u"
    out.mkdir()
    (out / "thesis.tex").write_text("x\n")
    assert run(scenario, out, "--force") == 0
    assert names(out) == OUTPUTS


def test_a_rerun_replaces_a_previous_output_and_the_marker_lists_its_files(
    tmp_path: Path, scenario: Path
) -> None:
    out = tmp_path / "out"
    assert run(scenario, out) == 0
    (out / "windows.csv").write_text("edited\n")  # a file flashsim wrote: replaced
    assert run(scenario, out, "--seed", "2") == 0
    assert names(out) == OUTPUTS
    assert (out / "windows.csv").read_text() != "edited\n"
    marker = json.loads((out / ".flashsim-output").read_text())
    assert marker["format"] == "flashsim-output"
    assert marker["files"] == ["scenario.json", "summary.json", "windows.csv"]
    assert names(tmp_path) == ["out", "tiny.toml"]


def test_a_previous_output_holding_a_file_flashsim_did_not_write_is_refused(
    tmp_path: Path, scenario: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "out"
    assert run(scenario, out) == 0
    (out / "notes.txt").write_text("mine\n")
    assert run(scenario, out) == 2
    assert "holds 1 file(s) flashsim did not write (the first: notes.txt)" in (
        capsys.readouterr().err
    )
    assert (out / "notes.txt").read_text() == "mine\n"


@pytest.mark.parametrize("given", [".", "..", ""])
def test_out_that_is_the_current_folder_or_holds_it_is_a_clean_error(
    tmp_path: Path,
    scenario: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    given: str,
) -> None:
    here = tmp_path / "work"
    here.mkdir()
    monkeypatch.chdir(here)
    assert run(scenario, given, "--force") == 2
    err = capsys.readouterr().err
    assert err.startswith(f"flashsim run: {given or '.'}: is the current folder or contains it")
    assert names(tmp_path) == ["tiny.toml", "work"] and names(here) == []


def test_out_that_is_a_file_or_a_link_is_a_clean_error(
    tmp_path: Path, scenario: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "file").write_text("keep\n")
    (tmp_path / "real").mkdir()
    (tmp_path / "link").symlink_to("real")
    assert run(scenario, tmp_path / "file") == 2
    assert "is a file, not a folder" in capsys.readouterr().err
    assert run(scenario, tmp_path / "link", "--force") == 2
    assert "is a symbolic link" in capsys.readouterr().err
    assert (tmp_path / "file").read_text() == "keep\n" and names(tmp_path / "real") == []
    assert names(tmp_path) == ["file", "link", "real", "tiny.toml"]


@pytest.mark.parametrize("umask", [0o022, 0o027])
def test_output_folders_and_files_follow_the_umask(
    tmp_path: Path, scenario: Path, umask: int
) -> None:
    old = os.umask(umask)
    try:
        assert run(scenario, tmp_path / "new" / "out") == 0
    finally:
        os.umask(old)
    for folder in (tmp_path / "new", tmp_path / "new" / "out"):
        assert stat.S_IMODE(folder.stat().st_mode) == 0o777 & ~umask
    assert stat.S_IMODE((tmp_path / "new" / "out" / "summary.json").stat().st_mode) == (
        0o666 & ~umask
    )


def test_a_failure_while_writing_keeps_the_old_output_and_leaves_no_temporary_folder(
    tmp_path: Path, scenario: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    out = tmp_path / "out"
    assert run(scenario, out) == 0
    before = {p.name: p.read_bytes() for p in out.iterdir()}

    def half_then_fail(_result: object, folder: Path) -> None:
        (folder / "summary.json").write_text("{")
        raise OSError(28, "No space left on device")

    monkeypatch.setattr("flashsim.sim.outputs.write_outputs", half_then_fail)
    assert run(scenario, out, "--seed", "9") == 2
    assert {p.name: p.read_bytes() for p in out.iterdir()} == before
    assert names(tmp_path) == ["out", "tiny.toml"]


KILLED_WHILE_WRITING = """
import os, signal, sys
import flashsim.sim.outputs as outputs
from flashsim.main import main

write = outputs.write_outputs

def write_then_die(result, folder):
    write(result, folder)
    os.kill(os.getpid(), signal.SIGKILL)

outputs.write_outputs = write_then_die
main(sys.argv[1:])
"""


def test_a_run_killed_while_writing_keeps_the_old_output_and_the_next_run_cleans_up(
    tmp_path: Path, scenario: Path
) -> None:
    out = tmp_path / "out"
    assert run(scenario, out) == 0
    before = {p.name: p.read_bytes() for p in out.iterdir()}
    args = ["run", str(scenario), "--out", str(out), "--quiet", "--seed", "3"]
    killed = subprocess.run(
        [sys.executable, "-c", KILLED_WHILE_WRITING, *args],
        capture_output=True,
        timeout=120,
        check=False,
    )
    assert killed.returncode == -signal.SIGKILL
    (left,) = (p for p in tmp_path.iterdir() if p.name.startswith(".out.tmp-"))
    assert "summary.json" in names(left)
    assert {p.name: p.read_bytes() for p in out.iterdir()} == before
    assert run(scenario, out, "--seed", "3") == 0
    assert names(tmp_path) == ["out", "tiny.toml"]
    assert {p.name: p.read_bytes() for p in out.iterdir()} != before


def test_a_temporary_folder_of_a_live_process_is_left_alone(tmp_path: Path, scenario: Path) -> None:
    with subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"]) as other:
        try:
            busy = tmp_path / f".out.tmp-{other.pid}-0123abcd"
            busy.mkdir()
            os.utime(busy, (1, 1))  # old, but its process lives
            assert run(scenario, tmp_path / "out") == 0
            assert busy.is_dir()
        finally:
            other.kill()


def test_sweep_refuses_a_folder_of_other_files_unless_forced(
    tmp_path: Path, scenario: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "s"
    out.mkdir()
    (out / "data.csv").write_text("1,2\n")
    args = ["sweep", str(scenario), "--param", "run.seed=1,2", "--out", str(out), "--quiet",
            "--jobs", "1"]  # fmt: skip
    assert main(args) == 2
    assert f"flashsim sweep: {out}: is not empty and is not a flashsim output" in (
        capsys.readouterr().err
    )
    assert names(out) == ["data.csv"]
    assert main([*args, "--force"]) == 0
    assert names(out) == [".flashsim-output", "points.json", "runs", "sweep.csv",
                          "sweep.parquet", "sweep.png", "sweep.svg"]  # fmt: skip
    assert main(args) == 0  # its own output: replaced without --force
