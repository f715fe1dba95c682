"""The Collective Impact model, laid out as the ODD describes it.

- :mod:`~ci_sim.model.params`: every parameter, its range, meaning and source.
- :mod:`~ci_sim.model.scenarios`: built-in scenarios, TOML files and overrides.
- :mod:`~ci_sim.model.agents`: sectors and the organizations (Mesa agents).
- :mod:`~ci_sim.model.model`: the Mesa model; a step is a month of named phases.
- :mod:`~ci_sim.model.trust`: trust between organizations, stored per tie.
- :mod:`~ci_sim.model.metrics`: what is observed each month, and the gateways.
- :mod:`~ci_sim.model.kernels`: the submodels as array functions;
  :mod:`~ci_sim.model.engines` compiles them with numba or runs them as plain Python.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

#: Where each public name lives. They are imported on first use, so that reading scenarios
#: (``ci_sim.model.scenarios``, which the command line needs for every command) does not
#: import Mesa, pandas, networkx and SciPy (about 0.9 s); the Mesa model does.
_EXPORTS = {
    "SECTORS": "ci_sim.model.agents", "Organization": "ci_sim.model.agents",
    "GATEWAY_RULES": "ci_sim.model.metrics", "GATEWAYS": "ci_sim.model.metrics",
    "METRICS": "ci_sim.model.metrics", "STEPS_PER_YEAR": "ci_sim.model.model",
    "CollectiveImpactModel": "ci_sim.model.model", "stream": "ci_sim.model.model",
    "Scenario": "ci_sim.model.params", "load_scenario": "ci_sim.model.scenarios",
}

__all__ = ["GATEWAYS", "GATEWAY_RULES", "METRICS", "SECTORS", "STEPS_PER_YEAR",
           "CollectiveImpactModel", "Organization", "Scenario", "load_scenario", "stream"]

if TYPE_CHECKING:
    from ci_sim.model.agents import SECTORS, Organization
    from ci_sim.model.metrics import GATEWAY_RULES, GATEWAYS, METRICS
    from ci_sim.model.model import STEPS_PER_YEAR, CollectiveImpactModel, stream
    from ci_sim.model.params import Scenario
    from ci_sim.model.scenarios import load_scenario


def __getattr__(name: str) -> Any:
    if name in _EXPORTS:
        value = getattr(import_module(_EXPORTS[name]), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'ci_sim.model' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
