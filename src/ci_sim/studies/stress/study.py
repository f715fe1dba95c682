"""The funder stress test: how much of a funding pool should go to the backbone, and what if
it is cut?

Funders are known to under-fund infrastructure (brief, section 1; Turner et al. 2012). This
module sweeps the backbone's share of the funding pool (``backbone.budget_share``) and runs
every share under a set of shocks: the backbone's funding cut to zero, the whole pool cut,
the champion leaving, the largest funder withdrawing, committed funding that ends early.
Every share and every shock runs on the same replicate seeds
(:func:`ci_sim.simulate.replicate_seeds`), so differences between them are not differences
between random draws (common random numbers).

For each share and shock it reports the final population outcome (mean and 90% band of the
replicates), the outcome gained per unit of money, the time until the outcome first improves
by a threshold, the probability of reaching the Systems Change gateway and the downside (5th
percentile outcome). It then finds the share that maximizes the expected outcome, with a
bootstrap interval over replicates, and the smallest share that achieves 90% of the best
improvement.

A shock is written ``KIND:ARGUMENTS`` (see :data:`SHOCKS`); ``+`` combines shocks
(``backbone_cut:3+champion_leaves:3``) and ``none`` is the baseline without a shock.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from ci_sim import __version__
from ci_sim.model import GATEWAYS
from ci_sim.model.params import SECTIONS, ProblemType, Scenario
from ci_sim.errors import InputError
from ci_sim.model.scenarios import (describe_error, load_scenario, merge, nest, read_toml, scenario_record, validate)
from ci_sim.simulate import replicate_seeds, run, versions
from ci_sim.studies.stats import (bootstrap_weights, first_year_reaching, percentile_interval,
                                  reached)
from ci_sim.studies.store import Store
from ci_sim.studies.study import Progress, Study, Task, run_study

#: Width of the band of replicate outcomes reported around each mean, and of the bootstrap
#: interval of the optimum.
LEVEL = 0.90
#: The "good enough" share achieves this fraction of the best expected improvement.
TARGET_FRACTION = 0.90
#: Shares whose expected outcome is within this much of the best (outcome index, 0.01 = one
#: point) are reported as the near-best range: where the response curve is flat, any of them
#: will do.
NEAR_BEST = 0.01
#: Gateway whose probability is reported (StriveTogether's fourth gateway).
SYSTEMS_CHANGE = GATEWAYS.index("Systems Change")
#: Money is reported per this many money units (money units read as thousands of dollars,
#: so per 1,000 units is per about a million dollars).
MONEY_UNIT = 1000.0


# ---------------------------------------------------------------------------- shocks
@dataclass(frozen=True)
class ShockKind:
    """One kind of shock: its arguments and the parameters it sets."""

    name: str
    arguments: tuple[str, ...]
    meaning: str
    overrides: Callable[..., dict[str, Any]]
    #: Plain-language description with the arguments filled in (``str.format`` fields).
    words: str


#: Shocks by name. Years are simulated years since the start; fractions are shares 0..1.
SHOCKS: dict[str, ShockKind] = {kind.name: kind for kind in (
    ShockKind("none", (), "no shock: the baseline every other shock is compared with",
              lambda: {}, "no shock"),
    ShockKind("backbone_cut", ("YEAR",), "the backbone's funding stops in YEAR "
              "(backbone.cut_year)", lambda year: {"backbone.cut_year": year},
              "backbone funding cut to zero in year {0:g}"),
    ShockKind("pool_cut", ("YEAR", "FRACTION"), "the whole funding pool loses FRACTION from "
              "YEAR on (funding.cut_year, funding.cut_fraction)",
              lambda year, fraction: {"funding.cut_year": year, "funding.cut_fraction": fraction},
              "whole pool cut by {1:.0%} in year {0:g}"),
    ShockKind("champion_leaves", ("YEAR",), "the influential champion leaves in YEAR "
              "(preconditions.champion_leaves_year)",
              lambda year: {"preconditions.champion_leaves_year": year},
              "champion leaves in year {0:g}"),
    ShockKind("funder_withdraws", ("YEAR",), "the largest funder withdraws in YEAR "
              "(funding.funder_withdraws_year)",
              lambda year: {"funding.funder_withdraws_year": year},
              "largest funder withdraws in year {0:g}"),
    ShockKind("short_funding", ("YEARS",), "committed funding lasts YEARS instead of the "
              "scenario's (preconditions.funding_years); after it only the renewed share comes",
              lambda years: {"preconditions.funding_years": years},
              "committed funding for {0:g} years only"),
)}


def shock_help() -> str:
    """The shock syntax in a few lines, for ``--help`` and error messages."""
    kinds = "; ".join(f"{kind.name}{''.join(':' + a for a in kind.arguments)}"
                      for kind in SHOCKS.values())
    return f"{kinds}. Combine with '+', e.g. backbone_cut:3+champion_leaves:3."


@dataclass(frozen=True)
class Shock:
    """A parsed shock specification: its label (as written, normalized) and the parameter
    overrides it applies on top of the scenario."""

    label: str
    overrides: dict[str, Any] = field(hash=False)
    #: Years at which something happens (for marking plots), sorted.
    years: tuple[float, ...] = ()
    #: Plain-language description for reports.
    description: str = ""

    @property
    def cuts_backbone(self) -> bool:
        return "backbone.cut_year" in self.overrides


def parse_shock(text: str, horizon: float) -> Shock:
    """Parse ``KIND:ARG[:ARG]`` (``+`` joins several) against a horizon of ``horizon`` years.

    Raises:
        InputError: one line naming the shock and what is allowed.
    """
    where = f"--shock {text!r}"
    parts = [part.strip() for part in text.split("+")]
    if not text.strip() or any(not part for part in parts):
        raise InputError(f"{where}: empty shock (allowed: {shock_help()})")
    overrides: dict[str, Any] = {}
    labels, years, words = [], [], []
    for part in parts:
        name, *values = [piece.strip() for piece in part.split(":")]
        kind = SHOCKS.get(name)
        if kind is None:
            raise InputError(f"{where}: unknown shock {name!r} (allowed: {shock_help()})")
        if name == "none" and len(parts) > 1:
            raise InputError(f"{where}: 'none' cannot be combined with other shocks")
        if len(values) != len(kind.arguments):
            usage = name + "".join(":" + argument for argument in kind.arguments)
            raise InputError(f"{where}: {name} takes {len(kind.arguments)} argument(s): {usage}")
        numbers = []
        for argument, value in zip(kind.arguments, values):
            try:
                number = float(value)
            except ValueError:
                raise InputError(f"{where}: {argument} must be a number, got {value!r}") from None
            if not math.isfinite(number):
                raise InputError(f"{where}: {argument} must be a finite number, got {value!r}")
            if argument == "FRACTION" and not 0 < number <= 1:
                raise InputError(f"{where}: FRACTION must be above 0 and at most 1, got {value}")
            if argument in ("YEAR", "YEARS"):
                if number < 0:
                    raise InputError(f"{where}: {argument} must be at least 0, got {value}")
                if number >= horizon:
                    raise InputError(f"{where}: {argument} {number:g} is past the horizon of "
                                     f"{horizon:g} years (must be below it)")
                years.append(number)
            numbers.append(number)
        for key, value in kind.overrides(*numbers).items():
            if key in overrides:
                raise InputError(f"{where}: two shocks set {key}; give them as separate shocks")
            overrides[key] = value
        labels.append(name + "".join(f":{number:g}" for number in numbers))
        words.append(kind.words.format(*numbers))
    return Shock("+".join(labels), overrides, tuple(sorted(years)), " and ".join(words))


def parse_shares(text: str) -> np.ndarray:
    """Parse backbone shares: ``START:STOP:STEP`` (STOP included) or a comma list.

    Raises:
        InputError: a share outside 0..1, a bad range, or fewer than two shares.
    """
    where = f"--shares {text!r}"
    try:
        if ":" in text:
            start, stop, step = (float(piece) for piece in text.split(":"))
            if not step > 0:
                raise InputError(f"{where}: STEP must be above 0")
            if stop < start:
                raise InputError(f"{where}: STOP must not be below START")
            count = int(math.floor((stop - start) / step + 1e-9)) + 1
            if count > 501:
                raise InputError(f"{where}: {count} shares is too many (at most 501)")
            shares = np.round(start + step * np.arange(count), 10)
        else:
            shares = np.array([float(piece) for piece in text.split(",")])
    except ValueError:
        raise InputError(f"{where}: expected START:STOP:STEP or a comma list of shares, "
                         f"e.g. 0:0.30:0.02") from None
    if not np.all(np.isfinite(shares)) or shares.min() < 0 or shares.max() > 1:
        raise InputError(f"{where}: shares must be between 0 and 1 (a share of the pool)")
    shares = np.unique(shares)
    if len(shares) < 2:
        raise InputError(f"{where}: give at least two different shares")
    return shares


# ---------------------------------------------------------------------------- experiment
class StressExperiment(BaseModel):
    """What a stress test varies, as read from an experiment file (``experiments/*.toml``).

    The defaults here are those of ``experiments/backbone_stress.toml``.
    """

    model_config = ConfigDict(extra="forbid")

    scenario: str = Field("collective_impact", description="Built-in scenario name or TOML file.")
    problem: ProblemType | None = Field(None, description="simple | complicated | complex "
                                        "(unset: the scenario's).")
    set: dict[str, Any] = Field(default_factory=dict,
                                description="Parameter overrides by dotted name.")
    shares: str = Field("0:0.30:0.02", description="Backbone shares of the pool to sweep.")
    budget: float | None = Field(None, gt=0, le=1e9, description="Funding pool, money/month "
                                 "(unset: the scenario's funding.grant_per_organization "
                                 "x grantees).")
    years: float | None = Field(None, gt=0, le=100, description="Simulated years (unset: the "
                                "scenario's).")
    replicates: int = Field(24, ge=2, le=100_000, description="Replicates (seeds) per cell.")
    seed: int = Field(0, ge=0, description="Base seed; replicate seeds derive from it.")
    shocks: list[str] = Field(default_factory=lambda: [
        "none", "backbone_cut:3", "backbone_cut:7", "pool_cut:4:0.3", "champion_leaves:3",
        "funder_withdraws:3", "short_funding:2"], min_length=1,
        description="Shock specifications; each runs at every share.")
    improvement: float = Field(0.1, gt=0, le=1, description="Outcome gain (index points, "
                               "0..1) whose first crossing is timed.")
    bootstrap: int = Field(2000, ge=100, le=100_000, description="Bootstrap resamples of the "
                           "replicates for the optimum's interval.")
    engine: str = Field("numba", description="numba (fast) or python (reference).")


def load_experiment(path: Path | None = None, **changes: Any) -> StressExperiment:
    """The experiment in ``path`` (default: the built-in defaults) with ``changes`` applied
    (options given on the command line; None means not given).

    Raises:
        InputError: unknown keys or values out of range, in one line.
    """
    table: dict[str, Any] = {}
    label = "stress-test options"
    if path is not None:
        table, _ = read_toml(Path(path))
        label = str(path)
        if set(table) & {"name", *SECTIONS}:
            raise InputError(f"{label}: this is a scenario file, not a stress-test experiment; "
                             f"give it as the SCENARIO argument, or --config an experiment "
                             f"such as experiments/backbone_stress.toml")
    given = {key: value for key, value in changes.items() if value is not None}
    if isinstance(given.get("set"), dict) and isinstance(table.get("set"), dict):
        given["set"] = {**table["set"], **given["set"]}  # --set adds to the file's overrides
    table.update(given)
    try:
        return StressExperiment.model_validate(table, strict=True)
    except ValidationError as error:
        key = str(error.errors()[0]["loc"][0]) if error.errors()[0]["loc"] else ""
        if key in given:  # a command-line option: name it
            label = "--shock" if key == "shocks" else f"--{key}"
        raise InputError(f"{label}: {describe_error(error, StressExperiment.model_fields)}"
                         ) from None


@dataclass(frozen=True)
class Plan:
    """A validated stress test: the scenario at every share under every shock."""

    experiment: StressExperiment
    scenario: Scenario
    digest: str
    shares: np.ndarray
    shocks: tuple[Shock, ...]
    seeds: tuple[int, ...]
    #: scenarios[shock][share]
    scenarios: tuple[tuple[Scenario, ...], ...]


def plan(experiment: StressExperiment) -> Plan:
    """Check everything and build every scenario before anything runs.

    Raises:
        InputError: the first problem, in one line.
    """
    from ci_sim.model.engines import ENGINES

    if experiment.engine not in ENGINES:
        raise InputError(f"--engine: must be one of {', '.join(ENGINES)}, "
                         f"got {experiment.engine!r}")
    overrides = dict(experiment.set)
    if experiment.problem is not None:
        overrides["problem.type"] = experiment.problem
    if experiment.years is not None:
        overrides["years"] = experiment.years
    scenario, digest = load_scenario(experiment.scenario, overrides)
    if experiment.budget is not None:  # a total pool, shared equally per grantee
        overrides["funding.grant_per_organization"] = experiment.budget / scenario.grantees()
        scenario, digest = load_scenario(experiment.scenario, overrides)
    if not scenario.backbone.enabled:
        raise InputError(f"{experiment.scenario}: backbone.enabled is false; the stress test "
                         f"varies the backbone's share, so it needs a backbone")
    shares = parse_shares(experiment.shares)
    shocks = tuple(parse_shock(text, scenario.years) for text in experiment.shocks)
    labels = [shock.label for shock in shocks]
    if len(set(labels)) < len(labels):
        raise InputError(f"--shock: each shock must be given once, got {', '.join(labels)}")
    base = scenario.model_dump()
    scenarios = tuple(
        tuple(validate(merge(base, nest({**shock.overrides,
                                         "backbone.budget_share": float(share)})),
                       f"{experiment.scenario} with --shock {shock.label!r}").resolved()
              for share in shares)
        for shock in shocks)
    seeds = tuple(replicate_seeds(experiment.seed, experiment.replicates))
    return Plan(experiment, scenario, digest, shares, shocks, seeds, scenarios)


# ---------------------------------------------------------------------------- running
@dataclass(frozen=True)
class Batch:
    """Runs of the stress test: each task's point is ``shock x len(shares) + share``."""

    scenarios: dict[int, Scenario]
    tasks: tuple[Task, ...]
    engine: str


#: What each run records besides its point, replicate and seed.
OUTCOMES = ["outcome", "agenda_alignment", "gateway", "money", "backbone_spend"]


def run_batch(batch: Batch) -> dict[str, list]:
    """Run every task of a batch: columns ``point``, ``replicate``, ``seed``; ``outcome``
    and ``agenda_alignment`` (months+1 each), ``gateway`` (final gateway), ``money`` (money
    funders gave over the whole run) and ``backbone_spend`` (what the model paid the
    backbone, per month on average), in money units."""
    columns: dict[str, list] = {name: [] for name in ("point", "replicate", "seed", *OUTCOMES)}
    for task in batch.tasks:
        frame = run(batch.scenarios[task.point], task.seed, engine=batch.engine)
        columns["point"].append(task.point)
        columns["replicate"].append(task.replicate)
        columns["seed"].append(task.seed)
        columns["outcome"].append(frame["outcome"].to_numpy())
        columns["agenda_alignment"].append(frame["agenda_alignment"].to_numpy())
        columns["gateway"].append(float(frame["gateway"].iloc[-1]))
        columns["money"].append(float(frame["money_given"].sum()))
        columns["backbone_spend"].append(float(frame["backbone_spend"].iloc[1:].mean()))
    return columns


def stress_study(checked: Plan) -> Study:
    """The stress test as a :class:`~ci_sim.studies.study.Study`: one point per shock and
    share, every point on the same replicate seeds."""
    flat = {i * len(checked.shares) + j: scenario
            for i, row in enumerate(checked.scenarios) for j, scenario in enumerate(row)}

    def make_batch(tasks: list[Task]) -> Batch:
        return Batch({task.point: flat[task.point] for task in tasks}, tuple(tasks),
                     checked.experiment.engine)

    return Study(kind="stress test", points=len(flat), replicates=len(checked.seeds),
                 seeds=checked.seeds, run_batch=run_batch, make_batch=make_batch,
                 outcomes=OUTCOMES, largest_batch=8)


@dataclass
class StressResult:
    """Everything a stress test computed.

    Arrays are indexed ``[shock, share, replicate]`` (and ``month`` for trajectories, 0 being
    the start); replicate ``r`` ran on seed ``plan.seeds[r]`` in every cell.
    """

    plan: Plan
    outcome: np.ndarray
    agenda_alignment: np.ndarray
    gateway: np.ndarray
    money: np.ndarray
    backbone_spend: np.ndarray
    table: pd.DataFrame = field(init=False)
    ran: int = field(init=False, default=0)
    optima: dict[str, Optimum] = field(init=False)

    @property
    def final(self) -> np.ndarray:
        """Final outcome, ``[shock, share, replicate]``."""
        return self.outcome[..., -1]

    @property
    def start(self) -> float:
        """Outcome before the first month (the same in every cell: common random numbers)."""
        return float(self.outcome[..., 0].mean())


def stress_test(experiment: StressExperiment | Plan, *, workers: int | None = None,
                scheduler: str | None = None, progress: Progress | None = None,
                store: Store | None = None) -> StressResult:
    """Run the stress test and compute its table and optima (nothing is published).

    Args:
        experiment: what to run (or an already checked :class:`Plan`).
        workers: runs at the same time: 1 in this process, more (None: every core) on a
            local process pool, or Dask workers with ``scheduler="local"``.
        scheduler: ``"local"`` or the address of a Dask scheduler to run on.
        progress: called with (runs done, runs in all) as batches finish.
        store: where finished runs are saved, so that a killed stress test resumes.
    """
    from ci_sim.executors import make_executor

    checked = experiment if isinstance(experiment, Plan) else plan(experiment)
    with make_executor(workers=workers, scheduler=scheduler) as executor:
        done = run_study(stress_study(checked), executor, store=store, progress=progress)
    shape = (len(checked.shocks), len(checked.shares), len(checked.seeds))

    def gather(name: str) -> np.ndarray:
        values = np.array([np.asarray(value, dtype=float) for value in done.table[name]])
        return values.reshape(*shape, *values.shape[1:])

    result = StressResult(checked, gather("outcome"), gather("agenda_alignment"),
                          gather("gateway"), gather("money"), gather("backbone_spend"))
    result.ran = done.ran
    result.table = summarize(result)
    result.optima = find_optima(result)
    return result


# ---------------------------------------------------------------------------- measures
def years_to_improve(outcome: np.ndarray, improvement: float) -> np.ndarray:
    """Years until each trajectory (last axis months, 0 = start) first reaches its start plus
    ``improvement``; a run that never does counts as one month past the horizon
    (:func:`ci_sim.studies.stats.first_year_reaching`)."""
    return first_year_reaching(outcome - outcome[..., :1], improvement)


def summarize(result: StressResult) -> pd.DataFrame:
    """One row per shock and share: the measures of the report (see docs/stress-test.md)."""
    checked, experiment = result.plan, result.plan.experiment
    low, high = 100 * (1 - LEVEL) / 2, 100 * (1 + LEVEL) / 2
    timing = years_to_improve(result.outcome, experiment.improvement)
    rows = []
    for i, shock in enumerate(checked.shocks):
        for j, share in enumerate(checked.shares):
            final = result.final[i, j]
            gain = final - result.outcome[i, j, :, 0]
            money = result.money[i, j] / MONEY_UNIT
            rows.append({
                "shock": shock.label, "backbone_share": float(share),
                "outcome_mean": final.mean(),
                "outcome_p05": np.percentile(final, low),
                "outcome_p95": np.percentile(final, high),
                "outcome_sd": final.std(ddof=1),
                "points_per_1000_money": float(np.mean(100 * gain / money)),
                "years_to_improve_median": float(np.median(timing[i, j])),
                "improved_share": float(np.mean(reached(timing[i, j],
                                                        checked.scenario.years))),
                "systems_change_probability": float(np.mean(result.gateway[i, j]
                                                            >= SYSTEMS_CHANGE)),
                "backbone_money_per_month": float(result.backbone_spend[i, j].mean()),
            })
    table = pd.DataFrame(rows)
    table["replicates"] = len(checked.seeds)
    table["seed"] = experiment.seed
    table["scenario"] = checked.scenario.name
    table["problem"] = checked.scenario.problem.type
    table["pool_per_month"] = checked.scenario.pool()
    table["years"] = checked.scenario.years
    table["improvement_threshold"] = experiment.improvement
    table["engine"] = experiment.engine
    table["sha256"] = checked.digest
    table["ci_sim"] = __version__
    return table


# ---------------------------------------------------------------------------- the optimum
@dataclass(frozen=True)
class Optimum:
    """The best share on a response curve and how sure we are of it.

    Attributes:
        share: share maximizing the expected outcome (between grid points by a parabola
            through the best grid point and its neighbours).
        low, high: bootstrap percentile interval of ``share`` (level :data:`LEVEL`).
        outcome: expected outcome at the best grid share.
        sufficient_share: smallest share whose expected outcome achieves
            :data:`TARGET_FRACTION` of the best expected improvement over ``start``.
        sufficient_low, sufficient_high: its bootstrap interval.
        interior: the interval lies strictly inside the shares tried, so the optimum is
            neither "as little as possible" nor "as much as tried".
        at_edge_probability: share of bootstrap resamples whose optimum is an end of the grid.
        near_low, near_high: smallest and largest share tried whose expected outcome is
            within :data:`NEAR_BEST` of ``outcome``.
    """

    share: float
    low: float
    high: float
    outcome: float
    sufficient_share: float
    sufficient_low: float
    sufficient_high: float
    interior: bool
    at_edge_probability: float
    near_low: float
    near_high: float
    resamples: int

    def as_dict(self) -> dict[str, Any]:
        return {name: getattr(self, name) for name in self.__dataclass_fields__}


def best_share(shares: np.ndarray, curves: np.ndarray) -> np.ndarray:
    """Share maximizing each expected-outcome curve (last axis over ``shares``).

    The best grid point is refined by the vertex of the parabola through it and its two
    neighbours (kept between the neighbours); at an end of the grid the end is returned.
    """
    curves = np.atleast_2d(curves)
    best = np.argmax(curves, axis=-1)
    result = shares[best].astype(float)
    inner = (best > 0) & (best < len(shares) - 1)
    if inner.any():
        rows = np.nonzero(inner)[0]
        i = best[rows]
        x0, x1, x2 = shares[i - 1], shares[i], shares[i + 1]
        y0, y1, y2 = curves[rows, i - 1], curves[rows, i], curves[rows, i + 1]
        # Vertex of the parabola through three points (any spacing).
        numerator = (x1 - x0) ** 2 * (y1 - y2) - (x1 - x2) ** 2 * (y1 - y0)
        denominator = (x1 - x0) * (y1 - y2) - (x1 - x2) * (y1 - y0)
        with np.errstate(divide="ignore", invalid="ignore"):
            vertex = x1 - 0.5 * numerator / denominator
        result[rows] = np.where(np.isfinite(vertex), np.clip(vertex, x0, x2), x1)
    return result


def sufficient_share(shares: np.ndarray, curves: np.ndarray, start: float,
                     fraction: float = TARGET_FRACTION) -> np.ndarray:
    """Smallest share whose expected outcome reaches ``start + fraction * (best - start)``,
    linearly interpolated between grid points (last axis over ``shares``)."""
    curves = np.atleast_2d(curves)
    target = start + fraction * (curves.max(axis=-1) - start)
    first = np.argmax(curves >= target[:, None], axis=-1)
    result = shares[first].astype(float)
    rows = np.nonzero(first > 0)[0]
    if len(rows):
        i = first[rows]
        y0, y1 = curves[rows, i - 1], curves[rows, i]
        weight = (target[rows] - y0) / (y1 - y0)
        result[rows] = shares[i - 1] + weight * (shares[i] - shares[i - 1])
    return result


def find_optimum(shares: Sequence[float], outcomes: np.ndarray, *, start: float, seed: int,
                 resamples: int = 2000, level: float = LEVEL,
                 fraction: float = TARGET_FRACTION) -> Optimum:
    """Best share of a response curve estimated from replicates, with a bootstrap interval.

    Args:
        shares: the shares tried, increasing.
        outcomes: ``[share, replicate]`` final outcomes; column ``r`` of every share ran on
            the same seed (common random numbers), so replicates are resampled as whole
            columns and the pairing between shares is kept.
        start: outcome before any work (the improvement is measured from it).
        seed: seed of the bootstrap's random stream.
        resamples: bootstrap resamples.
        level: width of the percentile interval.
        fraction: ``sufficient_share`` reaches this fraction of the best improvement.

    References:
        Efron & Tibshirani (1993), An Introduction to the Bootstrap, ch. 13 (percentile
        interval).
    """
    shares = np.asarray(shares, dtype=float)
    outcomes = np.asarray(outcomes, dtype=float)
    n_replicates = outcomes.shape[1]
    mean_curve = outcomes.mean(axis=1)
    weights = bootstrap_weights(n_replicates, resamples, seed)
    curves = weights @ outcomes.T  # resample x share
    optima = best_share(shares, curves)
    enough = sufficient_share(shares, curves, start, fraction)
    low, high = percentile_interval(optima, level)
    sufficient_low, sufficient_high = percentile_interval(enough, level)
    at_edge = np.mean((optima <= shares[0]) | (optima >= shares[-1]))
    near = shares[mean_curve >= mean_curve.max() - NEAR_BEST]
    return Optimum(share=float(best_share(shares, mean_curve)[0]), low=float(low), high=float(high),
                   outcome=float(mean_curve.max()),
                   sufficient_share=float(sufficient_share(shares, mean_curve, start, fraction)[0]),
                   sufficient_low=float(sufficient_low), sufficient_high=float(sufficient_high),
                   interior=bool(low > shares[0] and high < shares[-1]),
                   at_edge_probability=float(at_edge), near_low=float(near.min()),
                   near_high=float(near.max()), resamples=resamples)


#: Key of the optimum over all shocks taken as equally likely.
ALL_SHOCKS = "all shocks (equal weight)"


def find_optima(result: StressResult) -> dict[str, Optimum]:
    """The optimum under each shock and, with several shocks, over all of them taken as
    equally likely (each replicate's outcome averaged over the shocks)."""
    checked = result.plan
    curves = {shock.label: result.final[i] for i, shock in enumerate(checked.shocks)}
    if len(checked.shocks) > 1:
        curves[ALL_SHOCKS] = result.final.mean(axis=0)
    return {label: find_optimum(checked.shares, outcomes, start=result.start,
                                seed=checked.experiment.seed,
                                resamples=checked.experiment.bootstrap)
            for label, outcomes in curves.items()}


# ---------------------------------------------------------------------------- writing
def summary_record(result: StressResult) -> dict[str, Any]:
    """What stress.json holds: the experiment, seeds, versions, scenario and optima."""
    checked = result.plan
    return {
        "experiment": checked.experiment.model_dump(),
        "scenario": checked.scenario.name,
        "shares": [float(share) for share in checked.shares],
        "shocks": {shock.label: shock.overrides for shock in checked.shocks},
        "seed": checked.experiment.seed,
        "replicate_seeds": list(checked.seeds),
        "start_outcome": result.start,
        "optima": {label: optimum.as_dict() for label, optimum in result.optima.items()},
        "band_level": LEVEL,
        "target_fraction": TARGET_FRACTION,
        "versions": versions(),
        "scenario_file": scenario_record(checked.scenario, checked.digest),
    }


