"""`flashsim run`'s progress line (tqdm on stderr): simulated seconds done of the total and
an ETA; it changes no byte of the outputs."""

from __future__ import annotations

import io
import time
from pathlib import Path

import pytest
from sweep_cases import files_of, write_theory

from flashsim.sim import progress
from flashsim.sim.outputs import run_to
from flashsim.sim.scenario import load


def test_the_line_shows_simulated_time_wall_time_and_an_eta(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(progress, "SHOW_AFTER_S", 0.0)
    out = io.StringIO()
    bar = progress.Progress(600.0, True, out)
    time.sleep(0.6)  # the line is redrawn at most every half second
    bar.update(150.0)
    bar.end()
    lines = out.getvalue().split("\r")
    assert any(
        "25.0%" in line and "150/600 s simulated" in line and "ETA" in line for line in lines
    )
    assert lines[-1].startswith("flashsim run: 100.0%") and lines[-1].endswith("\n")


def test_a_short_run_draws_nothing() -> None:
    out = io.StringIO()
    bar = progress.Progress(600.0, True, out)  # shown only after two seconds of wall time
    bar.update(600.0)
    bar.end()
    assert out.getvalue() == ""


def test_the_progress_line_changes_no_output_byte(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(progress, "SHOW_AFTER_S", 0.0)
    path = write_theory(tmp_path)
    overrides = ["run.duration_s=3", "run.records=true"]
    run_to(load(path, overrides, None), tmp_path / "with", progress=True)
    assert "s simulated" in capsys.readouterr().err
    run_to(load(path, overrides, None), tmp_path / "without", progress=False)
    assert capsys.readouterr().err == ""
    assert files_of(tmp_path / "with") == files_of(tmp_path / "without")


@pytest.mark.parametrize("columns", [0, 100])
def test_the_line_is_drawn_on_a_terminal_whatever_size_it_reports(columns: int) -> None:
    """A pseudo-terminal nobody sized reports 0 columns, on which tqdm alone draws nothing."""
    import fcntl
    import os
    import pty
    import struct
    import termios

    leader, follower = pty.openpty()
    fcntl.ioctl(follower, termios.TIOCSWINSZ, struct.pack("HHHH", 24, columns, 0, 0))
    with os.fdopen(follower, "w", encoding="utf-8") as terminal:
        bar = progress.Progress(600.0, True, terminal)
        bar.bar.delay = 0  # type: ignore[union-attr]  (the two seconds are tested above)
        time.sleep(0.6)
        bar.update(150.0)
        bar.end()
        terminal.flush()
        drawn = b""
        while not drawn.endswith(b"\n"):
            drawn += os.read(leader, 1 << 16)
    os.close(leader)
    lines = drawn.decode().split("\r")
    assert any("25.0%" in line and "150/600 s simulated" in line for line in lines), lines
    width = progress.FALLBACK_COLUMNS if columns == 0 else columns
    assert all(len(line.rstrip("\n")) <= width for line in lines)
