"""The unreduced search's packed states (`packing.Layout`): a layout round-trips an ident and
names the slots of a word; every slot width gives the same search (states, edges, depth,
witnesses, bounds, notes, counterexamples), where a slot that outgrows its width makes the
search run again with wider slots."""

from __future__ import annotations

import pytest

from flashsim.bundled import root
from flashsim.models.check import bfs
from flashsim.models.check.explorer import explore
from flashsim.models.check.mutants import MUTANTS, design_of
from flashsim.models.check.packing import Layout, Outgrown
from flashsim.models.check.schedule import replay_schedule


def outcome(result) -> tuple[object, ...]:
    cex = result.counterexample
    found = None if cex is None else (cex.property, cex.message, cex.schedule, cex.events)
    return (result.states, result.edges, result.depth, result.exhaustive, result.bound,
            result.witnessed, result.missing, found, result.notes, result.progress_checked)  # fmt: skip


@pytest.mark.parametrize("bits", [8, 16, 32])
@pytest.mark.parametrize("count", [1, 3, 4, 5, 9])
def test_a_layout_packs_an_ident_and_back(bits, count) -> None:
    layout = Layout(count, bits)
    ident = (70_000, 3, *range(count))  # process i's record id i: its slot i * count + i
    value = layout.pack(ident)
    assert layout.ident(value) == ident
    assert value < 1 << (8 * layout.width)
    words = layout.keys_of(value.to_bytes(layout.width, "little"))
    assert words[:2] == (70_000, 3)
    slots = [slot for word in words[2:] for slot in layout.slots(word)]
    assert slots == [i * count + i for i in range(count)]


def test_a_slot_too_wide_for_its_field_is_refused() -> None:
    layout = Layout(4, 8)
    assert layout.slot(3, 63) == 255
    with pytest.raises(Outgrown):
        layout.slot(0, 64)


@pytest.mark.parametrize("name", sorted(p.stem for p in (root() / "check").glob("*.toml")))
def test_every_slot_width_gives_the_same_search(reference, monkeypatch, name) -> None:
    config = reference[name]
    mutants = [m for m in MUTANTS if design_of(m) == config.profile.design]
    bounds = [{"max_states": 100}, {"max_depth": 5, "progress": False}]
    runs = [(None, {}), *((None, bound) for bound in bounds), *((m, {}) for m in mutants)]
    for mutant, options in runs:
        found = []
        for widths in [(8, 32), (32,)]:
            monkeypatch.setattr(bfs, "SLOT_BITS", widths)
            found.append(outcome(explore(config, mutant, **options)))
        assert found[0] == found[1], (mutant, options)


def test_a_slot_that_outgrows_its_width_runs_the_search_again(reference, monkeypatch) -> None:
    outgrown = 0
    real = Layout.slot

    def counting(layout: Layout, pi: int, record: int) -> int:
        nonlocal outgrown
        try:
            return real(layout, pi, record)
        except Outgrown:
            outgrown += 1
            raise

    monkeypatch.setattr(Layout, "slot", counting)
    monkeypatch.setattr(bfs, "SLOT_BITS", (8, 32))
    narrow = explore(reference["c_two_targets"])
    assert outgrown == 1
    monkeypatch.setattr(bfs, "SLOT_BITS", (32,))
    assert outcome(narrow) == outcome(explore(reference["c_two_targets"]))


@pytest.mark.parametrize("name", ["a_pair", "c_two_targets", "l_svc_cascade"])
def test_the_kept_graph_is_the_same_for_every_slot_width(reference, monkeypatch, name) -> None:
    graphs = []
    for widths in [(8, 32), (32,)]:
        monkeypatch.setattr(bfs, "SLOT_BITS", widths)
        graph = explore(reference[name], progress=False, keep_graph=True).graph
        assert graph is not None
        graphs.append((sorted(graph.nodes(data=True)), sorted(graph.edges(data=True))))
    assert graphs[0] == graphs[1]


@pytest.mark.parametrize("mutant", sorted(MUTANTS))
def test_every_counterexample_replays_to_the_violation_it_names(reference, mutant) -> None:
    for name, config in sorted(reference.items()):
        if design_of(mutant) != config.profile.design:
            continue
        cex = explore(config, mutant).counterexample
        if cex is None or cex.property == "no_copy_starvation_cycle":
            continue  # a cycle's schedule ends where it began, not at a violation
        replayed = replay_schedule(config, mutant, cex.schedule)
        assert replayed.violation is not None, (name, mutant)
        assert replayed.violation.property == cex.property
        assert replayed.events == cex.events
