"""One search split across worker processes: a hash-partitioned frontier, level by level.

Every state has one owner: the worker its engine state's global id picks, so that all the
steps from one engine state (remembered per engine state, `memo`) run on one worker. A
worker expands the states it owns at the current depth (the steps of `world.transition`, its
own memo), keeps the successors it owns and sends the others to their owners; after every
worker has finished the level the coordinator (the calling process) forwards the batches, and
each owner adds the ones it had not seen, checks their state properties and expands them in
the next round. Each
worker numbers, interns and stores only what it meets, so the memory is split too.

Global identity: a worker's ids are its own (interned in the order it meets things), so a
state crosses processes as its components' *global ids*: a 64-bit BLAKE2b digest of the
repr of the component's fingerprint (engine, oracle, process record; an exception object
inside a plan, which compares by identity, is written as its class and message). The first time a
worker sends a component to another it sends the object too (the engine, the oracle, the
operation in flight), which the receiver interns under its own id. Two different fingerprints
with one digest are detected (a worker that meets both raises `PartitionError`), never merged.

What it gives, against `explore` without reductions: the same distinct states, edges and
sometimes-properties on an exhaustive search, and a counterexample of the same (shortest)
length, found in the same round, whose schedule is rebuilt from parent pointers kept across
workers (where two violations are equally short the one reported may differ). It keeps no
graph: the progress (cycle) analysis does not run, and the result says so. A bound on states
stops it after the level that reached it (so its count may exceed the bound by a level).
Workers are forked and die with the parent (`flashsim.models.worker_processes`).
"""

from __future__ import annotations

import contextlib
import hashlib
import itertools
import pickle
import struct
import time
from array import array
from multiprocessing import get_context
from typing import TYPE_CHECKING, Any

from flashsim.models.check import properties as props
from flashsim.models.check import result as report
from flashsim.models.check.bfs import _LOW, _MASK, FIELD_BITS, pack
from flashsim.models.check.records import NO_OP, ProcState
from flashsim.models.check.world import (
    World,
    initial_world,
    is_final,
    process_moves,
    state_checks,
    transition,
)

if TYPE_CHECKING:
    from multiprocessing.connection import Connection

    from flashsim.models.check.config import CheckConfig
    from flashsim.models.check.properties import Expected
    from flashsim.models.check.result import CheckResult
    from flashsim.models.oracle import Oracle
    from flashsim.models.rules.inflight import InFlight
    from flashsim.models.system import System

_SYSTEM, _ORACLE, _RECORD = 0, 1, 2


class PartitionError(RuntimeError):
    """Two different components share a 64-bit global id (a digest collision)."""


def _digest(kind: int, fingerprint: object) -> int:
    """A component's global id: its fingerprint's repr (ints, strings, bytes, tuples, named
    tuples, and an exception as its class and message) digested to 64 bits."""
    text = repr((kind, fingerprint)).encode()
    return int.from_bytes(hashlib.blake2b(text, digest_size=8).digest(), "little")


class _Worker:
    """One partition: the states it owns, its memo, and the global ids of what it met."""

    def __init__(self, me: int, workers: int, config: CheckConfig, mutant: str | None) -> None:
        self.me, self.workers, self.config, self.mutant = me, workers, config, mutant
        self.setting, world0 = initial_world(config, mutant)
        self.memo = self.setting.memo
        self.count = len(config.processes)
        self.systems = self.memo.system_objects
        self.systems.setdefault(world0.system_id, world0.system)
        self.oracles: dict[int, Oracle] = {world0.oracle_id: world0.oracle}
        self.records: dict[int, ProcState] = {p.id: p for p in world0.procs}
        #: per kind: local id -> global id, and back
        self.global_of: list[dict[int, int]] = [{}, {}, {}]
        self.local_of: list[dict[int, int]] = [{}, {}, {}]
        #: per worker: the global ids whose components were sent to it
        self.sent: list[set[int]] = [set() for _ in range(workers)]
        #: packed local ident (`bfs.pack`) -> its index if owned here, -1 if owned elsewhere
        self.seen: dict[int, int] = {}
        self.keys: list[int] = []
        self.owner_of: dict[int, int] = {}  # engine id -> the worker owning its states
        #: as `bfs.search`'s tables: per (engine, oracle), per process record, the edges
        self.tables: dict[int, dict[int, tuple[Any, ...]]] = {}
        fields = 2 + self.count
        self.width = 4 * fields
        self.unpack_all = struct.Struct(f"<{fields}I").unpack
        self.pack_all = struct.Struct(f"<{fields}I").pack
        self.kinds = (_SYSTEM, _ORACLE, *([_RECORD] * self.count))
        self.parent_w, self.parent_i, self.by = array("l"), array("l"), array("l")
        self.edges = 0
        self.witnessed: set[str] = set()
        self.level_start = 0
        self.bounded = ""
        ident0 = world0.ident_
        for kind, local in zip(self.kinds, ident0, strict=True):
            self._gid(kind, local)
        if self._owner(world0.system_id) == me:
            self._insert(pack(ident0), -1, -1, -1)

    # global identity -------------------------------------------------------------------
    def _gid(self, kind: int, local: int) -> int:
        found = self.global_of[kind].get(local)
        if found is None:
            found = _digest(kind, self._fingerprint(kind, local))
            other = self.local_of[kind].setdefault(found, local)
            if other != local and repr(self._fingerprint(kind, other)) != repr(
                self._fingerprint(kind, local)
            ):  # two ids of one component (equal but for an exception's identity) are fine
                raise PartitionError(f"64-bit global id {found:#x} names two components")
            self.global_of[kind][local] = found
        return found

    def _fingerprint(self, kind: int, local: int) -> object:
        if kind == _SYSTEM:
            return self.memo.systems.values[local]
        if kind == _ORACLE:
            return self.memo.oracles.values[local]
        record: tuple[int, int, object] = self.memo.procs.values[local]  # type: ignore[assignment]
        op_id = record[1]
        return (record[0], None if op_id == NO_OP else self.memo.ops.values[op_id], record[2])

    def _global(self, ident: tuple[int, ...]) -> tuple[int, ...]:
        gid = self._gid
        return (
            gid(_SYSTEM, ident[0]),
            gid(_ORACLE, ident[1]),
            *(gid(_RECORD, r) for r in ident[2:]),
        )

    def _payload(self, kind: int, local: int) -> object:
        if kind == _SYSTEM:
            return self.systems[local]
        if kind == _ORACLE:
            return self.oracles[local]
        record = self.records[local]
        return (record.pc, record.op, record.expected)

    def _register(self, kind: int, gid: int, payload: object) -> int:
        """Intern a component another worker sent (under this worker's own id)."""
        memo = self.memo
        if kind == _SYSTEM:
            system: System = payload  # type: ignore[assignment]
            local = memo.systems.id(system.fingerprint())
            self.systems.setdefault(local, system)
        elif kind == _ORACLE:
            oracle: Oracle = payload  # type: ignore[assignment]
            local = memo.oracles.id(props.oracle_fingerprint(oracle))
            self.oracles.setdefault(local, oracle)
        else:
            sent: tuple[int, InFlight | None, Expected | None] = payload  # type: ignore[assignment]
            pc, op, expected = sent
            op_id = NO_OP if op is None else memo.ops.id(op.fingerprint())
            local = memo.procs.id((pc, op_id, expected))
            self.records.setdefault(local, ProcState(pc, op, expected, op_id, local))
        if self._gid(kind, local) != gid:
            raise PartitionError(f"global id {gid:#x}: the component sent has another digest")
        return local

    # the search (packed states, as in `bfs`) -------------------------------------------
    def _owner(self, system_id: int) -> int:
        """The worker that owns every state with this engine state: all the steps from one
        engine state run on one worker, so each runs once in the whole search."""
        found = self.owner_of.get(system_id)
        if found is None:
            found = self.owner_of[system_id] = (self._gid(_SYSTEM, system_id) >> 32) % self.workers
        return found

    def _insert(self, value: int, pw: int, pi: int, move: int) -> Any:
        """Own a new state; its state properties' first violation, if any."""
        index = len(self.keys)
        self.seen[value] = index
        self.keys.append(value)
        self.parent_w.append(pw)
        self.parent_i.append(pi)
        self.by.append(move)
        system_id = value & _MASK
        if self.systems[system_id].locks:
            return None
        oracle_id = (value >> FIELD_BITS) & _MASK
        verdict = self.memo.checked.get((system_id, oracle_id))
        if verdict is None:
            probe = World(
                self.systems[system_id], self.oracles[oracle_id], (), system_id, oracle_id,
                self.memo, (),
            )  # fmt: skip
            state_checks(probe)
            verdict = self.memo.checked[(system_id, oracle_id)]
        violations, seen_here = verdict
        self.witnessed.update(seen_here)
        return (violations[0].property, violations[0].message) if violations else None

    def _world(self, ids: tuple[int, ...]) -> World:
        procs = tuple(self.records[r] for r in ids[2:])
        return World(
            self.systems[ids[0]], self.oracles[ids[1]], procs, ids[0], ids[1], self.memo, ids
        )

    def receive(self, batches: list[tuple[int, list[Any], list[Any]]]) -> list[Any]:
        """Add the states other workers sent; the violations of their state properties."""
        found = []
        local_of = self.local_of
        systems, oracles, records = local_of[_SYSTEM], local_of[_ORACLE], local_of[_RECORD]
        pack_all = self.pack_all
        for sender, payloads, states in batches:
            for kind, gid, payload in payloads:
                if gid not in local_of[kind]:
                    self._register(kind, gid, payload)
            for gstate, pindex, move in states:
                value = int.from_bytes(
                    pack_all(
                        systems[gstate[0]],
                        oracles[gstate[1]],
                        *map(records.__getitem__, gstate[2:]),
                    ),
                    "little",
                )
                if value in self.seen:
                    continue
                bad = self._insert(value, sender, pindex, move)
                if bad is not None:
                    found.append((0, self.me, len(self.keys) - 1, -1, *bad))
                    return found
        return found

    def _outcomes(self, ids: tuple[int, ...], pi: int) -> tuple[Any, ...]:
        """Process `pi`'s enabled moves from a state and, per move: (move, change to the
        packed state, the successor's owner, violations, witnesses)."""
        system_id, oracle_id, record = ids[0], ids[1], ids[2 + pi]
        moves = process_moves(
            self.systems[system_id], system_id, self.setting, pi, self.records[record]
        )
        edges = []
        world = self._world(ids) if moves else None
        shift = FIELD_BITS * (2 + pi)
        gid = self._gid
        for move in moves:
            assert world is not None
            new_world, step, caused, witnessed = transition(world, self.setting, move)
            new_record = new_world.procs[pi]
            self.records.setdefault(new_record.id, new_record)
            self.oracles.setdefault(new_world.oracle_id, new_world.oracle)
            delta = (
                (step.system_id - system_id)
                + ((new_world.oracle_id - oracle_id) << FIELD_BITS)
                + ((new_record.id - record) << shift)
            )
            # the global ids of what the step made (a successor sent needs them)
            gid(_SYSTEM, step.system_id)
            gid(_ORACLE, new_world.oracle_id)
            gid(_RECORD, new_record.id)
            owner = self._owner(step.system_id)
            edges.append((move, delta, owner, caused, witnessed))
            if caused:  # the search stops at this edge
                break
        return tuple(edges)

    def expand(self, depth: int, max_depth: int) -> tuple[list[Any], list[Any]]:
        """Expand this level's states: (batches per worker, violations (extra steps, worker,
        state, move, property, message))."""
        setting, count, me, workers = self.setting, self.count, self.me, self.workers
        outboxes: list[list[Any]] = [[] for _ in range(workers)]
        payloads: list[list[Any]] = [[] for _ in range(workers)]
        start, end = self.level_start, len(self.keys)
        self.level_start = end
        seen, tables, keys = self.seen, self.tables, self.keys
        unpack_all, width = self.unpack_all, self.width
        gsys, gora, grec = self.global_of
        edges = 0
        for index in range(start, end):
            base = keys[index]
            ids = unpack_all(base.to_bytes(width, "little"))
            table = tables.get(base & _LOW)
            if table is None:
                table = tables[base & _LOW] = {}
            groups = []
            for pi, record in enumerate(ids[2:]):
                okey = record * count + pi
                group = table.get(okey)
                if group is None:
                    group = table[okey] = self._outcomes(ids, pi)
                if group:
                    groups.append(group)
            if not groups:
                world = self._world(ids)
                if not is_final(world, setting):
                    message = "no process can take a step, yet not every process is done"
                    return outboxes, [(0, me, index, -1, "no_deadlock", message)]
                complete = props.copy_completes(world.system, setting.copied)
                if complete is not None:
                    return outboxes, [(0, me, index, -1, "copy_completes", complete)]
                continue
            if depth >= max_depth:
                self.bounded = f"max depth {max_depth}"
                continue
            for move, delta, owner, caused, witnessed in itertools.chain.from_iterable(groups):
                edges += 1
                if witnessed:
                    self.witnessed.update(witnessed)
                if caused:
                    self.edges += edges
                    violation = caused[0]
                    return outboxes, [(1, me, index, move, violation.property, violation.message)]
                new = base + delta
                if new in seen:
                    continue
                if owner == me:
                    bad = self._insert(new, me, index, move)
                    if bad is not None:
                        self.edges += edges
                        return outboxes, [(1, me, index, move, *bad)]
                    continue
                seen[new] = -1
                new_ids = unpack_all(new.to_bytes(width, "little"))
                # every component met has its global id already (`_outcomes`, `_register`)
                gstate = (gsys[new_ids[0]], gora[new_ids[1]], *map(grec.__getitem__, new_ids[2:]))
                sent = self.sent[owner]
                if not sent.issuperset(gstate):
                    for kind, local, gid in zip(self.kinds, new_ids, gstate, strict=True):
                        if gid not in sent:
                            sent.add(gid)
                            payloads[owner].append((kind, gid, self._payload(kind, local)))
                outboxes[owner].append((gstate, index, move))
        self.edges += edges
        return [(payloads[w], outboxes[w]) for w in range(workers)], []

    def summary(self) -> tuple[int, int, int, str, set[str], float]:
        """(states owned, of them not yet expanded, edges, bound met, witnesses, CPU time)."""
        return (
            len(self.keys),
            len(self.keys) - self.level_start,
            self.edges,
            self.bounded,
            self.witnessed,
            time.process_time(),
        )

    def path(self, index: int) -> tuple[list[int], int, int]:
        """The moves into `index` back to a state another worker owns (or the first state):
        (moves, last first), that worker and its state (-1, -1 at the first state)."""
        moves = []
        while index >= 0 and self.parent_w[index] == self.me:
            moves.append(self.by[index])
            index = self.parent_i[index]
        if index < 0:
            return moves, -1, -1
        if self.parent_w[index] < 0:
            return moves, -1, -1
        moves.append(self.by[index])
        return moves, self.parent_w[index], self.parent_i[index]


def _serve(
    conn: Connection, me: int, workers: int, config: CheckConfig, mutant: str | None
) -> None:
    from flashsim.models.worker_processes import die_with_parent

    die_with_parent()
    worker = _Worker(me, workers, config, mutant)
    while True:
        command, *args = conn.recv()
        if command == "round":
            batches, depth, max_depth = args
            found = worker.receive([(sender, *pickle.loads(data)) for sender, data in batches])
            if found:
                conn.send(([b""] * workers, found, worker.summary()))
                continue
            out, found = worker.expand(depth, max_depth)
            if found:
                out = [([], []) for _ in range(workers)]
            # pickled here, unpickled by the owner only: the coordinator relays bytes
            conn.send(([pickle.dumps(o, pickle.HIGHEST_PROTOCOL) if o[1] else b"" for o in out],
                       found, worker.summary()))  # fmt: skip
        elif command == "path":
            conn.send(worker.path(args[0]))
        else:
            conn.close()
            return


def explore_partitioned(
    config: CheckConfig,
    mutant: str | None = None,
    workers: int = 2,
    max_states: int | None = None,
    max_depth: int | None = None,
) -> CheckResult:
    """`explore(config, mutant)` without reductions, its frontier split over `workers`
    forked processes (see the module)."""
    if workers < 1:
        raise ValueError(f"workers: must be at least 1, got {workers}")
    max_states = config.max_states if max_states is None else max_states
    max_depth = config.max_depth if max_depth is None else max_depth
    started = time.perf_counter()
    result = report.CheckResult(config.path, mutant)
    context = get_context("fork")
    conns, procs = [], []
    for me in range(workers):
        ours, theirs = context.Pipe()
        proc = context.Process(
            target=_serve, args=(theirs, me, workers, config, mutant), daemon=True
        )
        proc.start()
        theirs.close()
        conns.append(ours)
        procs.append(proc)
    try:
        incoming: list[list[Any]] = [[] for _ in range(workers)]
        depth = 0
        witnessed: set[str] = set()
        cpus = [0.0] * workers
        cpu_at_start: list[float] = []
        while True:
            for me, conn in enumerate(conns):
                conn.send(("round", incoming[me], depth, max_depth))
            replies = [conn.recv() for conn in conns]
            if not cpu_at_start:  # a worker's CPU clock starts at its fork: count from round 0
                cpu_at_start = [reply[2][5] for reply in replies]
            incoming = [[] for _ in range(workers)]
            found, states, pending, edges, bound = [], 0, 0, 0, ""
            for sender, (
                out,
                violations,
                (owned, fresh, edge_count, bounded, seen_here, cpu),
            ) in enumerate(replies):
                cpus[sender] = cpu - cpu_at_start[sender]
                found.extend(violations)
                states, pending, edges = states + owned, pending + fresh, edges + edge_count
                bound = bound or bounded
                witnessed |= seen_here
                for dest, data in enumerate(out):
                    if data:
                        incoming[dest].append((sender, data))
                        pending += 1
            result.states, result.edges = states, edges
            if found:
                _extra, owner, index, move, prop, message = min(found, key=lambda f: (f[0], f[1]))
                schedule = _schedule(conns, owner, index, move)
                names = {m: n for n, m in initial_world(config, mutant)[0].moves.items()}
                steps = tuple(names[m] for m in schedule)
                result.counterexample = report.Counterexample(
                    prop, message, steps, report._events(config, mutant, steps)
                )
                result.depth = len(steps)
                break
            if bound:
                result.exhaustive, result.bound = False, bound
            if not pending:
                result.depth = depth
                break
            if states >= max_states:
                result.exhaustive, result.bound = False, f"max states {max_states}"
                result.depth = depth + 1
                break
            depth += 1
        result.witnessed = tuple(sorted(witnessed))
        result.worker_cpu_s = tuple(cpus)
        if result.counterexample is None:
            result.missing = tuple(s for s in config.sometimes if s not in witnessed)
            result.notes.append(
                "progress (cycles) not checked: the partitioned search keeps no state graph"
            )
    finally:
        for conn in conns:
            with contextlib.suppress(BrokenPipeError, OSError):
                conn.send(("stop",))
        for proc in procs:
            proc.join(timeout=5)
            if proc.is_alive():
                proc.kill()
    result.elapsed_s = time.perf_counter() - started
    return result


def _schedule(conns: list[Connection], owner: int, index: int, move: int) -> list[int]:
    """The moves from the first state to state `index` of worker `owner`, then `move`."""
    backwards = [] if move < 0 else [move]
    while owner >= 0:
        conns[owner].send(("path", index))
        moves, owner, index = conns[owner].recv()
        backwards.extend(moves)
    return backwards[::-1]
