"""Searches on every core: independent searches (a configuration with or without a seeded bug)
spread over a process pool, swarm-style.

One search split over the cores is `flashsim.models.check.partition`; what this module
parallelises is the many searches a hunt or a swarm runs: each is a (configuration, mutant)
job, and the results come back in the order of the jobs, so the output does not depend on
the number of workers.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from concurrent.futures import ProcessPoolExecutor
from multiprocessing import get_context

from flashsim.models.check.config import CheckConfig
from flashsim.models.check.explorer import CheckResult, explore

#: Most worker processes a search may ask for.
MAX_WORKERS = 256


def _one(job: tuple[CheckConfig, str | None]) -> CheckResult:
    config, mutant = job
    return explore(config, mutant)


def explore_all(
    jobs: Sequence[tuple[CheckConfig, str | None]], workers: int = 1
) -> list[CheckResult]:
    """`explore(config, mutant)` for every job, `workers` at a time; results in job order."""
    if not 1 <= workers <= MAX_WORKERS:
        raise ValueError(f"workers: must be 1..{MAX_WORKERS}, got {workers}")
    if workers == 1 or len(jobs) < 2:
        return [_one(job) for job in jobs]
    # fork: the children start with the modules already imported (spawn would re-import
    # everything per worker, which costs more than the small searches themselves)
    with ProcessPoolExecutor(max_workers=workers, mp_context=get_context("fork")) as pool:
        return list(pool.map(_one, jobs, chunksize=1))


def default_workers() -> int:
    """Every core this process may run on."""
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1
