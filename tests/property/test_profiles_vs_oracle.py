"""Differential test of the SVC and redirect-on-write profiles: the step engine (cascade,
mapping states, cleaning; snapshots sharing blocks) and the naive oracle (full images; an
explicit block map with reference counts) must agree on every read, every error class, every
image, the live mappings and their states, the consistency flags and the space accounting."""

from __future__ import annotations

from differential import outcome
from hypothesis import event, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, precondition, rule

from flashsim.models import System
from flashsim.models.errors import FlashCopyError
from flashsim.models.ops import Establish
from flashsim.models.oracle import Oracle
from flashsim.models.rules.actions import ROW_MERGE, ReadTracks
from flashsim.models.state.relationship import ROW, Profile

VOLUMES = ("A", "B", "C", "D", "E")
IDS = ("m1", "m2", "m3", "m4", "m5")
SNAPSHOTS = ("s1", "s2", "s3", "s4")
TRACK_SIZES = (1, 3, 4096)


mapping_specs = st.builds(
    Establish,
    id=st.sampled_from(IDS),
    source=st.sampled_from(VOLUMES),
    target=st.sampled_from(VOLUMES),
    background_copy=st.booleans(),
    autodelete=st.booleans(),
    inhibit_target_writes=st.sampled_from((False, False, False, True)),
    # incremental mappings (rule S8) often; rarely options the svc profile rejects
    incremental=st.sampled_from((False, False, True)),
    persistent=st.sampled_from((False,) * 15 + (True,)),
    target_capacity_tracks=st.sampled_from((None,) * 15 + (1,)),
    # rarely a design other than the system's (one system runs one design)
    design=st.sampled_from((None,) * 12 + ("svc", "svc", "ds8000", "row")),
)


class Machine(RuleBasedStateMachine):
    """Shared by both profiles: data, whole-volume reads and the comparison of both sides."""

    names: tuple[str, ...] = VOLUMES

    def both(self, method, *args):
        got = outcome(getattr(self.engine, method), *args)
        want = outcome(getattr(self.oracle, method), *args)
        assert got == want, f"{method}{args}: engine {got!r}, oracle {want!r}"
        event(f"{method}: {got[1] if got[0] == 'error' else 'ok'}")
        return got

    def data_for(self, length):
        self.stamp += 1
        return bytes((self.stamp * 37 + i) % 256 for i in range(length))

    def write_somewhere(self, volume, data):
        offset = data.draw(st.integers(0, self.size - 1), label="offset")
        length = data.draw(st.integers(1, min(self.size - offset, 2 * self.track_size + 1)))
        self.both("write", volume, offset, self.data_for(length))

    def compare_images(self, names):
        for name in names:
            engine = outcome(self.engine.read, name, 0, self.size)
            oracle = outcome(self.oracle.read, name, 0, self.size)
            assert engine == oracle, f"image of {name}: engine {engine!r}, oracle {oracle!r}"
            if name in self.engine.volumes:
                assert self.engine.volumes[name].consistent == self.oracle.consistent(name), name
        assert sorted(self.engine.relationships) == self.oracle.relationship_ids()


class SVCMatchesOracle(Machine):
    @initialize(
        track_size=st.sampled_from(TRACK_SIZES),
        tracks=st.integers(1, 5),
        limit=st.sampled_from((2, 256)),
    )
    def create_volumes(self, track_size, tracks, limit):
        self.engine = System(profile=Profile("svc-test", limit, "svc"))
        self.oracle = Oracle(max_targets_per_source=limit, profile="svc")
        self.size, self.track_size, self.stamp = tracks * track_size, track_size, 0
        for name in VOLUMES:
            old = self.data_for(self.size)  # distinct old contents: they show after a stop
            for impl in (self.engine, self.oracle):
                impl.create(name, tracks, track_size)
                impl.write(name, 0, old)

    def _id(self, data):
        live = sorted(self.engine.relationships)
        if live and data.draw(st.integers(0, 4), label="pick live") > 0:
            return data.draw(st.sampled_from(live), label="mapping")
        return data.draw(st.sampled_from(IDS), label="mapping")

    @rule(volume=st.sampled_from(VOLUMES), data=st.data())
    def write(self, volume, data):
        self.write_somewhere(volume, data)

    @rule(spec=mapping_specs)
    def establish(self, spec):
        self.both("establish", spec)

    @rule(spec=mapping_specs)
    def prepare(self, spec):
        self.both("prepare", spec)

    @rule(data=st.data())
    def start(self, data):
        self.both("start", self._id(data))

    @rule(data=st.data())
    def suspend(self, data):
        self.both("suspend", self._id(data))  # rule S9

    @rule(data=st.data())
    def resume(self, data):
        self.both("resume", self._id(data))

    @rule(data=st.data())
    def prepare_again(self, data):
        self.both("prepare_again", self._id(data))  # rule S7: a restart

    @rule(specs=st.lists(mapping_specs, min_size=1, max_size=3))
    def establish_group(self, specs):
        self.both("establish_group", tuple(specs))

    @rule(data=st.data(), force=st.booleans())
    def stop(self, data, force):
        self.both("stop", self._id(data), force)

    @rule(data=st.data())
    def withdraw(self, data):
        self.both("withdraw", self._id(data))

    @rule(data=st.data(), tracks=st.integers(1, 4))
    def background_copy(self, data, tracks):
        self.both("background_copy", self._id(data), tracks)

    @rule(data=st.data())
    def refresh(self, data):
        self.both("refresh", self._id(data))  # not offered: rejected alike

    @invariant()
    @precondition(lambda self: hasattr(self, "engine"))
    def images_mappings_and_states_agree(self):
        self.compare_images(VOLUMES)
        states = {r: rel.mapping_state for r, rel in self.engine.relationships.items()}
        assert states == self.oracle.mapping_states()


SVCMatchesOracle.TestCase.settings = settings(max_examples=700, stateful_step_count=30)
test_svc_engine_matches_oracle = SVCMatchesOracle.TestCase


class RedirectOnWriteMatchesOracle(Machine):
    @initialize(track_size=st.sampled_from(TRACK_SIZES), tracks=st.integers(1, 5))
    def create_volumes(self, track_size, tracks):
        self.engine = System(profile=ROW)
        self.oracle = Oracle(ROW.max_targets_per_source, profile="row")
        self.size, self.track_size, self.stamp = tracks * track_size, track_size, 0
        for name in ("A", "B"):
            for impl in (self.engine, self.oracle):
                impl.create(name, tracks, track_size)

    def _volume(self, data):
        return data.draw(st.sampled_from(("A", "B", *SNAPSHOTS)), label="volume")

    @rule(data=st.data())
    def write(self, data):
        volume = self._volume(data)
        offset = data.draw(st.integers(0, self.size - 1), label="offset")
        length = data.draw(st.integers(1, min(self.size - offset, 2 * self.track_size + 1)))
        payload = self.data_for(length)
        # rule R2b: the blocks the write must read to merge, as the plan the engine would run
        # and as the oracle's block map and reference counts say, before the write
        if volume in self.engine.volumes:
            try:
                plan = self.engine.rules.plan_write(self.engine, volume, offset, payload)
            except FlashCopyError:
                plan = ()  # a snapshot: read-only, the write is rejected alike below
            merges = sum(type(a) is ReadTracks and a.purpose == ROW_MERGE for a in plan)
            assert merges == self.oracle.merge_reads(volume, offset, length), (volume, offset)
            event(f"merge reads: {merges}")
        self.both("write", volume, offset, payload)

    @rule(data=st.data(), snapshot=st.sampled_from(("A", *SNAPSHOTS)))
    def snapshot(self, data, snapshot):
        self.both("snapshot", self._volume(data), snapshot)

    @rule(data=st.data())
    def delete_snapshot(self, data):
        self.both("delete_snapshot", self._volume(data))

    @rule(spec=mapping_specs)
    def establish(self, spec):
        self.both("establish", spec)  # not offered: rejected alike

    @invariant()
    @precondition(lambda self: hasattr(self, "engine"))
    def images_and_space_agree(self):
        self.compare_images(("A", "B", *SNAPSHOTS))
        assert self.engine.space() == self.oracle.space()


RedirectOnWriteMatchesOracle.TestCase.settings = settings(max_examples=700, stateful_step_count=30)
test_row_engine_matches_oracle = RedirectOnWriteMatchesOracle.TestCase
