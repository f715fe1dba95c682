"""The two engines that execute the model's month: :mod:`ci_sim.model.kernels` (the submodels)
and :mod:`ci_sim.model.month` (the month's phases and a run of months, which call them).

``python`` runs both as the plain Python they are written in: slow, readable, the executable
specification. ``numba`` compiles the same code objects with ``@njit(cache=True)``, rebinding
each function's globals so that a function calling another calls the compiled one; a whole
run is then one compiled call. Compilation happens on first use and is cached on disk by
numba; the first compile on a machine takes one to two minutes of one core, and
:func:`engine` says so on the ``ci_sim`` logger when it begins.
"""

from __future__ import annotations

import logging
import types
from collections.abc import Callable
from functools import cache

from ci_sim.model import kernels, month

ENGINES = ("numba", "python")

#: The kernels an engine provides, by name.
KERNELS = ("uniform", "normal", "payoff", "mobilize", "commit", "learn_from_peers", "turn_over",
           "turbulence", "socialize", "strategy_scores", "learn_agenda", "update_trust",
           "set_priorities", "allocate_effort", "disrupt", "program_quality", "respond",
           "allocate_funding", "gini", "grow_capacity", "measure", "needle_knowledge",
           "agenda_knowledge", "act", "best_payoff")


@cache
def engine(name: str, **replaced: Callable) -> types.SimpleNamespace:
    """The kernels and month functions of engine ``name`` ('numba' or 'python').

    ``replaced``: kernels replaced by other functions with the same arguments, which every
    other function then calls (a deliberately wrong model that a validation check must
    reject). With numba they are compiled too, and nothing of such an engine is cached on
    disk (the cache knows a function by its code, not by what it calls).
    """
    if name not in ENGINES:
        raise ValueError(f"engine must be one of {', '.join(ENGINES)}, got {name!r}")
    unknown = set(replaced) - set(KERNELS)
    if unknown:
        raise ValueError(f"engine: no kernel named {', '.join(sorted(unknown))}")
    if name == "python" and not replaced:
        return types.SimpleNamespace(**{k: getattr(kernels, k) for k in KERNELS},
                                     **{f: getattr(month, f) for f in month.MONTH_FUNCTIONS})
    if name == "python":
        wrap: Callable = lambda function: function  # noqa: E731
    else:
        from numba import njit

        _announce_compiling()
        wrap = njit(cache=not replaced)
    done = {key: wrap(function) for key, function in replaced.items()}
    done.update(_rebind(kernels, [k for k in KERNELS if k not in replaced], done, wrap))
    done.update(_rebind(month, month.MONTH_FUNCTIONS, done, wrap))
    return types.SimpleNamespace(**done)


#: What the first compile of the model in a process says, on the ``ci_sim`` logger at level
#: WARNING (printed on standard error unless logging is configured otherwise).
COMPILING = ("ci-sim: compiling the numba engine, once per machine (one to two minutes of one "
             "core); numba keeps it in its disk cache for later runs")


@cache
def _announce_compiling() -> None:
    """Log :data:`COMPILING`, once per process, when numba first compiles a function of the
    model (:func:`first_compile_listener`)."""
    from numba.core import event

    event.register("numba:compile", first_compile_listener())


def first_compile_listener(package: str = "ci_sim"):
    """A listener for numba's ``numba:compile`` events that logs :data:`COMPILING` on the
    ``ci_sim`` logger the first time numba starts compiling a function of a module of
    ``package``. Loading a function from numba's disk cache raises no such event, so a
    machine that has compiled the model once says nothing."""
    from numba.core import event

    class FirstCompile(event.Listener):
        said = False

        def on_start(self, started: event.Event) -> None:
            module = getattr(started.data["dispatcher"].py_func, "__module__", None) or ""
            if not self.said and module.startswith(package + "."):
                self.said = True
                logging.getLogger("ci_sim").warning(COMPILING)

        def on_end(self, ended: event.Event) -> None:
            pass

    return FirstCompile()


def _rebind(module: types.ModuleType, names: list[str] | tuple[str, ...],
            done: dict[str, Callable], wrap: Callable) -> dict[str, Callable]:
    """``names`` of ``module``, each rebound to globals in which the others (and the functions
    already ``done``) are the wrapped ones, then wrapped (compiled, for numba)."""
    namespace = {**vars(module), **done}
    for name in names:
        plain = getattr(module, name)
        rebound = types.FunctionType(plain.__code__, namespace, name, plain.__defaults__)
        rebound.__module__ = plain.__module__
        rebound.__qualname__ = plain.__qualname__
        namespace[name] = wrap(rebound)
    return {name: namespace[name] for name in names}


def bound_to(function: Callable, args: tuple) -> Callable:
    """``function`` for repeated calls with arguments of the very types of ``args``.

    For a numba function, its compiled entry point for those types: calling it skips the
    dispatcher's type resolution, which numba does in Python for every argument, the
    month's named tuples included. Resolving costs about 1 ms once; the caller must resolve
    again if it replaces any argument by one of another type. A python-engine function is
    returned as is.
    """
    if not hasattr(function, "typeof_pyval"):
        return function
    return function.compile(tuple(function.typeof_pyval(arg) for arg in args))

