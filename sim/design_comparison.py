"""Host write latency and back-end traffic with 1, 4 and 12 point-in-time copies of one
volume, by design: DS8000 (a copy per target that needs the track), SVC (a copy to the newest
mapping only) and redirect-on-write (a block-map update, no copy). The same scenario runs
nine times: its first N `[[flashcopy]]` tables kept, its `run.profile` set to each design.

`python -m flashsim.sim.design_comparison scenarios/copies_by_design.toml --out DIR` writes
`DIR/comparison.json` and `DIR/comparison.png`/`.svg` (`scenarios/copies_by_design.toml`).
"""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import replace
from typing import Any

import numpy as np

from flashsim.models.errors import FlashCopyError
from flashsim.models.ops import PROFILE_NAMES
from flashsim.models.output_folder import OutputFolderError, check_destination, output_folder
from flashsim.sim.engine import simulate
from flashsim.sim.figure_files import new_figure, save
from flashsim.sim.scenario import Scenario, ScenarioError, load

COPIES = (1, 4, 12)
LABELS = {"ds8000": "DS8000", "svc": "SVC / FlashSystem", "row": "redirect-on-write"}
MIB = 1 << 20


def measure(scenario: Scenario, profile: str, copies: int) -> dict[str, Any]:
    """One run: the host writes issued after the copies were taken, their latency, the
    back-end MiB/s from the copies on (every array, every kind) and the back-end bytes
    beyond the host's own per byte written (copies, block-map updates, merge reads and the
    rest of each merged block). Before the copies the host I/O only fills the volume (no
    relationship exists, so each of its I/Os is its own back-end I/O), which is subtracted."""
    kept = scenario.flashcopies[:copies]
    run = replace(scenario.run, profile=profile, records=True, plots=False)
    result = simulate(replace(scenario, run=run, flashcopies=kept))
    since = max((f.at_s or 0.0 for f in kept), default=0.0)
    rec = result.records
    assert rec is not None  # records=True above
    writes = (rec["read"] == 0) & (rec["error"] == 0) & (rec["issue_s"] >= since)
    latency = rec["latency_s"][writes] * 1000.0
    written = int(rec["length"][writes].sum())
    done = rec["error"] == 0
    before = int(rec["length"][done & (rec["issue_s"] < since)].sum())
    host_after = int(rec["length"][done & (rec["issue_s"] >= since)].sum())
    arrays = result.arrays.values()
    copied = sum(a.bytes["copy_before_write"] for a in arrays)
    remapped = sum(a.bytes["row_remap"] for a in arrays)
    merged = sum(a.bytes["row_merge"] for a in arrays)
    back_end = sum(sum(a.bytes.values()) for a in arrays) - before
    return {
        "profile": profile,
        "copies": copies,
        "host_writes": int(writes.sum()),
        "write_latency_ms": {
            "p50": round(float(np.percentile(latency, 50)), 4),
            "p99": round(float(np.percentile(latency, 99)), 4),
        },
        "back_end_mib_s": round(back_end / MIB / (scenario.run.duration_s - since), 3),
        "copy_before_write_bytes": copied,  # read and write
        "row_remap_bytes": remapped,  # block-map writes
        "row_merge_bytes": merged,  # the old blocks partial writes read to merge
        # every back-end byte beyond the host's own reads and writes, per byte written
        "amplification": round((back_end - host_after) / written, 3) if written else None,
    }


def compare(scenario: Scenario) -> list[dict[str, Any]]:
    return [measure(scenario, p, n) for p in PROFILE_NAMES for n in COPIES]


def figure(rows: list[dict[str, Any]], title: str) -> Any:
    fig = new_figure(figsize=(10, 4))
    left, right = fig.subplots(1, 2)
    # distinct line styles: at one copy the DS8000 and SVC points coincide
    styles = {"ds8000": ("o", "-"), "svc": ("s", "--"), "row": ("^", ":")}
    drawn: list[tuple[tuple[list[float], list[float]], str]] = []
    for profile in PROFILE_NAMES:
        mine = [r for r in rows if r["profile"] == profile]
        x = [r["copies"] for r in mine]
        marker, line = styles.get(profile, ("o", "-"))
        series = (
            [r["write_latency_ms"]["p50"] for r in mine],
            [r["back_end_mib_s"] for r in mine],
        )
        label = name = LABELS.get(profile, profile)
        # a design equal to one already drawn in both panels would hide behind it: say so in
        # the legend and draw its markers hollow and larger, so that both stay visible
        same = [other for drawn_series, other in drawn if drawn_series == series]
        style: dict[str, Any] = {}
        if same:
            label += f" (same as {same[0]})"
            style = {"markerfacecolor": "none", "markersize": 11}
        drawn.append((series, name))
        for ax, values in zip((left, right), series, strict=True):
            ax.plot(x, values, marker=marker, linestyle=line, label=label, **style)
    left.set(xlabel="point-in-time copies", ylabel="host write latency p50 (ms)", xticks=COPIES)
    right.set(xlabel="point-in-time copies", ylabel="back-end MiB/s (all kinds)", xticks=COPIES)
    for ax in (left, right):
        ax.grid(True, alpha=0.3)
    # one legend below the panels, outside the data (the DS8000 line climbs across both)
    handles, labels = left.get_legend_handles_labels()
    fig.legend(handles, labels, loc="lower center", ncol=len(labels), frameon=False)
    fig.suptitle(title)
    fig.tight_layout(rect=(0, 0.08, 1, 1))
    return fig


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m flashsim.sim.design_comparison")
    parser.add_argument("scenario")
    parser.add_argument("--out", required=True)
    parser.add_argument(
        "--force", action="store_true", help="replace --out even if it is not a flashsim output"
    )
    args = parser.parse_args(argv)
    try:  # bad input: a message naming the file and key, exit 2, nothing written
        check_destination(args.out, args.force)
        scenario = load(args.scenario)
        rows = compare(scenario)
        title = "host write latency and back-end MiB/s with 1, 4 and 12 copies: DS8000, SVC, ROW"
        with output_folder(args.out, "design_comparison", args.force) as build:
            (build / "comparison.json").write_text(json.dumps(rows, indent=1) + "\n")
            save(figure(rows, title), build / "comparison")
    except (FlashCopyError, ScenarioError, OutputFolderError) as error:
        print(f"design_comparison: {error}", file=sys.stderr)
        return 2
    for r in rows:
        print(json.dumps(r))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
