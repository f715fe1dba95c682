"""What a stress test varies: levers a funder chooses against uncertainties and shocks.

A stress-test file (``experiments/backbone_stress.toml``, shipped with the package) sets
the levers (the backbone's share of the pool, and any other parameter given values, such
as ``preconditions.funding_years``), the uncertainties (parameter ranges or values, sampled
into ``samples`` worlds by a Latin hypercube) and the named shocks (:mod:`.shocks`). Every
lever setting runs in every world (shock x uncertainty sample) on the same replicate seeds
(common random numbers), so differences between settings are not differences between
random draws.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from ci_sim.errors import InputError
from ci_sim.model.params import SECTIONS, ProblemType, Scenario, describe, parameter_names
from ci_sim.model.scenarios import read_toml
from ci_sim.simulate import replicate_seeds
from ci_sim.studies.loading import BaseScenario, base_scenario, describe_error, study_file
from ci_sim.studies.posterior import Draws, Posterior, ensure_used, explicit_in_study
from ci_sim.studies.stress.shocks import Shock, parse_shares, parse_shock

#: The lever every stress test has.
SHARE = "backbone.budget_share"

Value = float | bool | str


class StressExperiment(BaseModel):
    """A stress-test file, validated. The defaults are those of
    ``experiments/backbone_stress.toml``."""

    model_config = ConfigDict(extra="forbid")

    scenario: str = Field("collective_impact", description="Built-in scenario name or TOML file.")
    problem: ProblemType | None = Field(None, description="simple | complicated | complex "
                                        "(unset: the scenario's).")
    set: dict[str, Any] = Field(default_factory=dict,
                                description="Constant parameters by dotted name.")
    shares: str | list[float] = Field("0:0.30:0.03", description="Backbone shares of the pool "
                                      "(the first lever).")
    levers: dict[str, list[Value]] = Field(default_factory=dict, description="Other levers: "
                                           "dotted name = the values a funder may choose.")
    uncertainties: dict[str, list[Value]] = Field(
        default_factory=lambda: {"preconditions.reluctance": [0.5, 1.0],
                                 "problem.delay_months": [6.0, 18.0],
                                 "funding.rewards_attribution": [0.0, 1.0]},
        description="What the funder does not control: [low, high] or three or more values "
                    "(or names, true/false), sampled into `samples` worlds.")
    samples: int = Field(4, ge=0, le=10_000, description="Worlds sampled from the "
                         "uncertainties (Latin hypercube); 0 with no uncertainties.")
    budget: float | None = Field(None, gt=0, le=1e9, description="Funding pool, money/month "
                                 "(unset: the scenario's funding.grant_per_organization "
                                 "x grantees).")
    years: float | None = Field(None, gt=0, le=100, description="Simulated years (unset: the "
                                "scenario's).")
    replicates: int = Field(10, ge=2, le=100_000, description="Replicates (seeds) per lever "
                            "setting and world.")
    seed: int = Field(0, ge=0, description="Base seed; replicate seeds, the worlds and the "
                      "bootstrap derive from it.")
    shocks: list[str] = Field(default_factory=lambda: [
        "none", "backbone_cut:3", "pool_cut:4:0.3", "champion_leaves:3", "short_funding:2"],
        min_length=1, description="Shock specifications; each runs in every sampled world.")
    precision: float | None = Field(None, gt=0, le=1, description="Add replicates (to every "
                                    "point alike) until each situation's mean final outcome at "
                                    "each setting is known to +- this (95% interval), up to "
                                    "max_replicates; unset: exactly `replicates`.")
    max_replicates: int = Field(100, ge=2, le=100_000, description="Most replicates with "
                                "`precision`.")
    target: float | None = Field(0.7, ge=0, le=1, description="The funder's target final "
                                 "outcome (0..1) for the chance of reaching it (satisficing); "
                                 "unset: the start plus `improvement`.")
    improvement: float = Field(0.1, gt=0, le=1, description="Outcome gain (index points, "
                               "0..1) whose first crossing is timed.")
    bootstrap: int = Field(2000, ge=100, le=100_000, description="Bootstrap resamples of the "
                           "replicates for the interval of the smallest sufficient share.")
    engine: str = Field("numba", description="numba (fast) or python (reference).")

    @model_validator(mode="after")
    def _worlds(self) -> StressExperiment:
        if self.uncertainties and self.samples < 2:
            raise ValueError("samples: uncertainties need at least 2 sampled worlds, got "
                             f"{self.samples}")
        if self.samples and not self.uncertainties:
            raise ValueError("samples: there are no uncertainties to sample; set samples = 0")
        for table in ("levers", "uncertainties"):
            for name, values in getattr(self, table).items():
                if len(values) < 2:
                    raise ValueError(f"{table}.{name}: give at least two values, got "
                                     f"{values!r}")
        if self.precision is not None and self.max_replicates < self.replicates:
            raise ValueError(f"max_replicates: must be at least replicates "
                             f"({self.replicates}), got {self.max_replicates}")
        both = set(self.levers) & set(self.uncertainties)
        if both:
            raise ValueError(f"levers.{sorted(both)[0]}: also an uncertainty; a parameter "
                             f"is one or the other")
        return self


@dataclass(frozen=True)
class World:
    """One situation a lever setting is tested in: a named shock in one sampled world.

    Attributes:
        shock: the named shock.
        sample: which uncertainty sample (0 when there are no uncertainties).
        values: the uncertainties' values in this world (dotted names).
        quantiles: where those values sit in their ranges (0..1), for splitting worlds.
    """

    shock: Shock
    sample: int
    values: dict[str, Value]
    quantiles: dict[str, float]

    @property
    def label(self) -> str:
        return self.shock.label if not self.values else f"{self.shock.label} / world {self.sample + 1}"


@dataclass(frozen=True)
class Plan:
    """A validated stress test: the scenario of every lever setting in every world.

    Attributes:
        shares: the backbone share of each lever setting (repeated when there are other
            levers).
        levers: each lever setting, as dotted name -> value (the share included).
        scenarios: ``scenarios[world][setting]``.
        seeds: the replicate seeds, as many as the most replicates the test may run.
        draws: parameter sets drawn from a posterior, replicate ``r`` on draw ``r`` at every
            lever setting in every world (None: no posterior).
    """

    experiment: StressExperiment
    base: BaseScenario
    shares: np.ndarray
    levers: tuple[dict[str, Value], ...]
    shocks: tuple[Shock, ...]
    worlds: tuple[World, ...]
    seeds: tuple[int, ...]
    scenarios: tuple[tuple[Scenario, ...], ...]
    draws: Draws | None = None

    @property
    def scenario(self) -> Scenario:
        return self.base.scenario

    @property
    def digest(self) -> str:
        return self.base.digest

    @property
    def other_levers(self) -> list[str]:
        return list(self.experiment.levers)

    @property
    def uncertainties(self) -> list[str]:
        return list(self.experiment.uncertainties)

    @property
    def share_values(self) -> np.ndarray:
        """The distinct shares tried, increasing."""
        return np.unique(self.shares)


def load_experiment(path: Path | str | None = None, **changes: Any) -> StressExperiment:
    """The stress test in ``path`` (a file or the name of a shipped one; default: the
    built-in defaults) with ``changes`` applied (command-line options; None: not given).

    Raises:
        InputError: one line naming the file (or option), the key and the keys a stress-test
            file allows.
    """
    table: dict[str, Any] = {}
    label = "stress-test options"
    if path is not None:
        path = study_file(path)
        table, _ = read_toml(path)
        label = str(path)
        if set(table) & {"name", *SECTIONS} - {"set"}:
            raise InputError(f"{label}: this is a scenario file, not a stress-test experiment; "
                             f"give it as the SCENARIO argument, or --config an experiment "
                             f"such as experiments/backbone_stress.toml")
    given = {key: value for key, value in changes.items() if value is not None}
    if given.get("samples") == 0:
        given.setdefault("uncertainties", {})  # no sampled worlds: the named shocks only
    if isinstance(given.get("set"), dict) and isinstance(table.get("set"), dict):
        given["set"] = {**table["set"], **given["set"]}  # --set adds to the file's constants
    table.update(given)
    try:
        return StressExperiment.model_validate(table, strict=True)
    except ValidationError as error:
        key = str(error.errors()[0]["loc"][0]) if error.errors()[0]["loc"] else ""
        if key in given:  # a command-line option: name it
            label = "--shock" if key == "shocks" else f"--{key}"
        raise InputError(f"{label}: {describe_error(error, {(): StressExperiment}, StressExperiment)}"
                         ) from None


def sample_worlds(experiment: StressExperiment) -> list[tuple[dict[str, Value], dict[str, float]]]:
    """The uncertainties' values in each sampled world (Latin hypercube, seeded), with their
    quantiles; one empty world when there are no uncertainties."""
    from scipy.stats import qmc

    names = list(experiment.uncertainties)
    if not names:
        return [({}, {})]
    sampler = qmc.LatinHypercube(d=len(names), seed=np.random.default_rng(
        np.random.SeedSequence(experiment.seed, spawn_key=(0x57E55,))))
    unit = sampler.random(experiment.samples)
    worlds = []
    for row in unit:
        values, quantiles = {}, {}
        for name, q in zip(names, row):
            spec = experiment.uncertainties[name]
            numeric = all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in spec)
            if numeric and len(spec) == 2:
                value = float(spec[0] + q * (spec[1] - spec[0]))
                if describe(name)["type"] in (int, int | None):
                    value = int(round(value))
            else:
                value = spec[min(int(q * len(spec)), len(spec) - 1)]
            values[name], quantiles[name] = value, float(q)
        worlds.append((values, quantiles))
    return worlds


def plan(experiment: StressExperiment, posterior: Posterior | None = None) -> Plan:
    """Check everything and build every scenario before anything runs.

    ``posterior``: replicate ``r`` of every lever setting in every world also runs on the
    parameter set it draws from this posterior (:mod:`ci_sim.studies.posterior`); what the
    stress test sets (the scenario, ``[set]``, ``budget``, the shares and other levers, the
    uncertainties and the shocks' parameters) keeps its value. Every particle the
    replicates draw is checked on the scenario before anything runs.

    Raises:
        InputError: the first problem, in one line.
    """
    from ci_sim.model.engines import ENGINES

    if experiment.engine not in ENGINES:
        raise InputError(f"--engine: must be one of {', '.join(ENGINES)}, "
                         f"got {experiment.engine!r}")
    for table in ("levers", "uncertainties"):
        for name in getattr(experiment, table):
            if name not in parameter_names() or name == SHARE:
                import difflib

                close = difflib.get_close_matches(name, parameter_names(), n=3)
                hint = ("the share is the shares lever" if name == SHARE else
                        f"did you mean {', '.join(close)}?" if close else "see docs/ODD.md")
                raise InputError(f"{table}.{name}: not a parameter this table can hold "
                                 f"({hint})")
    constants = dict(experiment.set)
    base = base_scenario(experiment.scenario, problem=experiment.problem,
                         years=experiment.years, constants=constants)
    if experiment.budget is not None:  # a total pool, shared equally per grantee
        constants["funding.grant_per_organization"] = \
            experiment.budget / base.scenario.grantees()
        base = base_scenario(experiment.scenario, problem=experiment.problem,
                             years=experiment.years, constants=constants)
    if not base.scenario.backbone.enabled:
        raise InputError(f"{experiment.scenario}: backbone.enabled is false; the stress test "
                         f"varies the backbone's share, so it needs a backbone")
    shares = experiment.shares
    shares = parse_shares(shares if isinstance(shares, str)
                          else ",".join(repr(float(share)) for share in shares))
    shocks = tuple(parse_shock(text, base.scenario.years) for text in experiment.shocks)
    labels = [shock.label for shock in shocks]
    if len(set(labels)) < len(labels):
        raise InputError(f"--shock: each shock must be given once, got {', '.join(labels)}")
    others = list(experiment.levers.items())
    levers = tuple({SHARE: float(share), **dict(zip([name for name, _ in others], combo))}
                   for share in shares
                   for combo in itertools.product(*(values for _, values in others)))
    worlds = tuple(World(shock, sample, values, quantiles) for shock in shocks
                   for sample, (values, quantiles) in enumerate(sample_worlds(experiment)))
    scenarios = tuple(
        tuple(base.at({**world.shock.overrides, **world.values, **setting},
                      f"{experiment.scenario} in world {world.label!r} with "
                      f"{', '.join(f'{k} = {v}' for k, v in setting.items())}")
              for setting in levers)
        for world in worlds)
    most = experiment.max_replicates if experiment.precision is not None else \
        experiment.replicates
    seeds = tuple(replicate_seeds(experiment.seed, most))
    draws = None
    if posterior is not None:
        draws = posterior.bind(experiment.seed, explicit_in_study(
            base.table, [SHARE], experiment.levers, experiment.uncertainties,
            *(shock.overrides for shock in shocks)))
        ensure_used([draws], "the stress test (its scenario, [set], budget, levers, "
                             "uncertainties and shocks)")
        draws.check(base.scenario, most)
    return Plan(experiment, base, np.array([setting[SHARE] for setting in levers]), levers,
                shocks, worlds, seeds, scenarios, draws)
