"""Small scenario builders for the simulator tests."""

from __future__ import annotations

from flashsim.sim.scenario import Scenario, loads

ARRAY = """
[[array]]
name = "{name}"
read_latency_ms = {lat}
write_latency_ms = {lat}
bandwidth_mib_s = {bw}
parallelism = {par}
"""

VOLUME = """
[[volume]]
name = "{name}"
size_mib = {mib}
array = "{array}"
"""


def scenario(body: str, duration_s: float = 10, seed: int = 1, **run: object) -> Scenario:
    """A scenario from TOML `body` plus a [run] table (plots off by default; per-I/O records
    on, spooled to an anonymous file, so a test can check the figures against them)."""
    run.setdefault("records", True)
    run.setdefault("plots", False)
    extra = "".join(
        f"{k} = {str(v).lower() if isinstance(v, bool) else v}\n" for k, v in run.items()
    )
    text = f"[run]\nduration_s = {duration_s}\nseed = {seed}\n{extra}{body}"
    return loads(text, "test.toml")


def array(name: str = "a0", lat: float = 0.5, bw: float = 500, par: int = 4) -> str:
    return ARRAY.format(name=name, lat=lat, bw=bw, par=par)


def volume(name: str, mib: int, array: str = "a0") -> str:
    return VOLUME.format(name=name, mib=mib, array=array)


def flashcopy(rel_id: str, source: str, target: str, at_s: float, **options: object) -> str:
    """A [[flashcopy]] table; `options` are further keys (bool, number or string)."""
    lines = [f'id = "{rel_id}"', f'source = "{source}"', f'target = "{target}"', f"at_s = {at_s}"]
    for key, value in options.items():
        text = str(value).lower() if isinstance(value, bool) else value
        lines.append(f'{key} = "{text}"' if isinstance(value, str) else f"{key} = {text}")
    return "\n[[flashcopy]]\n" + "\n".join(lines) + "\n"
