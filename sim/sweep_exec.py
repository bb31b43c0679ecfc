"""Where a sweep's runs execute: in this process (`--jobs 1`), on a Dask `LocalCluster` of
worker processes started for the sweep (the default: one worker per core, or `--jobs N`), or
on an existing Dask cluster (`--scheduler ADDRESS`).

A task is one run: a validated `Scenario` in (traces and fio jobs already read, so a worker
needs none of the client's files), the bytes of the run's output files out. The client
commits each run as it arrives (`flashsim.sim.sweep_points`), so a worker needs no shared
folder either. The cluster a sweep starts is closed on every way out of `executor` (an
error, Ctrl-C); its worker processes exit by themselves if the sweep is killed outright
(distributed's worker processes exit when the pipe from their parent closes).
"""

from __future__ import annotations

import contextlib
import gc
import logging
import os
import signal
import tempfile
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path

from flashsim.sim.engine import simulate
from flashsim.sim.outputs import write_outputs
from flashsim.sim.scenario import Scenario, ScenarioError

#: How long to try to reach a `--scheduler`.
CONNECT_TIMEOUT = "10s"

#: Runs the scenarios given, yielding (index, the run's files) in the order they finish.
RunMany = Callable[[Sequence[Scenario]], Iterator[tuple[int, dict[str, bytes]]]]


def run_point(scenario: Scenario) -> dict[str, bytes]:
    """One run of `scenario`: its output files (`write_outputs`) by relative path."""
    result = simulate(scenario)
    try:
        with tempfile.TemporaryDirectory(prefix="flashsim-point-") as tmp:
            folder = Path(tmp)
            write_outputs(result, folder)
            return {
                p.relative_to(folder).as_posix(): p.read_bytes()
                for p in sorted(folder.rglob("*"))
                if p.is_file()
            }
    finally:
        result.close()


def _in_process(scenarios: Sequence[Scenario]) -> Iterator[tuple[int, dict[str, bytes]]]:
    for i, scenario in enumerate(scenarios):
        yield i, run_point(scenario)


def workers_default() -> int:
    """One worker per core this process may run on."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover - not Linux
        return os.cpu_count() or 1


@contextlib.contextmanager
def executor(jobs: int | None, scheduler: str | None) -> Iterator[RunMany]:
    """The executor of a sweep (see the module's docstring); `jobs` None is one worker per
    core. Raises ScenarioError if the scheduler cannot be reached."""
    if scheduler is None and jobs == 1:
        yield _in_process
        return
    import dask
    from distributed import Client, LocalCluster

    with contextlib.ExitStack() as stack:
        if scheduler is None:
            # No statistical profiler in the workers: it samples the run's deep generator
            # stacks every 10 ms and doubled a run's wall time. The nannies take the config
            # given at their start to their worker processes.
            quiet = dask.config.set({"distributed.worker.profile.enabled": False})
            with _sigint_blocked(), quiet:  # SIGINT blocked: see _sigint_blocked
                cluster = LocalCluster(
                    n_workers=jobs or workers_default(),
                    threads_per_worker=1,  # a run is pure Python: one per process
                    processes=True,
                    host="127.0.0.1",  # the sweep's own cluster: loopback only
                    # a free port: distributed serves HTTP even with no dashboard, and its
                    # default port may be taken (by another sweep)
                    dashboard_address="127.0.0.1:0",
                    silence_logs=logging.ERROR,
                )
            stack.enter_context(cluster)
            client = stack.enter_context(Client(cluster))
        else:
            problem = None
            try:
                client = stack.enter_context(Client(scheduler, timeout=CONNECT_TIMEOUT))
            except MemoryError:
                # what answered read a garbage message length: not a Dask scheduler
                problem = "what answers there does not speak Dask's protocol"
            except Exception as error:  # distributed's errors of an address vary by protocol
                problem = str(error)
            if problem is not None:
                # The Client that failed to start is garbage now; collected later, its
                # __del__ would close it from inside the next Client's start and deadlock
                # there (both wait on distributed's loop lock): collect it here, alone.
                gc.collect()
                raise ScenarioError(
                    f"--scheduler {scheduler}: cannot reach the Dask scheduler ({problem})"
                )
        yield _on(client)


@contextlib.contextmanager
def _sigint_blocked() -> Iterator[None]:
    """SIGINT blocked in this thread meanwhile: Ctrl-C is the sweep's to handle (it closes
    the cluster), so the threads and processes started here never see it (a worker would
    print its traceback); a Ctrl-C meanwhile is delivered when the block ends."""
    if not hasattr(signal, "pthread_sigmask"):  # pragma: no cover - not POSIX
        yield
        return
    old = signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT})
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, old)


def _on(client: object) -> RunMany:
    from distributed import Client, as_completed

    assert isinstance(client, Client)

    def run(scenarios: Sequence[Scenario]) -> Iterator[tuple[int, dict[str, bytes]]]:
        futures = [client.submit(run_point, s, pure=False) for s in scenarios]
        index = {f.key: i for i, f in enumerate(futures)}
        try:
            for future in as_completed(futures):
                files = future.result()
                future.release()  # its bytes are the client's now: free the worker's copy
                yield index[future.key], files
        finally:
            client.cancel([f for f in futures if not f.done()])

    return run
