"""Worker processes that die with the process that started them (the sweep's and the
checker's swarm's process pools): a killed parent leaves none running."""

from __future__ import annotations

import ctypes
import os
import signal
import sys


def die_with_parent() -> None:
    """A worker's initializer: the kernel kills it when the process that started it dies
    (Linux PR_SET_PDEATHSIG; elsewhere only the check below)."""
    if sys.platform.startswith("linux"):
        libc = ctypes.CDLL(None, use_errno=True)
        pr_set_pdeathsig = 1
        libc.prctl(pr_set_pdeathsig, signal.SIGKILL, 0, 0, 0)
    if os.getppid() == 1:  # the parent died before prctl took effect
        os._exit(1)
