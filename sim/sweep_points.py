"""The finished points of a sweep, kept until the sweep completes, so that a killed sweep
resumes where it stopped.

Each point's run folder is written into `.DIR.points/` beside the sweep's `--out DIR` under
a key of everything that decides its result (the scenario file's bytes, the overrides, the
seed, flashsim's version, and the trace records and fio jobs its workloads read): first into
a temporary folder, fsynced, then renamed to its key in one step, so a point is either
wholly there or absent. A rerun of the same sweep takes the points it finds and runs only
the others; the folder is removed once the sweep's output is in place. Workers of a parallel
sweep die with the process that started them (Linux: PR_SET_PDEATHSIG:
`flashsim.models.worker_processes`), so a killed sweep leaves none running.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from flashsim.sim.scenario import Scenario

#: The file of a finished point that holds its summary (written last, read on resume).
SUMMARY = "summary.json"


def points_folder(out: str | os.PathLike[str]) -> Path:
    """Where the finished points of the sweep into `out` are kept."""
    destination = Path(out)
    return destination.parent / f".{destination.name}.points"


def inputs_digest(scenario: Scenario) -> str:
    """A digest of what a scenario's workloads read from files beside it: a fio job file's
    jobs as they were expanded, and a trace's records as they were read and fitted. A point
    whose trace or job file changed is a new point, though the scenario's bytes are the
    same."""
    digest = hashlib.sha256()
    for workload in scenario.workloads:
        digest.update(repr(workload).encode())  # every field, fio's expansion included
        if workload.trace is not None:  # (its records are not in its repr)
            digest.update(workload.trace.records.tobytes())
    return digest.hexdigest()


def point_key(scenario: str, overrides: list[str], seed: int | None, inputs: str = "") -> str:
    """A key of everything that decides a point's result: the scenario's bytes, the
    overrides, the seed, flashsim's version and the `inputs_digest` of its files."""
    try:
        flashsim = version("flashsim")
    except PackageNotFoundError:  # pragma: no cover - a tree that is not installed
        flashsim = "unknown"
    record = {
        "scenario": hashlib.sha256(Path(scenario).read_bytes()).hexdigest(),
        "overrides": overrides,
        "seed": seed,
        "flashsim": flashsim,
        "inputs": inputs,
    }
    return hashlib.sha256(json.dumps(record, sort_keys=True).encode()).hexdigest()[:32]


def finished(folder: Path) -> dict[str, Any] | None:
    """The summary of the finished point in `folder`, or None if it is not there."""
    try:
        return json.loads((folder / SUMMARY).read_text(encoding="utf-8"))  # type: ignore[no-any-return]
    except (OSError, ValueError):
        return None


def commit(build: Path, folder: Path) -> None:
    """Make the point written into `build` the finished point `folder`: fsync every file
    and the folder, then rename it into place (the summary is the last file written)."""
    for path in sorted(build.rglob("*")):
        if path.is_file():
            with path.open("rb") as handle:
                os.fsync(handle.fileno())
    _fsync_dir(build)
    os.replace(build, folder)
    _fsync_dir(folder.parent)


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def copy_into(folder: Path, run: Path) -> None:
    """The finished point's files into the sweep's `runs/NNN` (hard links where possible)."""
    shutil.copytree(folder, run, copy_function=_link_or_copy)


def _link_or_copy(src: str, dst: str) -> None:
    try:
        os.link(src, dst)
    except OSError:
        shutil.copy2(src, dst)
