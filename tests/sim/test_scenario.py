"""Scenario files: every error names the file, the key path and the problem."""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest

from flashsim.sim.scenario import ScenarioError, load, loads, svc_copy_rate_bytes_s

ROOT = Path(__file__).resolve().parents[2]
BASE = """
[run]
duration_s = 10
[[array]]
name = "a0"
read_latency_ms = 0.5
write_latency_ms = 0.5
bandwidth_mib_s = 500
[[volume]]
name = "prod"
size_mib = 64
array = "a0"
[[volume]]
name = "backup"
size_mib = 64
array = "a0"
"""


def error_of(text: str, overrides: tuple[str, ...] = ()) -> str:
    with pytest.raises(ScenarioError) as info:
        loads(BASE + text, "s.toml", overrides)
    return str(info.value)


def test_the_contract_example_of_the_issue_loads() -> None:
    text = (ROOT / "scenarios" / "oltp_nightly_backup.toml").read_text()
    scenario = loads(text, "oltp.toml")
    assert scenario.flashcopies[0].copy_rate_bytes_s == 2 * 1024 * 1024
    assert scenario.workloads[0].block_sizes == ((8192, 1.0),)


@pytest.mark.parametrize("path", sorted((ROOT / "scenarios").glob("*.toml")), ids=lambda p: p.stem)
def test_every_bundled_scenario_is_valid(path: Path) -> None:
    raw = tomllib.loads(path.read_text())
    overrides = []
    for table in raw.get("workload", []):
        if "trace" in table and not (path.parent / table["trace"]).exists():
            # A trace the repository does not ship: the project's shared copy, where present.
            shared = ROOT.parent / "shared" / "data" / "traces" / table["trace"]
            if not shared.exists():
                pytest.skip(
                    f"the trace it replays (not part of this repository) is absent: {shared}"
                )
            overrides.append(f"workload.{table['name']}.trace='{shared}'")
    assert load(path, overrides).run.duration_s > 0


def test_an_unknown_key_is_an_error_naming_it() -> None:
    message = error_of('[[workload]]\nvolume = "prod"\nrw = "read"\niodeph = 4\n')
    assert message.startswith("s.toml: workload[0].iodeph: unknown key (known here: ")


def test_an_unknown_top_level_table_is_an_error() -> None:
    assert error_of("[runn]\nx = 1\n").startswith("s.toml: runn: unknown key")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            '[[workload]]\nvolume = "nope"\nrw = "read"\n',
            "s.toml: workload[0].volume: no [[volume]] is named 'nope'",
        ),
        (
            '[[workload]]\nvolume = "prod"\nrw = "randrw"\nrate_iops = -5\n',
            "s.toml: workload[0].rate_iops: must be > 0, got -5",
        ),
        (
            '[[workload]]\nvolume = "prod"\nrw = "randrw"\nrate_iops = 5\niodepth = 2\n',
            "s.toml: workload[0].rate_iops: give iodepth (closed loop) or rate_iops (open loop), "
            "not both",
        ),
        (
            '[[workload]]\nvolume = "prod"\nrw = "randread"\nrandom_distribution = "zipf"\n',
            "s.toml: workload[0].random_distribution: bad parameter for zipf (zipf:0<θ<=100, "
            "pareto:1e-6<=h<=1-1e-6, normal:1e-6<=dev%<=100), got 'zipf'",
        ),
        (
            '[[workload]]\nvolume = "prod"\nrw = "read"\nbs = "4q"\n',
            "s.toml: workload[0].bs: not a size: '4q' (use e.g. 4k, 64k, 1m)",
        ),
        (
            '[[workload]]\nvolume = "prod"\nrw = "sideways"\n',
            "s.toml: workload[0].rw: must be read, write, randread, randwrite, rw, readwrite, "
            "randrw, got 'sideways'",
        ),
        (
            '[[flashcopy]]\nid = "f"\nsource = "prod"\ntarget = "backup"\nat_s = 1\ncopy_rate = 151\n',
            "s.toml: flashcopy[0].copy_rate: must be 0-150, got 151",
        ),
        (
            '[[flashcopy]]\nid = "f"\nsource = "prod"\ntarget = "backup"\n',
            "s.toml: flashcopy[0].at_s: is required (unless the relationship is in a [[group]])",
        ),
        (
            '[[flashcopy]]\nid = "f"\nsource = "prod"\ntarget = "backup"\nat_s = "soon"\n',
            "s.toml: flashcopy[0].at_s: must be a number, got 'soon'",
        ),
        (
            '[[flashcopy]]\nid = "f"\nsource = "prod"\ntarget = "backup"\nat_s = 1\n'
            "background_copy = false\ncopy_rate_mib_s = 5\n",
            "s.toml: flashcopy[0].copy_rate_mib_s: is set but background_copy is false (NOCOPY)",
        ),
        (
            '[[event]]\nat_s = 1\naction = "refresh"\nid = "zz"\n',
            "s.toml: event[0].id: no [[flashcopy]] has id 'zz'",
        ),
        (
            '[[group]]\nid = "g"\nmembers = ["x"]\nat_s = 1\n',
            "s.toml: group[0].members: no [[flashcopy]] has id 'x'",
        ),
    ],
)
def test_errors_name_the_file_the_key_path_and_the_problem(text: str, expected: str) -> None:
    assert error_of(text) == expected


def test_a_missing_run_table_is_reported() -> None:
    with pytest.raises(ScenarioError, match=r"^x.toml: run: the \[run\] table is required$"):
        loads('[[array]]\nname = "a"\n', "x.toml")


def test_a_volume_of_another_size_cannot_be_a_target() -> None:
    text = BASE.replace('name = "backup"\nsize_mib = 64', 'name = "backup"\nsize_mib = 32')
    with pytest.raises(ScenarioError) as info:
        loads(
            text + '[[flashcopy]]\nid = "f"\nsource = "prod"\ntarget = "backup"\nat_s = 1\n',
            "s.toml",
        )
    assert (
        str(info.value)
        == "s.toml: flashcopy[0].target: backup and prod differ in size or track size"
    )


def test_set_overrides_by_id_and_by_index_and_reports_unknown_names() -> None:
    fc = '[[flashcopy]]\nid = "f"\nsource = "prod"\ntarget = "backup"\nat_s = 1\n'
    scenario = loads(BASE + fc, "s.toml", ("flashcopy.f.copy_rate=91", "run.duration_s=30"))
    assert scenario.flashcopies[0].copy_rate_bytes_s == 64 * 1024 * 1024
    assert scenario.run.duration_s == 30
    scenario = loads(BASE + fc, "s.toml", ("volume.1.size_mib=128", "volume.0.size_mib=128"))
    assert scenario.volume("backup").tracks == 2048
    assert error_of(fc, ("flashcopy.g.copy_rate=1",)) == (
        "s.toml: --set flashcopy.g: no [[flashcopy]] with id = 'g'"
    )
    assert error_of(fc, ("flashcopy.f.copy_rat=1",)).startswith(
        "s.toml: flashcopy[0].copy_rat: unknown key"
    )


def test_a_missing_file_names_itself(tmp_path: Path) -> None:
    with pytest.raises(ScenarioError, match=r"nothere\.toml: cannot read"):
        load(tmp_path / "nothere.toml")


def test_svc_scale_doubles_every_band_of_ten() -> None:
    assert svc_copy_rate_bytes_s(0) == 0
    assert svc_copy_rate_bytes_s(45) == 2 * 1024 * 1024
    assert svc_copy_rate_bytes_s(150) == 2 * 1024**3


@pytest.mark.parametrize(
    ("table", "message"),
    [
        (
            "track_size_kib = 0.0001\nsize_mib = 1",
            "volume[2].track_size_kib: must be a whole number of bytes, 1..65536 KiB",
        ),
        ("track_size_kib = 1e308\nsize_mib = 1", "volume[2].track_size_kib: must be at most 1e+15"),
        ("size_gib = 1e308", "volume[2].size_gib: must be at most 1e+15 in size"),
        ("track_size_kib = 131072\nsize_mib = 1", "volume[2].track_size_kib: must be a whole"),
        ("size_gib = 16385", "volume[2].size_gib: over the limit of 268435456 tracks"),
    ],
)
def test_a_volume_over_the_engine_limits_is_rejected_while_validating(table: str, message: str):
    # 2**28 tracks of 64 KiB are 16 TiB: one GiB more passes the engine's limit
    text = f'[[volume]]\nname = "big"\narray = "a0"\n{table}\n'
    assert message in error_of(text)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("[run]\nduration_s = 1e12\n", "run.duration_s: over the limit of 1e+07 s, got 1e+12"),
        (
            "[run]\nduration_s = 10\nwindow_s = 1e-6\n",
            "run.window_s: 10 s in windows of 1e-06 s is over the limit of 1000000 windows",
        ),
        (
            '[[workload]]\nvolume = "prod"\nrw = "randread"\nrate_iops = 1e9\n',
            "workload[0].rate_iops: 1e+09 IOPS for 10 s is over the limit of 1e+09 I/Os",
        ),
        (
            '[[workload]]\nvolume = "prod"\nrw = "randread"\niodepth = 10000000\n',
            "workload[0].iodepth: over the limit of 65536, got 10000000",
        ),
        (
            '[[workload]]\nvolume = "prod"\nrw = "randread"\nrandom_distribution = "zipf:1e300"\n',
            "workload[0].random_distribution: bad parameter for zipf",
        ),
        (
            '[[workload]]\nvolume = "prod"\nrw = "randread"\nrandom_distribution = "pareto:1e-300"\n',
            "workload[0].random_distribution: bad parameter for pareto",
        ),
        (
            '[[workload]]\nvolume = "prod"\nrw = "randread"\nrandom_distribution = "normal:1e-300"\n',
            "workload[0].random_distribution: bad parameter for normal",
        ),
        (
            '[[flashcopy]]\nid = "f"\nsource = "prod"\ntarget = "backup"\ncopy_rate_mib_s = 1e308\n',
            "flashcopy[0].copy_rate_mib_s: must be at most 1e+15 in size, got 1e+308",
        ),
    ],
)
def test_a_huge_or_degenerate_number_is_rejected_naming_the_key(text: str, message: str) -> None:
    base = BASE if text.startswith("[[") else BASE.replace("[run]\nduration_s = 10\n", "")
    with pytest.raises(ScenarioError) as info:
        loads(base + text, "s.toml")
    assert f"s.toml: {message}" in str(info.value)


def test_a_scenario_that_is_not_utf8_or_nested_too_deeply_is_an_error(tmp_path: Path) -> None:
    bad = tmp_path / "bad.toml"
    good = b"[run]\nduration_s = 1 # caf"
    bad.write_bytes(good + b"\xe9\n")
    with pytest.raises(ScenarioError, match=rf"bad.toml:2: not UTF-8 \(byte {len(good)}\)"):
        load(bad)
    bad.write_bytes(b"x = " + b"[" * 100_000 + b"]" * 100_000)
    with pytest.raises(ScenarioError, match="not valid TOML: nested too deeply"):
        load(bad)
