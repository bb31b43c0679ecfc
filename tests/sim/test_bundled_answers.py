"""Every bundled scenario asks its question in its first comment and names the one place of
summary.json that answers it; the run gives that answer, and what the comment says holds."""

from __future__ import annotations

import re
from itertools import pairwise
from pathlib import Path
from typing import Any

import pytest

from flashsim.sim.engine import simulate
from flashsim.sim.metrics import summary
from flashsim.sim.scenario import load

ROOT = Path(__file__).resolve().parents[2]
SCENARIOS = sorted((ROOT / "scenarios").glob("*.toml"))
TRACE = ROOT.parent / "shared" / "data" / "traces" / "cloudphysics_vscsi_part1.csv"


def first_comment(path: Path) -> str:
    lines = []
    for line in path.read_text().splitlines():
        if not line.startswith("#") or line.strip() == "#":
            break
        lines.append(line.lstrip("# "))
    return " ".join(lines)


def answer_path(path: Path) -> list[str]:
    found = re.search(r"Answer in summary\.json: ([\w.]+)", first_comment(path))
    assert found, f"{path.name}: no 'Answer in summary.json: PATH' in the first comment"
    return found.group(1).split(".")


def resolve(info: dict[str, Any], keys: list[str]) -> Any:
    node: Any = info
    for key in keys:
        node = node[int(key)] if isinstance(node, list) else node[key]
    return node


@pytest.mark.parametrize("path", SCENARIOS, ids=lambda p: p.stem)
def test_the_first_comment_asks_a_question_and_names_its_answer(path: Path) -> None:
    text = first_comment(path)
    assert "Question:" in text and "?" in text.split("Answer in")[0], path.name
    assert answer_path(path)[0] in {"relationships", "groups", "phases", "workloads"}


def quick_sets(path: Path) -> list[str]:
    """The `--set`s of a long scenario's "For a quick look:" (its first comment says them)."""
    quick = first_comment(path).partition("For a quick look:")[2]
    return re.findall(r"--set (\S+?)\.?(?=\s|\)|$)", quick)


def run(path: Path, more: list[str] | None = None) -> dict[str, Any]:
    sets = ["run.records=false", "run.plots=false", *(more or [])]
    if path.stem.startswith("long_"):  # minutes at full size: the quick look it names
        sets += quick_sets(path)
    if path.stem.startswith("cloudphysics"):
        if not TRACE.exists():
            pytest.skip(f"{TRACE} is not here (the scenario's first comment says where)")
        sets.append(f"workload.vm.trace='{TRACE}'")
    result = simulate(load(path, sets))
    result.system.close()
    return summary(result)


@pytest.mark.parametrize("path", SCENARIOS, ids=lambda p: p.stem)
def test_the_summary_answers_the_question_where_the_comment_says(path: Path) -> None:
    info = run(path)
    answer = resolve(info, answer_path(path))
    assert answer
    name = path.stem
    if name == "oltp_nightly_backup":
        # the comment: V/R = 128 MiB / 2 MiB/s = 64 s is the bound without copy-before-write,
        # and the copy completes 21.9 s after the establish
        assert answer["copy_s"] == pytest.approx(21.9, abs=0.05)
        assert "21.9 s" in path.read_text()
        during = answer["impact"]["workloads"]["oltp"]
        assert during["during"]["latency_ms"]["p99"] > during["before"]["latency_ms"]["p99"]
    elif name == "nocopy_backup_job":
        assert set(answer) == {"before", "during", "after"}
        assert answer["during"]["latency_ms"]["p99"] > answer["before"]["latency_ms"]["p99"]
        assert answer["during"]["iops"] == pytest.approx(2000, rel=0.05)  # open loop: kept
    elif name == "twelve_targets":
        # each new target adds one copy-before-write to a write of a not yet copied track
        p50 = [p["workloads"]["prod_writes"]["latency_ms"]["p50"] for p in answer]
        assert [p["after"] for p in answer][:2] == ["start", "establish fc01"]
        assert len(answer) == 13
        assert all(b > a for a, b in pairwise(p50[:6]))
    elif name == "consistency_group":
        assert answer["writes_held_s"] == pytest.approx(0.5, abs=0.01)  # establish_after_s
        assert answer["failed"] is False
    elif name == "incremental_refresh":
        assert [p["at_s"] for p in answer][1:] == pytest.approx([30, 50, 70], abs=0.01)
        assert all(p["copy_s"] is not None for p in answer)
        assert max(p["copy_s"] for p in answer[1:]) < answer[0]["copy_s"]  # only the changes
    elif name == "space_efficient_full":
        assert answer["failed"] is True and answer["failed_at_s"] > 5.0 and answer["error"]
        after = answer["impact"]["workloads"]
        assert after["backup_reads"]["after"]["errors"] > 0
        assert after["prod_writes"]["after"]["errors"] == 0
    elif name == "cloudphysics_nocopy_backup":
        assert answer["cow_copies"] > 0
        assert answer["impact"]["workloads"]["vm"]["during"]["latency_ms"]["p99"] is not None
    elif name == "oltp_cached_backup":
        # NVS acknowledges every write at the hit latency, the copy window included (a write
        # behind a copy extent's lock is rarer than 1 in 100); without a cache it is slower
        controller = load(path).controller
        assert controller is not None
        for phase in ("before", "during", "after"):
            p99 = answer[phase]["write_latency_ms"]["p99"]
            assert p99 == pytest.approx(controller.cache_hit_latency_ms), phase
        none = resolve(run(path, ["controller.write_cache_mib=0"]), answer_path(path))
        assert none["during"]["write_latency_ms"]["p99"] > 10 * controller.cache_hit_latency_ms
    elif name == "copies_by_design":
        # DS8000: every first write of a track copies it to each of the 12 targets
        cows = [answer[f"t{i:02d}"]["cow_copies"] for i in range(1, 13)]
        assert len(set(cows)) == 1 and cows[0] > 0
        # SVC: to the newest mapping only, as many copies as the DS8000 made per target
        svc = resolve(run(path, ["run.profile='svc'"]), answer_path(path))
        assert [svc[f"t{i:02d}"]["cow_copies"] for i in range(1, 13)] == [0] * 11 + cows[:1]
    elif name == "long_100g_copy":
        # the quick look: 1 GiB volumes, so 16,384 tracks of 64 KiB and 1 GiB / 64 MiB/s =
        # 16 s the bound; every track is copied once, by a write first or by the background
        assert quick_sets(path) == [
            "volume.db.size_gib=1",
            "volume.db_copy.size_gib=1",
            "run.duration_s=40",
        ]
        tracks, seconds_per_track = 16_384, (64 << 10) / (64 << 20)
        assert answer["copy_rate_mib_s"] == 64.0
        assert answer["cow_copies"] + answer["background_tracks_copied"] == tracks
        assert answer["cow_copies"] > 0
        extent = int((64 << 20) * 0.05) // (64 << 10)  # the default extent: 51 tracks
        paced = (answer["background_tracks_copied"] - extent) * seconds_per_track
        assert paced <= answer["copy_s"] <= tracks * seconds_per_track + 0.1
        during = answer["impact"]["workloads"]["oltp"]
        assert during["during"]["latency_ms"]["p99"] > during["before"]["latency_ms"]["p99"]
        assert "1,600 s is the bound" in path.read_text()
    else:
        pytest.fail(f"{name}: a new bundled scenario: say here what answers its question")
