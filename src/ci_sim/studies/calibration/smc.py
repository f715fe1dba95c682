"""ABC-SMC with pyabc, on ci-sim's executors, reproducible and resumable.

The inference is pyabc's ABC-SMC (Toni et al. 2009; Beaumont et al. 2009; Beaumont 2010):
generation 0 draws particles from the prior; each later generation proposes particles by
perturbing the previous generation's (pyabc's multivariate normal transition with twice the
weighted covariance, Beaumont et al. 2009; importance weights prior / proposal) and accepts those whose distance (:func:`~.patterns.distance`)
is at most the generation's threshold, a quantile of the previous generation's distances.
Its history is pyabc's SQLite database.

Two things are ci-sim's own, each a small pyabc component:

- :class:`ExecutorSampler`, a pyabc sampler that runs the evaluations on a
  :mod:`ci_sim.executors` executor (in this process, a process pool or Dask) with the
  random numbers of evaluation ``j`` of generation ``t`` drawn from a seed derived from
  ``(seed, t, j)``, and keeps the first ``particles`` accepted evaluations *in index
  order*. pyabc's own multicore and Dask samplers reseed every worker from the operating
  system and keep the evaluations that finish first, so their results depend on timing
  and on the number of workers; with this sampler a fit gives the same posterior on any
  executor and any number of workers. Evaluations started beyond the last one kept are
  discarded (at most a few batches per generation).
- Every generation is run by a fresh ``ABCSMC`` loaded from the database
  (``ABCSMC.load``), its threshold computed from the stored generation
  (:class:`StoredQuantileEpsilon`). An interrupted fit therefore resumes from its last
  complete generation by exactly the path an uninterrupted one takes, and gives the same
  posterior; the generation that was running when it stopped is run again.

pyabc is imported only here, and this module only when a calibration runs.
"""

from __future__ import annotations

import contextlib
import json
import logging
import math
import random
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyabc
from pyabc.distance import Distance
from pyabc.epsilon import QuantileEpsilon
from pyabc.sampler import Sampler

from ci_sim.studies.calibration.patterns import PatternModel, distance
from ci_sim.studies.calibration.targets import Plan

# pyabc logs every generation at INFO on its own handler; ci-sim reports progress itself,
# and pyabc's warnings go into the report (captured_warnings), not over the progress bar.
logging.getLogger("ABC").setLevel(logging.WARNING)


class _Collector(logging.Handler):
    def __init__(self, into: Counter):
        super().__init__(logging.WARNING)
        self.into = into

    def emit(self, record: logging.LogRecord) -> None:
        self.into[f"{record.name}: {record.getMessage()}"[:300]] += 1


@contextlib.contextmanager
def captured_warnings(into: Counter) -> Iterator[None]:
    """pyabc's warnings (logger ``ABC``) counted by message in ``into`` instead of printed."""
    logger = logging.getLogger("ABC")
    saved = logger.handlers[:], logger.propagate
    logger.handlers, logger.propagate = [_Collector(into)], False
    try:
        yield
    finally:
        logger.handlers, logger.propagate = saved

#: Progress callback: generation, accepted so far, particles wanted, evaluations so far,
#: the generation's threshold.
GenerationProgress = Callable[[int, int, int, int, float], None]

#: The database file pyabc keeps the fit's history in.
DATABASE = "abc_history.db"
#: Written when a generation was abandoned for a too low acceptance rate (a resume does
#: not run it again).
STOPPED = "stopped.json"


# ---------------------------------------------------------------------------- sampler
def evaluation_seed(seed: int, generation: int, index: int) -> np.random.SeedSequence:
    """The seed of evaluation ``index`` of ``generation``: independent of every other."""
    return np.random.SeedSequence(seed, spawn_key=(generation, index))


@dataclass(frozen=True)
class EvaluationBatch:
    """Evaluations ``start .. stop - 1`` of a generation, for a worker."""

    simulate_one: Any  # pyabc's simulate function (cloudpickled bytes for other processes)
    seed: int
    generation: int
    start: int
    stop: int


def evaluate_batch(batch: EvaluationBatch) -> tuple[list[tuple[int, Any]], Counter]:
    """Run a batch of evaluations: ``(index, particle)`` each, and pyabc's warnings. Each
    draws its random numbers from numpy's and Python's global generators seeded with
    :func:`evaluation_seed` (pyabc draws from them); their states are restored afterwards."""
    simulate_one = batch.simulate_one
    if isinstance(simulate_one, bytes):
        import cloudpickle

        simulate_one = cloudpickle.loads(simulate_one)
    saved_numpy, saved_python = np.random.get_state(), random.getstate()
    results, warnings = [], Counter()
    try:
        with captured_warnings(warnings):
            for index in range(batch.start, batch.stop):
                sequence = evaluation_seed(batch.seed, batch.generation, index)
                np.random.seed(sequence.generate_state(8))
                random.seed(int(sequence.generate_state(2, np.uint64)[0]))
                results.append((index, simulate_one()))
    finally:
        np.random.set_state(saved_numpy)
        random.setstate(saved_python)
    return results, warnings


class ExecutorSampler(Sampler):
    """A pyabc sampler on a ci-sim executor, reproducible on any of them (module doc).

    Args:
        executor: from :func:`ci_sim.executors.make_executor` (kept open by the caller).
        seed: base seed of the evaluations' random numbers.
        batch_size: evaluations per task sent to a worker.

    Attributes:
        spent: evaluations run in this session, the discarded ones included.
        progress: called as batches finish (see :data:`GenerationProgress`).
        warnings: pyabc's warnings in the evaluations, counted by message.
    """

    def __init__(self, executor, seed: int, batch_size: int = 1):
        super().__init__()
        self.executor = executor
        self.seed = seed
        self.batch_size = max(1, int(batch_size))
        self.spent = 0
        self.warnings: Counter = Counter()
        self.progress: Callable[[int, int, int, int], None] | None = None

    def __getstate__(self):  # never sent anywhere; pyabc pickles only its functions
        raise TypeError("ExecutorSampler is not picklable")

    def _batches(self, payload: Any, generation: int, limit: float
                 ) -> Iterator[EvaluationBatch]:
        start = 0
        while start < limit:
            stop = int(min(start + self.batch_size, limit))
            yield EvaluationBatch(payload, self.seed, generation, start, stop)
            start = stop

    def sample_until_n_accepted(self, n, simulate_one, t, *, max_eval=np.inf,
                                all_accepted=False, ana_vars=None):
        if self.executor.kind == "in-process":
            payload = simulate_one  # the same function, without a pickling round trip
        else:
            import cloudpickle

            payload = cloudpickle.dumps(simulate_one)
        limit = np.inf if not np.isfinite(max_eval) else int(np.ceil(max_eval))
        particles: dict[int, Any] = {}
        prefix = accepted = 0  # every index below prefix is evaluated; accepted among them
        last = None
        for _, (results, warnings) in self.executor.map_unordered(
                evaluate_batch, self._batches(payload, t, limit)):
            self.warnings.update(warnings)
            for index, particle in results:
                particles[index] = particle
            self.spent += len(results)
            while prefix in particles and last is None:
                accepted += bool(particles[prefix].accepted)
                if accepted == n:
                    last = prefix
                prefix += 1
            if self.progress is not None:
                self.progress(t, accepted, n, prefix)
            if last is not None:
                break
        sample = self._create_empty_sample()
        end = last + 1 if last is not None else prefix
        for index in range(end):
            sample.append(particles[index])
        self.nr_evaluations_ = end
        if last is None:
            sample.ok = False
        return sample


# ---------------------------------------------------------------------------- distance, threshold
class PatternDistance(Distance):
    """pyabc's view of :func:`~.patterns.distance` (the observed data are the bands)."""

    def __init__(self, patterns):
        super().__init__()
        self.patterns = tuple(patterns)

    def __call__(self, x: dict, x_0: dict, t: int | None = None, par: dict | None = None
                 ) -> float:
        return distance(self.patterns, x)

    def get_config(self) -> dict:
        return {"name": "ci-sim pattern distance",
                "patterns": {pattern.name: pattern.band_text() for pattern in self.patterns
                             if pattern.fit}}


class StoredQuantileEpsilon(QuantileEpsilon):
    """pyabc's quantile threshold, set at the start of every ``run`` from the generation
    stored last: infinite for generation 0 (all of the prior accepted, no calibration
    sample), else the ``alpha`` weighted quantile of the stored generation's distances."""

    def __init__(self, alpha: float):
        super().__init__(initial_epsilon=np.inf, alpha=alpha, weighted=True)

    def requires_calibration(self) -> bool:
        return False

    def initialize(self, t, get_weighted_distances, get_all_records, max_nr_populations,
                   acceptor_config):
        if t == 0:
            self._look_up = {0: np.inf}
        else:
            self._update(t, get_weighted_distances())


def beaumont_bandwidth(samples: float, dimension: int) -> float:
    """The kernel's bandwidth factor: its covariance is twice the weighted covariance of the
    previous generation (Beaumont et al. 2009), wider than the rules of thumb for density
    estimation, which in many dimensions leave the importance weights degenerate."""
    return math.sqrt(2.0)


def prior_distribution(plan: Plan) -> pyabc.Distribution:
    """The fitted parameters' priors as pyabc random variables, on the fit's scale: a
    loguniform prior is uniform on the parameter's base-10 logarithm."""
    variables = {}
    for name, prior in plan.targets.parameters.items():
        low, high = prior.to_fitted(prior.low), prior.to_fitted(prior.high)
        variables[name] = pyabc.RV("uniform", low, high - low)
    return pyabc.Distribution(**variables)


def observed(plan: Plan) -> dict[str, float]:
    """What pyabc records as the observed data: each pattern's band centre (or its bound)."""
    values = {}
    for pattern in plan.patterns:
        low, high = pattern.band
        values[pattern.name] = float((low + high) / 2 if np.isfinite(low) and np.isfinite(high)
                                     else low if np.isfinite(low) else high)
    return values


# ---------------------------------------------------------------------------- the fit
@dataclass
class Generations:
    """The fit's generations as stored: one row per generation with ``generation``,
    ``epsilon`` (its threshold), ``evaluations`` (evaluations up to its last accepted
    one), ``accepted``, ``acceptance_rate``, ``effective_sample_size`` and ``seconds``
    (wall time, as pyabc recorded it)."""

    table: pd.DataFrame
    stop: str
    spent: int = 0  # evaluations run in this session, the discarded ones included
    warnings: dict[str, int] = field(default_factory=dict)  # pyabc's, by message, this session

    @property
    def evaluations(self) -> int:
        return int(self.table["evaluations"].sum()) if len(self.table) else 0


def read_generations(database: Path, *, details: bool = True) -> pd.DataFrame:
    """The generations stored in ``database`` (empty if there is none); without
    ``details``, only ``generation``, ``epsilon`` and ``evaluations`` (what deciding to
    stop needs, read in one query)."""
    columns = ["generation", "epsilon", "evaluations", "accepted", "acceptance_rate",
               "effective_sample_size", "seconds"]
    if not database.exists():
        return pd.DataFrame(columns=columns)
    history = pyabc.History(f"sqlite:///{database}", _id=1)
    try:
        populations = history.get_all_populations()
    except Exception:  # a database created but never written (killed at once)
        return pd.DataFrame(columns=columns)
    populations = populations[populations["t"] >= 0].sort_values("t")
    rows = []
    for _, row in populations.iterrows():
        record = {"generation": int(row["t"]), "epsilon": float(row["epsilon"]),
                  "evaluations": int(row["samples"])}
        if details:
            _, weights = history.get_distribution(m=0, t=int(row["t"]))
            record.update({"accepted": int(len(weights)),
                           "acceptance_rate": len(weights) / int(row["samples"]),
                           "effective_sample_size": float(1 / np.sum(weights ** 2)),
                           "seconds": float(row["wall_time"] or 0.0)})
        rows.append(record)
    return pd.DataFrame(rows, columns=columns if details else columns[:3])


def stop_reason(plan: Plan, generations: pd.DataFrame, folder: Path) -> str | None:
    """Why the fit is over, or None if another generation is to run. Decided from what is
    stored only, so a resumed fit stops where an uninterrupted one does."""
    budget = plan.targets.budget
    marker = folder / STOPPED
    if marker.exists():
        return json.loads(marker.read_text(encoding="utf-8"))["reason"]
    if not len(generations):
        return None
    last = generations.iloc[-1]
    if float(last["epsilon"]) <= budget.epsilon:
        return (f"threshold {float(last['epsilon']):.3g} reached epsilon {budget.epsilon:g}"
                + (": every fitted pattern met by every accepted particle"
                   if budget.epsilon == 0 else ""))
    if len(generations) >= budget.generations:
        return f"{budget.generations} generations done"
    spent, expected = int(generations["evaluations"].sum()), int(last["evaluations"])
    if spent + expected > budget.evaluations:
        return (f"evaluation budget: {spent} evaluations spent, and another generation "
                f"costing what the last did ({expected}) would pass {budget.evaluations}")
    return None


def batch_size(plan: Plan, workers: int) -> int:
    """Evaluations per task: one unless evaluations are short (few runs, few seeds), so that
    at most a few evaluations are discarded at the end of a generation."""
    runs = len(plan.runs) * len(plan.seeds) * plan.months
    return int(max(1, min(8, 2400 // max(1, runs)))) if workers > 1 else 1


def fit(plan: Plan, executor, folder: Path, *,
        progress: GenerationProgress | None = None) -> Generations:
    """Run (or finish) the ABC-SMC fit whose history is kept in ``folder``.

    Args:
        executor: from :func:`ci_sim.executors.make_executor`, open.
        folder: where the database (and the stop marker) live; the study's store.
        progress: see :data:`GenerationProgress`.

    Returns:
        The stored generations and why the fit stopped.
    """
    budget = plan.targets.budget
    database = folder / DATABASE
    model = PatternModel.of(plan)
    sampler = ExecutorSampler(executor, plan.targets.seeds.abc,
                              batch_size(plan, executor.workers))
    main_warnings: Counter = Counter()
    while True:
        generations = read_generations(database, details=False)
        reason = stop_reason(plan, generations, folder)
        if reason is not None:
            warnings = Counter(sampler.warnings)
            warnings.update(main_warnings)
            return Generations(read_generations(database), reason, sampler.spent,
                               dict(warnings))
        abc = pyabc.ABCSMC(model, prior_distribution(plan), PatternDistance(plan.patterns),
                           population_size=budget.particles, sampler=sampler,
                           eps=StoredQuantileEpsilon(budget.quantile),
                           transitions=pyabc.MultivariateNormalTransition(
                               bandwidth_selector=beaumont_bandwidth))
        if len(generations) == 0:
            database.unlink(missing_ok=True)  # a fit killed before its first generation
            abc.new(f"sqlite:///{database}", observed(plan),
                    meta_info={"targets": str(plan.path.name), "sha256": plan.digest})
        else:
            abc.load(f"sqlite:///{database}", 1)
        generation = len(generations)
        if progress is not None:
            sampler.progress = lambda t, accepted, wanted, evaluated: progress(
                t, accepted, wanted, evaluated, float(abc.eps(t)))
        with captured_warnings(main_warnings):
            abc.run(max_nr_populations=1, min_acceptance_rate=budget.min_acceptance)
        if len(read_generations(database, details=False)) == generation:  # the generation was abandoned
            reason = (f"generation {generation} would need more than "
                      f"{budget.particles / budget.min_acceptance:.0f} evaluations "
                      f"(acceptance below {budget.min_acceptance:g}); not kept")
            (folder / STOPPED).write_text(json.dumps({"reason": reason}), encoding="utf-8")


def posterior(folder: Path, plan: Plan, generation: int | None = None) -> pd.DataFrame:
    """A stored generation (default: the last): one row per accepted particle, a column per
    fitted parameter (dotted names, in the targets' order, in the parameter's unit: the
    database holds a loguniform parameter as its base-10 logarithm), its ``weight``
    (summing to 1), its ``distance`` and every pattern's statistic (by pattern name)."""
    history = pyabc.History(f"sqlite:///{folder / DATABASE}", _id=1)
    population = history.get_population(t=generation)
    rows = []
    for particle in population.particles:
        rows.append({**{name: prior.from_fitted(float(particle.parameter[name]))
                        for name, prior in plan.targets.parameters.items()},
                     "weight": float(particle.weight), "distance": float(particle.distance),
                     **{pattern.name: float(particle.sum_stat[pattern.name])
                        for pattern in plan.patterns}})
    frame = pd.DataFrame(rows)
    frame["weight"] = frame["weight"] / frame["weight"].sum()
    return frame
