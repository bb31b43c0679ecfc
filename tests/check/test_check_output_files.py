"""The files a command line names for the checker's outputs (--plot, --graph, --schedule,
--swarm-out) and trace-stats' --plot: a path that cannot be one is exit 2 naming the option,
told before the search; a file is written whole or not at all, with the same bytes for the
same result."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from flashsim.bundled import check_configs
from flashsim.main import main
from flashsim.models.output_folder import OutputFolderError, write_file

A_PAIR = str(next(p for p in check_configs() if p.stem == "a_pair"))
MUTANT = ["--mutant", "skip_lock"]  # a_pair's counterexample: something to plot and write


def _no_search(monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(*_: object, **__: object) -> None:
        raise AssertionError("the search ran before the output paths were checked")

    monkeypatch.setattr("flashsim.commands.check.explore", refuse)


@pytest.mark.parametrize(
    ("option", "name", "message"),
    [
        ("--plot", "{dir}", "--plot: {dir}: must end in .png, .svg, .pdf"),
        ("--plot", "{dir}/x.jpg", "--plot: {dir}/x.jpg: must end in .png, .svg, .pdf"),
        ("--plot", "{dir}/a.png", "--plot: {dir}/a.png: is a folder"),
        ("--plot", "{dir}/none/x.png", "--plot: {dir}/none/x.png: folder {dir}/none does not exist"),
        ("--graph", "{dir}/g", "--graph: {dir}/g: must end in .png, .svg, .pdf"),
        ("--schedule", "{dir}", "--schedule: {dir}: is a folder"),
        ("--schedule", "{dir}/none/s.json", "--schedule: {dir}/none/s.json: folder {dir}/none does not exist"),
    ],
)  # fmt: skip
def test_a_bad_output_path_is_exit_2_before_the_search(  # noqa: PLR0917 - pytest's arguments
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    option: str,
    name: str,
    message: str,
) -> None:
    (tmp_path / "a.png").mkdir()
    _no_search(monkeypatch)
    path = name.format(dir=tmp_path)
    assert main(["check", A_PAIR, *MUTANT, option, path]) == 2
    assert capsys.readouterr().err == message.format(dir=tmp_path) + "\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.png"]  # nothing written


def test_a_swarm_out_that_is_a_file_is_exit_2_before_the_swarm(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "f").write_text("kept\n")
    monkeypatch.setattr("flashsim.commands.check.swarm", _no_search)
    code = main(["check", "--swarm", "2", "--seed", "1", "--swarm-out", str(tmp_path / "f")])
    assert code == 2
    assert capsys.readouterr().err == f"--swarm-out: {tmp_path / 'f'}: is a file, not a folder\n"
    assert (tmp_path / "f").read_text() == "kept\n"


def test_the_outputs_are_written_whole_and_the_same_bytes_each_time(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    files = {}
    for run in ("one", "two"):
        folder = tmp_path / run
        folder.mkdir()
        args = ["--plot", str(folder / "s.pdf"), "--schedule", str(folder / "s.json")]
        assert main(["check", A_PAIR, *MUTANT, *args, "--graph", str(folder / "g.svg")]) == 1
        files[run] = {p.name: p.read_bytes() for p in folder.iterdir()}
    assert sorted(files["one"]) == ["g.svg", "s.json", "s.pdf"]  # no temporary file left
    assert files["one"] == files["two"]
    assert files["one"]["s.pdf"].startswith(b"%PDF")
    assert main(["check", A_PAIR, "--replay", str(tmp_path / "one" / "s.json")]) == 1
    assert "skip_lock" in capsys.readouterr().out


def test_a_write_that_fails_keeps_the_old_file_and_leaves_no_part(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    target = tmp_path / "s.json"
    target.write_text("old\n")

    def fail(_: int) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "fsync", fail)
    with pytest.raises(OutputFolderError, match=r"s\.json: cannot write: No space left on device"):
        write_file(target, "new\n")
    assert target.read_text() == "old\n"
    assert [p.name for p in tmp_path.iterdir()] == ["s.json"]


def test_trace_stats_refuses_a_plot_it_cannot_write_before_reading_the_trace(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    missing = tmp_path / "no-such-trace"  # read after the --plot check: never reached
    plot = tmp_path / "none" / "g.png"
    assert main(["trace-stats", str(missing), "--format", "msr", "--plot", str(plot)]) == 2
    assert capsys.readouterr().err == f"--plot: {plot}: folder {tmp_path / 'none'} does not exist\n"
