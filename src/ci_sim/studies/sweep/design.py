"""Sample designs and sensitivity indices, both through SALib.

Every method samples in the unit hypercube (one quantile per parameter); the quantiles are
then mapped through each parameter's distribution. The indices are therefore those of the
declared distributions, and Morris elementary effects are per unit of quantile, which
makes mu* comparable across parameters of different units.

References:
    Saltelli et al. (2010), Variance based sensitivity analysis of model output, Comput.
    Phys. Commun. 181: 259-270 (Sobol sampling and estimators).
    Campolongo, Cariboni & Saltelli (2007), An effective screening design for sensitivity
    analysis of large models, Environ. Model. Softw. 22: 1509-1518 (Morris mu*).
    Cukier et al. (1973); Saltelli, Tarantola & Chan (1999) (FAST, extended FAST).
    Tarantola, Gatelli & Mara (2006) (RBD-FAST on Latin hypercube samples).
    A full factorial grid needs no estimator: its first-order and total indices are
    computed exactly by grouping (:func:`grid_indices`); SALib has no grid analyzer.
"""

from __future__ import annotations

import itertools
import warnings

import numpy as np
import pandas as pd
from scipy import stats

from ci_sim.model.params import describe
from ci_sim.studies.sweep.experiment import Experiment, ParameterSpec

#: The index each method ranks parameters by, and whether it carries an interval.
RANKING_INDEX = {"sobol": "ST", "fast": "ST", "morris": "mu_star", "latin": "S1",
                 "grid": "ST"}

#: Edge quantile used for unbounded distributions, so that no value is infinite.
EDGE = 1e-9


def unit_problem(experiment: Experiment) -> dict:
    """The SALib problem: every parameter a quantile on 0..1."""
    names = experiment.parameter_names
    return {"num_vars": len(names), "names": names, "bounds": [[0.0, 1.0]] * len(names)}


def points_per_block(experiment: Experiment) -> int:
    """Rows of the design that belong together (one Sobol base sample, one Morris
    trajectory); the design can be cut only at multiples of this."""
    dimensions = len(experiment.varied)
    if experiment.method == "sobol":
        return 2 * dimensions + 2 if experiment.second_order else dimensions + 2
    if experiment.method == "morris":
        return dimensions + 1
    return 1


def design_size(experiment: Experiment) -> int:
    """Sample points the experiment's design has."""
    dimensions = len(experiment.varied)
    return {"sobol": experiment.samples * points_per_block(experiment),
            "morris": experiment.samples * (dimensions + 1),
            "fast": experiment.samples * dimensions,
            "latin": experiment.samples,
            "grid": int(np.prod([len(levels) for levels in grid_levels(experiment)]))}[experiment.method]


def grid_levels(experiment: Experiment) -> list[np.ndarray]:
    """The grid's quantiles per parameter: ``samples`` evenly spaced from 0 to 1 for a
    distribution, the middle of each value's slice for a list of values."""
    return [(np.arange(len(spec.values)) + 0.5) / len(spec.values) if spec.discrete
            else np.linspace(0.0, 1.0, experiment.samples)
            for spec in experiment.varied.values()]


def sample_unit(experiment: Experiment) -> np.ndarray:
    """The design in quantile space: one row per sample point, one column per parameter.

    Deterministic for a given experiment (seeded by its ``seed``).
    """
    from SALib.sample import fast_sampler, latin, morris, sobol

    problem, seed = unit_problem(experiment), experiment.seed
    method = experiment.method
    with warnings.catch_warnings():
        # SALib warns when N is not a power of two; the convergence check reports the effect
        warnings.simplefilter("ignore", UserWarning)
        if method == "sobol":
            design = sobol.sample(problem, experiment.samples,
                                  calc_second_order=experiment.second_order, seed=seed)
        elif method == "morris":
            design = morris.sample(problem, experiment.samples, num_levels=experiment.levels,
                                   seed=seed)
        elif method == "fast":
            design = fast_sampler.sample(problem, experiment.samples, seed=seed)
        elif method == "latin":
            design = latin.sample(problem, experiment.samples, seed=seed)
        else:
            design = np.array(list(itertools.product(*grid_levels(experiment))))
    return np.asarray(design, dtype=float)


def value_index(spec: ParameterSpec, quantile: np.ndarray) -> np.ndarray:
    """Which of a value list's values each quantile picks: equal slices of 0..1."""
    count = len(spec.values)
    return np.minimum((np.clip(quantile, 0.0, 1.0) * count).astype(np.int64), count - 1)


def quantile_to_value(spec: ParameterSpec, quantile: np.ndarray) -> np.ndarray:
    """Map quantiles 0..1 to parameter values through the declared distribution, or to one
    of the listed values (each equally likely)."""
    if spec.discrete:
        return np.array(spec.values, dtype=object)[value_index(spec, quantile)] \
            if spec.categorical else np.asarray(spec.values, dtype=float)[
                value_index(spec, quantile)]
    q = np.clip(quantile, EDGE, 1 - EDGE) if spec.distribution in ("normal", "lognormal") \
        else np.clip(quantile, 0.0, 1.0)
    if spec.distribution == "uniform":
        return spec.low + q * (spec.high - spec.low)
    if spec.distribution == "triangular":
        width = spec.high - spec.low
        return stats.triang.ppf(q, (spec.mode - spec.low) / width, loc=spec.low, scale=width)
    if spec.distribution == "normal":
        return stats.norm.ppf(q, loc=spec.mean, scale=spec.sd)
    if spec.distribution == "lognormal":
        return stats.lognorm.ppf(q, spec.sd, scale=np.exp(spec.mean))
    a, b = (spec.low - spec.mean) / spec.sd, (spec.high - spec.mean) / spec.sd
    return stats.truncnorm.ppf(q, a, b, loc=spec.mean, scale=spec.sd)


def parameter_values(experiment: Experiment, unit: np.ndarray, *, model: bool = True
                     ) -> pd.DataFrame:
    """The values each sample point runs with; whole-number parameters are rounded; names
    and switches keep their type."""
    columns = {}
    for column, (name, spec) in enumerate(experiment.varied.items()):
        values = quantile_to_value(spec, unit[:, column])
        if spec.categorical:
            values = values.tolist() if isinstance(spec.values[0], str) else \
                np.asarray(values, dtype=bool)
        elif model and describe(name)["type"] in (int, int | None):
            values = np.rint(values).astype(np.int64)
        columns[name] = values
    return pd.DataFrame(columns)


def analyze(experiment: Experiment, unit: np.ndarray, response: np.ndarray) -> pd.DataFrame:
    """Sensitivity indices of one output, one row per index and parameter.

    Args:
        unit: the design in quantile space (points x parameters), or a prefix of it cut at
            whole blocks.
        response: the output at each point (mean over replicates).

    Returns:
        Columns ``parameter``, ``other`` (the second parameter of a second-order index,
        else empty), ``index`` (S1, ST, S2, mu_star, mu, sigma), ``value`` and
        ``conf`` (half-width of the 95% bootstrap interval; NaN where none).
    """
    from SALib.analyze import fast, morris, rbd_fast, sobol

    problem, seed, resamples = unit_problem(experiment), experiment.seed, experiment.bootstrap
    names = problem["names"]
    response = np.asarray(response, dtype=float)
    method = experiment.method
    rows = []

    def add(index: str, values, confs=None, *, other: str = "") -> None:
        for position, name in enumerate(names):
            conf = np.nan if confs is None else float(confs[position])
            rows.append({"parameter": name, "other": other, "index": index,
                         "value": float(values[position]), "conf": conf})

    with warnings.catch_warnings(), np.errstate(divide="ignore", invalid="ignore"):
        warnings.simplefilter("ignore", RuntimeWarning)
        # SALib flags FAST's bootstrap intervals as indicative; docs/sweeps.md says so too
        warnings.filterwarnings("ignore", message="FAST confidence intervals")
        if method == "sobol":
            result = sobol.analyze(problem, response, calc_second_order=experiment.second_order,
                                   num_resamples=resamples, seed=seed)
            add("S1", result["S1"], result["S1_conf"])
            add("ST", result["ST"], result["ST_conf"])
            if experiment.second_order:
                for i, j in itertools.combinations(range(len(names)), 2):
                    rows.append({"parameter": names[i], "other": names[j], "index": "S2",
                                 "value": float(result["S2"][i, j]),
                                 "conf": float(result["S2_conf"][i, j])})
        elif method == "morris":
            result = morris.analyze(problem, unit, response, num_resamples=resamples,
                                    num_levels=experiment.levels, seed=seed)
            add("mu_star", result["mu_star"], result["mu_star_conf"])
            add("mu", result["mu"])
            add("sigma", result["sigma"])
        elif method == "fast":
            result = fast.analyze(problem, response, num_resamples=resamples, seed=seed)
            add("S1", result["S1"], result["S1_conf"])
            add("ST", result["ST"], result["ST_conf"])
        elif method == "latin":
            result = rbd_fast.analyze(problem, unit, response, num_resamples=resamples,
                                      seed=seed)
            add("S1", result["S1"], result["S1_conf"])
        else:
            first, total = grid_indices(unit, response)
            add("S1", first)
            add("ST", total)
    return pd.DataFrame(rows, columns=["parameter", "other", "index", "value", "conf"])


def grid_indices(unit: np.ndarray, response: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Exact Sobol indices of a full factorial grid (every level combination once).

    S1_i = Var(E[Y | X_i]) / Var(Y); ST_i = E[Var(Y | X_~i)] / Var(Y), the expectations
    taken over the grid's levels (equally likely), so there is no sampling error to report.
    """
    frame = pd.DataFrame(unit)
    frame["y"] = response
    variance = frame["y"].var(ddof=0)
    columns = list(range(unit.shape[1]))
    first, total = np.zeros(len(columns)), np.zeros(len(columns))
    if variance == 0:
        return first, total
    for column in columns:
        first[column] = frame.groupby(column)["y"].mean().var(ddof=0) / variance
        others = [c for c in columns if c != column]
        within = frame.groupby(others)["y"].var(ddof=0) if others else frame["y"].var(ddof=0)
        total[column] = float(np.mean(within)) / variance
    return first, total


def convergence_sizes(experiment: Experiment, points: int) -> list[int]:
    """Growing prefixes of the design (in sample points) to recompute indices on.

    Only designs whose prefixes are themselves valid designs qualify: Sobol (whole base
    samples of a Sobol sequence) and Morris (whole trajectories). Others return [].
    """
    if experiment.method not in ("sobol", "morris"):
        return []
    block = points_per_block(experiment)
    blocks = points // block
    smallest = 8 if experiment.method == "sobol" else 4
    sizes = sorted({blocks // 8, blocks // 4, blocks // 2, blocks})
    return [size * block for size in sizes if size >= smallest]
