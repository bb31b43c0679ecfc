"""The exit codes of README.md's table (issue 11): a bug is exit 3 with one line naming the
exception, never 1 (a result) or a traceback unless asked for; Ctrl-C is 130; usage is 2."""

from __future__ import annotations

import json
import subprocess
import sys
from importlib.metadata import entry_points
from pathlib import Path

import pytest

from flashsim.main import main

HINT = "(a bug: please report it with the command line; FLASHSIM_TRACEBACK=1 prints the traceback)"


def explode(_args: object) -> int:
    raise RuntimeError("the simulator\nbroke")


def test_an_unexpected_exception_exits_3_with_one_line_and_no_traceback(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.delenv("FLASHSIM_TRACEBACK", raising=False)
    monkeypatch.setattr("flashsim.commands.run._run", explode)
    assert main(["run", "s.toml", "--out", "o"]) == 3
    out, err = capsys.readouterr()
    assert out == ""
    assert err == f"flashsim: internal error: RuntimeError: the simulator broke {HINT}\n"


def test_with_flashsim_traceback_set_the_traceback_is_printed_too(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("FLASHSIM_TRACEBACK", "1")
    monkeypatch.setattr("flashsim.commands.sweep._sweep", explode)
    assert main(["sweep", "s.toml", "--param", "a=1", "--out", "o"]) == 3
    err = capsys.readouterr().err.splitlines()
    assert err[0] == "Traceback (most recent call last):"
    assert "RuntimeError: the simulator" in err
    assert err[-1] == f"flashsim: internal error: RuntimeError: the simulator broke {HINT}"


def test_ctrl_c_exits_130_with_one_line(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    def interrupted(_args: object) -> int:
        raise KeyboardInterrupt

    monkeypatch.setattr("flashsim.commands.run._run", interrupted)
    assert main(["run", "s.toml", "--out", "o"]) == 130
    assert capsys.readouterr().err == "flashsim: interrupted\n"


def test_a_usage_error_exits_2(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as stop:
        main(["run", "--no-such-option"])
    assert stop.value.code == 2
    assert "unrecognized arguments: --no-such-option" in capsys.readouterr().err


BROKEN = """
import runpy, sys
import flashsim.commands.run as run

def explode(args):
    raise MemoryError()

run._run = explode
sys.argv = ["flashsim", "run", "s.toml", "--out", "o"]
runpy.run_module("flashsim", run_name="__main__", alter_sys=True)
"""


def test_python_dash_m_flashsim_goes_through_main() -> None:
    done = subprocess.run(
        [sys.executable, "-c", BROKEN], capture_output=True, text=True, timeout=60, check=False
    )
    assert (done.returncode, done.stdout) == (3, "")
    assert done.stderr == f"flashsim: internal error: MemoryError {HINT}\n"


def test_the_flashsim_script_is_main() -> None:
    (script,) = entry_points(group="console_scripts", name="flashsim")
    assert script.value == "flashsim.main:main"


def test_a_reader_that_stops_early_is_exit_141_not_an_internal_error(tmp_path: Path) -> None:
    lines = [{"op": "create", "volume": "A", "tracks": 1, "track_size": 4096}]
    lines += [{"op": "read", "volume": "A", "offset": 0, "length": 4096}] * 200
    log = tmp_path / "reads.jsonl"
    log.write_text("".join(json.dumps(line) + "\n" for line in lines), encoding="utf-8")
    with subprocess.Popen(
        [sys.executable, "-m", "flashsim", "replay", str(log)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    ) as child:
        assert child.stdout is not None and child.stderr is not None
        assert child.stdout.readline().startswith(b'{"line": 2, "data": "0000')
        child.stdout.close()  # like `| head -1`
        err = child.stderr.read()
        code = child.wait(timeout=60)
    assert (code, err) == (141, b"")
