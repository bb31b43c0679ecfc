"""Fuzzing `flashsim conform`'s inputs: mutated op logs and option values. Whatever they hold,
the command exits 2 with one line naming the log (and the line, for a bad one) and no
traceback, never starting QEMU for a log it refuses; a valid log reaches the daemon lookup
(made to fail here, so nothing runs)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from fuzzing import fuzz_examples
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from flashsim.conform.generate import generate
from flashsim.main import main

SEED_LOG = generate(11, 0, ops=12)
NOT_FOUND = "qemu-storage-daemon not found on PATH"


def _mutate(lines: list[str], data: st.DataObject) -> list[str]:
    lines = list(lines)
    for _ in range(data.draw(st.integers(1, 3))):
        index = data.draw(st.integers(0, len(lines) - 1))
        kind = data.draw(st.sampled_from(["field", "delete", "junk", "swap"]))
        if kind == "delete":
            del lines[index]
        elif kind == "junk":
            lines[index] = data.draw(st.text(max_size=30))
        elif kind == "swap":
            other = data.draw(st.integers(0, len(lines) - 1))
            lines[index], lines[other] = lines[other], lines[index]
        else:
            try:
                obj = json.loads(lines[index])
            except ValueError:
                continue
            if not isinstance(obj, dict):
                continue
            key = data.draw(st.sampled_from([*obj, "track_size", "incremental", "persistent"]))
            obj[key] = data.draw(
                st.one_of(
                    st.integers(-2, 1 << 40),
                    st.booleans(),
                    st.none(),
                    st.text(max_size=8),
                    st.sampled_from([4096, 65536, 131072, "refresh", "reverse"]),
                )
            )
            lines[index] = json.dumps(obj)
        if not lines:
            lines = ["{}"]
    return lines


@pytest.mark.fuzz
@settings(
    max_examples=fuzz_examples(60), suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(data=st.data())
def test_mutated_logs_exit_2_with_one_line_naming_the_log(
    data: st.DataObject,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr("flashsim.commands.conform.find_daemon", lambda: None)
    monkeypatch.setattr(
        "flashsim.commands.conform.running_daemon", lambda: pytest.fail("QEMU started")
    )
    log = tmp_path / "fuzzed.jsonl"
    log.write_text(
        "\n".join(_mutate(SEED_LOG, data)) + "\n", encoding="utf-8", errors="surrogatepass"
    )
    assert main(["conform", "--qemu", str(log)]) == 2
    out, err = capsys.readouterr()
    assert out == ""
    assert err.count("\n") == 1 and err.startswith("flashsim conform: ")
    assert "Traceback" not in err
    assert err.startswith(f"flashsim conform: {log}:") or NOT_FOUND in err


@pytest.mark.fuzz
@settings(max_examples=fuzz_examples(40))
@given(
    st.lists(
        st.sampled_from(["--random", "--seed", "--ops", "--format", "--out", "--qemu", "x.jsonl"])
        | st.text(max_size=6),
        max_size=6,
    )
)
def test_arbitrary_options_never_crash(argv: list[str]) -> None:
    import contextlib
    import io

    from flashsim.commands import conform

    err = io.StringIO()
    original = conform.find_daemon
    conform.find_daemon = lambda: None  # type: ignore[assignment]
    try:
        with contextlib.redirect_stderr(err), contextlib.redirect_stdout(io.StringIO()):
            try:
                status = main(["conform", *argv])
            except SystemExit as exit_:  # argparse's usage errors
                status = exit_.code
    finally:
        conform.find_daemon = original  # type: ignore[assignment]
    assert status == 2
    assert "Traceback" not in err.getvalue() and "internal error" not in err.getvalue()


def test_a_log_that_cannot_be_read_exits_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["conform", "--qemu", str(tmp_path / "missing.jsonl")]) == 2
    assert capsys.readouterr().err == (
        f"flashsim conform: {tmp_path / 'missing.jsonl'}: cannot read: No such file or directory\n"
    )
    assert main(["conform", "--qemu", str(tmp_path)]) == 2
    assert capsys.readouterr().err == f"flashsim conform: {tmp_path}: is a folder, not a file\n"


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--random", "3"], "--qemu is required (QEMU is the one implementation compared)"),
        (["--qemu"], "give an op log (OPS.jsonl) or --random N"),
        (["--qemu", "--random", "0"], "--random must be 1..100,000, got 0"),
        (["--qemu", "--random", "99999999999"], "--random must be 1..100,000, got 99999999999"),
        (["--qemu", "--random", "2", "--ops", "0"], "--ops must be 1..10,000, got 0"),
        (["--qemu", "--random", "2", "--ops", "10001"], "--ops must be 1..10,000, got 10001"),
        (
            ["--qemu", "--random", "2", "--seed", "-1"],
            "--seed must be 0..9,223,372,036,854,775,807, got -1",
        ),
        (
            ["--qemu", "--random", "2", "--seed", str(2**63)],
            f"--seed must be 0..9,223,372,036,854,775,807, got {2**63}",
        ),
        (["--qemu", "x.jsonl", "--random", "2"], "give an op log or --random N, not both"),
    ],
)
def test_usage_errors_name_the_option(
    argv: list[str], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["conform", *argv]) == 2
    assert capsys.readouterr().err == f"flashsim conform: {message}\n"


def test_an_out_that_is_a_folder_is_refused_even_with_force(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["conform", "--qemu", "--random", "1", "--out", str(tmp_path), "--force"]) == 2
    assert capsys.readouterr().err == f"flashsim conform: {tmp_path}: is a folder\n"


def test_an_existing_out_file_is_kept_without_force(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "repro.jsonl"
    out.write_text("mine\n")
    assert main(["conform", "--qemu", "--random", "1", "--out", str(out)]) == 2
    assert capsys.readouterr().err == f"flashsim conform: {out}: exists (--force replaces it)\n"
    assert out.read_text() == "mine\n"
