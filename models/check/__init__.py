"""The model checker: every interleaving of the steps of `flashsim.models.steps` on tiny
configurations.

The only part of `models` that may import networkx. Modules: `config` (TOML configurations),
`world` (the transition system over the same steps the simulator runs), `properties`,
`explorer` (breadth-first search, partial-order reduction, cycle analysis), `mutants` (seeded
bugs, hooked into the core by `System.mutant`), `hunt` (every mutant against the reference
configurations), `schedule` (timelines, schedule files, replay), `bench` (states per second).
See docs/checker.md.
"""

from flashsim.models.check.config import CheckConfig, CheckConfigError, load_config
from flashsim.models.check.explorer import CheckResult, Counterexample, explore
from flashsim.models.check.mutants import MUTANTS

__all__ = [
    "MUTANTS",
    "CheckConfig",
    "CheckConfigError",
    "CheckResult",
    "Counterexample",
    "explore",
    "load_config",
]
