"""The two engines that execute the step rules in :mod:`ci_sim.model.kernels`.

``python`` runs the kernels as the plain Python they are written in: slow, readable, the
executable specification. ``numba`` compiles the same code objects with ``@njit(cache=True)``,
rebinding the kernels' globals so that a kernel calling another calls the compiled one.
Compilation happens on first use and is cached on disk by numba.
"""

from __future__ import annotations

import types
from functools import cache

from ci_sim.model import kernels

ENGINES = ("numba", "python")

#: The kernels an engine provides, by name.
KERNELS = ("payoff", "mobilize", "commit", "learn_from_peers", "turn_over", "turbulence", "socialize",
           "strategy_scores", "learn_agenda", "update_trust", "set_priorities", "allocate_effort",
           "disrupt", "program_quality", "respond", "allocate_funding", "gini", "grow_capacity",
           "measure", "needle_knowledge", "agenda_knowledge", "act", "best_payoff")


@cache
def engine(name: str) -> types.SimpleNamespace:
    """The kernels of engine ``name`` ('numba' or 'python')."""
    if name == "python":
        return types.SimpleNamespace(**{k: getattr(kernels, k) for k in KERNELS})
    if name != "numba":
        raise ValueError(f"engine must be one of {', '.join(ENGINES)}, got {name!r}")
    from numba import njit

    namespace = dict(vars(kernels))
    for kernel in KERNELS:
        plain = getattr(kernels, kernel)
        rebound = types.FunctionType(plain.__code__, namespace, kernel, plain.__defaults__)
        rebound.__module__ = plain.__module__
        rebound.__qualname__ = plain.__qualname__
        namespace[kernel] = njit(cache=True)(rebound)
    return types.SimpleNamespace(**{k: namespace[k] for k in KERNELS})
