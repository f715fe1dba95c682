"""Experiment files: what a sweep varies, how it samples, what it measures, validated.

An experiment is declared outside the model (``experiments/*.toml``)::

    name = "sobol_conditions"
    scenario = "collective_impact"   # built-in name or scenario file (relative to this file)
    problem = "complex"              # optional: problem.type of the base scenario
    years = 10                       # optional: simulated years
    method = "sobol"                 # sobol | morris | fast | latin | grid
    samples = 256                    # sobol: N; morris: trajectories; fast: N per parameter;
                                     # latin: points; grid: levels per parameter
    replicates = 2                   # runs per sample point, on common seeds
    seed = 2024                      # base seed: sample design and replicate seeds

    [levers]                         # what a decision maker chooses (dotted names)
    "backbone.budget_share" = [0.0, 0.1, 0.3]                        # explicit values
    "backbone.enabled" = [true, false]                               # a switch

    [uncertainties]                  # what they do not control
    "conditions.common_agenda" = [0.0, 1.0]                          # uniform low..high
    "problem.type" = ["complicated", "complex"]                      # a choice
    "trust.initial" = { distribution = "triangular", low = 0.1, high = 0.5, mode = 0.3 }

    [constants]                      # set at every point (on top of the scenario)
    "organizations.count" = 40

    [outputs]                        # name = metric at a year, or first year at a threshold
    outcome_year10 = { metric = "outcome", year = 10 }
    outcome = { metric = "outcome", year = [2, 5, 10] }    # -> outcome_year2, _year5, _year10
    trust = { metric = "mean_trust", year = "every" }      # -> trust_year1 .. trust_year10
    years_to_half = { metric = "outcome", first_year_at_least = 0.5 }

    [discovery]                      # optional: which parameter ranges lead to success?
    output = "outcome_year10"
    at_least = 0.6

    [precision]                      # optional: replicates until intervals are this narrow
    output = "outcome_year10"
    half_width = 0.01
    max_replicates = 20

``[parameters]`` is the older name of ``[uncertainties]``. A list of two numbers is a
range (uniform from the first to the second); three or more values, or any list of names
or true/false, are the values the parameter takes, each equally likely
(``{ values = [0.1, 0.3] }`` gives two values). The design samples every parameter as a
quantile 0..1, mapped to a value list by equal slices, so every method (and the grid, at
one level per value) handles lists, choices and switches alike.

Errors are :class:`ci_sim.errors.InputError` with one line naming the file, the key and
what an experiment file allows.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from ci_sim.model import METRICS, STEPS_PER_YEAR
from ci_sim.model.params import (SECTIONS, Scenario, describe, numeric_parameters,
                                  parameter_names)
from ci_sim.errors import InputError
from ci_sim.model.scenarios import is_experiment, merge, nest, read_toml
from ci_sim.studies.loading import base_scenario, study_file
from ci_sim.studies.loading import describe_error as describe_validation

Method = Literal["sobol", "morris", "fast", "latin", "grid"]
Distribution = Literal["uniform", "triangular", "normal", "lognormal", "truncnormal"]

#: What a sweep can run: the model, or a standard test function with known indices.
TARGETS = ("model", "ishigami")

#: The Ishigami function's inputs (each uniform on -pi..pi in the standard setting) and output.
ISHIGAMI_INPUTS = ("x1", "x2", "x3")
ISHIGAMI_OUTPUT = "y"


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ParameterSpec(Strict):
    """How one parameter varies.

    uniform: ``low``..``high``; triangular: ``low``..``high`` peaking at ``mode``; normal:
    ``mean``, ``sd``; lognormal: ``mean``, ``sd`` of the logarithm; truncnormal: ``mean``,
    ``sd`` cut to ``low``..``high``.
    """

    distribution: Distribution = "uniform"
    low: float | None = None
    high: float | None = None
    mode: float | None = None
    mean: float | None = None
    sd: float | None = Field(None, gt=0)
    values: list[float | str | bool] | None = Field(None, min_length=2)

    @model_validator(mode="after")
    def _complete(self) -> ParameterSpec:
        if self.values is not None:
            others = [key for key in ("low", "high", "mode", "mean", "sd")
                      if getattr(self, key) is not None]
            if others or self.distribution != "uniform":
                raise ValueError(f"values lists every value, so it takes no "
                                 f"{', '.join(others) or 'distribution'}")
            kinds = {kind_of(value) for value in self.values}
            if len(kinds) > 1:
                raise ValueError(f"values must all be numbers, all names or all true/false, "
                                 f"got {self.values!r}")
            if len(set(map(repr, self.values))) < len(self.values):
                raise ValueError(f"values must differ, got {self.values!r}")
            return self
        needs = {"uniform": ("low", "high"), "triangular": ("low", "high", "mode"),
                 "normal": ("mean", "sd"), "lognormal": ("mean", "sd"),
                 "truncnormal": ("low", "high", "mean", "sd")}[self.distribution]
        missing = [key for key in needs if getattr(self, key) is None]
        if missing:
            raise ValueError(f"a {self.distribution} distribution needs {', '.join(needs)} "
                             f"(missing {', '.join(missing)})")
        unused = [key for key in ("low", "high", "mode", "mean", "sd")
                  if key not in needs and getattr(self, key) is not None]
        if unused:
            raise ValueError(f"a {self.distribution} distribution takes {', '.join(needs)}, "
                             f"not {', '.join(unused)}")
        if self.low is not None and self.high is not None and not self.low < self.high:
            raise ValueError(f"low must be below high, got {self.low:g} and {self.high:g}")
        if self.mode is not None and not self.low <= self.mode <= self.high:
            raise ValueError(f"mode must be within low..high, got {self.mode:g}")
        return self

    @property
    def discrete(self) -> bool:
        """A list of values rather than a distribution."""
        return self.values is not None

    @property
    def categorical(self) -> bool:
        """Values that are names or true/false (not numbers)."""
        return self.values is not None and kind_of(self.values[0]) != "number"

    def support(self) -> tuple[float, float]:
        """Smallest and largest value the distribution can produce."""
        if self.values is not None:
            if self.categorical:
                return 0.0, float(len(self.values) - 1)
            return float(min(self.values)), float(max(self.values))
        if self.distribution == "normal":
            return -math.inf, math.inf
        if self.distribution == "lognormal":
            return 0.0, math.inf
        return self.low, self.high


def kind_of(value: Any) -> str:
    """``number``, ``name`` or ``switch`` (true/false): the kinds a value list may hold."""
    if isinstance(value, bool):
        return "switch"
    return "name" if isinstance(value, str) else "number"


class OutputSpec(Strict):
    """One output: ``metric`` at ``year`` (default: the last year), or the first year it
    reaches ``first_year_at_least`` (or falls to ``first_year_at_most``).

    ``year`` may be a list of years, or ``"every"`` for every whole year of the horizon:
    the output then becomes one column per year, ``NAME_yearY``.

    A run that never reaches the threshold counts as reaching it one month after the
    horizon (a censored value, :func:`ci_sim.studies.stats.first_year_reaching`), so that
    every run has a number.
    """

    metric: str
    year: float | list[float] | Literal["every"] | None = None
    first_year_at_least: float | None = None
    first_year_at_most: float | None = None

    @model_validator(mode="after")
    def _one_statistic(self) -> OutputSpec:
        given = [key for key in ("year", "first_year_at_least", "first_year_at_most")
                 if getattr(self, key) is not None]
        if len(given) > 1:
            raise ValueError(f"give one of year, first_year_at_least, first_year_at_most, "
                             f"got {', '.join(given)}")
        years = self.year if isinstance(self.year, list) else \
            [self.year] if isinstance(self.year, (int, float)) else []
        if isinstance(self.year, list) and not self.year:
            raise ValueError("year: give at least one year")
        if any(year < 0 for year in years):
            raise ValueError(f"year: must be at least 0, got {min(years):g}")
        return self

    def years(self, horizon: float) -> list[float] | None:
        """The years this output is read at (None: a single value, no year suffix)."""
        if self.year == "every":
            return [float(year) for year in range(1, int(math.floor(horizon + 1e-9)) + 1)]
        if isinstance(self.year, list):
            return [float(year) for year in self.year]
        return None


class DiscoverySpec(Strict):
    """Scenario discovery: which parameter ranges make ``output`` a success.

    Success is ``output >= at_least`` (or ``output <= at_most``) in one run. PRIM peels
    ``peel_alpha`` of the points at a time and keeps the densest box with at least
    ``min_coverage`` of the successes; ``boxes`` boxes are found one after the other.
    """

    output: str
    at_least: float | None = None
    at_most: float | None = None
    min_coverage: float = Field(0.5, gt=0, le=1)
    peel_alpha: float = Field(0.05, gt=0, lt=0.5)
    min_support: float = Field(0.05, gt=0, lt=1)
    boxes: int = Field(2, ge=1, le=10)

    @model_validator(mode="after")
    def _one_threshold(self) -> DiscoverySpec:
        if (self.at_least is None) == (self.at_most is None):
            raise ValueError("give exactly one of at_least, at_most")
        return self


class PrecisionSpec(Strict):
    """Adaptive replicates: add replicates (to every sample point alike, so they keep
    sharing seeds) until the 95% interval of ``output``'s mean at every point is at most
    ``half_width`` on each side, or there are ``max_replicates``."""

    output: str
    half_width: float = Field(gt=0)
    max_replicates: int = Field(ge=2, le=10_000)


class Experiment(Strict):
    """A validated experiment file."""

    name: str = Field(pattern=r"^[A-Za-z0-9_.-]+$")
    description: str = ""
    target: Literal["model", "ishigami"] = "model"
    scenario: str = "collective_impact"
    problem: Literal["simple", "complicated", "complex"] | None = None
    years: float | None = Field(None, gt=0, le=100)
    engine: Literal["numba", "python"] = "numba"
    method: Method
    samples: int = Field(ge=2, le=10_000_000)
    second_order: bool = False
    levels: int = Field(4, ge=2, le=64)
    replicates: int = Field(1, ge=1, le=10_000)
    seed: int = Field(0, ge=0, le=2**63 - 1)
    bootstrap: int = Field(1000, ge=10, le=100_000)
    levers: dict[str, ParameterSpec] = Field(default_factory=dict)
    uncertainties: dict[str, ParameterSpec] = Field(default_factory=dict)
    parameters: dict[str, ParameterSpec] = Field(default_factory=dict)
    constants: dict[str, Any] = Field(default_factory=dict)
    outputs: dict[str, OutputSpec] = Field(min_length=1)
    discovery: DiscoverySpec | None = None
    precision: PrecisionSpec | None = None

    @model_validator(mode="after")
    def _method_options(self) -> Experiment:
        if self.precision is not None and self.precision.max_replicates < self.replicates:
            raise ValueError(f"precision.max_replicates: must be at least replicates "
                             f"({self.replicates}), got {self.precision.max_replicates}")
        tables = {"levers": self.levers, "uncertainties": self.uncertainties,
                  "parameters": self.parameters}
        if not any(tables.values()):
            raise ValueError("give what varies: [levers], [uncertainties] or [parameters]")
        seen: dict[str, str] = {}
        for table, specs in tables.items():
            for name in specs:
                if name in seen:
                    raise ValueError(f"{table}.{name}: also in [{seen[name]}]; a parameter "
                                     f"varies once")
                seen[name] = table
        for name in self.constants:
            if name in seen:
                raise ValueError(f"constants.{name}: also varied in [{seen[name]}]")
        if self.second_order and self.method != "sobol":
            raise ValueError("second_order: only the sobol method computes second-order "
                             "indices")
        if self.method == "fast" and self.samples <= 64:
            raise ValueError(f"samples: fast needs more than 64 samples per parameter "
                             f"(4 M^2 with M = 4), got {self.samples}")
        unbounded = [name for name, spec in self.varied.items()
                     if spec.distribution in ("normal", "lognormal")]
        if self.method in ("morris", "grid") and unbounded:
            raise ValueError(f"parameters.{unbounded[0]}: {self.method} steps to the ends of "
                             f"each range, so it needs a bounded distribution (uniform, "
                             f"triangular or truncnormal)")
        if self.method == "grid" and math.prod(
                len(spec.values) if spec.discrete else self.samples
                for spec in self.varied.values()) > 10_000_000:
            raise ValueError(f"samples: a grid of {self.samples} levels over "
                             f"{len(self.varied)} parameters has more than 10 million "
                             f"points")
        return self

    @property
    def varied(self) -> dict[str, ParameterSpec]:
        """Every varied parameter: levers first, then uncertainties."""
        return {**self.levers, **self.uncertainties, **self.parameters}

    @property
    def parameter_names(self) -> list[str]:
        return list(self.varied)

    def table_of(self, name: str) -> str:
        """The table of the experiment file a varied parameter is declared in."""
        return "levers" if name in self.levers else \
            "uncertainties" if name in self.uncertainties else "parameters"

    def role(self, name: str) -> str:
        """``lever`` or ``uncertainty``."""
        return "lever" if name in self.levers else "uncertainty"


class LoadedExperiment(BaseModel):
    """An experiment with its base scenario resolved and its provenance."""

    model_config = ConfigDict(arbitrary_types_allowed=True, frozen=True)

    experiment: Experiment
    path: str
    sha256: str
    text: str
    base: Scenario | None
    scenario_sha256: str | None
    #: The base scenario's table, from which every sample point is built.
    table: dict[str, Any] | None = None
    #: Players' choices when the base is a workshop room's session file, replayed in every run.
    plays: tuple = ()

    @property
    def horizon(self) -> float:
        """Simulated years of every run."""
        return self.base.years if self.base is not None else 0.0


def flatten_parameters(table: Any, prefix: str = "", *, section: str = "parameters"
                       ) -> dict[str, Any]:
    """``{"conditions": {"common_agenda": [0, 1]}}`` -> ``{"conditions.common_agenda": {...}}``.

    A leaf is a list (a ``[low, high]`` range, or the values the parameter takes) or a
    table with a distribution key or ``values``; any other table is a section whose keys
    continue the dotted name (TOML's bare dotted keys nest).
    """
    flat: dict[str, Any] = {}
    if not isinstance(table, dict):
        raise InputError(f"{section}: expected a table of parameter names, got {table!r}")
    for key, value in table.items():
        name = f"{prefix}{key}"
        if isinstance(value, list):
            numbers = all(isinstance(item, (int, float)) and not isinstance(item, bool)
                          for item in value)
            if numbers and len(value) == 2:
                flat[name] = {"low": value[0], "high": value[1]}
            elif numbers and len(value) < 2:
                raise InputError(f"{section}.{name}: expected two numbers, low and high, got "
                                 f"{value!r} (or three or more values, or values = [...])")
            else:
                flat[name] = {"values": value}
        elif isinstance(value, dict) and not (set(value) & set(ParameterSpec.model_fields)):
            flat.update(flatten_parameters(value, f"{name}.", section=section))
        else:
            flat[name] = value
    return flat


def flatten_constants(table: Any, prefix: str = "") -> dict[str, Any]:
    """``[constants]`` as dotted names: nested tables continue the name."""
    if not isinstance(table, dict):
        raise InputError(f"constants: expected a table of parameter names, got {table!r}")
    flat: dict[str, Any] = {}
    for key, value in table.items():
        if isinstance(value, dict):
            flat.update(flatten_constants(value, f"{prefix}{key}."))
        else:
            flat[f"{prefix}{key}"] = value
    return flat


def describe_error(error: ValidationError) -> str:
    """One line for the first problem of an experiment file, naming the key and what an
    experiment file allows there."""
    location = error.errors()[0]["loc"]
    fallback = OutputSpec if location and location[0] == "outputs" else ParameterSpec
    return describe_validation(error, {(): Experiment, ("discovery",): DiscoverySpec,
                                       ("precision",): PrecisionSpec}, fallback)


def load_experiment(path: str | Path) -> LoadedExperiment:
    """Read, validate and resolve an experiment file (a path, or the name of one shipped
    with the package, see :func:`ci_sim.studies.loading.study_file`).

    Checks, before anything runs: the keys and their values; that every varied parameter
    is a model parameter and its range or values lie inside its declared range; that every
    output names a metric and years within the horizon; the constants and the base
    scenario. Outputs read at several years become one output per year.

    Raises:
        InputError: one line naming the file, the key and what is allowed.
    """
    path = study_file(path)
    table, digest = read_toml(path)
    text = path.read_text(encoding="utf-8")
    if not is_experiment(table) and set(table) & {"name", "years", *SECTIONS}:
        raise InputError(f"{path}: this is a scenario file, not an experiment (an experiment "
                         f"has method, samples, [uncertainties] and [outputs]; see "
                         f"experiments/); run a scenario with 'ci-sim run {path}'")
    try:
        table = dict(table)
        for section in ("levers", "uncertainties", "parameters"):
            if section in table:
                table[section] = flatten_parameters(table[section], section=section)
        if "constants" in table:
            table["constants"] = flatten_constants(table["constants"])
        experiment = Experiment.model_validate(table, strict=True)
    except InputError as error:
        raise InputError(f"{path}: {error}") from None
    except ValidationError as error:
        raise InputError(f"{path}: {describe_error(error)}") from None
    if experiment.target == "ishigami":
        check_ishigami(experiment, path)
        check_discovery(experiment, path)
        return LoadedExperiment(experiment=experiment, path=str(path), sha256=digest, text=text,
                                base=None, scenario_sha256=None)
    try:
        source = base_scenario(experiment.scenario, relative_to=path,
                               problem=experiment.problem, years=experiment.years)
    except InputError as error:
        raise InputError(f"{path}: scenario: {error}") from None
    try:
        base = source.at(experiment.constants, "") if experiment.constants else source.scenario
    except InputError as error:
        raise InputError(f"{path}: constants{error}") from None
    for name, spec in experiment.varied.items():
        check_parameter(name, spec, path, experiment.table_of(name))
    outputs = {}
    for name, output in experiment.outputs.items():
        check_output(name, output, base, path)
        outputs.update(expand_output(name, output, base.years))
    experiment = experiment.model_copy(update={"outputs": outputs})
    check_discovery(experiment, path)
    return LoadedExperiment(experiment=experiment, path=str(path), sha256=digest, text=text,
                            base=base, scenario_sha256=source.digest,
                            table=merge(source.table, nest(experiment.constants)),
                            plays=source.plays)


def expand_output(name: str, output: OutputSpec, horizon: float) -> dict[str, OutputSpec]:
    """An output read at several years as one output per year (``NAME_yearY``)."""
    years = output.years(horizon)
    if years is None:
        return {name: output}
    return {f"{name}_year{year:g}": output.model_copy(update={"year": year})
            for year in years}


def check_discovery(experiment: Experiment, path: Path) -> None:
    if experiment.precision is not None and experiment.precision.output not in experiment.outputs:
        raise InputError(f"{path}: precision.output: must be one of the outputs "
                         f"({', '.join(experiment.outputs)}), got "
                         f"{experiment.precision.output!r}")
    if experiment.discovery is not None and experiment.discovery.output not in experiment.outputs:
        raise InputError(f"{path}: discovery.output: must be one of the outputs "
                         f"({', '.join(experiment.outputs)}), got "
                         f"{experiment.discovery.output!r}")


def check_parameter(name: str, spec: ParameterSpec, path: Path, table: str = "parameters"
                    ) -> None:
    if name not in parameter_names():
        import difflib

        close = difflib.get_close_matches(name, parameter_names(), n=3)
        hint = f"did you mean {', '.join(close)}?" if close else "docs/ODD.md lists them"
        raise InputError(f"{path}: {table}.{name}: not a model parameter ({hint})")
    if spec.categorical:
        return  # every sample point is validated as a scenario by plan_sweep
    if name not in numeric_parameters():
        raise InputError(f"{path}: {table}.{name}: only numeric parameters can vary over a "
                         f"range; list the values it takes instead (type "
                         f"{describe(name)['type']})")
    declared = describe(name)
    low, high = spec.support()
    if declared["low"] is not None and low < declared["low"] or \
            declared["high"] is not None and high > declared["high"]:
        raise InputError(f"{path}: {table}.{name}: values {low:g}..{high:g} leave the "
                         f"declared range {declared['low']:g}..{declared['high']:g}"
                         f"{' (use truncnormal)' if spec.distribution == 'normal' else ''}")


def check_output(name: str, output: OutputSpec, base: Scenario, path: Path) -> None:
    if output.metric not in METRICS:
        raise InputError(f"{path}: outputs.{name}.metric: must be one of {', '.join(METRICS)}, "
                         f"got {output.metric!r}")
    for year in output.years(base.years) or ([] if output.year is None else [output.year]):
        months = year * STEPS_PER_YEAR
        if year > base.years or abs(months - round(months)) > 1e-9:
            raise InputError(f"{path}: outputs.{name}.year: must be a whole month within the "
                             f"horizon of {base.years:g} years, got {year:g}")


def check_ishigami(experiment: Experiment, path: Path) -> None:
    if tuple(experiment.varied) != ISHIGAMI_INPUTS:
        raise InputError(f"{path}: parameters: the ishigami target takes exactly "
                         f"{', '.join(ISHIGAMI_INPUTS)} in that order, got "
                         f"{', '.join(experiment.varied)}")
    for name, output in experiment.outputs.items():
        if output.metric != ISHIGAMI_OUTPUT or output.model_dump(exclude={"metric"},
                                                                 exclude_none=True):
            raise InputError(f"{path}: outputs.{name}: the ishigami target has one output, "
                             f"metric = \"{ISHIGAMI_OUTPUT}\", without a year or threshold")
