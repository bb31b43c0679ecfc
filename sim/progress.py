"""The progress bar of a long run: one line on stderr, redrawn at window boundaries once the
run has taken more than two seconds of wall time (short runs print nothing)."""

from __future__ import annotations

import sys
import time

SHOW_AFTER_S = 2.0
WIDTH = 30


class Progress:
    """Simulated time out of `duration_s`, and the wall time so far."""

    def __init__(self, duration_s: float, enabled: bool) -> None:
        self.duration_s = duration_s
        self.enabled = enabled
        self.shown = False
        self.wall0 = time.perf_counter()

    def update(self, now: float) -> None:
        if not self.enabled:
            return
        elapsed = time.perf_counter() - self.wall0
        if elapsed > SHOW_AFTER_S:
            self.shown = True
            duration = self.duration_s
            frac = now / duration
            bar = "#" * int(WIDTH * frac)
            sys.stderr.write(
                f"\rflashsim: [{bar:<{WIDTH}}] {100 * frac:5.1f}%  {now:,.0f}/"
                f"{duration:,.0f} s simulated, {elapsed:,.0f} s wall"
            )
            sys.stderr.flush()

    def end(self) -> None:
        """End the bar's line, if it was drawn."""
        if self.shown:
            sys.stderr.write("\n")
