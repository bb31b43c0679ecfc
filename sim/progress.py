"""The progress line of a long run (tqdm, on stderr): simulated seconds done out of the run's
duration, the wall time so far and the ETA, redrawn at window boundaries; it appears only
once the run has taken more than two seconds of wall time (short runs print nothing). It
writes to stderr only, so no output file depends on it."""

from __future__ import annotations

import os
import sys
from typing import Any, TextIO

SHOW_AFTER_S = 2.0
FORMAT = (
    "flashsim run: {percentage:5.1f}%|{bar:30}| {n:,.0f}/{total:,.0f} s simulated "
    "[{elapsed} wall, ETA {remaining}]"
)


#: The width of a line on a terminal that does not tell its size (it reports 0 columns: a
#: serial console, a pseudo-terminal nobody sized), where tqdm would draw nothing.
FALLBACK_COLUMNS = 80


def width_options(file: TextIO) -> dict[str, Any]:
    """tqdm's width options for a line on `file`: the terminal's width as it changes, or
    FALLBACK_COLUMNS where the terminal reports none."""
    try:
        columns = os.get_terminal_size(file.fileno()).columns
    except (AttributeError, OSError, ValueError):  # not a terminal, or no file descriptor
        return {"dynamic_ncols": True}
    return {"dynamic_ncols": True} if columns > 0 else {"ncols": FALLBACK_COLUMNS}


class Progress:
    """Simulated time out of `duration_s`, with the wall time so far and the ETA."""

    def __init__(self, duration_s: float, enabled: bool, file: TextIO | None = None) -> None:
        self.duration_s = duration_s
        self.bar = None
        if enabled:
            from tqdm import tqdm

            file = file or sys.stderr
            self.bar = tqdm(
                total=duration_s,
                file=file,
                delay=SHOW_AFTER_S,
                bar_format=FORMAT,
                mininterval=0.5,
                **width_options(file),
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
