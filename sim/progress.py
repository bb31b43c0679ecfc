"""The progress line of a long run (tqdm, on stderr): simulated seconds done out of the run's
duration, the wall time so far and the ETA, redrawn at window boundaries; it appears only
once the run has taken more than two seconds of wall time (short runs print nothing). It
writes to stderr only, so no output file depends on it."""

from __future__ import annotations

import sys
from typing import TextIO

SHOW_AFTER_S = 2.0
FORMAT = (
    "flashsim run: {percentage:5.1f}%|{bar:30}| {n:,.0f}/{total:,.0f} s simulated "
    "[{elapsed} wall, ETA {remaining}]"
)


class Progress:
    """Simulated time out of `duration_s`, with the wall time so far and the ETA."""

    def __init__(self, duration_s: float, enabled: bool, file: TextIO | None = None) -> None:
        self.duration_s = duration_s
        self.bar = None
        if enabled:
            from tqdm import tqdm

            self.bar = tqdm(
                total=duration_s,
                file=file or sys.stderr,
                delay=SHOW_AFTER_S,
                bar_format=FORMAT,
                mininterval=0.5,
                dynamic_ncols=True,
            )

    def update(self, now: float) -> None:
        if self.bar is not None:
            self.bar.update(min(now, self.duration_s) - self.bar.n)

    def end(self) -> None:
        """Close the line (it ends at 100% if it was drawn)."""
        if self.bar is not None:
            self.bar.update(self.duration_s - self.bar.n)
            self.bar.close()
            self.bar = None
