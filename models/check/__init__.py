"""The model checker: every interleaving of the steps of `flashsim.models.rules.steps` on tiny
configurations.

The only part of `models` that may import networkx. Modules, bottom-up: `config` (TOML
configurations), `properties`, `records` (process states, events, violations), `timeline`
(a step as the timeline shows it), `memo` (what a search remembers), `mutants` (seeded bugs:
subclasses of the rules that replace what they break), `world` (the transition system over the
same steps the simulator runs), `symmetry`, `explorer` (breadth-first search, partial-order
reduction, cycle analysis), `parallel` (independent searches over a process pool), `hunt`
(every mutant against the reference configurations), `tla` (the explored graph as a TLA+
module), `schedule` (timelines, schedule files, replay). See docs/checker.md.
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
