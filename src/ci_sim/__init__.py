"""ci-sim: agent-based simulation of Collective Impact.

Organizations from five sectors work on a population problem in isolation, as a coalition,
or as a collective impact initiative with a backbone. See ``docs/ODD.md`` for the model.

The public API (``__all__``) is imported on first use, so ``import ci_sim`` stays quick:

- :func:`evaluate`: one run, from keyword parameters to named outcomes (for EMA Workbench,
  SALib, optimisers and notebooks); :data:`OUTCOMES` names and describes them.
- :func:`run`, :func:`run_replicates`, :func:`replicate_seeds`: time series of runs.
- :class:`CollectiveImpactModel`: the Mesa model; :class:`Organization`, its agents.
- :class:`Scenario`, :func:`load_scenario`, :func:`parameter_names`, :func:`describe`:
  parameters, their meanings, units and ranges.
- :class:`InputError`: the error for bad input (one line naming the key).
"""

from __future__ import annotations

from importlib import import_module
from importlib.metadata import PackageNotFoundError, version
from typing import TYPE_CHECKING, Any

try:
    __version__ = version("ci-sim")
except PackageNotFoundError:  # running from a source tree that is not installed
    __version__ = "0.0.0+source"

#: Where each public name lives.
_EXPORTS = {
    "evaluate": "ci_sim.simulate", "OUTCOMES": "ci_sim.simulate", "run": "ci_sim.simulate",
    "run_replicates": "ci_sim.simulate", "replicate_seeds": "ci_sim.simulate",
    "CollectiveImpactModel": "ci_sim.model", "Organization": "ci_sim.model",
    "METRICS": "ci_sim.model", "GATEWAYS": "ci_sim.model", "Scenario": "ci_sim.model",
    "load_scenario": "ci_sim.model", "parameter_names": "ci_sim.model.params",
    "describe": "ci_sim.model.params", "InputError": "ci_sim.errors",
}

__all__ = ["__version__", *_EXPORTS]

if TYPE_CHECKING:
    from ci_sim.errors import InputError
    from ci_sim.model import (GATEWAYS, METRICS, CollectiveImpactModel, Organization, Scenario,
                              load_scenario)
    from ci_sim.model.params import describe, parameter_names
    from ci_sim.simulate import OUTCOMES, evaluate, replicate_seeds, run, run_replicates


def __getattr__(name: str) -> Any:
    if name in _EXPORTS:
        value = getattr(import_module(_EXPORTS[name]), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'ci_sim' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
