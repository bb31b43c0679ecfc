"""The simulation: SimPy processes that drive the core's atomic steps in simulated time.

Nothing here decides what FlashCopy copies: every host I/O and background-copy extent is a
`flashsim.models.rules.inflight.InFlight` advanced step by step, each ACT step charged device time
according to its micro-action. The parts, each in its own module:

- `flashsim.sim.driver`: operations driven through the core's steps, device time charged per
  micro-action, waits on locks, the serial order for --verify;
- `flashsim.sim.gates`: gates and freezes that hold new I/O on a volume;
- `flashsim.sim.timeline`: establishes, groups, withdraw/refresh/reverse events, background copy;
- `flashsim.sim.host_io`: the workloads' issuers and host I/Os;
- `flashsim.sim.cache`: the controller's write and read cache (`[controller]`), if any;
- `flashsim.sim.recording`: what the run records; `flashsim.sim.progress`: the progress bar.

Processes start in a fixed order (monitor, timeline in file order, workloads in file order,
each with its own seeded `numpy` stream), so a run is a function of its scenario and seed.
"""

from __future__ import annotations

import shutil
import tempfile
import time
import weakref
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import simpy

from flashsim.models.state.backend import file_backend_in
from flashsim.models.state.relationship import PROFILES
from flashsim.models.system import System
from flashsim.sim.cache import Controller
from flashsim.sim.devices import Array
from flashsim.sim.driver import Driver, OpLog, Proc
from flashsim.sim.gates import Gates
from flashsim.sim.host_io import Host
from flashsim.sim.progress import Progress
from flashsim.sim.recording import GroupStats, Recorder, RelationshipStats
from flashsim.sim.scenario import Scenario
from flashsim.sim.tallies import Segments
from flashsim.sim.timeline import Timeline
from flashsim.sim.window_table import WindowTable

#: Mixed with the run's seed into the root of the arrays' random streams.
ARRAY_STREAMS = 0x41525259


@dataclass
class Result:
    """Everything a run produced, before it is summarised and written."""

    scenario: Scenario
    records: dict[str, np.ndarray] | None  # with `run.records` only
    segments: Segments
    window_table: WindowTable
    relationships: dict[str, RelationshipStats]
    arrays: dict[str, Array]
    timeline: list[dict[str, object]]
    errors: dict[str, dict[str, int]]
    system: System
    wall_s: float
    host_ios: int
    host_errors: int
    groups: dict[str, GroupStats]
    controller: dict[str, Any] | None = None  # the cache's figures (`Controller.stats`)
    volumes_folder: str | None = None  # the file backend's volumes, until `close`

    def close(self) -> None:
        """Release the volumes' bytes (with the file backend: remove their folder). The
        results are written first: removing a large sparse file can take minutes."""
        self.system.close()
        if self.volumes_folder is not None:
            shutil.rmtree(self.volumes_folder, ignore_errors=True)
            self.volumes_folder = None


class Simulation:
    """One run of a scenario. `run()` returns a `Result`; with an `oplog` list, the run also
    logs its state changes in serialisation order (see `flashsim.sim.verify`)."""

    def __init__(
        self,
        scenario: Scenario,
        progress: bool = False,
        backend_factory: Callable[[str, int, int], Any] | None = None,
        oplog: OpLog | None = None,
    ) -> None:
        self.scenario = scenario
        self.env = env = simpy.Environment()
        profile = PROFILES[scenario.run.profile]
        self.system = system = (
            System(profile)
            if backend_factory is None
            else System(profile, backend_factory=backend_factory)
        )
        self.progress = progress
        # The arrays' streams have their own root (the run's seed and ARRAY_STREAMS) rather
        # than following the workloads' children, whose number varies between scenarios.
        array_seeds = np.random.SeedSequence((ARRAY_STREAMS, scenario.run.seed)).spawn(
            len(scenario.arrays)
        )
        self.arrays = {
            a.name: Array(env, a, s) for a, s in zip(scenario.arrays, array_seeds, strict=True)
        }
        array_of: dict[str, Array] = {}
        # a redirect-on-write snapshot's volume is created by the snapshot, on its array
        snapshots = {f.target for f in scenario.flashcopies} if profile.design == "row" else set()
        for vol in scenario.volumes:
            if vol.name not in snapshots:
                system.create(vol.name, vol.tracks, vol.track_size)
            array_of[vol.name] = self.arrays[vol.array]
        self.recorder = Recorder(scenario, system, self.arrays, lambda: env.now)
        self.driver = Driver(env, system, array_of, self.recorder, oplog)
        self.driver.track_size.update((v.name, v.track_size) for v in scenario.volumes)
        gates, frozen = Gates(env), Gates(env)  # all I/O waits; writes wait
        self.timeline = Timeline(scenario, self.driver, gates, frozen)
        self.controller = (
            None if scenario.controller is None else Controller(scenario.controller, self.driver)
        )
        self.host = Host(self.driver, gates, frozen, self.controller)

    def finish_inflight(self) -> None:
        """After `run()` with an oplog: complete the operations still holding locks."""
        self.driver.finish_inflight()

    def _monitor(self, progress: Progress) -> Proc:
        """A snapshot of the cumulative counters at every window boundary (the last one is
        taken by `run` after the clock stops), and the progress bar."""
        env = self.env
        duration = self.scenario.run.duration_s
        window = self.scenario.run.window_s
        k = 0
        while True:
            self.recorder.snapshot(env.now)
            k += 1
            at = k * window
            if at >= duration:
                return
            progress.update(env.now)
            yield env.timeout(at - env.now)

    def run(self) -> Result:
        scenario = self.scenario
        env = self.env
        recorder = self.recorder
        wall0 = time.perf_counter()
        progress = Progress(scenario.run.duration_s, self.progress)
        env.process(self._monitor(progress))
        self.timeline.start()
        if self.controller is not None:
            self.controller.start()
        seeds = np.random.SeedSequence(scenario.run.seed).spawn(len(scenario.workloads))
        for index, (spec, seed) in enumerate(zip(scenario.workloads, seeds, strict=True)):
            self.host.start(index, spec, np.random.default_rng(seed))
        env.run(until=scenario.run.duration_s)
        recorder.snapshot(env.now)
        progress.end()
        recorder.finish(env.now)
        return Result(
            scenario,
            recorder.records(),
            recorder.segments,
            recorder.table,
            recorder.stats,
            self.arrays,
            recorder.timeline,
            recorder.errors,
            self.system,
            time.perf_counter() - wall0,
            recorder.host_ios,
            recorder.host_errors,
            recorder.groups,
            None if self.controller is None else self.controller.stats(),
        )


def simulate(scenario: Scenario, progress: bool = False) -> Result:
    """Run `scenario` once and return its `Result`. With `run.backend = "file"` the volumes
    live in a temporary folder until `Result.close()` (or the result is collected)."""
    if scenario.run.backend == "memory":
        return Simulation(scenario, progress=progress).run()
    folder = tempfile.mkdtemp(prefix="flashsim-volumes-")
    try:
        result = Simulation(scenario, progress, file_backend_in(folder)).run()
    except BaseException:
        shutil.rmtree(folder, ignore_errors=True)
        raise
    result.volumes_folder = folder
    weakref.finalize(result, shutil.rmtree, folder, ignore_errors=True)
    return result
