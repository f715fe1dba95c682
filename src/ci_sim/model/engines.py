"""The two engines that execute the model's month: :mod:`ci_sim.model.kernels` (the submodels)
and :mod:`ci_sim.model.month` (the month's phases and a run of months, which call them).

``python`` runs both as the plain Python they are written in: slow, readable, the executable
specification. ``numba`` compiles the same code objects with ``@njit(cache=True)``, rebinding
each function's globals so that a function calling another calls the compiled one; a whole
run is then one compiled call. Compilation happens on first use and is cached on disk by
numba; the first compile on a machine takes one to two minutes of one core, and
:func:`engine` says so on the ``ci_sim`` logger when it begins. A change to any file of
:data:`MODEL_SOURCES` makes the whole cache stale (:func:`source_group_locator`).
"""

from __future__ import annotations

import hashlib
import logging
import os
import types
from collections.abc import Callable, Iterable
from functools import cache
from pathlib import Path

from ci_sim.model import kernels, metrics, month

ENGINES = ("numba", "python")

#: The files numba compiles into one run: the month calls the kernels, and reads the
#: gateways' table of :mod:`ci_sim.model.metrics` as a constant.
MODEL_SOURCES = tuple(Path(module.__file__).resolve() for module in (kernels, month, metrics))

#: The kernels an engine provides, by name.
KERNELS = ("uniform", "normal", "payoff", "mobilize", "commit", "learn_from_peers", "turn_over",
           "turbulence", "socialize", "prevailing_practice", "strategy_scores", "learn_agenda", "update_trust",
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
        _cache_as_one(MODEL_SOURCES)
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


@cache
def _cache_as_one(files: tuple[Path, ...]) -> None:
    """Have numba's disk cache treat ``files`` as one source (:func:`source_group_locator`)."""
    _locator_classes().insert(0, source_group_locator(files))


def _locator_classes() -> list:
    """numba's cache locator classes, tried in order (on ``CacheImpl``, which older numba
    releases name ``_CacheImpl``)."""
    from numba.core import caching

    return (getattr(caching, "CacheImpl", None) or caching._CacheImpl)._locator_classes


def source_group_locator(files: Iterable[str | os.PathLike]) -> type:
    """A numba cache locator for the functions written in ``files`` that are compiled into
    one another: each one's cached code is stamped with the contents of all ``files``.

    Numba stamps a cached function with its own file only, but a function compiled with
    the others it calls carries their code: the month, written in ``month.py``, carries the
    kernels. Without this, a change to a kernel would leave the numba engine running the
    old kernel from the cache while the python engine runs the new one. Where the cache
    lives is decided as numba would (the locator of the first of numba's own locator
    classes that accepts the function).
    """
    from numba.core import caching

    paths = tuple(str(Path(path).resolve()) for path in files)

    class SourceGroupLocator(caching._CacheLocator):
        group = paths

        def __init__(self, inner: caching._CacheLocator) -> None:
            self._inner = inner

        def ensure_cache_path(self) -> None:
            self._inner.ensure_cache_path()

        def get_cache_path(self) -> str:
            return self._inner.get_cache_path()

        def get_disambiguator(self) -> str:
            return self._inner.get_disambiguator()

        def get_source_stamp(self) -> str:
            stats = ((path, os.stat(path)) for path in paths)
            return _contents_hash(tuple((path, st.st_mtime_ns, st.st_size) for path, st in stats))

        @classmethod
        def from_function(cls, py_func, py_file):
            if str(Path(py_file).resolve()) not in paths:
                return None
            for other in _locator_classes():
                if not hasattr(other, "group"):
                    inner = other.from_function(py_func, py_file)
                    if inner is not None:
                        return cls(inner)
            return None

    return SourceGroupLocator


@cache
def _contents_hash(stats: tuple[tuple[str, int, int], ...]) -> str:
    """SHA-256 of the files' contents, in order; ``stats`` holds each path with its
    modification time and size, so that a file changed while the process runs is read
    again."""
    digest = hashlib.sha256()
    for path, *_ in stats:
        digest.update(Path(path).read_bytes())
    return digest.hexdigest()


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

