"""A run's output folder: every file of a result, written into a fresh folder beside the
destination and swapped into place at the end (`run_to`; `flashsim.models.output_folder`)."""

from __future__ import annotations

import json
import os
from pathlib import Path

from flashsim.models.output_folder import check_destination, output_folder
from flashsim.sim import metrics
from flashsim.sim.engine import Result, simulate
from flashsim.sim.scenario import Scenario
from flashsim.sim.verify import Verification, simulate_and_verify


def write_outputs(result: Result, folder: Path) -> list[Path]:
    """Write every output file of `result` into `folder` (which exists)."""
    files = []

    def put(name: str, text: str) -> None:
        path = folder / name
        path.write_text(text, encoding="utf-8", newline="\n")
        files.append(path)

    put("summary.json", metrics.summary_json(result))
    put("windows.csv", metrics.windows_csv(result))
    put(
        "scenario.json",
        json.dumps(result.scenario.raw, indent=2, sort_keys=True, default=str) + "\n",
    )
    if result.scenario.run.records:
        path = folder / "ios.csv"
        with path.open("w", encoding="utf-8", newline="\n") as out:
            metrics.write_records_csv(result, out)
        files.append(path)
    if result.scenario.run.plots:
        from flashsim.sim.plots import copy_impact

        files += copy_impact(result, folder / "copy_impact")
    return files


def run_to(
    scenario: Scenario,
    out: str | os.PathLike[str],
    progress: bool = False,
    verify: bool = False,
    force: bool = False,
) -> tuple[Result, Verification | None]:
    """Simulate `scenario` and write its outputs into `out` (`flashsim.models.output_folder`:
    built beside it, swapped in whole; a folder that is not a flashsim output is replaced only
    with `force`); with `verify`, also check every image against the oracle and write
    `verify.json`. Raises OutputFolderError, before simulating if `out` cannot be used."""
    check_destination(out, force)
    verification = None
    if verify:
        result, verification = simulate_and_verify(scenario, progress=progress)
    else:
        result = simulate(scenario, progress=progress)
    try:
        with output_folder(out, "run", force) as build:
            write_outputs(result, build)
            if verification is not None:
                report = {
                    "ok": verification.ok,
                    "operations": verification.operations,
                    "problems": list(verification.problems),
                }
                (build / "verify.json").write_text(
                    json.dumps(report, indent=2) + "\n", encoding="utf-8"
                )
    finally:
        result.close()
    return result, verification
