"""Differential test: the step engine and the naive oracle (full copies at establish), driven
by the same random operation sequences, must agree on every read, every error class, every
volume's whole image, the set of live relationships and the consistency flags.

Operations cover cascades, multiple targets, groups, refresh, reverse (plain and fast),
withdraw, background copy, inhibit-target-writes and space-efficient targets under both
policies, on track sizes from 1 byte to 64 KiB."""

from __future__ import annotations

import shutil
import tempfile

from differential import outcome
from hypothesis import event, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, precondition, rule

from flashsim.models import System
from flashsim.models.ops import Establish
from flashsim.models.oracle import Oracle
from flashsim.models.state.backend import file_backend_in, memory_backend

VOLUMES = ("A", "B", "C", "D", "E")
IDS = ("r1", "r2", "r3", "r4", "r5", "r6")
TRACK_SIZES = (1, 3, 4, 512, 4096, 65536)


establish_specs = st.builds(
    Establish,
    id=st.sampled_from(IDS),
    source=st.sampled_from(VOLUMES),
    target=st.sampled_from(VOLUMES),
    background_copy=st.booleans(),
    incremental=st.booleans(),
    persistent=st.booleans(),
    inhibit_target_writes=st.sampled_from((False, False, False, True)),
    target_capacity_tracks=st.sampled_from((None, None, None, 1, 2, 4)),
    out_of_space=st.sampled_from(("fail_relationship", "inhibit_source_writes")),
)


class EngineMatchesOracle(RuleBasedStateMachine):
    @initialize(
        track_size=st.sampled_from(TRACK_SIZES),
        tracks=st.integers(1, 6),
        limit=st.sampled_from((1, 2, 12)),
    )
    def create_volumes(self, track_size, tracks, limit):
        from flashsim.models.state.relationship import Profile

        self.engine = System(profile=Profile("test", limit), backend_factory=self.backends())
        self.oracle = Oracle(max_targets_per_source=limit)
        self.size = tracks * track_size
        self.track_size = track_size
        self.stamp = 0
        for name in VOLUMES:
            for impl in (self.engine, self.oracle):
                impl.create(name, tracks, track_size)
        # one volume of another geometry, so size mismatches are tried too
        for impl in (self.engine, self.oracle):
            impl.create("Z", tracks + 1, track_size)

    def backends(self):
        return memory_backend

    def both(self, method, *args):
        got = outcome(getattr(self.engine, method), *args)
        want = outcome(getattr(self.oracle, method), *args)
        assert got == want, f"{method}{args}: engine {got!r}, oracle {want!r}"
        event(f"{method}: {got[1] if got[0] == 'error' else 'ok'}")
        return got

    def _data(self, length):
        self.stamp += 1
        base = (self.stamp * 37) % 251
        return bytes((base + i) % 256 for i in range(length))

    @rule(volume=st.sampled_from(VOLUMES), data=st.data())
    def write(self, volume, data):
        offset = data.draw(st.integers(0, self.size - 1), label="offset")
        whole = data.draw(st.booleans(), label="whole tracks")
        if whole:  # track-aligned writes exercise the full-track target rule
            first = offset // self.track_size
            count = data.draw(st.integers(1, self.size // self.track_size - first), label="tracks")
            offset, length = first * self.track_size, count * self.track_size
        else:
            length = data.draw(st.integers(1, min(self.size - offset, 2 * self.track_size + 2)))
        self.both("write", volume, offset, self._data(length))

    @rule(volume=st.sampled_from((*VOLUMES, "Z")), data=st.data())
    def read(self, volume, data):
        offset = data.draw(st.integers(0, self.size + 1), label="offset")
        length = data.draw(st.integers(1, self.size + 2), label="length")
        self.both("read", volume, offset, length)

    @rule(spec=establish_specs, mismatched=st.booleans())
    def establish(self, spec, mismatched):
        if mismatched:
            spec = Establish(spec.id, spec.source, "Z")
        self.both("establish", spec)

    @rule(specs=st.lists(establish_specs, min_size=1, max_size=3))
    def establish_group(self, specs):
        self.both("establish_group", tuple(specs))

    def _rel(self, data):
        """Mostly a live relationship, sometimes any id (unknown ids must fail alike)."""
        live = sorted(self.engine.relationships)
        if live and data.draw(st.integers(0, 4), label="pick live") > 0:
            return data.draw(st.sampled_from(live), label="relationship")
        return data.draw(st.sampled_from(IDS), label="relationship")

    @rule(data=st.data(), tracks=st.integers(0, 7))
    def background_copy(self, data, tracks):
        self.both("background_copy", self._rel(data), tracks)

    @rule(data=st.data())
    def refresh(self, data):
        self.both("refresh", self._rel(data))

    @rule(data=st.data(), fast=st.booleans())
    def reverse(self, data, fast):
        self.both("reverse", self._rel(data), fast)

    @rule(data=st.data())
    def withdraw(self, data):
        self.both("withdraw", self._rel(data))

    @invariant()
    @precondition(lambda self: hasattr(self, "engine"))
    def images_relationships_and_flags_agree(self):
        for name in VOLUMES:
            engine = outcome(self.engine.read, name, 0, self.size)
            oracle = outcome(self.oracle.read, name, 0, self.size)
            assert engine == oracle, f"image of {name}: engine {engine!r}, oracle {oracle!r}"
            assert self.engine.volumes[name].consistent == self.oracle.consistent(name), name
        assert sorted(self.engine.relationships) == self.oracle.relationship_ids()


EngineMatchesOracle.TestCase.settings = settings(max_examples=4000, stateful_step_count=30)
test_engine_matches_oracle = EngineMatchesOracle.TestCase


class EngineOnSparseFilesMatchesOracle(EngineMatchesOracle):
    """The same, with every volume a sparse file (holes punched, data runs found by seek)."""

    def backends(self):
        self.folder = tempfile.mkdtemp(prefix="flashsim-diff-")
        return file_backend_in(self.folder)

    def teardown(self):
        if hasattr(self, "engine"):
            self.engine.close()
            shutil.rmtree(self.folder, ignore_errors=True)


EngineOnSparseFilesMatchesOracle.TestCase.settings = settings(
    max_examples=400, stateful_step_count=30
)
test_engine_on_sparse_files_matches_oracle = EngineOnSparseFilesMatchesOracle.TestCase
