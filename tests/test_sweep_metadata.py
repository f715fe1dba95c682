"""A sweep's runs.parquet describes itself: SALib re-analyses it alone (no study.json, no
experiment file) and gets the indices ci-sim reported; polars and DuckDB read its design;
categorical parameters say how they are encoded; the provenance names the base scenario's
resolved parameters and their hash."""

from __future__ import annotations

import json
import shutil

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from ci_sim.cli import app
from ci_sim.model import Scenario
from ci_sim.outputs import parameters_digest, read_metadata
from ci_sim.studies.sweep import run_sweep

#: A real small model sweep: 8 base samples x (3 + 2) points x 2 replicates = 80 runs of a
#: year, with a switch, a triangular distribution and a rounded whole number.
TINY = """
name = "tiny"
scenario = "collective_impact"
problem = "complex"
years = 1
method = "sobol"
samples = 8
replicates = 2
seed = 5
bootstrap = 200

[levers]
"backbone.enabled" = [true, false]

[uncertainties]
"conditions.common_agenda" = { distribution = "triangular", low = 0, high = 1, mode = 0.3 }
"organizations.count" = [20, 30]

[constants]
"backbone.budget_share" = 0.1

[outputs]
outcome = { metric = "outcome", year = 1 }
alignment = { metric = "agenda_alignment", year = 1 }
"""

PI = "3.141592653589793"


def ishigami(method: str, samples: int, extra: str = "") -> str:
    return f"""
name = "ishigami_{method}"
target = "ishigami"
method = "{method}"
samples = {samples}
seed = 3
bootstrap = 100
{extra}
[levers]
x1 = [-{PI}, {PI}]

[uncertainties]
x2 = {{ distribution = "triangular", low = -{PI}, high = {PI}, mode = 0 }}
x3 = [-{PI}, {PI}]

[outputs]
y = {{ metric = "y" }}
"""


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    """``ci-sim sweep`` run for real; only runs.parquet is kept (copied away alone)."""
    folder = tmp_path_factory.mktemp("tiny")
    (folder / "tiny.toml").write_text(TINY)
    result = CliRunner().invoke(app, ["sweep", str(folder / "tiny.toml"), "--out",
                                      str(folder / "out"), "--workers", "1"])
    assert result.exit_code == 0, result.output
    alone = folder / "elsewhere"
    alone.mkdir()
    shutil.copy(folder / "out" / "runs.parquet", alone / "runs.parquet")
    indices = pd.read_csv(folder / "out" / "indices.csv")
    return alone / "runs.parquet", indices, folder / "out"


def salib_from_file(path) -> tuple:
    """What a SALib user writes with the file alone: the problem, the sample matrix and
    the response exactly as the design entry says."""
    from SALib import ProblemSpec

    design = read_metadata(path)["design"]
    runs = pd.read_parquet(path)
    points = runs.groupby("sample", sort=True)  # the indices use the mean over replicates
    problem = ProblemSpec(design["problem"])
    problem.set_samples(points[design["quantiles"]].first().to_numpy())
    response = points[design["outputs"]].mean().to_numpy()
    problem.set_results(response[:, 0] if response.shape[1] == 1 else response)
    return design, runs, problem


def test_salib_reanalyses_runs_parquet_alone_and_matches_ci_sims_indices(tiny):
    path, reported, _ = tiny
    design, runs, problem = salib_from_file(path)
    assert design["method"] == "sobol" and design["replicates"] == 2
    assert len(runs) == design["points"] * design["replicates"] == 80
    problem.analyze_sobol(calc_second_order=design["calc_second_order"],
                          num_resamples=design["num_resamples"], seed=design["seed"],
                          conf_level=design["conf_level"])
    for output in design["outputs"]:
        result = problem.analysis[output]
        for index in ("S1", "ST"):
            ours = reported[(reported["output"] == output) & (reported["index"] == index)]
            ours = ours.set_index("parameter").loc[design["problem"]["names"]]
            np.testing.assert_allclose(result[index], ours["value"], rtol=1e-12, atol=1e-12)
            np.testing.assert_allclose(result[f"{index}_conf"], ours["conf"], rtol=1e-12,
                                       atol=1e-12)
    # a different response (first replicate only) would not match: the recipe matters
    first = runs[runs["replicate"] == 0][design["outputs"][0]].to_numpy()
    assert not np.allclose(first, runs.groupby("sample")[design["outputs"][0]].mean())


def test_the_design_says_which_columns_are_levers_uncertainties_and_outputs(tiny):
    path, _, _ = tiny
    design = read_metadata(path)["design"]
    runs = pd.read_parquet(path)
    assert design["levers"] == ["backbone.enabled"]
    assert design["uncertainties"] == ["conditions.common_agenda", "organizations.count"]
    assert design["inputs"] == design["levers"] + design["uncertainties"]
    assert design["outputs"] == ["outcome", "alignment"]
    assert set(runs.columns) == {"sample", "replicate", "seed", *design["inputs"],
                                 *design["quantiles"], *design["outputs"]}
    assert design["output_definitions"]["outcome"] == {"metric": "outcome", "year": 1.0}
    assert (design["samples"], design["seed"], design["calc_second_order"]) == (8, 5, False)
    fields = read_metadata(path)["fields"]
    assert fields["organizations.count"]["unit"] == "organizations"
    assert fields["organizations.count"]["role"] == "uncertainty"
    assert fields["alignment"]["unit"] == "index 0..1" and fields["alignment"]["role"] == "output"
    assert fields["q:backbone.enabled"]["unit"] == "quantile 0..1"


def test_categorical_and_rounded_parameters_say_how_they_are_encoded(tiny):
    path, _, _ = tiny
    design = read_metadata(path)["design"]
    runs = pd.read_parquet(path)
    switch = design["parameters"]["backbone.enabled"]
    assert switch["kind"] == "values" and switch["values"] == [True, False]
    assert switch["salib"] is None and "floor(q * 2)" in switch["encoding"]
    # the encoding, applied to the quantile column, gives the value column
    q = runs[switch["quantile_column"]].to_numpy()
    index = np.minimum(np.floor(q * len(switch["values"])).astype(int), len(switch["values"]) - 1)
    assert (np.array(switch["values"])[index] == runs["backbone.enabled"].to_numpy()).all()
    count = design["parameters"]["organizations.count"]
    assert count["rounded"] and count["salib"] == {"dist": "unif", "bounds": [20.0, 30.0]}
    assert (runs["organizations.count"] == np.rint(20 + 10 * runs["q:organizations.count"])).all()
    agenda = design["parameters"]["conditions.common_agenda"]
    assert agenda["salib"] == {"dist": "triang", "bounds": [0.0, 1.0, 0.3]}
    assert design["value_problem"] is None  # a switch has no SALib distribution


def test_the_provenance_names_the_base_scenarios_resolved_parameters(tiny):
    path, _, out = tiny
    provenance = read_metadata(path)["provenance"]
    runs = pd.read_parquet(path)
    assert provenance["seed"] == 5 and provenance["command"] == "ci-sim sweep"
    assert provenance["replicate_seeds"] == sorted(set(runs["seed"]), key=list(runs["seed"]).index)
    assert provenance["versions"]["ci_sim"] and provenance["versions"]["numpy"]
    assert provenance["constants"] == {"backbone.budget_share": 0.1}
    (base,) = provenance["scenarios"]
    scenario = Scenario.model_validate(base["parameters"])
    assert base["parameters_sha256"] == parameters_digest(scenario)
    assert scenario.problem.type == "complex" and scenario.years == 1
    manifest = json.loads((out / "study.json").read_text())
    assert manifest["identity"]["sha256"] == provenance["experiment_sha256"]


def test_polars_and_duckdb_read_the_design_of_runs_and_design_files(tiny):
    import duckdb
    import polars as pl

    path, _, out = tiny
    for file in (path, out / "design.parquet"):
        design = json.loads(pl.read_parquet_metadata(file)["ci_sim.design"])
        assert design["problem"]["names"] == ["backbone.enabled", "conditions.common_agenda",
                                              "organizations.count"]
        stored = dict(duckdb.sql(f"SELECT decode(key), decode(value) FROM "
                                 f"parquet_kv_metadata('{file}')").fetchall())
        assert json.loads(stored["ci_sim.design"])["levers"] == ["backbone.enabled"]
        assert json.loads(stored["ci_sim"])["seed"] == 5
    frame = pl.read_parquet(path)
    assert frame.schema["backbone.enabled"] == pl.Boolean


@pytest.mark.parametrize(("method", "samples", "extra", "indices"), [
    ("morris", 40, "levels = 4", ("mu_star", "mu", "sigma")),
    ("latin", 300, "", ("S1",)),
    ("fast", 100, "", ("S1", "ST")),
])
def test_methods_whose_analysis_reads_the_samples_reanalyse_alone_too(tmp_path, method, samples,
                                                                       extra, indices):
    (tmp_path / "e.toml").write_text(ishigami(method, samples, extra))
    run_sweep(tmp_path / "e.toml", tmp_path / "out", workers=1)
    reported = pd.read_csv(tmp_path / "out" / "indices.csv")
    design, _, problem = salib_from_file(tmp_path / "out" / "runs.parquet")
    options = {"num_resamples": design["num_resamples"], "seed": design["seed"]}
    if method == "morris":
        problem.analyze_morris(num_levels=design["num_levels"], **options)
    elif method == "latin":
        problem.analyze_rbd_fast(**options)
    else:
        problem.analyze_fast(**options)
    for index in indices:
        ours = reported[reported["index"] == index].set_index("parameter").loc[
            design["problem"]["names"], "value"]
        np.testing.assert_allclose(problem.analysis[index], ours, rtol=1e-12, atol=1e-12)


def test_a_continuous_design_gives_salibs_problem_in_the_parameters_units(tmp_path):
    """The value problem, sampled by SALib with the recorded options, gives the value
    columns: bounds and distributions are SALib's own."""
    from SALib import ProblemSpec

    (tmp_path / "e.toml").write_text(ishigami("sobol", 16))
    run_sweep(tmp_path / "e.toml", tmp_path / "out", workers=1)
    design = read_metadata(tmp_path / "out" / "runs.parquet")["design"]
    runs = pd.read_parquet(tmp_path / "out" / "runs.parquet")
    assert design["value_problem"]["dists"] == ["unif", "triang", "unif"]
    values = ProblemSpec(design["value_problem"]).sample_sobol(
        design["samples"], calc_second_order=design["calc_second_order"],
        seed=design["seed"]).samples
    np.testing.assert_allclose(values, runs[design["inputs"]].to_numpy(), rtol=1e-9, atol=1e-12)
