"""`flashsim check --export-tla`: the explored graph as a TLA+ module that parses (the `tla`
package), whose relation has the checker's states and edges, and that TLC counts alike where
Java and tla2tools.jar are found."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from collections import deque
from pathlib import Path

import pytest
import tla

from flashsim.main import main
from flashsim.models.check.explorer import explore
from flashsim.models.check.tla import export_tla, module_name

JAR_PLACES = ("/usr/share/java/tla2tools.jar", "/opt/tla/tla2tools.jar")


def _relation(text: str) -> tuple[int, dict[str, list[set[int]]], set[int]]:
    """N, each process's successor sets and Terminal, read back from the module text."""
    n = int(re.search(r"^N == (\d+)$", text, re.M).group(1))
    succ = {}
    for name, body in re.findall(r"^Succ_(\w+) == << (.*) >>$", text, re.M):
        succ[name] = [
            {int(x) for x in group.split(",") if x.strip()}
            for group in re.findall(r"\{([^}]*)\}", body)
        ]
    terminal = {
        int(x)
        for x in re.search(r"^Terminal == \{(.*)\}$", text, re.M).group(1).split(",")
        if x.strip()
    }
    return n, succ, terminal


BUNDLED = sorted(p.stem for p in (Path(__file__).parents[2] / "scenarios" / "check").glob("*.toml"))


@pytest.mark.parametrize("name", BUNDLED)
def test_the_exported_module_parses_and_holds_the_checkers_graph(reference, name) -> None:
    config = reference[name]
    text, _ = export_tla(config, name)
    tree = tla.parse(text)  # raises ValueError on a syntax error
    assert tree.name == name
    # VARIABLE; N, Terminal, Quiescent, TypeOK, Init, Next, Spec; a Succ_ and a Step_ each
    assert len(tree.units) == 1 + 7 + 2 * len(config.processes)
    expected = explore(config, progress=False, keep_graph=True)
    assert expected.graph is not None
    n, succ, terminal = _relation(text)
    assert n == expected.states
    assert sorted(succ) == sorted(f"Step_{p.name}" for p in config.processes)
    assert all(len(rows) == n for rows in succ.values())
    # every step of the graph is in the relation, under the process that took it (a choosing
    # process's choices are one process in TLA+)
    steps = {(a, b) for rows in succ.values() for a, row in enumerate(rows) for b in row}
    assert steps == set(expected.graph.edges)
    # a BFS of the exported relation from state 0 reaches every state once
    seen, todo = {0}, deque([0])
    while todo:
        state = todo.popleft()
        for rows in succ.values():
            for nxt in rows[state] - seen:
                seen.add(nxt)
                todo.append(nxt)
    assert seen == set(range(n))
    dead_ends = {i for i in range(n) if not any(rows[i] for rows in succ.values())}
    assert dead_ends == terminal  # the correct model has no deadlock: every end is final


def test_a_mutants_graph_stops_at_its_violation_and_the_command_says_so(tmp_path, capsys) -> None:
    out = tmp_path / "a_pair.tla"
    assert (
        main(
            [
                "check",
                "--export-tla",
                "check/a_pair.toml",
                "--mutant",
                "skip_lock",
                "--out",
                str(out),
            ]
        )
        == 1
    )
    text = out.read_text()
    assert "It stopped at a violation of" in text
    tla.parse(text)
    assert "TLA+ module a_pair written to" in capsys.readouterr().out


def test_out_writes_module_and_tlc_config_and_refuses_other_files(tmp_path, capsys) -> None:
    out = tmp_path / "b_cascade.tla"
    assert main(["check", "--export-tla", "check/b_cascade.toml", "--out", str(out)]) == 0
    assert out.read_text().startswith("---- MODULE b_cascade ----\n")
    assert "SPECIFICATION Spec" in out.with_suffix(".cfg").read_text()
    again = out.read_bytes()
    assert main(["check", "--export-tla", "check/b_cascade.toml", "--out", str(out)]) == 0
    assert out.read_bytes() == again  # deterministic, and a previous export may be replaced
    mine = tmp_path / "mine.tla"
    mine.write_text("---- MODULE mine ----\n====\n")
    capsys.readouterr()
    assert main(["check", "--export-tla", "check/b_cascade.toml", "--out", str(mine)]) == 2
    assert "exists and is not a flashsim export" in capsys.readouterr().err
    assert mine.read_text() == "---- MODULE mine ----\n====\n"
    assert (
        main(["check", "--export-tla", "check/b_cascade.toml", "--out", str(tmp_path / "1-x.tla")])
        == 2
    )
    assert "not a TLA+ module name" in capsys.readouterr().err
    assert (
        main(["check", "--export-tla", "check/b_cascade.toml", "--out", str(tmp_path / "x.txt")])
        == 2
    )
    assert (
        main(
            [
                "check",
                "--export-tla",
                "check/b_cascade.toml",
                "--out",
                str(tmp_path / "no" / "x.tla"),
            ]
        )
        == 2
    )
    assert "does not exist" in capsys.readouterr().err
    assert main(["check", "check/b_cascade.toml", "--out", str(out)]) == 2
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "b_cascade.cfg",
        "b_cascade.tla",
        "mine.tla",
    ]


def test_module_names_are_tla_identifiers() -> None:
    assert module_name("a_pair") == "a_pair"
    assert module_name("f-symmetric writers") == "f_symmetric_writers"
    assert module_name("1st") == "M_1st"


def _tla2tools() -> str | None:
    for place in (os.environ.get("TLA2TOOLS_JAR", ""), *JAR_PLACES):
        if place and Path(place).is_file():
            return place
    return None


@pytest.mark.skipif(
    shutil.which("java") is None or _tla2tools() is None,
    reason="TLC needs Java and tla2tools.jar (set TLA2TOOLS_JAR): the jar is not installed here "
    "and cannot be downloaded (the package registries reached serve no build of it)",
)
def test_tlc_finds_the_checkers_number_of_distinct_states(reference, tmp_path) -> None:
    """One test over every bundled configuration (one skip where there is no jar)."""
    for name in BUNDLED:
        config = reference[name]
        text, _ = export_tla(config, name)
        (tmp_path / f"{name}.tla").write_text(text)
        (tmp_path / f"{name}.cfg").write_text("SPECIFICATION Spec\nINVARIANT TypeOK\n")
        done = subprocess.run(
            ["java", "-cp", str(_tla2tools()), "tlc2.TLC", "-workers", "1", "-config", f"{name}.cfg", f"{name}.tla"],
            cwd=tmp_path, capture_output=True, text=True, timeout=600, check=False,
        )  # fmt: skip
        found = re.search(r"(\d+) distinct states found", done.stdout.replace(",", ""))
        assert found is not None, f"{name}: {done.stdout[-2000:]}"
        assert (name, int(found.group(1))) == (name, explore(config, progress=False).states)
        assert "Model checking completed. No error has been found." in done.stdout, name


def test_a_hunt_on_two_workers_gives_the_rows_of_one(reference) -> None:
    from dataclasses import astuple

    from flashsim.models.check.hunt import hunt

    configs = [reference["b_cascade"], reference["d_group"]]
    # each killed by the configuration that lists it (its `mutants`)
    mutants = ["cascade_read_one_level", "group_waits_for_first_member", "withdraw_skips_rule0"]
    one_correct, one = hunt(configs, mutants)
    two_correct, two = hunt(configs, mutants, workers=2)
    assert [astuple(r)[:-1] for r in two] == [astuple(r)[:-1] for r in one]  # all but the time
    assert [r.states for r in two_correct] == [r.states for r in one_correct]
    assert [r.holds for r in two_correct] == [True, True]
    assert [(r.killed, r.config.rsplit("/", 1)[-1]) for r in two] == [
        (True, "b_cascade.toml"),
        (True, "d_group.toml"),
        (True, "b_cascade.toml"),
    ]


def test_a_graph_over_the_export_bound_is_refused(reference) -> None:
    from flashsim.models.check.tla import ExportError

    with pytest.raises(ExportError, match="stopped at max states 100: an export needs the whole"):
        export_tla(reference["a_pair"], "a_pair", max_states=100)
