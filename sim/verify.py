"""`--verify`: after a run, check every volume's image against the naive oracle.

The simulation records each state change at the instant it takes effect (a write or a
background-copy extent at its UNLOCK step, a whole-volume operation at its one step), which
is a valid serial order because conflicting operations hold common locks. Replaying that
order into `flashsim.models.oracle.Oracle`, which copies the whole source image at establish, gives
the images FlashCopy promises; the point-in-time property (each target reads as its source
at the establish or refresh instant, overlaid with the target's own writes) holds if and only
if every volume of the simulation reads exactly as the oracle's.

The oracle keeps full images and copies its whole state on every operation: verify is meant
for small scenarios (volumes of a few MiB), not for 64 GiB ones.
"""

from __future__ import annotations

from dataclasses import dataclass

from flashsim.models.errors import FlashCopyError
from flashsim.models.ops import Op, apply
from flashsim.models.oracle import Oracle
from flashsim.sim.engine import Result, Simulation
from flashsim.sim.scenario import Scenario, ScenarioError

#: Largest total volume size --verify accepts (the oracle holds full images).
VERIFY_LIMIT_BYTES = 256 << 20


@dataclass(frozen=True, slots=True)
class Verification:
    operations: int
    problems: tuple[str, ...]

    @property
    def ok(self) -> bool:
        return not self.problems


def simulate_and_verify(scenario: Scenario, progress: bool = False) -> tuple[Result, Verification]:
    """Run `scenario` recording its serial order, then compare with the oracle."""
    total = sum(v.tracks * v.track_size for v in scenario.volumes)
    if total > VERIFY_LIMIT_BYTES:
        raise ScenarioError(
            f"{scenario.path}: volume: --verify needs volumes of at most "
            f"{VERIFY_LIMIT_BYTES >> 20} MiB in all (the oracle keeps full images); "
            f"these add up to {total >> 20} MiB"
        )
    oplog: list[tuple[str, tuple[object, ...]]] = []
    sim = Simulation(scenario, progress=progress, oplog=oplog)
    result = sim.run()
    sim.finish_inflight()
    return result, check(scenario, sim, oplog)


def check(
    scenario: Scenario, sim: Simulation, oplog: list[tuple[str, tuple[object, ...]]]
) -> Verification:
    profile = sim.system.profile
    oracle = Oracle(profile.max_targets_per_source, profile.design)
    snapshots = {f.target for f in scenario.flashcopies} if profile.design == "row" else set()
    for vol in scenario.volumes:
        if vol.name not in snapshots:  # a snapshot creates its volume
            oracle.create(vol.name, vol.tracks, vol.track_size)
    problems: list[str] = []
    for n, (kind, args) in enumerate(oplog):
        try:
            if kind == "write":
                volume, offset, data, failed = args
                try:
                    oracle.write(volume, offset, data)  # type: ignore[arg-type]
                    if failed:
                        problems.append(
                            f"operation {n}: write to {volume} at {offset} failed in "
                            "the simulation but not in the oracle"
                        )
                except FlashCopyError:
                    if not failed:
                        raise
            elif kind == "background_copy":
                rel_id, tracks = args
                oracle.background_copy(rel_id, tracks)  # type: ignore[arg-type]
            else:
                (op,) = args
                apply(oracle, op)  # type: ignore[arg-type]
        except FlashCopyError as error:
            problems.append(f"operation {n} ({kind}): the oracle rejects it: {error}")
    for vol in scenario.volumes:
        size = vol.tracks * vol.track_size
        ours = _image(sim.system, vol.name, size)
        theirs = _image(oracle, vol.name, size)
        if ours != theirs:
            problems.append(_difference(vol.name, vol.track_size, ours, theirs))
    engine_rels = sorted(sim.system.relationships)
    if engine_rels != oracle.relationship_ids():
        problems.append(
            f"relationships differ: simulation {engine_rels}, oracle {oracle.relationship_ids()}"
        )
    return Verification(len(oplog), tuple(problems))


def _image(system: object, volume: str, size: int) -> bytes | str:
    try:
        return system.read(volume, 0, size)  # type: ignore[attr-defined,no-any-return]
    except FlashCopyError as error:
        return type(error).__name__


def _difference(volume: str, track_size: int, ours: bytes | str, theirs: bytes | str) -> str:
    if isinstance(ours, str) or isinstance(theirs, str):
        return (
            f"volume {volume}: simulation reads {ours if isinstance(ours, str) else 'data'}, "
            f"oracle reads {theirs if isinstance(theirs, str) else 'data'}"
        )
    first = next(i for i, (a, b) in enumerate(zip(ours, theirs, strict=True)) if a != b)
    return (
        f"volume {volume}: image differs from the oracle's first at byte {first} "
        f"(track {first // track_size})"
    )


__all__ = ["VERIFY_LIMIT_BYTES", "Op", "Verification", "check", "simulate_and_verify"]
