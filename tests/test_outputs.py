"""Outputs that describe themselves: provenance (seed, versions, resolved parameters and their
hash) in every Parquet file's metadata, units and meanings as field metadata, ordinals as
integers with their labels, and a sweep's design, read as pandas, polars and DuckDB users
read them; and a file's parameters and seed rerun it exactly."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pyarrow.parquet as pq
import pytest
from typer.testing import CliRunner

import ci_sim
from ci_sim.cli import app
from ci_sim.model import GATEWAYS, METRICS, Scenario
from ci_sim.model.scenarios import load_scenario
from ci_sim.parquet import (design_record, field_description, parameters_digest, read_metadata,
                            write_parquet)


@pytest.fixture(scope="module")
def timeseries(tmp_path_factory):
    out = tmp_path_factory.mktemp("run") / "out"
    result = CliRunner().invoke(app, ["run", "no_champion", "--replicates", "2", "--years", "1",
                                      "--set", "organizations.count=20", "--seed", "3",
                                      "--out", str(out)])
    assert result.exit_code == 0, result.output
    return out / "timeseries.parquet"


def test_every_column_carries_its_unit_and_meaning_as_field_metadata(timeseries):
    schema = pq.read_schema(timeseries)
    for field in schema:
        metadata = {key.decode(): value.decode() for key, value in field.metadata.items()}
        assert metadata["meaning"], field.name
    unit = {field.name: field.metadata[b"unit"].decode() for field in schema}
    assert unit["backbone_spend"] == "money units/month" and unit["step"] == "months"
    assert unit["outcome"] == "index 0..1"
    gateway = schema.field("gateway")
    assert str(gateway.type) == "int64"
    assert json.loads(gateway.metadata[b"labels"]) == list(GATEWAYS)
    assert schema.field("scenario").metadata[b"meaning"].startswith(b"name of the scenario")


def test_the_file_records_seeds_versions_and_parameters_that_rerun_it(timeseries):
    described = read_metadata(timeseries)
    provenance = described["provenance"]
    assert provenance["seed"] == 3 and provenance["versions"]["ci_sim"] == ci_sim.__version__
    (scenario_record,) = provenance["scenarios"]
    scenario = Scenario.model_validate(scenario_record["parameters"])
    assert parameters_digest(scenario) == scenario_record["parameters_sha256"]
    assert scenario_record["name"] == "no_champion" and len(scenario_record["file_sha256"]) == 64
    frame = pd.read_parquet(timeseries)
    assert (frame["scenario"] == "no_champion").all()
    for replicate, seed in enumerate(provenance["replicate_seeds"]):
        rows = frame[frame["replicate"] == replicate]
        again = ci_sim.evaluate(scenario, seed=seed)
        assert rows["outcome"].iloc[-1] == again["outcome"]
        assert rows["gateway"].iloc[-1] == again["gateway"]


def test_polars_and_duckdb_read_the_metadata(timeseries):
    import duckdb
    import polars as pl

    kv = pl.read_parquet_metadata(timeseries)
    fields = json.loads(kv["ci_sim.fields"])
    assert fields["gateway"]["labels"] == list(GATEWAYS)
    assert json.loads(kv["ci_sim"])["seed"] == 3
    assert pl.read_parquet(timeseries).schema["gateway"] == pl.Int64
    rows = duckdb.sql(f"SELECT decode(key) AS key, decode(value) AS value "
                      f"FROM parquet_kv_metadata('{timeseries}')").fetchall()
    stored = dict(rows)
    assert json.loads(stored["ci_sim.fields"])["mean_trust"]["unit"] == "index 0..1"
    assert json.loads(stored["ci_sim"])["scenarios"][0]["name"] == "no_champion"


def test_the_parameters_hash_depends_on_the_parameters_alone():
    from_file, _ = load_scenario("collective_impact", {"conditions.common_agenda": 0.5})
    by_hand = Scenario(conditions={"common_agenda": 0.5})
    assert parameters_digest(from_file) == parameters_digest(by_hand)
    assert parameters_digest(by_hand) != parameters_digest(Scenario())
    # Fields the problem type fills in hash as their resolved values.
    assert parameters_digest(Scenario()) == parameters_digest(Scenario().resolved())


def test_field_descriptions_cover_metrics_parameters_and_columns():
    for metric in METRICS:
        assert field_description(metric)["meaning"], metric
    assert field_description("conditions.common_agenda")["unit"] == "0..1"
    assert field_description("conditions_common_agenda")["parameter"] == \
        "conditions.common_agenda"
    assert field_description("organizations.count")["unit"] == "organizations"
    assert field_description("not_a_column") == {"unit": "", "meaning": ""}


def test_a_sweeps_runs_file_alone_is_enough_for_salib_to_reanalyse(tmp_path):
    """What the study layer writes with these helpers: SALib rebuilds the problem from the
    file's design and recomputes the indices from its columns."""
    from SALib import ProblemSpec

    names, bounds = ["conditions.common_agenda", "backbone.budget_share"], [[0, 1], [0, 0.3]]
    sampled = ProblemSpec({"names": names, "bounds": bounds})
    sampled.sample_sobol(16, calc_second_order=False, seed=2)
    runs = pd.DataFrame(sampled.samples, columns=names)
    runs["agenda_alignment"] = [
        ci_sim.evaluate(seed=4, years=1.0, organizations_count=20,
                        **dict(zip(names, row)))["agenda_alignment"] for row in sampled.samples]
    design = design_record(method="sobol", names=names, bounds=bounds,
                           outputs=["agenda_alignment"], samples=16, seed=2,
                           calc_second_order=False)
    path = tmp_path / "runs.parquet"
    write_parquet(runs, path, {"seed": 4}, design=design)

    # Later, elsewhere: the file alone.
    described = read_metadata(path)
    design = described["design"]
    frame = pd.read_parquet(path)
    problem = ProblemSpec(design["problem"])
    problem.set_samples(frame[design["inputs"]].to_numpy())
    results = frame[design["outputs"]].to_numpy()
    problem.set_results(results[:, 0] if results.shape[1] == 1 else results)
    problem.analyze_sobol(calc_second_order=design["calc_second_order"], seed=1)
    direct = sampled.set_results(runs["agenda_alignment"].to_numpy()).analyze_sobol(
        calc_second_order=False, seed=1)
    np.testing.assert_allclose(problem.analysis["ST"], direct.analysis["ST"])
    assert described["fields"]["conditions.common_agenda"]["unit"] == "0..1"
    assert described["fields"]["agenda_alignment"]["meaning"]


def test_docs_outputs_describes_every_timeseries_column_with_its_unit(timeseries):
    from pathlib import Path
    import re

    text = (Path(__file__).resolve().parents[1] / "docs" / "outputs.md").read_text()
    documented = dict(re.findall(r"^\| `([a-z_]+)` \| ([^|]*) \|", text, flags=re.MULTILINE))
    for column in pd.read_parquet(timeseries).columns:
        assert column in documented, column
        assert documented[column].strip() == field_description(column)["unit"], column
