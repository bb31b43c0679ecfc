"""The comparison of designs (scenarios/copies_by_design.toml, flashsim.sim.design_comparison)
against arithmetic. Service times are fixed and the load is light, so the median write pays
exactly its device times: a 4 KiB host write 0.8 ms + 4 KiB / 400 MiB/s; a track copy a 64 KiB
read (0.5 ms) and a 64 KiB write (0.8 ms), each + 64 KiB / 400 MiB/s; a block-map update a
4 KiB write. The volume is filled before the copies, so a redirect-on-write first write of
4 KiB into a shared 64 KiB block reads the old block (0.5 ms + 64 KiB / 400 MiB/s) and writes
the new one whole (0.8 ms + 64 KiB / 400 MiB/s) after its block-map update (rule R2b). The
same seed gives every run the same writes, so the same first writes."""

from __future__ import annotations

from pathlib import Path

import pytest

from flashsim.sim.design_comparison import compare, figure
from flashsim.sim.scenario import load

SCENARIO = Path(__file__).resolve().parents[2] / "scenarios" / "copies_by_design.toml"
MS_PER_BYTE = 1000 / (400 * 2**20)
HOST = 0.8 + 4096 * MS_PER_BYTE
COPY = (0.5 + 0.8) + 2 * 65536 * MS_PER_BYTE
REMAP = 0.8 + 4096 * MS_PER_BYTE
MERGE = (0.5 + 65536 * MS_PER_BYTE) + (0.8 + 65536 * MS_PER_BYTE)  # old block read, new written
SINCE, DURATION = 3, 8  # the copies' instant and the run's end (copies_by_design.toml)


@pytest.fixture(scope="module")
def rows():
    return {(r["profile"], r["copies"]): r for r in compare(load(SCENARIO))}


@pytest.mark.parametrize("copies", [1, 4, 12])
def test_median_write_latency_is_the_sum_of_its_device_times(rows, copies):
    latency = {p: rows[(p, copies)]["write_latency_ms"]["p50"] for p in ("ds8000", "svc", "row")}
    assert latency["ds8000"] == pytest.approx(HOST + copies * COPY, abs=1e-3)
    assert latency["svc"] == pytest.approx(HOST + COPY, abs=1e-3)
    assert latency["row"] == pytest.approx(REMAP + MERGE, abs=1e-3)


@pytest.mark.parametrize("copies", [1, 4, 12])
def test_back_end_copy_traffic_per_design(rows, copies):
    one = rows[("ds8000", 1)]["copy_before_write_bytes"]
    first_writes = one // (2 * 65536)  # one track read and one track written each
    assert first_writes * 2 * 65536 == one and first_writes > 0
    assert rows[("ds8000", copies)]["copy_before_write_bytes"] == copies * one
    assert rows[("svc", copies)]["copy_before_write_bytes"] == one
    assert rows[("row", copies)]["copy_before_write_bytes"] == 0
    assert rows[("row", copies)]["row_remap_bytes"] == first_writes * 4096
    assert rows[("row", copies)]["row_merge_bytes"] == first_writes * 65536


@pytest.mark.parametrize("copies", [1, 4, 12])
def test_amplification_per_byte_written_is_the_arithmetic_of_each_design(rows, copies):
    one = rows[("ds8000", 1)]
    first_writes = one["copy_before_write_bytes"] // (2 * 65536)
    written = one["host_writes"] * 4096
    per_first_write = {
        "ds8000": copies * 2 * 65536,  # a track read and written per target
        "svc": 2 * 65536,  # the newest mapping's only
        # a 4 KiB block-map write, the old 64 KiB block read, the new block's other 60 KiB
        "row": 4096 + 65536 + (65536 - 4096),
    }
    for design, extra in per_first_write.items():
        row = rows[(design, copies)]
        assert row["host_writes"] == one["host_writes"]
        assert row["amplification"] == pytest.approx(first_writes * extra / written, abs=1e-3)


def test_back_end_mib_s_is_host_io_plus_the_amplified_bytes(rows):
    # back_end_mib_s = (host bytes + amplification x written) / (DURATION - SINCE): the host
    # part is the same in every run (same seed), so subtracting the rest leaves one number
    window = DURATION - SINCE
    host_parts = {
        key: row["back_end_mib_s"]
        - row["amplification"] * row["host_writes"] * 4096 / 2**20 / window
        for key, row in rows.items()
    }
    first = next(iter(host_parts.values()))
    assert first > 0
    assert all(part == pytest.approx(first, abs=0.01) for part in host_parts.values())


def test_the_figure_has_both_panels_and_three_designs(rows):
    fig = figure(list(rows.values()), "t")
    assert [len(ax.get_lines()) for ax in fig.axes] == [3, 3]


def test_the_comparison_command_refuses_a_folder_that_is_not_its_output(tmp_path, capsys):
    from flashsim.sim.design_comparison import main

    user = tmp_path / "mine"
    user.mkdir()
    (user / "thesis.tex").write_text("x")
    assert main([str(SCENARIO), "--out", str(user)]) == 2
    assert (user / "thesis.tex").read_text() == "x"
    assert "mine" in capsys.readouterr().err
    assert main([str(tmp_path / "missing.toml"), "--out", str(tmp_path / "o")]) == 2
    assert not (tmp_path / "o").exists()
