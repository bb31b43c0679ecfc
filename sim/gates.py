"""Gates on volumes: new I/O there waits while one is closed.

A whole-volume operation closes a gate on every volume it touches while it drains the
in-flight operations and runs; a consistency group's freeze closes one on its sources that
holds writes only (the host processes look at that second set for writes alone).
"""

from __future__ import annotations

from typing import Any

import simpy


class Gates(dict[str, list[Any]]):
    """The closed gates, volume -> [closers, event]; the event succeeds when the last closer
    opens the gate. A dict, so that the host I/O's look-up is one `get`."""

    def __init__(self, env: simpy.Environment) -> None:
        super().__init__()
        self.env = env

    def close(self, volumes: tuple[str, ...]) -> None:
        for v in volumes:
            gate = self.get(v)
            if gate is None:
                self[v] = [1, self.env.event()]
            else:
                gate[0] += 1

    def open(self, volumes: tuple[str, ...]) -> None:
        for v in volumes:
            gate = self[v]
            gate[0] -= 1
            if not gate[0]:
                del self[v]
                gate[1].succeed()
