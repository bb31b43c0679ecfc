"""The comparison of designs (scenarios/copies_by_design.toml, flashsim.sim.design_comparison)
against arithmetic. Service times are fixed and the load is light, so the median write pays
exactly its device times: a 4 KiB host write 0.8 ms + 4 KiB / 400 MiB/s; a track copy a 64 KiB
read (0.5 ms) and a 64 KiB write (0.8 ms), each + 64 KiB / 400 MiB/s; a block-map update a
4 KiB write. The same seed gives every run the same writes, so the same first writes."""

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


@pytest.fixture(scope="module")
def rows():
    return {(r["profile"], r["copies"]): r for r in compare(load(SCENARIO))}


@pytest.mark.parametrize("copies", [1, 4, 12])
def test_median_write_latency_is_the_sum_of_its_device_times(rows, copies):
    latency = {p: rows[(p, copies)]["write_latency_ms"]["p50"] for p in ("ds8000", "svc", "row")}
    assert latency["ds8000"] == pytest.approx(HOST + copies * COPY, abs=1e-3)
    assert latency["svc"] == pytest.approx(HOST + COPY, abs=1e-3)
    assert latency["row"] == pytest.approx(HOST + REMAP, abs=1e-3)


@pytest.mark.parametrize("copies", [1, 4, 12])
def test_back_end_copy_traffic_per_design(rows, copies):
    one = rows[("ds8000", 1)]["copy_before_write_bytes"]
    first_writes = one // (2 * 65536)  # one track read and one track written each
    assert first_writes * 2 * 65536 == one and first_writes > 0
    assert rows[("ds8000", copies)]["copy_before_write_bytes"] == copies * one
    assert rows[("svc", copies)]["copy_before_write_bytes"] == one
    assert rows[("row", copies)]["copy_before_write_bytes"] == 0
    assert rows[("row", copies)]["row_remap_bytes"] == first_writes * 4096


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
