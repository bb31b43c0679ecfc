"""The `[controller]` table: the controller's write cache (NVS) and read cache."""

from __future__ import annotations

from typing import Any

from flashsim.sim.scenario.specs import DEFAULT_DESTAGE_PARALLELISM, ControllerSpec
from flashsim.sim.scenario.tables import Table, at_least_one, non_negative, positive


def controller_spec(raw: dict[str, Any], file: str) -> ControllerSpec | None:
    """The `[controller]` table, or None when there is none or it has no cache at all (both
    sizes 0: `--set controller.write_cache_mib=0` then runs today's write-through model)."""
    if "controller" not in raw:
        return None
    t = Table(file, "controller", raw["controller"])
    spec = ControllerSpec(
        cache_hit_latency_ms=t.number("cache_hit_latency_ms", check=positive),
        write_cache_mib=t.number("write_cache_mib", 0.0, non_negative),
        read_cache_mib=t.number("read_cache_mib", 0.0, non_negative),
        destage_parallelism=t.get(
            "destage_parallelism", int, DEFAULT_DESTAGE_PARALLELISM, at_least_one
        ),
    )
    t.finish()
    if spec.write_cache_mib == 0 and spec.read_cache_mib == 0:
        return None
    return spec
