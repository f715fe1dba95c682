"""Targets files: the patterns a calibration must match, what it fits, on which seeds.

Pattern-oriented modelling (Grimm et al. 2005) judges a model by several patterns at once,
each a summary statistic of its runs that must fall in a stated band. A targets file
(``experiments/calibration.toml``, shipped with the package) declares them::

    name = "calibration"
    scenario = "collective_impact"     # the base scenario: built-in name or file
    years = 10                         # optional horizon; problem = "complex" optional too

    [set]                              # constants of every run (dotted names)
    "organizations.count" = 40

    [seeds]
    base = 20261201                    # calibration seeds: replicate_seeds(base, replicates)
    replicates = 6
    check_base = 20270601              # held-out seeds of the posterior predictive check
    check_replicates = 20
    abc = 16                           # seed of ABC-SMC's own draws

    [budget]
    particles = 150                    # accepted particles per generation
    generations = 8                    # most generations, the prior's included
    evaluations = 2500                 # no generation starts that would pass this
    min_acceptance = 0.03              # a generation needing more than particles / this stops
    epsilon = 0.0                      # stop once the threshold reaches it (0: every pattern met)
    quantile = 0.5                     # threshold: this quantile of the last distances
    checks = 24                        # posterior draws run on the held-out seeds

    [runs.ci]                          # the runs each particle makes, on every seed
    scenario = "collective_impact"
    [runs.backbone_4]
    set = { "backbone.budget_share" = 0.04 }

    [parameters."conditions.setup_cost"]   # a fitted parameter and its prior
    low = 0.0
    high = 0.9
    prior = "uniform"                  # or "loguniform"
    why = "the J-curve's depth (ODD 7.5)"

    [[patterns]]
    name = "j_curve_dip"
    statistic = "lowest_difference"    # value | difference | lowest_difference | first_year
    run = "ci"
    versus = "isolated"
    metric = "outcome"
    to_year = 2
    at_most = -0.02                    # or at_least, both, or target (with tolerance)
    tolerance = 0.01

A particle (one set of the fitted parameters) runs every run on every calibration seed;
each pattern's statistic is computed from the runs' mean over seeds; its *excess* is how
far the statistic lies outside its band, in tolerances (0 inside). The distance of a
particle is the root of the weighted sum of squared excesses of the fitted patterns: 0
exactly when every pattern is met.

A fitted parameter takes the particle's value in every run, except in a run whose scenario
or ``set`` gives it a value of its own: a scenario is defined by how it departs from the
defaults (``isolated_impact`` sets ``mindsets.silver_buckshot``), and the fit estimates
the defaults.

Errors are :class:`ci_sim.errors.InputError` with one line naming the file (or option), the
key and what a targets file allows.
"""

from __future__ import annotations

import hashlib
import json
import math
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from ci_sim.errors import InputError
from ci_sim.model.params import SECTIONS, ProblemType, describe, parameter_names
from ci_sim.model.scenarios import read_toml
from ci_sim.simulate import replicate_seeds
from ci_sim.studies.loading import BaseScenario, base_scenario, describe_error, study_file

#: Months per simulated year, as the model steps.
MONTHS = 12

#: What each statistic computes from the runs' means over the seeds (docs/calibration.md).
STATISTICS = {
    "value": "mean over seeds of `metric` of `run` at `year`",
    "difference": "mean over seeds of `metric` of `run` minus `versus` at `year` (paired: the "
                  "same seeds)",
    "lowest_difference": "lowest, over the months after `from_year` up to `to_year`, of the "
                         "mean over seeds of `run` minus `versus`",
    "first_year": "first year at which the mean over seeds of `metric` of `run` has gained "
                  "`level` over its start (or leads `versus` by `level`); a run that never "
                  "does counts as one month after the horizon",
}


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Seeds(Strict):
    """Which seeds the fit and the posterior predictive check run on."""

    base: int = Field(20261201, ge=0, description="Base seed of the calibration seeds, "
                      "replicate_seeds(base, replicates): every particle runs on them.")
    replicates: int = Field(6, ge=1, le=1000, description="Calibration seeds per run.")
    check_base: int = Field(20270601, ge=0, description="Base seed of the held-out seeds of "
                            "the posterior predictive check (not those of the fit).")
    check_replicates: int = Field(20, ge=2, le=10_000, description="Held-out seeds.")
    abc: int = Field(0, ge=0, description="Seed of ABC-SMC's own random draws (the "
                     "parameters it proposes, the posterior draws checked).")


class Budget(Strict):
    """How much the fit may run, and when it stops."""

    particles: int = Field(100, ge=10, le=100_000, description="Accepted particles per "
                           "generation (the population size).")
    generations: int = Field(10, ge=1, le=1000, description="Most generations, the first "
                             "(drawn from the prior) included.")
    evaluations: int = Field(5000, ge=10, le=10**9, description="Most particle evaluations "
                             "(one runs every run on every calibration seed): no generation "
                             "starts that would, costing what the last one did, pass this.")
    min_acceptance: float = Field(0.01, gt=0, le=1, description="A generation that would "
                                  "need more than particles / min_acceptance evaluations "
                                  "stops the fit (and is not kept).")
    epsilon: float = Field(0.0, ge=0, description="Stop once a generation's acceptance "
                           "threshold is at most this (0: every fitted pattern met).")
    quantile: float = Field(0.5, gt=0, lt=1, description="A generation's threshold is this "
                            "weighted quantile of the previous generation's distances.")
    checks: int = Field(20, ge=0, le=10_000, description="Posterior draws run on the held-out "
                        "seeds for the posterior predictive check (0: no check).")


class Prior(Strict):
    """A fitted parameter's prior."""

    low: float = Field(description="Lower end of the prior, in the parameter's unit.")
    high: float = Field(description="Upper end of the prior.")
    prior: Literal["uniform", "loguniform"] = Field("uniform", description="uniform on "
                                                    "low..high, or uniform in its logarithm.")
    why: str = Field("", description="Why it is fitted and why this range (reported).")

    @model_validator(mode="after")
    def _range(self) -> Prior:
        if not (math.isfinite(self.low) and math.isfinite(self.high)) or self.low >= self.high:
            raise ValueError(f"low must be below high, got {self.low:g} and {self.high:g}")
        if self.prior == "loguniform" and self.low <= 0:
            raise ValueError(f"a loguniform prior needs low > 0, got {self.low:g}")
        return self

    @property
    def logarithmic(self) -> bool:
        """Whether the fit works on the parameter's base-10 logarithm (a loguniform prior:
        uniform there, so importance weights carry no 1/x factor)."""
        return self.prior == "loguniform"

    def to_fitted(self, value: float) -> float:
        """The parameter's value on the scale the fit works on."""
        return math.log10(value) if self.logarithmic else value

    def from_fitted(self, value: float) -> float:
        """The parameter's value from the fit's scale."""
        return 10.0 ** value if self.logarithmic else value

    def quantile(self, q) -> np.ndarray:
        """The prior's ``q`` quantile(s)."""
        q = np.asarray(q, dtype=float)
        if self.prior == "loguniform":
            return np.exp(np.log(self.low) + q * (np.log(self.high) - np.log(self.low)))
        return self.low + q * (self.high - self.low)

    def cdf(self, value: float) -> float:
        """The prior's probability below ``value`` (inside the range: where it lies in the
        range, 0..1, on a log scale for a loguniform prior); the inverse of :meth:`quantile`."""
        low, high, value = self.to_fitted(self.low), self.to_fitted(self.high), \
            self.to_fitted(value)
        return (value - low) / (high - low)


class RunSpec(Strict):
    """A run every particle makes: a scenario with settings of its own."""

    scenario: str | None = Field(None, description="Built-in scenario name or file (default: "
                                 "the targets' scenario).")
    set: dict[str, Any] = Field(default_factory=dict, description="Parameters this run sets "
                                "(dotted names); they win over fitted values.")


class Pattern(Strict):
    """One pattern: a statistic of the runs and the band it must fall in."""

    name: str = Field(min_length=1, max_length=80, pattern=r"^[A-Za-z0-9_]+$",
                      description="Short name (letters, digits, _).")
    description: str = Field("", description="What the pattern says, in words.")
    source: str = Field("", description="Where the pattern comes from.")
    statistic: Literal["value", "difference", "lowest_difference", "first_year"]
    run: str = Field(description="The run the statistic is of (a name under [runs]).")
    versus: str | None = Field(None, description="The run it is compared with (paired).")
    metric: str = Field("outcome", description="A metric of ci_sim.model.METRICS.")
    year: float | None = Field(None, ge=0, description="value, difference: the year read.")
    from_year: float = Field(0.0, ge=0, description="lowest_difference: window start "
                             "(exclusive).")
    to_year: float | None = Field(None, gt=0, description="lowest_difference: window end.")
    level: float | None = Field(None, description="first_year: the gain (or lead) to reach.")
    target: float | None = Field(None, description="Band target +- tolerance.")
    at_least: float | None = Field(None, description="Band: at least this.")
    at_most: float | None = Field(None, description="Band: at most this.")
    tolerance: float = Field(gt=0, description="Unit of the excess outside the band (and the "
                             "half-width of a target's band), in the statistic's unit.")
    weight: float = Field(1.0, gt=0, description="Weight in the distance.")
    fit: bool = Field(True, description="false: checked on held-out seeds, not fitted.")

    @model_validator(mode="after")
    def _shape(self) -> Pattern:
        statistic = self.statistic
        if self.target is not None and (self.at_least is not None or self.at_most is not None):
            raise ValueError("give target (with tolerance) or at_least/at_most, not both")
        if self.target is None and self.at_least is None and self.at_most is None:
            raise ValueError("give a band: target, at_least or at_most")
        if self.at_least is not None and self.at_most is not None \
                and self.at_least > self.at_most:
            raise ValueError(f"at_least ({self.at_least:g}) is above at_most "
                             f"({self.at_most:g})")
        if statistic in ("value", "difference") and self.year is None:
            raise ValueError(f"statistic '{statistic}' needs year")
        if statistic in ("difference", "lowest_difference") and self.versus is None:
            raise ValueError(f"statistic '{statistic}' needs versus (the run compared with)")
        if statistic == "value" and self.versus is not None:
            raise ValueError("statistic 'value' takes no versus; use 'difference'")
        if statistic == "lowest_difference":
            if self.to_year is None:
                raise ValueError("statistic 'lowest_difference' needs to_year")
            if self.to_year <= self.from_year:
                raise ValueError(f"to_year ({self.to_year:g}) must be after from_year "
                                 f"({self.from_year:g})")
        if statistic == "first_year" and self.level is None:
            raise ValueError("statistic 'first_year' needs level")
        unused = {"year": statistic not in ("value", "difference"),
                  "to_year": statistic != "lowest_difference",
                  "level": statistic != "first_year"}
        for key, not_read in unused.items():
            if not_read and getattr(self, key) is not None:
                raise ValueError(f"statistic '{statistic}' does not read {key}")
        if statistic != "lowest_difference" and self.from_year != 0.0:
            raise ValueError(f"statistic '{statistic}' does not read from_year")
        return self

    @property
    def band(self) -> tuple[float, float]:
        """The statistic's acceptable values, ``(low, high)`` (infinite where open)."""
        if self.target is not None:
            return self.target - self.tolerance, self.target + self.tolerance
        return (-math.inf if self.at_least is None else self.at_least,
                math.inf if self.at_most is None else self.at_most)

    def excess(self, value: float) -> float:
        """How far ``value`` lies outside the band, in tolerances (0 inside; inf for NaN)."""
        if not math.isfinite(value):
            return math.inf
        low, high = self.band
        return max(0.0, low - value, value - high) / self.tolerance

    def band_text(self) -> str:
        """The band in words: ``at least 0.02``, ``0.64 +- 0.1``, ``3 to 5``."""
        if self.target is not None:
            return f"{self.target:g} ± {self.tolerance:g}"
        if self.at_least is not None and self.at_most is not None:
            return f"{self.at_least:g} to {self.at_most:g}"
        return f"at least {self.at_least:g}" if self.at_least is not None else \
            f"at most {self.at_most:g}"

    def runs(self) -> tuple[str, ...]:
        return (self.run,) if self.versus is None else (self.run, self.versus)

    def last_month(self) -> int:
        """The latest month the statistic reads (first_year: 0, it reads the whole run)."""
        if self.statistic in ("value", "difference"):
            return int(round(self.year * MONTHS))
        if self.statistic == "lowest_difference":
            return int(round(self.to_year * MONTHS))
        return 0


class Targets(Strict):
    """A targets file, validated (docs/calibration.md lists every key)."""

    name: str = Field("calibration", min_length=1, description="Name of the calibration.")
    description: str = Field("", description="What it fits, in a sentence or two.")
    scenario: str = Field("collective_impact", description="Base scenario: built-in name or "
                          "scenario file (relative to the targets file).")
    problem: ProblemType | None = Field(None, description="problem.type of every run (unset: "
                                        "each run's own).")
    years: float | None = Field(None, gt=0, le=100, description="Simulated years of every run "
                                "(unset: the scenario's).")
    engine: str = Field("numba", description="numba (fast) or python (the reference).")
    set: dict[str, Any] = Field(default_factory=dict, description="Constant parameters of "
                                "every run (dotted names).")
    seeds: Seeds = Field(default_factory=Seeds)
    budget: Budget = Field(default_factory=Budget)
    runs: dict[str, RunSpec] = Field(min_length=1)
    parameters: dict[str, Prior] = Field(min_length=1)
    patterns: list[Pattern] = Field(min_length=1)

    @model_validator(mode="after")
    def _consistent(self) -> Targets:
        names = [pattern.name for pattern in self.patterns]
        twice = sorted({name for name in names if names.count(name) > 1})
        if twice:
            raise ValueError(f"patterns: the name '{twice[0]}' is used twice")
        if not any(pattern.fit for pattern in self.patterns):
            raise ValueError("patterns: at least one pattern must be fitted (fit = true)")
        for pattern in self.patterns:
            for run in pattern.runs():
                if run not in self.runs:
                    raise ValueError(f"patterns.{pattern.name}: no run '{run}' under [runs] "
                                     f"(runs: {', '.join(self.runs)})")
        used = {run for pattern in self.patterns for run in pattern.runs()}
        for run in self.runs:
            if run not in used:
                raise ValueError(f"runs.{run}: no pattern reads it; remove it (every run "
                                 f"costs a model run per seed and particle)")
        if self.seeds.check_base == self.seeds.base:
            raise ValueError(f"seeds.check_base: must differ from seeds.base "
                             f"({self.seeds.base}); the predictive check runs on held-out "
                             f"seeds")
        if self.budget.evaluations < self.budget.particles:
            raise ValueError(f"budget.evaluations: must be at least budget.particles "
                             f"({self.budget.particles}), got {self.budget.evaluations}")
        return self


#: The model owning each table of a targets file, for "unknown key" messages.
def _owner(location: tuple) -> type[BaseModel]:
    head = location[0] if location else ""
    if head == "runs" and len(location) >= 3:
        return RunSpec
    if head == "parameters" and len(location) >= 3:
        return Prior
    if head == "patterns" and len(location) >= 3:
        return Pattern
    return {"seeds": Seeds, "budget": Budget}.get(head, Targets) if len(location) >= 2 \
        else Targets


def _message(error: ValidationError, table: dict[str, Any]) -> str:
    """One line for the first problem (an unknown key first: a misspelt key also leaves the
    right one missing), with a pattern named by its name."""
    problems = error.errors()
    first = next((problem for problem in problems if problem["type"] == "extra_forbidden"),
                 problems[0])
    location = tuple(first["loc"])
    key = ".".join(str(part) for part in location)
    if first["type"] == "extra_forbidden":
        text = f"unknown key '{key}' (allowed: {', '.join(_owner(location).model_fields)})"
    else:
        text = describe_error(error, {}, Targets)
    if len(location) >= 2 and location[0] == "patterns" and isinstance(location[1], int):
        raw = table.get("patterns")
        name = raw[location[1]].get("name") if isinstance(raw, list) and \
            location[1] < len(raw) and isinstance(raw[location[1]], dict) else None
        if isinstance(name, str):
            text = text.replace(f"patterns.{location[1]}", f"patterns.{name}", 1)
    return text


def read_targets(path: str | Path, **changes: Any) -> tuple[Targets, Path, str]:
    """The targets file at ``path`` (or the name of a shipped one) with ``changes`` (the
    command line's budget options, None where not given) applied.

    Returns:
        The validated targets, the file's path and the sha256 of its bytes.

    Raises:
        InputError: one line naming the file (or the option), the key and what is allowed.
    """
    path = study_file(path)
    table, digest = read_toml(path)
    label = str(path)
    if set(table) & (set(SECTIONS) - {"set"}) and "patterns" not in table:
        raise InputError(f"{label}: this is a scenario file, not a targets file; a targets "
                         f"file has [runs], [parameters] and [[patterns]] (see "
                         f"experiments/calibration.toml)")
    given = {key: value for key, value in changes.items() if value is not None}
    if given:
        budget = table.get("budget", {})
        table = {**table, "budget": {**(budget if isinstance(budget, dict) else {}), **given}}
    try:
        targets = Targets.model_validate(table, strict=True)
    except ValidationError as error:
        message = _message(error, table)
        for key in given:  # a command-line option: name it
            if re.search(rf"\bbudget\.{key}\b", message):
                label = f"--{key}"
        raise InputError(f"{label}: {message}") from None
    return targets, path, digest


# ---------------------------------------------------------------------------- the plan
@dataclass(frozen=True)
class Plan:
    """A checked calibration: every run's scenario, the priors, the seeds.

    Attributes:
        targets: the validated file.
        path: the targets file; ``digest`` the sha256 of its bytes.
        base: the targets' scenario with its ``set``, problem and horizon (provenance).
        runs: each run's base scenario (its table, with the targets' and its own settings).
        kept: per run, the fitted parameters it sets itself (they keep the run's value).
        seeds: the calibration seeds; ``check_seeds`` the held-out ones.
        months: the runs' horizon in months.
    """

    targets: Targets
    path: Path
    digest: str
    base: BaseScenario
    runs: dict[str, BaseScenario]
    kept: dict[str, tuple[str, ...]]
    seeds: tuple[int, ...]
    check_seeds: tuple[int, ...]
    months: int
    metrics: dict[str, tuple[str, ...]] = field(default_factory=dict)

    @property
    def names(self) -> tuple[str, ...]:
        """The fitted parameters' dotted names, in the file's order."""
        return tuple(self.targets.parameters)

    @property
    def patterns(self) -> tuple[Pattern, ...]:
        return tuple(self.targets.patterns)

    @property
    def fitted(self) -> tuple[Pattern, ...]:
        return tuple(pattern for pattern in self.targets.patterns if pattern.fit)

    def defaults(self) -> dict[str, float]:
        """The fitted parameters' defaults (params.py)."""
        return {name: float(describe(name)["default"]) for name in self.names}

    def identity(self) -> dict[str, Any]:
        """What must not change between the start of a calibration and its resume."""
        record = {"targets": self.targets.model_dump(mode="json"),
                  "runs": {name: run.digest for name, run in self.runs.items()},
                  "seeds": list(self.seeds), "check_seeds": list(self.check_seeds)}
        text = json.dumps(record, sort_keys=True, default=float)
        return {"sha256": hashlib.sha256(text.encode()).hexdigest()}


def flat_keys(table: dict[str, Any], prefix: str = "") -> set[str]:
    """The dotted keys of a nested table's values."""
    keys = set()
    for key, value in table.items():
        dotted = f"{prefix}{key}"
        if isinstance(value, dict):
            keys |= flat_keys(value, f"{dotted}.")
        else:
            keys.add(dotted)
    return keys


def plan(targets: Targets, path: Path, digest: str) -> Plan:
    """Check everything a targets file names and build every run's scenario.

    Raises:
        InputError: the first problem, in one line naming the file and the key.
    """
    from ci_sim.model import METRICS
    from ci_sim.model.engines import ENGINES
    from ci_sim.studies.loading import point_scenario

    label = str(path)
    if targets.engine not in ENGINES:
        raise InputError(f"{label}: key 'engine' must be one of {', '.join(ENGINES)}, got "
                         f"{targets.engine!r}")
    known = parameter_names()
    for name, prior in targets.parameters.items():
        if name not in known:
            import difflib

            close = difflib.get_close_matches(name, known, n=1)
            hint = f" (did you mean '{close[0]}'?)" if close else " (see docs/ODD.md)"
            raise InputError(f"{label}: parameters.{name}: not a parameter{hint}")
        declared = describe(name)
        if declared["type"] not in (float, float | None):
            raise InputError(f"{label}: parameters.{name}: only parameters that are numbers "
                             f"(float) can be fitted; {name} is not")
        low, high = declared["low"], declared["high"]
        if (low is not None and prior.low < low) or (high is not None and prior.high > high):
            raise InputError(f"{label}: parameters.{name}: the prior {prior.low:g} to "
                             f"{prior.high:g} leaves the allowed range {low:g} to {high:g}")
        if name in targets.set:
            raise InputError(f"{label}: set.{name}: also a fitted parameter; a parameter is "
                             f"fitted or set, not both")
    for key in targets.set:
        if key not in known:
            raise InputError(f"{label}: set.{key}: not a parameter (see docs/ODD.md)")
    try:
        base = base_scenario(targets.scenario, relative_to=path, problem=targets.problem,
                             years=targets.years, constants=dict(targets.set))
    except InputError as error:
        raise InputError(f"{label}: scenario: {error}") from None
    runs, kept = {}, {}
    for name, spec in targets.runs.items():
        for key in spec.set:
            if key not in known:
                raise InputError(f"{label}: runs.{name}.set.{key}: not a parameter (see "
                                 f"docs/ODD.md)")
            given = {"years": targets.years, "problem.type": targets.problem}.get(key)
            if given is not None:
                top = "years" if key == "years" else "problem"
                raise InputError(f"{label}: runs.{name}.set.{key}: the key '{top}' of the "
                                 f"targets file sets it for every run; give one of them")
        try:
            runs[name] = base_scenario(spec.scenario or targets.scenario, relative_to=path,
                                       problem=targets.problem, years=targets.years,
                                       constants={**targets.set, **spec.set})
        except InputError as error:
            raise InputError(f"{label}: runs.{name}: {error}") from None
        kept[name] = tuple(sorted(set(targets.parameters) & flat_keys(runs[name].table)))
        if runs[name].plays:
            raise InputError(f"{label}: runs.{name}: a workshop session cannot be a run of "
                             f"a calibration")
    horizons = {name: int(round(run.scenario.years * MONTHS)) for name, run in runs.items()}
    if len(set(horizons.values())) > 1:
        listed = ", ".join(f"{name} {months / MONTHS:g}" for name, months in horizons.items())
        raise InputError(f"{label}: runs: every run needs the same horizon, got years "
                         f"{listed}; set years in the targets file")
    months = next(iter(horizons.values()))
    metrics: dict[str, set[str]] = {name: set() for name in runs}
    for pattern in targets.patterns:
        if pattern.metric not in METRICS:
            raise InputError(f"{label}: patterns.{pattern.name}.metric: must be one of "
                             f"{', '.join(METRICS)}, got {pattern.metric!r}")
        if pattern.last_month() > months:
            raise InputError(f"{label}: patterns.{pattern.name}: reads year "
                             f"{pattern.last_month() / MONTHS:g}, past the runs' horizon of "
                             f"{months / MONTHS:g} years")
        for run in pattern.runs():
            metrics[run].add(pattern.metric)
    # every run must build at the prior's corners: a bad combination is found before running
    for corner in (0.0, 1.0):
        values = {name: float(prior.quantile(corner))
                  for name, prior in targets.parameters.items()}
        for name, run in runs.items():
            particle_scenario(run.table, values, kept[name], f"{label}: runs.{name}")
    point_scenario(base.table, {}, label)
    seeds = targets.seeds
    return Plan(targets, Path(path), digest, base, runs, kept,
                tuple(replicate_seeds(seeds.base, seeds.replicates)),
                tuple(replicate_seeds(seeds.check_base, seeds.check_replicates)), months,
                {name: tuple(sorted(names)) for name, names in metrics.items()})


def particle_scenario(table: dict[str, Any], values: dict[str, float], kept: tuple[str, ...],
                      label: str):
    """A run's resolved scenario with a particle's ``values``, the run's own settings of
    ``kept`` parameters winning (module level: workers build scenarios the same way)."""
    from ci_sim.model.scenarios import merge, nest, validate

    given = {name: value for name, value in values.items() if name not in kept}
    return validate(merge(nest(given), table), label).resolved()


def load_plan(path: str | Path, **changes: Any) -> Plan:
    """:func:`read_targets` then :func:`plan`."""
    targets, resolved, digest = read_targets(path, **changes)
    return plan(targets, resolved, digest)
