"""Bad lines of the ops of the svc and row profiles (issue 12) are rejected like every other
op's: `flashsim replay` stops at the line with `FILE:N: message` and exit code 2 (README.md,
"Exit codes": bad input, nothing run past it and nothing dumped), and the rejected operation
changes nothing. The fuzz test drives every new op, legal or not, in each profile."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from fuzzing import fuzz_examples
from hypothesis import given, settings
from hypothesis import strategies as st

from flashsim.main import main
from flashsim.models.errors import FlashCopyError
from flashsim.models.oplog import parse_line
from flashsim.models.ops import apply
from flashsim.models.system import System

CREATE = '{"op": "create", "volume": "%s", "tracks": 4, "track_size": 4}'
SVC = ['{"op": "profile", "name": "svc"}', CREATE % "A", CREATE % "B"]
ROW = ['{"op": "profile", "name": "row"}', CREATE % "A"]
DS8000 = [CREATE % "A", CREATE % "B"]
PREPARE = '{"op": "prepare", "id": "m", "source": "A", "target": "B"}'
START = '{"op": "start", "id": "m"}'
STOP = '{"op": "stop", "id": "m"}'
SNAP = '{"op": "snapshot", "volume": "A", "snapshot": "s"}'


@pytest.mark.parametrize(
    ("lines", "message"),
    [
        ([*SVC, START.replace('"m"', '"x"')], "unknown relationship x"),
        ([*SVC, PREPARE, PREPARE], "relationship id m is in use (A -> B)"),
        ([*SVC, PREPARE.replace('"B"', '"A"')], "relationship m: source and target are both volume A"),
        ([*SVC, PREPARE.replace('"B"', '"Z"')], "unknown volume Z"),
        ([*SVC, PREPARE, START, START], "mapping m is copying: only a prepared mapping can start"),
        ([*SVC, PREPARE, STOP, STOP], "mapping m is stopped: there is nothing to stop"),
        ([*SVC, SNAP], "operation snapshot is not offered by the svc profile"),
        ([*SVC, '{"op": "space"}'], "operation space is not offered by the svc profile"),
        ([*ROW, SNAP.replace('"s"}', '"A"}')], "snapshot A: a volume of that name exists already"),
        ([*ROW, '{"op": "delete_snapshot", "snapshot": "A"}'], "volume A is not a snapshot"),
        ([*ROW, SNAP, SNAP.replace('"A"', '"s"').replace('"s"}', '"t"}')],
         "snapshot t: s is a snapshot itself"),
        ([*ROW, SNAP, '{"op": "write", "volume": "s", "offset": 0, "data": "00"}'],
         "volume s is a snapshot: snapshots are read-only"),
        ([*ROW, PREPARE], "operation prepare is not offered by the row profile"),
        ([*DS8000, PREPARE], "operation prepare is not offered by the ds8000 profile"),
        ([*DS8000, STOP], "operation stop is not offered by the ds8000 profile"),
        ([CREATE % "A", '{"op": "profile", "name": "row"}'],
         "the profile is chosen before any volume is created"),
    ],
)  # fmt: skip
def test_an_illegal_line_of_a_new_op_exits_2_with_its_line_and_problem(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], lines: list[str], message: str
) -> None:
    log = tmp_path / "bad.jsonl"
    log.write_text("\n".join(lines) + "\n")
    assert main(["replay", str(log), "--dump", str(tmp_path / "out")]) == 2
    assert capsys.readouterr().err == f"{log}:{len(lines)}: {message}\n"
    assert not (tmp_path / "out").exists()  # nothing dumped


VOLUMES = ("A", "B", "C", "s", "t")
IDS = ("m", "n", "s", "A")
NEW_AND_OLD_LINES = st.one_of(
    st.fixed_dictionaries(
        {"op": st.sampled_from(("prepare", "establish")), "id": st.sampled_from(IDS),
         "source": st.sampled_from(VOLUMES), "target": st.sampled_from(VOLUMES)},
        optional={"background_copy": st.booleans(), "autodelete": st.booleans(),
                  "incremental": st.booleans(), "inhibit_target_writes": st.booleans()},
    ),
    st.fixed_dictionaries({"op": st.sampled_from(("start", "prepare", "suspend", "resume")), "id": st.sampled_from(IDS)}),
    st.fixed_dictionaries({"op": st.just("stop"), "id": st.sampled_from(IDS)},
                          optional={"force": st.booleans()}),
    st.fixed_dictionaries({"op": st.sampled_from(("withdraw", "refresh", "reverse")),
                           "id": st.sampled_from(IDS)}),
    st.fixed_dictionaries({"op": st.just("background_copy"), "id": st.sampled_from(IDS),
                           "tracks": st.integers(1, 4)}),
    st.fixed_dictionaries({"op": st.just("snapshot"), "volume": st.sampled_from(VOLUMES),
                           "snapshot": st.sampled_from(VOLUMES)}),
    st.fixed_dictionaries({"op": st.just("delete_snapshot"), "snapshot": st.sampled_from(VOLUMES)}),
    st.fixed_dictionaries({"op": st.sampled_from(("space",))}),
    st.fixed_dictionaries({"op": st.just("profile"), "name": st.sampled_from(("svc", "row"))}),
    st.fixed_dictionaries({"op": st.just("write"), "volume": st.sampled_from(VOLUMES),
                           "offset": st.integers(0, 17), "data": st.sampled_from(("ab", "cdcdcd"))}),
    st.fixed_dictionaries({"op": st.just("read"), "volume": st.sampled_from(VOLUMES),
                           "offset": st.integers(0, 17), "length": st.integers(1, 6)}),
)  # fmt: skip


@pytest.mark.fuzz
@settings(max_examples=fuzz_examples(150), deadline=None)
@given(st.sampled_from(("ds8000", "svc", "row")), st.lists(NEW_AND_OLD_LINES, max_size=25))
def test_every_line_of_a_new_op_runs_or_is_rejected_changing_nothing(
    profile: str, objects: list[dict[str, object]]
) -> None:
    system = System()
    system.set_profile(profile)
    for name in ("A", "B", "C"):
        system.create(name, 4, 4)
    for number, obj in enumerate(objects, start=1):
        op = parse_line(json.dumps(obj), number)
        assert op is not None
        before = system.fingerprint()
        rejected = None
        try:
            apply(system, op)
        except FlashCopyError as error:
            rejected = str(error)
        if rejected is not None:
            assert rejected, f"rejected {obj} without a message"
            assert system.fingerprint() == before, f"rejected {obj} changed the state"
