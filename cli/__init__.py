"""flashsim: a discrete-event simulator and model checker of FlashCopy (point-in-time copy).

The installed package, one namespace:

- `flashsim.models`: the semantics as pure, time-free steps (state, rules, steps, the API);
  `flashsim.models.check` the model checker that drives the steps in every order.
- `flashsim.sim`: the same steps driven in simulated time (SimPy), workload inputs, metrics
  and graphs.
- `flashsim.commands`: the `flashsim` subcommands; `flashsim.main` the entry point.
- `flashsim.bench`: `flashsim bench`, figures against same-run baselines.
- `flashsim.scenarios`: the bundled scenarios, check configurations and op logs (data);
  `flashsim.bundled` finds them from any working directory.

In the repository each of these is a top-level folder (`models/`, `sim/`, `cli/commands/`,
`bench/`, `scenarios/`; this file is `cli/__init__.py`): `pyproject.toml` maps them under
`flashsim`, so nothing else lands in site-packages.
"""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("flashsim")
except PackageNotFoundError:  # pragma: no cover - imported from a tree that is not installed
    __version__ = "0+unknown"

__all__ = ["__version__"]
