"""`flashsim replay` end to end (docs/oplog.md): the worked op logs, stopping at the first
bad line, the parser's messages, line numbers, `--dump` images, and the real process."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from flashsim.main import main
from flashsim.models.errors import OpLogError
from flashsim.models.oplog import parse_line

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT.parent / "shared" / "examples" / "oplogs"
NAMES = sorted(p.stem for p in EXAMPLES.glob("*.jsonl")) if EXAMPLES.is_dir() else []
needs_examples = pytest.mark.skipif(
    not NAMES,
    reason=f"the shared worked op logs (not part of this repository) are absent: {EXAMPLES}",
)
example_names = pytest.mark.parametrize("name", NAMES or ["(none)"])

MIB = 1024 * 1024


def replay(capsys: pytest.CaptureFixture[str], *args: object) -> tuple[int, str, str]:
    """Run `flashsim replay ARGS` in this process: (exit code, stdout, stderr)."""
    code = main(["replay", *map(str, args)])
    out, err = capsys.readouterr()
    return code, out, err


def op(name: str, **fields: object) -> str:
    return json.dumps({"op": name, **fields})


def oplog(path: Path, *lines: str) -> Path:
    path.write_text("".join(line + "\n" for line in lines), encoding="utf-8")
    return path


def masked(out: str) -> str:
    """The printed records with every error message shown as "*" (as in NAME.expected)."""
    records = [json.loads(line) for line in out.splitlines()]
    for record in records:
        if "error" in record:
            assert isinstance(record["error"], str)
            assert record["error"]
            record["error"] = "*"
    return "".join(json.dumps(record) + "\n" for record in records)


def parser_message(text: str, line: int) -> str:
    with pytest.raises(OpLogError) as caught:
        parse_line(text, line)
    return caught.value.message


CREATE_A = op("create", volume="A", tracks=4, track_size=4)
WRITE_A = op("write", volume="A", offset=0, data=b"abcdefghijklmnop".hex())
READ_A = op("read", volume="A", offset=2, length=4)
READ_A_DATA = b"cdef".hex()


# -- the worked examples -----------------------------------------------------------------------


@needs_examples
@example_names
def test_each_worked_example_prints_exactly_its_expected_output(capsys, name):
    expected = (EXAMPLES / f"{name}.expected").read_text(encoding="utf-8")
    code, out, err = replay(capsys, EXAMPLES / f"{name}.jsonl", "--keep-going")
    assert (masked(out), err) == (expected, "")
    assert code == (1 if '"error"' in expected else 0)


@needs_examples
def test_without_keep_going_an_example_stops_at_its_first_bad_line(capsys):
    path = EXAMPLES / "10_errors_change_nothing.jsonl"
    code, out, err = replay(capsys, path)
    assert (code, out) == (2, "")
    prefix = f"{path}:5: "
    assert err.startswith(prefix)
    assert err.endswith("\n")
    assert err.count("\n") == 1
    message = err[len(prefix) : -1]
    assert "Z" in message
    assert "5 tracks" in message


# -- stopping at the first bad line ----------------------------------------------------------------


def test_the_first_bad_line_stops_the_run_after_printing_the_reads_before_it(capsys, tmp_path):
    path = oplog(
        tmp_path / "ops.jsonl",
        CREATE_A,
        WRITE_A,
        READ_A,
        op("establish", id="r1", source="A", target="Q"),
        READ_A,
    )
    code, out, err = replay(capsys, path)
    assert code == 2
    assert out == json.dumps({"line": 3, "data": READ_A_DATA}) + "\n"
    assert err.startswith(f"{path}:4: ")
    assert "unknown volume Q" in err
    assert err.count("\n") == 1
    assert "Traceback" not in err


def test_keep_going_reports_the_bad_line_and_goes_on_as_if_it_never_ran(capsys, tmp_path):
    path = oplog(
        tmp_path / "ops.jsonl",
        CREATE_A,
        WRITE_A,
        op("write", volume="A", offset=14, data="585858"),  # past the end: changes nothing
        READ_A,
        op("read", volume="A", offset=12, length=4),
    )
    code, out, err = replay(capsys, path, "--keep-going")
    records = [json.loads(line) for line in out.splitlines()]
    assert (code, err) == (1, "")
    assert [sorted(r) for r in records] == [["error", "line"], ["data", "line"], ["data", "line"]]
    assert records[0]["line"] == 3
    assert "14" in records[0]["error"]
    assert records[1:] == [
        {"line": 4, "data": READ_A_DATA},
        {"line": 5, "data": b"mnop".hex()},
    ]


@pytest.mark.parametrize(
    ("bad_line", "problem"),
    [
        ('{"op": "create" "volume": "A"}', "invalid JSON"),
        ('{"op": "explode", "volume": "A"}', "unknown op"),
        (op("read", volume="A", offset=0, length=4, colour="red"), "unknown field"),
        (op("write", volume="A", offset=0, data="6g"), "hex"),
        (op("write", volume="A", offset=0, data="616"), "hex"),
    ],
    ids=["bad_json", "unknown_op", "unknown_field", "bad_hex_digit", "odd_hex"],
)
def test_a_malformed_line_gives_the_parsers_message_with_its_line_number(
    capsys, tmp_path, bad_line, problem
):
    path = oplog(tmp_path / "ops.jsonl", CREATE_A, WRITE_A, "", bad_line, READ_A)
    message = parser_message(bad_line, 4)
    assert problem in message
    code, out, err = replay(capsys, path)
    assert (code, out, err) == (2, "", f"{path}:4: {message}\n")
    code, out, err = replay(capsys, path, "--keep-going")
    assert (code, err) == (1, "")
    assert out.splitlines() == [
        json.dumps({"line": 4, "error": message}),
        json.dumps({"line": 5, "data": READ_A_DATA}),
    ]


def test_blank_lines_are_skipped_but_counted(capsys, tmp_path):
    path = tmp_path / "ops.jsonl"
    path.write_text(
        "\n".join(["", CREATE_A, "   ", WRITE_A, "", "", READ_A, "\t", "not json", READ_A]) + "\n",
        encoding="utf-8",
    )
    code, out, err = replay(capsys, path, "--keep-going")
    records = [json.loads(line) for line in out.splitlines()]
    assert (code, err) == (1, "")
    assert [(r["line"], r.get("data")) for r in records] == [
        (7, READ_A_DATA),
        (9, None),
        (10, READ_A_DATA),
    ]
    code, out, err = replay(capsys, path)
    assert (code, out) == (2, json.dumps({"line": 7, "data": READ_A_DATA}) + "\n")
    assert err.startswith(f"{path}:9: ")


def test_a_missing_file_gives_a_clear_error_and_a_non_zero_exit(capsys, tmp_path):
    path = tmp_path / "nowhere.jsonl"
    code, out, err = replay(capsys, path)
    assert code != 0
    assert out == ""
    assert err.startswith(f"{path}: ")
    assert "No such file" in err
    assert err.count("\n") == 1


# -- --dump --------------------------------------------------------------------------------------


def volume_sizes(text: str) -> dict[str, int]:
    """Bytes of each volume an op log creates, in creation order."""
    sizes: dict[str, int] = {}
    for line in text.splitlines():
        record = json.loads(line)
        if record["op"] == "create":
            sizes.setdefault(record["volume"], record["tracks"] * record["track_size"])
    return sizes


@needs_examples
@example_names
def test_dump_writes_each_volumes_image_as_its_final_reads_return_it(capsys, tmp_path, name):
    text = (EXAMPLES / f"{name}.jsonl").read_text(encoding="utf-8").rstrip("\n") + "\n"
    sizes = volume_sizes(text)
    volumes = list(sizes)
    first_read_line = len(text.splitlines()) + 1
    path = tmp_path / f"{name}.jsonl"
    path.write_text(
        text + "".join(op("read", volume=v, offset=0, length=sizes[v]) + "\n" for v in volumes),
        encoding="utf-8",
    )
    _, out, _ = replay(capsys, path, "--keep-going", "--dump", tmp_path / "images")
    final_reads = {
        r["line"]: bytes.fromhex(r["data"])
        for r in map(json.loads, out.splitlines())
        if r["line"] >= first_read_line
    }
    assert sorted(p.name for p in (tmp_path / "images").iterdir()) == sorted(
        [".flashsim-output", *(f"{v}.img" for v in volumes)]
    )
    dumped = {v: (tmp_path / "images" / f"{v}.img").read_bytes() for v in volumes}
    assert dumped == {v: final_reads[first_read_line + i] for i, v in enumerate(volumes)}


@needs_examples
def test_dump_of_the_cascade_example_holds_each_volumes_logical_image(capsys, tmp_path):
    code, _, err = replay(
        capsys, EXAMPLES / "04_cascade_rule0.jsonl", "--dump", tmp_path / "images"
    )
    assert (code, err) == (0, "")
    images = {p.name: p.read_bytes() for p in sorted((tmp_path / "images").glob("*.img"))}
    assert images == {
        "A.img": b"aaaabbbbXXXXdddd",
        "B.img": b"\0\0\0\0BBBBcccc\0\0\0\0",
        "C.img": b"aaaabbbbccccdddd",
    }


def test_dump_of_a_large_mostly_unwritten_volume_is_a_sparse_file(capsys, tmp_path):
    tracks, track_size = 262_144, 64 * 1024  # 16 GiB
    size = tracks * track_size
    path = oplog(
        tmp_path / "ops.jsonl",
        op("create", volume="S", tracks=tracks, track_size=track_size),
        op("create", volume="T", tracks=tracks, track_size=track_size),
        op("write", volume="S", offset=0, data=b"hello".hex()),
        op("establish", id="r1", source="S", target="T", background_copy=False),
        op("write", volume="S", offset=0, data=b"HELLO".hex()),
        op("write", volume="S", offset=size - 3, data=b"end".hex()),
    )
    code, _, err = replay(capsys, path, "--dump", tmp_path / "images")
    assert (code, err) == (0, "")
    contents = {}
    for name in ("S", "T"):
        image = tmp_path / "images" / f"{name}.img"
        status = image.stat()
        assert status.st_size == size
        assert status.st_blocks * 512 <= 4 * MIB
        with image.open("rb") as handle:
            head = handle.read(8)
            handle.seek(size // 2)
            middle = handle.read(8)
            handle.seek(size - 3)
            tail = handle.read()
        contents[name] = (head, middle, tail)
    assert contents == {
        "S": (b"HELLO\0\0\0", bytes(8), b"end"),
        "T": (b"hello\0\0\0", bytes(8), bytes(3)),
    }


# -- the real process ----------------------------------------------------------------------------


def run_flashsim(*args: str) -> subprocess.CompletedProcess[str]:
    """The installed `flashsim` script if there is one, else `python -m flashsim.main`."""
    installed = shutil.which("flashsim")
    command = [installed] if installed else [sys.executable, "-m", "flashsim.main"]
    paths = [str(ROOT), *filter(None, [os.environ.get("PYTHONPATH")])]
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(paths)}
    return subprocess.run(
        [*command, *args],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env=env,
        timeout=60,
        check=False,
    )


def test_the_flashsim_process_prints_reads_and_exits_non_zero_on_a_bad_line(tmp_path):
    path = oplog(
        tmp_path / "ops.jsonl",
        CREATE_A,
        WRITE_A,
        READ_A,
        op("read", volume="A", offset=15, length=2),
        READ_A,
    )
    stop = run_flashsim("replay", str(path))
    assert (stop.returncode, stop.stdout) == (
        2,
        json.dumps({"line": 3, "data": READ_A_DATA}) + "\n",
    )
    assert stop.stderr.startswith(f"{path}:4: ")
    assert "pass the end" in stop.stderr
    assert "Traceback" not in stop.stderr
    go_on = run_flashsim("replay", "--keep-going", str(path))
    records = [json.loads(line) for line in go_on.stdout.splitlines()]
    assert (go_on.returncode, go_on.stderr) == (1, "")
    assert [r["line"] for r in records] == [3, 4, 5]
    assert (records[0], records[2]) == (
        {"line": 3, "data": READ_A_DATA},
        {"line": 5, "data": READ_A_DATA},
    )
