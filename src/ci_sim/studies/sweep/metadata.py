"""What a sweep's Parquet files say of themselves: provenance, design and columns.

``runs.parquet`` and ``design.parquet`` are written with :func:`ci_sim.parquet.write_parquet`,
so each carries (see ``docs/outputs.md``):

- its provenance: the base seed, the replicate seeds, versions, the experiment's name and
  sha256, and the base scenario's resolved parameters with their sha256;
- its design (:func:`sweep_design`): the sampling method, SALib's problem as ci-sim sampled
  and analysed it, which columns are levers, uncertainties and outputs, how each parameter's
  value is made from its quantile (categorical values included), and the options (samples,
  seed, replicates, second order, levels, bootstrap resamples);
- every column's unit and meaning.

ci-sim samples every parameter as a quantile on 0..1 (SALib's problem has ``unif`` on
``[0, 1]`` for each) and maps the quantile through the parameter's distribution, or to one of
its listed values by equal slices. The quantiles are the columns ``q:NAME`` and the values
the columns ``NAME``; the indices are those of the mean of each output over the replicates of
each sample point. With these three facts recorded, SALib recomputes ci-sim's indices from
``runs.parquet`` alone.
"""

from __future__ import annotations

from typing import Any

from ci_sim.model.params import describe
from ci_sim.parquet import (COLUMNS, UNITS, design_record, field_description, provenance,
                            scenario_provenance)
from ci_sim.simulate import OUTCOMES
from ci_sim.studies.sweep.experiment import (ISHIGAMI_OUTPUT, Experiment, LoadedExperiment,
                                             OutputSpec, ParameterSpec)

#: What the indices are computed on, in words (also in the design entry).
RESPONSE = ("the mean of each output over the replicates of each sample point (group the "
            "rows by 'sample'; sample s is row s of the sampler's design)")


def quantile_column(name: str) -> str:
    """The column holding the quantile 0..1 the sampler drew for parameter ``name``."""
    return f"q:{name}"


def salib_distribution(spec: ParameterSpec) -> dict[str, Any] | None:
    """SALib's ``dist`` and ``bounds`` of a parameter's distribution in its own unit, or None
    for a list of values (SALib has no discrete distribution)."""
    if spec.discrete:
        return None
    if spec.distribution == "uniform":
        return {"dist": "unif", "bounds": [spec.low, spec.high]}
    if spec.distribution == "triangular":  # SALib: start, end, peak as a share of the width
        return {"dist": "triang", "bounds": [spec.low, spec.high,
                                              (spec.mode - spec.low) / (spec.high - spec.low)]}
    if spec.distribution == "normal":
        return {"dist": "norm", "bounds": [spec.mean, spec.sd]}
    if spec.distribution == "lognormal":
        return {"dist": "lognorm", "bounds": [spec.mean, spec.sd]}
    return {"dist": "truncnorm", "bounds": [spec.low, spec.high, spec.mean, spec.sd]}


def parameter_record(experiment: Experiment, name: str, spec: ParameterSpec) -> dict[str, Any]:
    """How one varied parameter was sampled and how its column is made from its quantile."""
    rounded = experiment.target == "model" and not spec.categorical and \
        describe(name)["type"] in (int, int | None)
    record: dict[str, Any] = {"role": experiment.role(name), "column": name,
                              "quantile_column": quantile_column(name), "rounded": rounded}
    if spec.discrete:
        count = len(spec.values)
        kind = "names" if isinstance(spec.values[0], str) else \
            "true/false" if isinstance(spec.values[0], bool) else "numbers"
        record.update(
            kind="values", values=list(spec.values), value_kind=kind, salib=None,
            encoding=(f"the sampler draws the quantile q (column {quantile_column(name)}, "
                      f"uniform on 0..1); the column {name} holds values[i] with "
                      f"i = min(floor(q * {count}), {count - 1}), each value equally likely; "
                      f"PRIM and the indices order the values by their position i"))
        return record
    parameters = {key: getattr(spec, key) for key in ("low", "high", "mode", "mean", "sd")
                  if getattr(spec, key) is not None}
    record.update(kind="distribution", distribution=spec.distribution, **parameters,
                  salib=salib_distribution(spec),
                  encoding=(f"the column {name} is the {spec.distribution} distribution's "
                            f"quantile function at q (column {quantile_column(name)})"
                            + (", rounded to a whole number" if rounded else "")))
    return record


def output_description(experiment: Experiment, name: str, output: OutputSpec
                       ) -> dict[str, Any]:
    """Unit and meaning of an output column, from the metric it reads."""
    if experiment.target == "ishigami":
        return {"unit": "", "meaning": f"Ishigami function {ISHIGAMI_OUTPUT} "
                                       f"(a = 7, b = 0.1) at the point's x1, x2, x3"}
    meaning = OUTCOMES.get(output.metric, output.metric)
    if output.first_year_at_least is not None or output.first_year_at_most is not None:
        above = output.first_year_at_least is not None
        threshold = output.first_year_at_least if above else output.first_year_at_most
        return {"unit": "years",
                "meaning": f"first year {output.metric} is {'at least' if above else 'at most'}"
                           f" {threshold:g} (one month past the horizon if never): {meaning}",
                "metric": output.metric}
    year = "the last year" if output.year is None else f"year {output.year:g}"
    description = {"unit": UNITS.get(output.metric, "index 0..1"),
                   "meaning": f"{output.metric} at {year}: {meaning}", "metric": output.metric}
    if output.metric == "gateway":
        description["labels"] = field_description("gateway")["labels"]
    return description


def column_descriptions(experiment: Experiment) -> dict[str, dict[str, Any]]:
    """Units and meanings of the columns a sweep writes that are not plain model columns."""
    descriptions: dict[str, dict[str, Any]] = {
        "sample": {"unit": "", "meaning": "sample point: row of the sampler's design "
                                          "(design.parquet), 0 .. points - 1"},
        "replicate": {"unit": "", "meaning": COLUMNS["replicate"][1]},
        "seed": {"unit": "", "meaning": "the replicate's seed, shared by every sample point "
                                        "(common random numbers)"}}
    for name, spec in experiment.varied.items():
        described = field_description(name) if experiment.target == "model" else \
            {"unit": "", "meaning": f"input {name} of the Ishigami function"}
        descriptions[name] = {**described, "role": experiment.role(name)}
        if spec.categorical:
            descriptions[name]["values"] = list(spec.values)
        descriptions[quantile_column(name)] = {
            "unit": "quantile 0..1", "role": experiment.role(name),
            "meaning": f"the quantile the sampler drew for {name}; its value is the column "
                       f"{name}"}
    for name, output in experiment.outputs.items():
        descriptions[name] = {**output_description(experiment, name, output), "role": "output"}
    return descriptions


def sweep_design(experiment: Experiment, *, points: int, replicates: int | None
                 ) -> dict[str, Any]:
    """The ``ci_sim.design`` entry of a sweep's files (:func:`ci_sim.parquet.design_record`).

    ``problem`` is SALib's problem as ci-sim sampled and analysed it: every parameter a
    quantile, uniform on [0, 1], in the sampler's column order; its sample matrix is the
    ``quantiles`` columns. ``parameters`` says, per parameter, how the value column is made
    from the quantile (distribution and SALib's equivalent ``dist`` and ``bounds``, or the
    list of values and their encoding). ``value_problem`` is SALib's problem in the
    parameters' own units when every one has a SALib distribution (else None).

    Args:
        points: sample points of the design.
        replicates: replicates of every point (None: not known yet, added until a
            precision is met).
    """
    names = experiment.parameter_names
    parameters = {name: parameter_record(experiment, name, spec)
                  for name, spec in experiment.varied.items()}
    outputs = list(experiment.outputs)
    salib = [parameters[name]["salib"] for name in names]
    value_problem = None if any(entry is None for entry in salib) else {
        "num_vars": len(names), "names": names, "bounds": [entry["bounds"] for entry in salib],
        "dists": [entry["dist"] for entry in salib], "outputs": outputs}
    options: dict[str, Any] = {
        "levers": list(experiment.levers),
        "uncertainties": [*experiment.uncertainties, *experiment.parameters],
        "quantiles": [quantile_column(name) for name in names],
        "parameters": parameters, "value_problem": value_problem,
        "output_definitions": {name: output.model_dump(exclude_none=True)
                               for name, output in experiment.outputs.items()},
        "response": RESPONSE, "target": experiment.target,
        "samples": experiment.samples, "points": points, "replicates": replicates,
        "seed": experiment.seed, "num_resamples": experiment.bootstrap,
        "conf_level": 0.95, "calc_second_order": experiment.second_order}
    if experiment.method == "morris":
        options["num_levels"] = experiment.levels
    if experiment.precision is not None:
        options["precision"] = experiment.precision.model_dump()
    return design_record(method=experiment.method, names=names,
                         bounds=[[0.0, 1.0]] * len(names), outputs=outputs,
                         distributions=["unif"] * len(names), **options)


def sweep_provenance(loaded: LoadedExperiment, replicate_seeds: list[int],
                     posterior: dict[str, Any] | None = None) -> dict[str, Any]:
    """The ``ci_sim`` entry of a sweep's files: base seed, replicate seeds, versions, the
    experiment and the base scenario (resolved parameters and their sha256), and the
    posterior the replicates drew their parameters from
    (:func:`ci_sim.parquet.posterior_provenance`), if any."""
    experiment = loaded.experiment
    scenarios = [] if loaded.base is None else \
        [scenario_provenance(loaded.base, loaded.scenario_sha256)]
    record = provenance(seed=experiment.seed, scenarios=scenarios,
                        replicate_seeds=list(replicate_seeds), command="ci-sim sweep",
                        experiment=experiment.name, experiment_sha256=loaded.sha256,
                        target=experiment.target, engine=experiment.engine,
                        constants=dict(experiment.constants))
    if loaded.plays:
        record["plays"] = [play.as_record() for play in loaded.plays]
    if posterior is not None:
        record["posterior"] = posterior
    return record
