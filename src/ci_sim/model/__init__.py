"""The Collective Impact model, laid out as the ODD describes it.

- :mod:`~ci_sim.model.params`: every parameter, its range, meaning and source.
- :mod:`~ci_sim.model.scenarios`: built-in scenarios, TOML files and overrides.
- :mod:`~ci_sim.model.agents`: sectors and the organizations (Mesa agents).
- :mod:`~ci_sim.model.model`: the Mesa model; a step is a month of named phases.
- :mod:`~ci_sim.model.metrics`: what is observed each month, and the gateways.
- :mod:`~ci_sim.model.kernels`: the submodels as array functions;
  :mod:`~ci_sim.model.engines` compiles them with numba or runs them as plain Python.
"""

from ci_sim.model.agents import SECTORS, Organization
from ci_sim.model.metrics import GATEWAY_RULES, GATEWAYS, METRICS
from ci_sim.model.model import STEPS_PER_YEAR, CollectiveImpactModel, stream
from ci_sim.model.params import Scenario
from ci_sim.model.scenarios import load_scenario

__all__ = ["GATEWAYS", "GATEWAY_RULES", "METRICS", "SECTORS", "STEPS_PER_YEAR",
           "CollectiveImpactModel", "Organization", "Scenario", "load_scenario", "stream"]
