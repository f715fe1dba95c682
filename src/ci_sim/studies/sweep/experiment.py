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

    [parameters]                     # any model parameter by its dotted name
    "conditions.common_agenda" = [0.0, 1.0]                          # uniform
    "backbone.budget_share" = { distribution = "triangular", low = 0, high = 0.3, mode = 0.1 }

    [outputs]                        # name = metric at a year, or first year at a threshold
    outcome_year10 = { metric = "outcome", year = 10 }
    years_to_half = { metric = "outcome", first_year_at_least = 0.5 }

    [discovery]                      # optional: which parameter ranges lead to success?
    output = "outcome_year10"
    at_least = 0.6

Errors are :class:`ci_sim.errors.InputError` with one line naming the file, the key and
what is allowed, like scenario files.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from ci_sim.model import METRICS, STEPS_PER_YEAR
from ci_sim.model.params import SECTIONS, Scenario, describe, parameter_names
from ci_sim.errors import InputError
from ci_sim.model.scenarios import is_experiment, load_scenario, read_toml

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

    @model_validator(mode="after")
    def _complete(self) -> ParameterSpec:
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

    def support(self) -> tuple[float, float]:
        """Smallest and largest value the distribution can produce."""
        if self.distribution == "normal":
            return -math.inf, math.inf
        if self.distribution == "lognormal":
            return 0.0, math.inf
        return self.low, self.high


class OutputSpec(Strict):
    """One output: ``metric`` at ``year`` (default: the last year), or the first year it
    reaches ``first_year_at_least`` (or falls to ``first_year_at_most``).

    A run that never reaches the threshold counts as reaching it one month after the
    horizon (a censored value), so that every run has a number.
    """

    metric: str
    year: float | None = Field(None, ge=0)
    first_year_at_least: float | None = None
    first_year_at_most: float | None = None

    @model_validator(mode="after")
    def _one_statistic(self) -> OutputSpec:
        given = [key for key in ("year", "first_year_at_least", "first_year_at_most")
                 if getattr(self, key) is not None]
        if len(given) > 1:
            raise ValueError(f"give one of year, first_year_at_least, first_year_at_most, "
                             f"got {', '.join(given)}")
        return self


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
    parameters: dict[str, ParameterSpec] = Field(min_length=1)
    outputs: dict[str, OutputSpec] = Field(min_length=1)
    discovery: DiscoverySpec | None = None

    @model_validator(mode="after")
    def _method_options(self) -> Experiment:
        if self.second_order and self.method != "sobol":
            raise ValueError("second_order: only the sobol method computes second-order "
                             "indices")
        if self.method == "fast" and self.samples <= 64:
            raise ValueError(f"samples: fast needs more than 64 samples per parameter "
                             f"(4 M^2 with M = 4), got {self.samples}")
        unbounded = [name for name, spec in self.parameters.items()
                     if spec.distribution in ("normal", "lognormal")]
        if self.method in ("morris", "grid") and unbounded:
            raise ValueError(f"parameters.{unbounded[0]}: {self.method} steps to the ends of "
                             f"each range, so it needs a bounded distribution (uniform, "
                             f"triangular or truncnormal)")
        if self.method == "grid" and self.samples ** len(self.parameters) > 10_000_000:
            raise ValueError(f"samples: a grid of {self.samples} levels over "
                             f"{len(self.parameters)} parameters has more than 10 million "
                             f"points")
        if self.discovery is not None and self.discovery.output not in self.outputs:
            raise ValueError(f"discovery.output: must be one of the outputs "
                             f"({', '.join(self.outputs)}), got {self.discovery.output!r}")
        return self

    @property
    def parameter_names(self) -> list[str]:
        return list(self.parameters)


class LoadedExperiment(BaseModel):
    """An experiment with its base scenario resolved and its provenance."""

    model_config = ConfigDict(arbitrary_types_allowed=True, frozen=True)

    experiment: Experiment
    path: str
    sha256: str
    text: str
    base: Scenario | None
    scenario_sha256: str | None

    @property
    def horizon(self) -> float:
        """Simulated years of every run."""
        return self.base.years if self.base is not None else 0.0


def flatten_parameters(table: Any, prefix: str = "") -> dict[str, Any]:
    """``{"conditions": {"common_agenda": [0, 1]}}`` -> ``{"conditions.common_agenda": {...}}``.

    A leaf is a ``[low, high]`` pair or a table with a distribution key; any other table is
    a section whose keys continue the dotted name (TOML's bare dotted keys nest).
    """
    flat: dict[str, Any] = {}
    if not isinstance(table, dict):
        raise InputError(f"parameters: expected a table of parameter names, got {table!r}")
    for key, value in table.items():
        name = f"{prefix}{key}"
        if isinstance(value, list):
            if len(value) != 2:
                raise InputError(f"parameters.{name}: expected two numbers, low and high, got {value!r}")
            flat[name] = {"low": value[0], "high": value[1]}
        elif isinstance(value, dict) and not (set(value) & set(ParameterSpec.model_fields)):
            flat.update(flatten_parameters(value, f"{name}."))
        else:
            flat[name] = value
    return flat


def describe_error(error: ValidationError) -> str:
    """One line for the first problem of a validation error, naming the key."""
    first = error.errors()[0]
    location = [str(part) for part in first["loc"]]
    key = ".".join(location)
    kind, got = first["type"], first.get("input")
    if kind == "extra_forbidden":
        owner = {(): Experiment, ("discovery",): DiscoverySpec}.get(tuple(location[:-1]))
        if owner is None:
            owner = ParameterSpec if location[0] == "parameters" else OutputSpec
        return f"unknown key '{key}' (allowed: {', '.join(owner.model_fields)})"
    if kind == "missing":
        return f"missing key '{key}'"
    if kind == "value_error":
        message = str(first.get("ctx", {}).get("error", first["msg"]))
        return f"{key}: {message}" if key else message
    if kind == "literal_error":
        return f"key '{key}' must be {first['ctx']['expected']}, got {got!r}"
    message = first["msg"].removeprefix("Input should be ").removeprefix("Value error, ")
    return f"key '{key}' must be {message}, got {got!r}"


def load_experiment(path: str | Path) -> LoadedExperiment:
    """Read, validate and resolve an experiment file.

    Checks, before anything runs: the keys and their values; that every varied parameter
    is a numeric model parameter and its range lies inside the parameter's declared range;
    that every output names a metric and a year within the horizon; the base scenario.

    Raises:
        InputError: one line naming the file, the key and what is allowed.
    """
    path = Path(path)
    table, digest = read_toml(path)
    text = path.read_text(encoding="utf-8")
    if not is_experiment(table) and set(table) & {"name", "years", *SECTIONS}:
        raise InputError(f"{path}: this is a scenario file, not an experiment (an experiment "
                         f"has method, samples, [parameters] and [outputs]; see experiments/); "
                         f"run a scenario with 'ci-sim run {path}'")
    try:
        table = dict(table)
        if "parameters" in table:
            table["parameters"] = flatten_parameters(table["parameters"])
        experiment = Experiment.model_validate(table, strict=True)
    except InputError as error:
        raise InputError(f"{path}: {error}") from None
    except ValidationError as error:
        raise InputError(f"{path}: {describe_error(error)}") from None
    if experiment.target == "ishigami":
        check_ishigami(experiment, path)
        return LoadedExperiment(experiment=experiment, path=str(path), sha256=digest, text=text,
                                base=None, scenario_sha256=None)
    overrides: dict[str, Any] = {}
    if experiment.problem is not None:
        overrides["problem.type"] = experiment.problem
    if experiment.years is not None:
        overrides["years"] = experiment.years
    source = experiment.scenario
    if Path(source).suffix:  # a file: relative to the experiment file, like an include
        source = str((path.parent / source) if not Path(source).is_absolute() else source)
    try:
        base, scenario_digest = load_scenario(source, overrides)
    except InputError as error:
        raise InputError(f"{path}: scenario: {error}") from None
    for name, spec in experiment.parameters.items():
        check_parameter(name, spec, path)
    for name, output in experiment.outputs.items():
        check_output(name, output, base, path)
    return LoadedExperiment(experiment=experiment, path=str(path), sha256=digest, text=text,
                            base=base, scenario_sha256=scenario_digest)


def numeric_parameters() -> list[str]:
    """Dotted names of the parameters a sweep can vary (numbers, not choices or switches)."""
    names = []
    for name in parameter_names():
        kind = describe(name)["type"]
        if kind in (int, float, int | None, float | None):
            names.append(name)
    return names


def check_parameter(name: str, spec: ParameterSpec, path: Path) -> None:
    if name not in parameter_names():
        import difflib

        close = difflib.get_close_matches(name, numeric_parameters(), n=3)
        hint = f"did you mean {', '.join(close)}?" if close else "docs/ODD.md lists them"
        raise InputError(f"{path}: parameters.{name}: not a model parameter ({hint})")
    if name not in numeric_parameters():
        raise InputError(f"{path}: parameters.{name}: only numeric parameters can vary; "
                         f"set this one in the scenario (type {describe(name)['type']})")
    declared = describe(name)
    low, high = spec.support()
    if declared["low"] is not None and low < declared["low"] or \
            declared["high"] is not None and high > declared["high"]:
        raise InputError(f"{path}: parameters.{name}: values {low:g}..{high:g} leave the "
                         f"declared range {declared['low']:g}..{declared['high']:g}"
                         f"{' (use truncnormal)' if spec.distribution == 'normal' else ''}")


def check_output(name: str, output: OutputSpec, base: Scenario, path: Path) -> None:
    if output.metric not in METRICS:
        raise InputError(f"{path}: outputs.{name}.metric: must be one of {', '.join(METRICS)}, "
                         f"got {output.metric!r}")
    if output.year is not None:
        months = output.year * STEPS_PER_YEAR
        if output.year > base.years or abs(months - round(months)) > 1e-9:
            raise InputError(f"{path}: outputs.{name}.year: must be a whole month within the "
                             f"horizon of {base.years:g} years, got {output.year:g}")


def check_ishigami(experiment: Experiment, path: Path) -> None:
    if tuple(experiment.parameters) != ISHIGAMI_INPUTS:
        raise InputError(f"{path}: parameters: the ishigami target takes exactly "
                         f"{', '.join(ISHIGAMI_INPUTS)} in that order, got "
                         f"{', '.join(experiment.parameters)}")
    for name, output in experiment.outputs.items():
        if output.metric != ISHIGAMI_OUTPUT or output.model_dump(exclude={"metric"},
                                                                 exclude_none=True):
            raise InputError(f"{path}: outputs.{name}: the ishigami target has one output, "
                             f"metric = \"{ISHIGAMI_OUTPUT}\", without a year or threshold")
