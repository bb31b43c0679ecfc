"""The mutation run's own machinery (bench/mutator.py, bench/mutation.py) on a toy module:
every operator class yields mutants that change behaviour, and the runner tells a killed
mutant from a survivor, an unreached one and one that loops."""

from __future__ import annotations

import itertools
import textwrap
from pathlib import Path

import pytest

from flashsim.bench import mutation
from flashsim.bench.mutator import CLASSES, mutant_source, mutate, sites

TOY = textwrap.dedent(
    '''
    """A toy module."""
    LIMIT = 10


    def clamp_sum(a, b, limit, strict):
        """Docstrings are not mutated."""
        total = a + b
        if total > limit and limit >= 0:
            total = limit
        if not strict:
            total = total * 2
        return total


    def count_up(n):
        i = 0
        while i < n:
            i += 1
        return i


    def unused(x):
        return x - 1
    '''
)

CHECK = textwrap.dedent(
    '''
    """Toy suites: `weak` calls clamp_sum once; `loops` calls count_up."""
    import toymod


    def weak(args):
        got = toymod.clamp_sum(1, 1, 5, True)
        return got != 2, f"clamp_sum(1, 1, 5, True) = {got}"


    def loops(args):
        got = toymod.count_up(3)
        return got != 3, f"count_up(3) = {got}"
    '''
)


def _behaviour(source: str) -> list[object]:
    namespace: dict[str, object] = {}
    exec(compile(source, "toy", "exec"), namespace)
    clamp = namespace["clamp_sum"]
    out: list[object] = []
    for a, b, limit, strict in itertools.product(range(-2, 3), range(-2, 3), range(-2, 4), (1, 0)):
        try:
            out.append(clamp(a, b, limit, strict))  # type: ignore[operator]
        except Exception as error:
            out.append(type(error).__name__)
    return out


def test_every_operator_class_yields_mutants_of_clamp_sum_that_change_its_results() -> None:
    found = sites(TOY)
    in_clamp = [s for s in found if 7 <= s.line <= 13]
    assert {s.op_class for s in in_clamp} == set(CLASSES)
    original = _behaviour(TOY)
    changed = set()
    for site in in_clamp:
        if (site.line, site.description) == (9, "`>` -> `>=`"):
            # an equivalent mutant: where total == limit, clamping gives total again
            assert _behaviour(mutant_source(TOY, site.index)) == original
            continue
        assert _behaviour(mutant_source(TOY, site.index)) != original, site
        changed.add(site.op_class)
    assert changed == set(CLASSES)
    deleted_return = next(s for s in in_clamp if s.description == "delete `return total`")
    assert set(_behaviour(mutant_source(TOY, deleted_return.index))) == {None}


def test_docstrings_module_constants_and_each_expected_operator_are_sites() -> None:
    described = {(s.line, s.description) for s in sites(TOY)}
    assert (8, "`+` -> `-`") in described
    assert (9, "`>` -> `>=`") in described
    assert (9, "`>=` -> `>`") in described
    assert (9, "`and` -> `or`") in described
    assert (9, "`0` -> `1`") in described
    assert (9, "`0` -> `-1`") in described
    assert (11, "`not x` -> `x`") in described
    assert (12, "`*` -> `//`") in described
    assert (19, "`+` -> `-`") in described  # the augmented assignment
    assert (10, "delete `total = limit`") in described
    assert all(s.line != 3 for s in sites(TOY))  # LIMIT = 10: module level, left alone
    assert all("Docstrings" not in s.description for s in sites(TOY))


def test_a_site_index_out_of_range_is_refused() -> None:
    with pytest.raises(IndexError, match="no mutation site"):
        mutate(TOY, len(sites(TOY)))


@pytest.fixture
def toy_package(tmp_path):
    (tmp_path / "toymod.py").write_text(TOY)
    (tmp_path / "toycheck.py").write_text(CHECK)
    path = str(tmp_path / "toymod.py")
    return path, {"PYTHONPATH": str(tmp_path)}


def test_the_runner_tells_killed_survived_unreached_and_looping_mutants(toy_package) -> None:
    path, env = toy_package
    mutants = mutation.collect(["toymod"], [path])
    by_description = {(m.site.line, m.site.description): m for m in mutants}
    chosen = [
        by_description[(8, "`+` -> `-`")],  # clamp_sum(1, 1, ...) = 0: killed
        by_description[(9, "`>` -> `>=`")],  # 2 >= 5 is false too: survives
        by_description[(11, "`not x` -> `x`")],  # strict=True now doubles: killed
        by_description[(24, "`-` -> `+`")],  # unused(): never run
    ]
    outcomes = mutation.run(chosen, "toycheck:weak", budget_s=20, jobs=2, env=env)
    assert [o.status for o in outcomes] == ["killed", "survived", "killed", "unreached"]
    assert outcomes[0].detail == "clamp_sum(1, 1, 5, True) = 0"
    summary = mutation.Summary("toy", outcomes)
    assert summary.rate() == pytest.approx(2 / 3)  # unreached mutants are not counted
    loop = by_description[(19, "`+` -> `-`")]  # i -= 1: count_up(3) never ends
    (timed_out,) = mutation.run([loop], "toycheck:loops", budget_s=3, jobs=1, env=env)
    assert timed_out.status == "timeout"
    assert timed_out.killed


def test_the_semantics_mutants_compile_and_are_the_same_every_time() -> None:
    first = mutation.collect(["flashsim.models.ops"])
    again = mutation.collect(["flashsim.models.ops"])
    assert first == again and first
    source = Path(first[0].path).read_text(encoding="utf-8")
    for m in first:
        compile(mutate(source, m.site.index), m.path, "exec")
    picked = mutation.sample(mutation.collect(mutation.SEMANTICS), 25, seed=3)
    assert picked == mutation.sample(mutation.collect(mutation.SEMANTICS), 25, seed=3)
    assert len(picked) == 25
