"""Fuzzing `flashsim check`'s numeric, named and output-file option values: whatever is given, a bad value
is exit 2 with one line naming its option, before any search or configuration load starts
(so in bounded time), and never a traceback."""

import time

import pytest
from fuzzing import fuzz_examples
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from flashsim.bundled import check_configs
from flashsim.main import main
from flashsim.models.limits import MAX_CHECK_DEPTH, MAX_CHECK_STATES, MAX_SWARM_CONFIGS

A_PAIR = str(next(p for p in check_configs() if p.stem == "a_pair"))
NASTY = ["-1", "0", "99999999999999999999999", "1e3", "nan", "", "x", "\u00b2", "2**64"]


def _bad_count(most: int) -> st.SearchStrategy[str]:
    return st.sampled_from([*NASTY, str(most + 1), str(-(2**63))])


#: option -> (a cheap valid value, values that are not valid)
OPTIONS = {
    "--max-states": (st.just("50"), _bad_count(MAX_CHECK_STATES)),
    "--max-depth": (st.just("6"), _bad_count(MAX_CHECK_DEPTH)),
    "--jobs": (st.just("1"), st.sampled_from([*NASTY, "auto2", "65536"])),
    # output files: nothing is written without a counterexample, which a_pair does not give
    "--plot": (
        st.just("/tmp/flashsim-fuzz.png"),
        st.sampled_from(["", "/", "x.jpg", "/nonexistent/dir/x.png", "/tmp"]),
    ),
    "--schedule": (st.just("/tmp/flashsim-fuzz.json"), st.sampled_from(["/", "/nonexistent/d/s"])),
    "--symmetry": (
        st.sampled_from(["data", "volumes", "both"]),
        st.text(max_size=8).filter(lambda t: t not in ("data", "volumes", "both")),
    ),
}
SWARM = {
    "--swarm": (st.just("1"), _bad_count(MAX_SWARM_CONFIGS)),
    "--seed": (st.just("3"), st.sampled_from(["-1", str(2**63), "x", "1.5"])),
}


@st.composite
def command_lines(draw: st.DrawFn) -> tuple[list[str], set[str]]:
    """(arguments, the options given a bad value): at least one is bad."""
    mode = draw(st.sampled_from(["config", "coverage", "swarm"]))
    options = dict(OPTIONS)
    if mode != "config":
        options |= SWARM
    chosen = draw(st.lists(st.sampled_from(sorted(options)), min_size=1, unique=True))
    if mode != "config" and "--swarm" not in chosen:
        chosen.append("--swarm")
    bad = set(draw(st.lists(st.sampled_from(chosen), min_size=1, unique=True)))
    args = ["check"]
    if mode != "swarm":
        args.append(A_PAIR)
    if mode == "coverage":
        args.append("--coverage")
    for option in chosen:
        good, wrong = options[option]
        args += [f"{option}={draw(wrong if option in bad else good)}"]
    return args, bad


@pytest.mark.fuzz
@settings(
    max_examples=fuzz_examples(150),
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(drawn=command_lines())
def test_a_bad_option_value_is_exit_2_naming_it(capsys, drawn):
    args, bad = drawn
    start = time.monotonic()
    try:
        code = main(args)
    except SystemExit as stop:  # argparse's own refusal of a value that is not a number
        code = stop.code
    assert time.monotonic() - start < 10, args  # refused before any work (generous: CI)
    err = capsys.readouterr().err
    assert code == 2, (args, err)
    assert "Traceback" not in err
    last = err.strip().splitlines()[-1]
    assert any(option in last for option in bad), (args, last)
